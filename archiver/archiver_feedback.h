/* archiver_feedback: feedback to the member (反馈) -- what became of each of
 * a member's reports: state, committee, outcome, the closing note, the
 * upstream status and the points (履职积分) it earned by the config's
 * points table, the same table the audit uses.
 *
 * Ownership: the store and config are borrowed; the result belongs to the
 * caller (cJSON_Delete).
 */
#ifndef MINYI_ARCHIVER_FEEDBACK_H
#define MINYI_ARCHIVER_FEEDBACK_H
#include <stddef.h>

struct cJSON;
struct config;
struct store;

/* {"member", "reports": [{id, title, committee, state, outcome, note,
 * received_at, closed_at, upstream, points}] newest first (at most limit),
 * "count", "points"}, or NULL with err on a store error.  upstream is
 * null, or for a report closed as forwarded {"status": pending|sent|closed,
 * "upstream_id", "outcome", "further": the outcome a level above that};
 * adopted upstream adds points.upstream_adopted, adopted a level further
 * up points.upstream2_adopted. */
struct cJSON *feedback_mine(struct store *st, const struct config *cfg, const char *member,
                            int limit, char *err, size_t errlen);
/* The points a report earns: the points table's "report" plus its
 * outcome's (NULL: not closed, nothing more). */
double feedback_points(const struct config *cfg, const char *outcome);

#endif
