/* fuzz_rules_big.c: libFuzzer target for large rule sets -- the input seeds
 * a generator of 1-2 topics of 1,000-3,000 patterns each (literals, word
 * lists and small regexes over a 12-character alphabet, so that most of
 * them hit) and of a long report over the same alphabet.  Classifying must
 * not crash (ASan watches the arrays a topic's many hits index), and the
 * Hyperscan prefilter must give exactly what plain PCRE2 gives. */
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const alphabet[] = {"公", "交", "学", "校", "房", "价", "a", "b", "x",
                                       "1", "。", "的"};
#define NALPHA (sizeof alphabet / sizeof alphabet[0])

/* xorshift64*, seeded from the input: the same input, the same rules */
static uint64_t rnd_state;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return (unsigned)((rnd_state * 2685821657736338717ULL) >> 33) % n;
}

/* Append a random run of 1..max alphabet characters to buf at *len. */
static void put_word(char *buf, size_t *len, unsigned max)
{
    for (unsigned k = 1 + rnd(max); k > 0; k--)
        *len += (size_t)sprintf(buf + *len, "%s", alphabet[rnd(NALPHA)]);
}

/* One pattern: a literal, a list of literals, or (rarely: Hyperscan
 * compiles regexes far more slowly than literals) a small regex. */
static void put_pattern(char *buf, size_t *len)
{
    unsigned kind = rnd(64);
    *len += (size_t)sprintf(buf + *len, "{\"re\": \"");
    put_word(buf, len, 3);
    if (kind >= 40) {
        *len += (size_t)sprintf(buf + *len, "|");
        put_word(buf, len, 2);
    }
    if (kind == 63)
        *len += (size_t)sprintf(buf + *len, "|%s.?%s", alphabet[rnd(NALPHA)], alphabet[rnd(NALPHA)]);
    int w = (int)rnd(6) - 2;          /* -2..3, never 0: negative weights too */
    *len += (size_t)sprintf(buf + *len, "\", \"w\": %d}", w >= 0 ? w + 1 : w);
}

static char *make_rules(unsigned ntopics, unsigned npat)
{
    char *buf = xmalloc((size_t)ntopics * npat * 96 + 1024);
    size_t len = (size_t)sprintf(buf, "{\"triage\": \"tri\", \"title_weight\": 3, "
                                 "\"tag_ratio\": 0.3, \"max_tags\": 2, "
                                 "\"committees\": [{\"id\": \"tri\", \"name\": \"提案\"}], "
                                 "\"topics\": [");
    for (unsigned t = 0; t < ntopics; t++) {
        len += (size_t)sprintf(buf + len, "%s{\"id\": \"t%u\", \"name\": \"T\", \"category\": \"民政\", \"committee\": \"tri\", "
                               "\"bias\": %d, \"patterns\": [", t ? ", " : "", t, (int)rnd(5) - 2);
        for (unsigned i = 0; i < npat; i++) {
            if (i)
                len += (size_t)sprintf(buf + len, ", ");
            put_pattern(buf, &len);
        }
        len += (size_t)sprintf(buf + len, "]}");
    }
    sprintf(buf + len, "]}");
    return buf;
}

static struct report *classify(struct classify *c, const char *title, const char *body)
{
    struct report *r = report_new();
    r->member = xstrdup("M001");
    r->title = xstrdup(title);
    r->body = xstrdup(body);
    classify_report(c, r, NULL);
    return r;
}

static void same_or_abort(const struct report *a, const struct report *b)
{
    if (strcmp(a->committee, b->committee) || a->ntags != b->ntags)
        abort();
    for (size_t i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i].topic, b->tags[i].topic) || a->tags[i].score != b->tags[i].score ||
            a->tags[i].nhits != b->tags[i].nhits)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    memcpy(&rnd_state, data, 8);
    rnd_state |= 1;
    unsigned ntopics = 1 + rnd(2), npat = 1000 + rnd(2001);
    char *json = make_rules(ntopics, npat);
    size_t blen = 0, tlen = 0, nbody = 1000 + rnd(9000);
    char *body = xmalloc(nbody * 4 + 1), title[256];
    while (blen < nbody)
        put_word(body, &blen, 8);
    put_word(title, &tlen, 30);
    struct rules *rules = NULL;
    struct rules_errors errs = {0};
    struct classify *c = NULL, *plain = NULL;
    if (rules_parse("big.json", json, strlen(json), &rules, &errs) < 0 ||
        classify_new(rules, &c, &errs) < 0) {
        for (size_t i = 0; i < errs.n && i < 5; i++)
            fprintf(stderr, "%s\n", errs.v[i]);
        abort();                      /* the generator writes valid rules only */
    }
    setenv("MINYI_NO_PREFILTER", "1", 1);
    if (classify_new(rules, &plain, &errs) < 0)
        abort();
    unsetenv("MINYI_NO_PREFILTER");
    struct report *a = classify(c, title, body), *b = classify(plain, title, body);
    same_or_abort(a, b);
    report_free(&a);
    report_free(&b);
    classify_free(&c);
    classify_free(&plain);
    rules_errors_clear(&errs);
    rules_free(&rules);
    free(json);
    free(body);
    return 0;
}
