/* log.c: stderr logging, one line per call; whole lines per write(2), at
 * most PIPE_BUF bytes, so that lines from several processes sharing a pipe
 * never interleave.  Buffered mode and the two line formats: see log.h. */
#include "log.h"
#include "fileio.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "minyi";
static enum log_level log_min = LOG_LEVEL_INFO;
static int log_buffered;
static pid_t log_pid;                  /* buffered mode: a daemon, which never forks */
static char log_buf[PIPE_BUF];
static size_t log_len;
/* The buffer is shared with a daemon's helper threads (the archiver's
 * upstream sender); uncontended nearly always. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_journal;                /* stderr is the journal: "<N>text" */

static void log_write(const char *s, size_t n)
{
    (void)fileio_write_all(STDERR_FILENO, s, n);   /* failing: nowhere to log */
}

static void log_flush_locked(void)
{
    int saved = errno;                 /* callers log strerror(errno) around us */
    if (log_len)
        log_write(log_buf, log_len);
    log_len = 0;
    errno = saved;
}

void log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    log_flush_locked();
    pthread_mutex_unlock(&log_mu);
}

void log_relay(const char *lines, size_t len)
{
    pthread_mutex_lock(&log_mu);
    log_flush_locked();
    log_write(lines, len);
    pthread_mutex_unlock(&log_mu);
}

void log_buffer(int on)
{
    if (!on)
        log_flush();
    log_buffered = on;
    log_pid = getpid();
}

int log_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *program)
{
    log_program = program;
    log_journal = log_stderr_is_journal();
    const char *dbg = getenv("MINYI_DEBUG");
    if (dbg && *dbg && strcmp(dbg, "0") != 0)
        log_min = LOG_LEVEL_DEBUG;
}

void log_set_level(enum log_level level)
{
    log_min = level;
}

/* The line's head: "<N>" for the journal (which adds the time, program
 * and pid itself), else "TIME LEVEL PROGRAM[PID]: ".  Returns its length. */
static int log_head(char *line, size_t size, enum log_level level)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    static const int prio[] = {7, 6, 4, 3};       /* syslog's LOG_DEBUG .. LOG_ERR */
    if (log_journal)
        return snprintf(line, size, "<%d>", prio[level]);
    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    return snprintf(line, size, "%s.%06ldZ %s %s[%d]: ", when, ts.tv_nsec / 1000,
                    names[level], log_program,
                    log_buffered ? (int)log_pid : (int)getpid());
}

static void log_emit(enum log_level level, const char *fmt, va_list ap)
{
    char line[PIPE_BUF];
    if (level < log_min)
        return;
    int n = log_head(line, sizeof line, level);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)  /* keep it one line */
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    int saved = errno;
    pthread_mutex_lock(&log_mu);
    if (log_buffered && level < LOG_LEVEL_WARN) {
        if (log_len + len > sizeof log_buf)
            log_flush_locked();
        memcpy(log_buf + log_len, line, len);
        log_len += len;
    } else {
        log_flush_locked();
        log_write(line, len);
    }
    pthread_mutex_unlock(&log_mu);
    errno = saved;
}

#define LOG_FN(fn, lvl)                          \
    void fn(const char *fmt, ...)                \
    {                                            \
        va_list ap;                              \
        va_start(ap, fmt);                       \
        log_emit(lvl, fmt, ap);                  \
        va_end(ap);                              \
    }
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

/* ---- repeated errors ---- */

/* "… N more like it in the last S s", then start counting again. */
static void log_repeat_summary(struct log_repeat *r, int64_t now_ms)
{
    if (r->more)
        log_error("%s: … %lu more in the last %lld s", r->what ? r->what : "the same error",
                  r->more,
                  (long long)((now_ms - r->since_ms + 999) / 1000));
    r->more = 0;
    r->since_ms = now_ms;
}

void log_repeat(struct log_repeat *r, int64_t now_ms, const char *fmt, ...)
{
    if (r->since_ms && now_ms - r->since_ms < LOG_REPEAT_MS) {
        r->more++;
        return;
    }
    log_repeat_summary(r, now_ms);
    va_list ap;
    va_start(ap, fmt);
    log_emit(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
}

void log_repeat_clear(struct log_repeat *r, int64_t now_ms)
{
    if (!r->since_ms)
        return;
    log_repeat_summary(r, now_ms);
    r->since_ms = 0;
}
