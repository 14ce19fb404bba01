/* prefilter: which patterns of a rules file can match a text at all,
 * found in one pass by Hyperscan -- the only module that includes hs.h.
 *
 * Every pattern and exclude is compiled into one Hyperscan database in
 * prefilter mode (HS_FLAG_PREFILTER | UTF8 | UCP | CASELESS | SINGLEMATCH):
 * Hyperscan may report a pattern that PCRE2 then does not match, never the
 * other way round.  The classifier runs PCRE2 only on the reported ones, as
 * intrusion-detection engines do, so its results are exactly plain PCRE2's.
 *
 * Patterns Hyperscan cannot take even in prefilter mode, patterns that can
 * match the empty string, and patterns holding letters whose Unicode case
 * folding Hyperscan may not mirror (Latin beyond ASCII, Greek, Cyrillic,
 * full-width) are "always" patterns: reported for every text.  A text that
 * holds one of the characters PCRE2 folds onto ASCII letters (K KELVIN
 * SIGN, LONG S, ANGSTROM and OHM SIGN) is not prefiltered at all.
 *
 * Exact literals: a pattern that is only an alternation of plain literals
 * ("物业费|物管费|PM2\\.5", no other regex syntax, no letters with
 * non-ASCII case) is not prefiltered but matched exactly: each alternative
 * is its own Hyperscan expression reporting every occurrence, and
 * prefilter_next replays PCRE2's leftmost-first, non-overlapping search
 * over those occurrences -- the same matches, without running PCRE2.  Most
 * rules are such lists of everyday words.
 *
 * Mixed patterns: a pattern whose top-level alternatives are partly plain
 * literals ("违章(?!建|搭)|停车|罚单") is exact too when nothing in it
 * depends on the alternatives staying together (no option settings, back
 * references, recursion, verbs, \\G, \\Q: see prefilter_splittable).
 * Its literals are matched as above; its other alternatives form one
 * pattern (prefilter_rest) that Hyperscan prefilters and the classifier
 * runs in PCRE2 only where Hyperscan saw it, merging the two in PCRE2's
 * order: leftmost start, then the earlier alternative.
 *
 * Slots: pattern k of topic t is slot base(t) + k, its exclude j is slot
 * base(t) + npatterns + j, in file order (prefilter_slot).
 *
 * MINYI_NO_PREFILTER=1 in the environment, or a CPU Hyperscan does not
 * support, makes prefilter_new return NULL: the classifier then runs every
 * pattern, as before.
 *
 * Ownership: prefilter_new returns an object freed with prefilter_free(&p).
 * It holds its own scratch space, so one object serves one thread.
 */
#ifndef MINYI_PREFILTER_H
#define MINYI_PREFILTER_H
#include <stddef.h>

struct rules;
struct prefilter;

/* Build the database for rules (borrowed; it must outlive the result).
 * NULL when disabled or unavailable (logged once), never on bad patterns. */
struct prefilter *prefilter_new(const struct rules *rules);
/* Free *p; sets *p = NULL. NULL-safe. */
void prefilter_free(struct prefilter **p);
/* Number of slots (patterns and excludes of every topic). */
size_t prefilter_slots(const struct prefilter *p);
/* The slot of pattern k (k < npatterns) or exclude k - npatterns of topic t:
 * slots count every topic's patterns, then its excludes, in file order. */
size_t prefilter_slot(const struct prefilter *p, size_t topic, size_t k);
/* Patterns that run always (for tests and status). */
size_t prefilter_always(const struct prefilter *p);
/* 1 if slot is reported for every text (an "always" pattern). */
int prefilter_always_slot(const struct prefilter *p, size_t slot);
/* Per slot, 1 for an exact pattern (borrowed, nslots entries). */
const unsigned char *prefilter_exact_map(const struct prefilter *p);
/* A mixed exact slot's non-literal alternatives as one PCRE2 pattern, each
 * alternative marked with its 0-based index in the original pattern:
 * "(*MARK:0)(?:违章(?!建))|(*MARK:3)(?:跑了.{0,2}趟)" (borrowed); NULL for
 * a slot that is not a mixed exact one. */
const char *prefilter_rest(const struct prefilter *p, size_t slot);

/* One scan's result.  Zero-initialise; reuse across scans (each scan
 * undoes only what the previous one touched, so its cost follows the
 * matches, not the number of patterns); free with prefilter_result_free.
 *   all      1: the text was not prefiltered, every slot may match
 *   may      per slot: 1 if the pattern may match (always slots included)
 *   touched  the slots this scan set in `may` (always slots excluded)
 *   head     per touched exact slot: its first occurrence in occ, or
 *            PREFILTER_NONE; occurrences of a slot are chained by next
 *   rest     per mixed slot: 1 if its non-literal part may match */
#define PREFILTER_NONE 0xFFFFFFFFu
struct prefilter_occ {
    unsigned alt, next;           /* 0-based alternative; next of the slot */
    size_t start, end;            /* byte offsets in the text */
};
struct prefilter_result {
    int all;
    unsigned char *may;
    unsigned *touched;
    size_t ntouched;
    unsigned *head;
    unsigned char *rest;
    struct prefilter_occ *occ;
    size_t nocc, cap;
    const unsigned char *always;  /* private: the prefilter's always map */
    size_t nslots;
};
void prefilter_result_free(struct prefilter_result *res);

/* Scan text[0..len) into res.  Returns 0, or -1 when the text was not
 * prefiltered (all is 1: run PCRE2 everywhere). */
int prefilter_scan(struct prefilter *p, const char *text, size_t len,
                   struct prefilter_result *res);
/* The match of exact slot's literal alternatives that PCRE2 would find
 * searching from byte pos: the leftmost occurrence starting at or after
 * pos, the earliest alternative among those starting there.  1 and
 * [*start, *end) and its 0-based alternative, or 0 when there is none.
 * Only for a slot with prefilter_exact_map 1 in a result whose `all` is 0. */
int prefilter_next(const struct prefilter_result *res, size_t slot, size_t pos,
                   size_t *start, size_t *end, unsigned *alt);

#endif
