/* collector_drop: the drop folder (SPEC.md "Drop folder").
 *
 * Watches STATE/drop with inotify (IN_CLOSE_WRITE, IN_MOVED_TO, overflow ->
 * full rescan) plus a periodic full walk.  Takes `NAME.json` at the top and
 * `MEMBER/NAME.txt` one level down; ignores names starting with "." or
 * ending in ".tmp", ".part", "~"; never follows symbolic links and never
 * blocks on FIFOs or devices (those are rejected); a file still open for
 * writing (or, where that cannot be told, modified in the last second) is
 * left for a later scan.  Reads at most the configured size, decodes the
 * encoding (UTF-8, UTF-8 BOM, GB18030, UTF-16 with BOM) and parses the report.
 *
 * It never deletes anything by itself: the collector calls drop_remove once
 * the archive confirmed the report, or drop_reject to set a file aside in
 * drop/rejected/ beside NAME.reason.json.
 *
 * Ownership: drop_open returns a handle freed by drop_close(&d).  A struct
 * drop_file passed to a callback is borrowed for the call.
 */
#ifndef MINYI_COLLECTOR_DROP_H
#define MINYI_COLLECTOR_DROP_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct report;
struct report_error;
struct drop;

/* A file taken from the folder; dev+ino identify it for drop_remove. */
struct drop_file {
    const char *rel;              /* relative to drop/: "a.json", "M001/b.txt" */
    dev_t dev;
    ino_t ino;
    uid_t uid;                    /* its owner: a member's account files only as itself */
};

/* 1 if the file at rel is already in flight (spooled, not yet confirmed) and
 * must not be read again. */
typedef int (*drop_busy_fn)(void *arg, const char *rel);
/* A file was read.  Either r is a parsed report (the callback takes
 * ownership) and err is NULL, or r is NULL and err says why it is rejected
 * (the callback usually calls drop_reject). */
typedef void (*drop_take_fn)(void *arg, const struct drop_file *f, struct report *r,
                             const struct report_error *err);

/* Start watching dir (STATE/drop; rejected/ inside it is never scanned).
 * max_bytes: the report size limit. Returns 0 / -1 with err. */
int drop_open(const char *dir, size_t max_bytes, struct drop **out, char *err,
              size_t errlen);
/* Stop watching; sets *d = NULL. NULL-safe. */
void drop_close(struct drop **d);
/* A descriptor to poll for readability (an epoll set over inotify and a
 * timer): readable means "call drop_scan(d, 0, ...)" -- right after
 * drop_open, while names are queued beyond a scan's max, and when a file
 * deferred as still being written is due.  The caller also calls
 * drop_scan(d, 1, ...) every rescan period.  -1 if none. */
int drop_fd(const struct drop *d);
/* Take up to max ready files: from pending inotify events (full = 0) or from
 * a walk of the whole folder (full = 1).  Calls take() once per file read.
 * Returns the number of files handed to take(), or -1 on a folder error
 * (logged; the next scan tries again). */
int drop_scan(struct drop *d, int full, size_t max, drop_busy_fn busy,
              drop_take_fn take, void *arg);
/* Move f to drop/rejected/NAME (flattened for MEMBER/NAME) with
 * NAME.reason.json {"file","reason","detail","at"}.  Returns 0 / -1. */
int drop_reject(struct drop *d, const struct drop_file *f,
                const struct report_error *err);
/* Remove rel if it is still the same file (dev, ino); a file already gone is
 * success.  Called only after the archive committed its report. 0 / -1. */
int drop_remove(struct drop *d, const char *rel, dev_t dev, ino_t ino);

#endif
