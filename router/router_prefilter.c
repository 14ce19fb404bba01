/* router_prefilter.c: the Hyperscan prefilter of router_prefilter.h.
 *
 * Building: every pattern that is not an "always" one goes into one
 * hs_compile_multi call, its slot number as its Hyperscan id.  When
 * Hyperscan refuses an expression the error names it: that pattern becomes
 * an always pattern and the rest is compiled again.
 */
#include "router_prefilter.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"
#include <hs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PREFILTER_FLAGS (HS_FLAG_PREFILTER | HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_CASELESS | \
                         HS_FLAG_SINGLEMATCH)

struct prefilter {
    const struct rules *rules;
    size_t *base;                 /* first slot of each topic */
    size_t nslots, nalways;
    unsigned char *always;        /* per slot: 1 = reported for every text */
    hs_database_t *db;            /* NULL when every pattern is an always one */
    hs_scratch_t *scratch;
};

/* The source of slot k of topic t. */
static const char *prefilter_source(const struct rules_topic *t, size_t k)
{
    return k < t->npatterns ? t->patterns[k].re : t->excludes[k - t->npatterns].re;
}

/* 1 if the code point is a letter whose case folding Hyperscan may not
 * mirror: Latin beyond ASCII, Greek, Cyrillic, Armenian, Latin extended
 * additional, letterlike symbols, Roman numerals, circled and full-width
 * letters, Deseret and beyond. */
static int prefilter_cased(uint32_t cp)
{
    return (cp >= 0xC0 && cp <= 0x58F) || (cp >= 0x10A0 && cp <= 0x10FF) ||
           (cp >= 0x1E00 && cp <= 0x1FFF) || (cp >= 0x2100 && cp <= 0x218F) ||
           (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x2C00 && cp <= 0x2D2F) ||
           (cp >= 0xA640 && cp <= 0xA7FF) || (cp >= 0xFF21 && cp <= 0xFF5A) ||
           cp >= 0x10400;
}

/* 1 if the pattern must run always whatever Hyperscan says. */
static int prefilter_unsafe(const char *re)
{
    if (strstr(re, "\\x{") || strstr(re, "\\N{") || strstr(re, "\\p") || strstr(re, "\\P") ||
        strstr(re, "\\o{") || strstr(re, "(?-i") || strstr(re, "(*"))
        return 1;
    for (const unsigned char *p = (const unsigned char *)re; *p;) {
        uint32_t cp = *p;
        int n = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
        if (n > 1) {
            cp &= 0x3F >> (n - 1);
            for (int i = 1; i < n && p[i]; i++)
                cp = cp << 6 | (p[i] & 0x3F);
        }
        if (cp >= 0x80 && prefilter_cased(cp))
            return 1;
        for (int i = 0; i < n && *p; i++)
            p++;
    }
    return 0;
}

/* Compile the slots not marked always; a refused one becomes always and
 * the rest is tried again.  0, or -1 when Hyperscan fails as a whole. */
static int prefilter_compile(struct prefilter *p)
{
    const char **expr = xcalloc(p->nslots + 1, sizeof *expr);
    unsigned *flags = xcalloc(p->nslots + 1, sizeof *flags), *ids = xcalloc(p->nslots + 1, sizeof *ids);
    int rc = -1;
    for (size_t tries = 0; tries <= p->nslots; tries++) {
        unsigned n = 0;
        for (size_t t = 0; t < p->rules->ntopics; t++) {
            const struct rules_topic *rt = &p->rules->topics[t];
            for (size_t k = 0; k < rt->npatterns + rt->nexcludes; k++)
                if (!p->always[p->base[t] + k]) {
                    expr[n] = prefilter_source(rt, k);
                    flags[n] = PREFILTER_FLAGS;
                    ids[n++] = (unsigned)(p->base[t] + k);
                }
        }
        if (n == 0) {
            rc = 0;
            break;
        }
        hs_compile_error_t *cerr = NULL;
        if (hs_compile_multi(expr, flags, ids, n, HS_MODE_BLOCK, NULL, &p->db, &cerr) ==
            HS_SUCCESS) {
            rc = 0;
            break;
        }
        int bad = cerr ? cerr->expression : -1;
        if (bad < 0 || (unsigned)bad >= n) {
            log_warn("prefilter: Hyperscan: %s; every pattern runs", cerr ? cerr->message : "?");
            hs_free_compile_error(cerr);
            break;
        }
        p->always[ids[bad]] = 1;
        hs_free_compile_error(cerr);
    }
    free(expr);
    free(flags);
    free(ids);
    return rc;
}

struct prefilter *prefilter_new(const struct rules *rules)
{
    const char *off = getenv("MINYI_NO_PREFILTER");
    if ((off && *off && strcmp(off, "0") != 0) || hs_valid_platform() != HS_SUCCESS)
        return NULL;
    struct prefilter *p = xcalloc(1, sizeof *p);
    p->rules = rules;
    p->base = xcalloc(rules->ntopics + 1, sizeof *p->base);
    for (size_t t = 0; t < rules->ntopics; t++) {
        p->base[t] = p->nslots;
        p->nslots += rules->topics[t].npatterns + rules->topics[t].nexcludes;
    }
    p->always = xcalloc(p->nslots + 1, 1);
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        for (size_t k = 0; k < rt->npatterns + rt->nexcludes; k++)
            p->always[p->base[t] + k] = (unsigned char)prefilter_unsafe(prefilter_source(rt, k));
    }
    if (prefilter_compile(p) < 0 ||
        (p->db && hs_alloc_scratch(p->db, &p->scratch) != HS_SUCCESS)) {
        prefilter_free(&p);
        return NULL;
    }
    for (size_t i = 0; i < p->nslots; i++)
        p->nalways += p->always[i];
    return p;
}

void prefilter_free(struct prefilter **pp)
{
    struct prefilter *p = *pp;
    if (!p)
        return;
    hs_free_scratch(p->scratch);
    hs_free_database(p->db);
    free(p->always);
    free(p->base);
    free(p);
    *pp = NULL;
}

size_t prefilter_slots(const struct prefilter *p)
{
    return p->nslots;
}

size_t prefilter_slot(const struct prefilter *p, size_t topic, size_t k)
{
    return p->base[topic] + k;
}

size_t prefilter_always(const struct prefilter *p)
{
    return p->nalways;
}

static int prefilter_on_match(unsigned id, unsigned long long from, unsigned long long to,
                              unsigned flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    ((unsigned char *)ctx)[id] = 1;
    return 0;
}

/* Characters PCRE2's caseless matching folds onto ASCII letters. */
static int prefilter_folds_to_ascii(const char *text, size_t len)
{
    static const char *const odd[] = {"\xE2\x84\xAA", "\xC5\xBF", "\xE2\x84\xAB",
                                      "\xE2\x84\xA6"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        if (memmem(text, len, odd[i], strlen(odd[i])))
            return 1;
    return 0;
}

int prefilter_scan(struct prefilter *p, const char *text, size_t len, unsigned char *may)
{
    memcpy(may, p->always, p->nslots);
    if (prefilter_folds_to_ascii(text, len) ||
        (p->db && hs_scan(p->db, text, (unsigned)len, 0, p->scratch, prefilter_on_match,
                          may) != HS_SUCCESS)) {
        memset(may, 1, p->nslots);
        return -1;
    }
    return 0;
}
