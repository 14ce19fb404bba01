/* archiver_audit: a month's audit -- counts per member, activity group,
 * sector, committee and topic, the quota rules evaluated, points (履职积分),
 * the 12-month trend and the outcomes -- as the JSON object of SPEC.md.
 *
 * Every roster member appears (count 0 included); members who left keep
 * their months.  Quotas (cfg->quotas): scope member / group / sector / org,
 * optional id (none: every member / group / sector on its own), period
 * month / quarter / year counted up to the end of the audited month
 * (quarter- and year-to-date); met = count >= min.  Points (cfg->points):
 * per report, plus per outcome of reports received in the period, plus
 * adoption by the next level and the one above it of those forwarded
 * (the upstream spool's outcomes).
 *
 * The numbers come from grouped store queries (store_count), so a month's
 * audit reads the month index only, never every report.
 *
 * Ownership: the returned object belongs to the caller (cJSON_Delete).
 */
#ifndef MINYI_ARCHIVER_AUDIT_H
#define MINYI_ARCHIVER_AUDIT_H
#include <stddef.h>

struct cJSON;
struct config;
struct roster;
struct rules;
struct store;

/* The audit of month "YYYY-MM" (NULL: the current month in the configured
 * timezone).  rules may be NULL (committee names then omitted).  Returns
 * the object, or NULL with err ("bad month", or a store error). */
struct cJSON *audit_build(struct store *s, const struct config *cfg,
                          const struct roster *roster, const struct rules *rules,
                          const char *month, char *err, size_t errlen);

#endif
