/* rules_explain: why a classified report goes where it goes, as JSON -- the
 * one answer of `minyi rules test` (cli/cli_rules.c) and the web door's
 * rules test (web/web_rules.c).  No matching here: the report's tags come
 * from classify_report (common/classify.c). */
#ifndef MINYI_RULES_EXPLAIN_H
#define MINYI_RULES_EXPLAIN_H

struct cJSON;
struct report;
struct rules;

/* {"committee", "committee_name", "tags": [{"topic", "name", "category",
 * "committee", "score", "bias", "hits": [{"field", "pattern" (0-based),
 * "re", "w", "offset", "text"}]}]} of rep as classified with r (borrowed).
 * Returns a new object (caller deletes); never NULL. */
struct cJSON *rules_explain(const struct rules *r, const struct report *rep);

#endif
