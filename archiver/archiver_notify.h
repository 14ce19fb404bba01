/* archiver_notify: runs the office's notify command (supervision.notify)
 * for reports that became overdue, as child processes -- argv, never a
 * shell -- with the report id, committee, deadline kind and days overdue
 * as the last four arguments.  At most NOTIFY_CHILDREN run at once; one
 * still running after notify_timeout_seconds is killed.  A command that
 * exits 0 is done (a "notified" history event); anything else is logged
 * and run again after notify_retry_seconds.  The archiver never waits for
 * a command: notify_poll only looks.
 *
 * Ownership: notify_new's result is freed by notify_free(&n), which kills
 * and reaps what still runs (those notices stay due and run again at the
 * next start, so a command may, rarely, run twice for one report).
 */
#ifndef MINYI_ARCHIVER_NOTIFY_H
#define MINYI_ARCHIVER_NOTIFY_H
#include <stdint.h>

#define NOTIFY_CHILDREN 4

struct config;
struct store;
struct notify;

/* Never NULL. */
struct notify *notify_new(void);
/* Kill and reap running commands; free *n and set it NULL.  NULL-safe. */
void notify_free(struct notify **n);
/* Collect finished (or timed-out) commands and record their results;
 * then start due ones while fewer than NOTIFY_CHILDREN run. */
void notify_poll(struct notify *n, struct store *st, const struct config *cfg,
                 int64_t now_us);
/* Commands running now. */
int notify_running(const struct notify *n);

#endif
