/* archiver_supervise: supervision (督办) in the archiver -- which open
 * reports are past their committee's deadline to take up or to close
 * (config.h: struct config_supervision), by how many calendar days in the
 * organisation's timezone; the `overdue` listing, the marks in `queue`, the
 * counts in `status` and the audit's supervision section.  Once a minute
 * (supervision.check_seconds) supervise_tick records each report that has
 * newly become overdue (an "overdue" history event) and hands it to the
 * notify runner (archiver_notify.c).
 *
 * Ownership: supervise_new's result is freed with supervise_free(&sv);
 * the store, config and rules are borrowed; returned cJSON belongs to the
 * caller.
 */
#ifndef MINYI_ARCHIVER_SUPERVISE_H
#define MINYI_ARCHIVER_SUPERVISE_H
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct config;
struct rules;
struct store;
struct supervise;

/* A supervisor with no counts yet.  Never NULL. */
struct supervise *supervise_new(void);
/* Free *sv (a notify command still running is killed); sets *sv = NULL. */
void supervise_free(struct supervise **sv);

/* Called every loop step: every check_seconds, scan each committee and
 * record new overdue reports (logged "ID: overdue to KIND by N days"); start
 * due notify commands and collect finished ones.  Never blocks for long;
 * store errors are logged and tried again at the next check. */
void supervise_tick(struct supervise *sv, struct store *st, const struct config *cfg,
                    const struct rules *rules, int64_t now_us);

/* Overdue reports of committee (NULL: every committee of the rules), oldest
 * first, at most limit: [{id, member, title, committee, state, received_at,
 * overdue: "take_up"|"close", days, take_up_days, close_days}].  NULL with
 * err on a store error. */
struct cJSON *supervise_list(struct store *st, const struct config *cfg,
                             const struct rules *rules, const char *committee, int limit,
                             int64_t now_us, char *err, size_t errlen);

/* Mark the reports of a queue listing (an array of report objects of
 * committee, borrowed and changed) that are overdue: "overdue" and
 * "overdue_days". */
void supervise_mark(struct store *st, const struct config *cfg, const char *committee,
                    struct cJSON *reports, int64_t now_us);

/* {"COMMITTEE": n overdue, ...} as of the last check (every committee of
 * the rules, 0 included), for status. */
struct cJSON *supervise_counts(const struct supervise *sv);

/* The audit's supervision section for month "YYYY-MM": per committee its
 * deadlines, the reports overdue now, and of the reports received that
 * month and closed: how many, the median days to close and the share
 * closed within the deadline.  NULL with err on a store error. */
struct cJSON *supervise_audit(struct store *st, const struct config *cfg,
                              const struct rules *rules, const char *month, int64_t now_us,
                              char *err, size_t errlen);

/* Calendar days: the day number (days since 1970-01-01) of the local date
 * of us in the process's timezone, and the µs of the local midnight that
 * starts day number day.  Exposed for the unit tests. */
long supervise_day(int64_t us);
int64_t supervise_midnight_us(long day);

#endif
