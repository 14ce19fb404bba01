/* log: one line per event on stderr.  Per-report lines start with the
 * report id ("ID: what happened") so that `grep ID` follows a report
 * through every daemon; the id is the first field after the program.
 *
 *   on a terminal, pipe or file:
 *     2026-12-03T11:40:00.123456Z info minyi-archiver[42]: ID: stored ...
 *     (RFC 3339 in UTC, the level, the program and its pid)
 *   when stderr is the journal (JOURNAL_STREAM names stderr's device and
 *   inode, as systemd sets it for a unit):
 *     <6>ID: stored ...
 *     (a syslog priority, 3 error, 4 warning, 6 info, 7 debug; the journal
 *     records the time, program and pid itself)
 *
 * Buffered mode (the daemons, log_buffer(1)): info and debug lines gather in
 * a buffer of at most PIPE_BUF bytes, written when full, at log_flush (the
 * daemon skeleton calls it after every step of its loop, and at exit) and
 * before any warning or error, which are written at once.  A daemon at
 * 20,000 reports a second writes a few hundred times a second instead of
 * 20,000; a SIGKILL loses at most one step's info lines.  Each write(2)
 * holds whole lines and at most PIPE_BUF bytes, so lines of processes
 * sharing a pipe still never interleave. */
#ifndef MINYI_LOG_H
#define MINYI_LOG_H
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Set the program name shown on every line (borrowed; must outlive logging)
 * and pick the line format (journal or not) once, from JOURNAL_STREAM. */
void log_init(const char *program);
/* 1 if stderr is the journal's stream (JOURNAL_STREAM = its "DEV:INODE"). */
int log_stderr_is_journal(void);
/* Lines below this level are dropped (default INFO; MINYI_DEBUG=1 -> DEBUG). */
void log_set_level(enum log_level level);
/* Buffer info and debug lines (1) or write every line at once (0, default). */
void log_buffer(int on);
/* Write whatever is buffered. */
void log_flush(void);
/* Write whole lines another process logged (minyi up relays its daemons'),
 * after our own buffered ones; a failed write drops them, as for our own. */
void log_relay(const char *lines, size_t len);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A repeated error (the disk full, the archive locked): the first is logged,
 * the next ones within LOG_REPEAT_MS only counted, then summarised as
 * "WHAT: … N more in the last S s" before the next one logged or when the
 * condition clears.  Zero-initialise with .what set (borrowed string). */
#define LOG_REPEAT_MS 10000
struct log_repeat {
    const char *what;
    int64_t since_ms;             /* 0: not repeating now */
    unsigned long more;
};
/* One occurrence at now_ms (a monotonic clock): logged as an error, or
 * counted. */
void log_repeat(struct log_repeat *r, int64_t now_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The condition cleared: write the summary of what was only counted. */
void log_repeat_clear(struct log_repeat *r, int64_t now_ms);

#endif
