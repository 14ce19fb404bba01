/* rules: the routing rules file, loaded and checked (no regex work here:
 * the router's classifier compiles the patterns with PCRE2).
 *
 * File format (JSON, UTF-8):
 *   {
 *     "version": 1,
 *     "triage": "tian",               committee for reports no topic matches
 *     "title_weight": 3.0,            a title hit counts this many body hits
 *     "min_score": 1.0,               a topic scoring below this is not tagged
 *     "tag_ratio": 0.5,               optional: a topic scoring below this share
 *                                     of the best topic's score is not tagged
 *                                     (default 0: every topic reaching min_score)
 *     "max_tags": 3,                  optional: at most this many tags, best
 *                                     first (default 0: no cap)
 *     "committees": [{"id": "tian", "name": "提案委员会"}, ...],
 *     "categories": {"党务政务": "tian", "经济管理": "jingji", ...},
 *     "topics": [
 *       {"id": "bus", "name": "公共交通", "category": "交通运输",
 *        "committee": "chengjian",    optional: defaults to categories[category]
 *        "weight": 1.0,               optional topic multiplier (> 0)
 *        "bias": -0.5,                optional: added to the sum of the pattern
 *                                     contributions of a topic that had a hit
 *        "patterns": ["公交", {"re": "地铁|轨道交通", "w": 2.5},
 *                     {"re": "公交化", "w": -1.5}],   w: any non-zero number;
 *                                     a negative one lowers the score
 *        "exclude": ["公交化"]}       optional: any hit vetoes the topic
 *     ]
 *   }
 *
 * Errors are collected, never fatal, each formatted
 *   "FILE: topic ID: pattern N: message"   (N is 1-based)
 * or "FILE: KEY: message" for file-level problems, so `minyi rules check`
 * can print every problem at once.
 *
 * Ownership: rules_load returns a struct rules the caller frees with
 * rules_free(&r); every string inside is owned by it.
 */
#ifndef MINYI_RULES_H
#define MINYI_RULES_H
#include <stddef.h>

/* A growable list of owned message strings. */
struct rules_errors {
    char **v;
    size_t n;
};
/* Append a formatted message (copied). */
void rules_errors_add(struct rules_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Free every message and reset to empty. */
void rules_errors_clear(struct rules_errors *e);

struct rules_pattern {
    char *re;                     /* PCRE2 source, UTF + caseless at compile time */
    double w;                     /* weight, default 1.0; never 0, may be < 0 */
};

struct rules_topic {
    char *id, *name, *committee, *category;
    double weight;                /* default 1.0 */
    double bias;                  /* default 0.0; added when a pattern hit */
    struct rules_pattern *patterns;
    size_t npatterns;
    struct rules_pattern *excludes;
    size_t nexcludes;
};

struct rules_committee {
    char *id, *name;
};

struct rules_category {
    char *name;                   /* one of the 15 categories */
    char *committee;
};

struct rules {
    char *path;                   /* as given to rules_load */
    char *triage;                 /* committee id */
    double title_weight, min_score;
    double tag_ratio;             /* 0..1, default 0 (no relative threshold) */
    size_t max_tags;              /* 0: no cap */
    struct rules_committee *committees;
    size_t ncommittees;
    struct rules_category *categories;
    size_t ncategories;
    struct rules_topic *topics;
    size_t ntopics;
};

/* The 15 first-level categories of SPEC.md, in its order; NULL-terminated. */
extern const char *const rules_category_names[];

/* Load and check `path`. Returns 0 and *out when the file is usable, or -1
 * with every problem appended to errs (and *out NULL).  Checks: JSON,
 * required keys and types, unique topic and committee ids, committees that
 * exist, categories among the 15, triage set.  Pattern syntax is checked by
 * the classifier, not here. */
int rules_load(const char *path, struct rules **out, struct rules_errors *errs);
/* Same from an in-memory buffer; `name` is used in messages. */
int rules_parse(const char *name, const char *buf, size_t len, struct rules **out,
                struct rules_errors *errs);
/* Free *r; sets *r = NULL. NULL-safe. */
void rules_free(struct rules **r);

/* A committee id: 1-32 bytes of a-z, 0-9, '_' and '-', starting with a
 * letter or digit (docs/rules.md).  Ids travel in frames, file names, JSON
 * and SQL, so nothing else is accepted anywhere: 1 if id is one, else 0. */
#define RULES_ID_MAX 32
int rules_id_ok(const char *id);

/* Lookups; borrowed results, NULL if absent. */
const struct rules_committee *rules_committee(const struct rules *r, const char *id);
const char *rules_category_committee(const struct rules *r, const char *category);

#endif
