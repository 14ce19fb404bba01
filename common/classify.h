/* classify: tag a report with topics and pick its committee.  The only
 * module that includes <pcre2.h>.
 *
 * Every pattern and exclude of a rules file is compiled once, with
 * PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, and JIT-compiled where the library
 * supports it.  One struct classify serves one thread at a time (its
 * prefilter has one Hyperscan scratch space).
 *
 * Scoring (fixed; rules files are written against it):
 *   - A topic with any `exclude` pattern matching the title or the body is
 *     vetoed: it is not tagged, whatever its patterns score.
 *   - For pattern i (0-based) of a topic, with weight w (negative weights
 *     lower the score): th = non-overlapping matches in the title, bh = in
 *     the body, each capped at 3 (empty matches do not count).
 *     contribution_i = w * (title_weight * th + bh).
 *   - A topic none of whose patterns matched is not tagged.  Otherwise
 *     score = topic.weight * (topic.bias + sum of contributions), and the
 *     topic is tagged when score >= min_score and score > 0.
 *   - Tags are sorted by score, highest first; equal scores keep file order.
 *     Only those scoring at least tag_ratio times the best are kept, and at
 *     most max_tags of them (0: no cap).
 *     r->committee is the committee of the first tag, or the rules' triage
 *     committee when nothing is tagged.
 *   - Each tag keeps its first CLASSIFY_HITS_MAX hits (pattern order, title
 *     before body): field, 0-based pattern index, byte offset, matched text.
 *
 * Matching is bounded: CLASSIFY_MATCH_LIMIT and CLASSIFY_DEPTH_LIMIT are set
 * on every match.  A match that overflows JIT's 32 KiB stack is retried with
 * the interpreter, whose work the match limit bounds (a larger JIT stack
 * would let quadratic patterns such as "(a|b)*c" run for a second per
 * report: JIT counts the match limit differently).  A match that hits a
 * limit is logged ("ID: topic T pattern N: match limit hit", N 1-based as
 * in error messages), counted in classify_stats.match_limit and treated as
 * no match (earlier matches of the same pattern still count).
 *
 * Speed: a Hyperscan prefilter (prefilter.h) scans title and body
 * once and names the patterns that may match; only those run in PCRE2, and
 * a topic none of whose patterns may match is skipped whole.  The results
 * are exactly those of running every pattern (MINYI_NO_PREFILTER=1 does
 * that; test_prefilter compares the two).
 */
#ifndef MINYI_CLASSIFY_H
#define MINYI_CLASSIFY_H
#include <stddef.h>

struct rules;
struct rules_errors;
struct report;

#define CLASSIFY_HITS_MAX 8            /* hits kept per tag */
#define CLASSIFY_COUNT_MAX 3           /* matches counted per pattern and field */
#define CLASSIFY_MATCH_LIMIT 1000000   /* pcre2_set_match_limit */
#define CLASSIFY_DEPTH_LIMIT 10000     /* pcre2_set_depth_limit */

struct classify;

/* Counters a caller accumulates over classify_report calls. */
struct classify_stats {
    unsigned long reports;             /* reports classified */
    unsigned long tagged;              /* ... that got at least one tag */
    unsigned long match_limit;         /* matches abandoned at a limit */
};

/* Compile every pattern of `rules` (borrowed: it must outlive the result).
 * Returns 0 and *out (free with classify_free), or -1 with every compile
 * error appended to errs as "FILE: topic ID: pattern N: MESSAGE at offset K"
 * ("exclude N" for excludes; N 1-based, K a byte offset) and *out NULL. */
int classify_new(const struct rules *rules, struct classify **out,
                 struct rules_errors *errs);
/* Free *c; sets *c = NULL. NULL-safe.  The rules are not freed. */
void classify_free(struct classify **c);
/* The rules c was built from (borrowed). */
const struct rules *classify_rules(const struct classify *c);
/* Number of compiled patterns and excludes. */
size_t classify_npatterns(const struct classify *c);

/* Tag r (its title and body) and set r->committee, replacing any tags and
 * committee it had; st (may be NULL) is updated.  Cannot fail: its scratch
 * space and match data were made by classify_new. */
void classify_report(const struct classify *c, struct report *r,
                     struct classify_stats *st);

/* Append warnings for rules that compile but cannot work as meant:
 * "FILE: topic ID: no patterns, can never match",
 * "FILE: topic ID: pattern N: can match the empty string",
 * "FILE: topic ID: only negative patterns and no positive bias, can never be
 * tagged" and "FILE: topic ID: best possible score S is below min_score M".
 * Returns how many. */
size_t classify_warnings(const struct classify *c, struct rules_errors *warns);

#endif
