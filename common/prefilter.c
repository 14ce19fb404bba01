/* prefilter.c: the Hyperscan prefilter of prefilter.h.
 *
 * Building: every pattern that is not an "always" one goes into one
 * hs_compile_multi call, its slot number as its Hyperscan id.  When
 * Hyperscan refuses an expression the error names it: that pattern becomes
 * an always pattern and the rest is compiled again.
 */
#include "prefilter.h"
#include "report.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"
#include <hs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFILTER_FLAGS (HS_FLAG_PREFILTER | HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_CASELESS | \
                         HS_FLAG_SINGLEMATCH)

/* Literals are matched as bytes: no HS_FLAG_UTF8, which made compiling
 * the default rules' 2,100 literals 25 times slower (1.2 s instead of
 * 0.05 s) for the same scan.  A literal is valid UTF-8, so it can only
 * match at a character boundary; ASCII caseless matching is PCRE2's but
 * for the letters prefilter_folds_to_ascii sets aside. */
#define PREFILTER_LIT_FLAGS HS_FLAG_CASELESS
#define PREFILTER_ALTS_MAX 256

/* One alternative of an exact-literal pattern; its Hyperscan id is
 * nslots + its index. */
struct prefilter_lit {
    unsigned slot, alt;
    size_t len;                   /* bytes of the literal (escapes removed) */
    char *re;                     /* the alternative's source */
};

struct prefilter {
    const struct rules *rules;
    size_t *base;                 /* first slot of each topic */
    size_t nslots, nalways;
    unsigned char *always;        /* per slot: 1 = reported for every text */
    unsigned char *exact;         /* per slot: 1 = an exact-literal pattern */
    char **rest_hs, **rest_re;    /* per exact slot: its non-literal alternatives
                                     for Hyperscan and PCRE2, or NULL */
    struct prefilter_lit *lit;
    size_t nlit;
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
    for (const char *p = re; *p;) {
        uint32_t cp;
        size_t n = report_utf8_decode(p, 4, &cp);
        if (n == 0 || (cp >= 0x80 && prefilter_cased(cp)))
            return 1;             /* not UTF-8 (PCRE2 refuses it anyway) or cased */
        p += n;
    }
    return 0;
}

/* The length in bytes of the plain literal re[0..n) ("物业费", "PM2\\.5":
 * ASCII punctuation only as \\x escapes, no other regex syntax), or 0 if
 * it is not one. */
static size_t prefilter_literal_len(const char *re, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++, len++) {
        if (re[i] == '\\') {
            if (i + 1 >= n || (unsigned char)re[i + 1] >= 0x80 ||
                !strchr("\\.^$|?*+()[]{}/-#", re[i + 1]))
                return 0;
            i++;
        } else if (strchr("^$.?*+()[]{}|", re[i])) {
            return 0;
        }
    }
    return len;
}

/* Split re at its top-level '|' (not inside parentheses or a class, not
 * escaped): the start and length of each alternative into from[], len[].
 * Returns how many, 0 when there are more than PREFILTER_ALTS_MAX or an
 * empty one. */
static size_t prefilter_alternatives(const char *re, size_t *from, size_t *len)
{
    size_t n = 0, start = 0;
    int depth = 0;
    for (size_t i = 0;; i++) {
        char c = re[i];
        if (c == '\\' && re[i + 1]) {
            i++;
            continue;
        }
        if (c == '[') {               /* skip the class: "[]a]", "[^]a]" */
            size_t j = i + 1 + (re[i + 1] == '^');
            j += re[j] == ']';
            for (; re[j] && re[j] != ']'; j++) {
                if (re[j] == '\\' && re[j + 1])
                    j++;
                else if (re[j] == '[' && re[j + 1] == ':')
                    return 0;         /* POSIX classes: not worth parsing */
            }
            if (!re[j])
                return 0;
            i = j;
            continue;
        }
        depth += c == '(';
        depth -= c == ')';
        if ((c == '|' && depth == 0) || !c) {
            if (i == start || n == PREFILTER_ALTS_MAX)
                return 0;
            from[n] = start;
            len[n++] = i - start;
            start = i + 1;
            if (!c)
                return n;
        }
    }
}

/* 1 if the non-literal alternatives of a pattern can be matched apart from
 * its literal ones with the same result: no option settings, back
 * references, recursion, verbs, \\G or \\Q (the only groups are (...),
 * (?:...) and lookarounds). */
static int prefilter_splittable(const char *re)
{
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1] && strchr("0123456789gkGQEK", p[1]))
                return 0;
            if (p[1])
                p++;
        } else if (*p == '(' && p[1] == '?') {
            if (!(p[2] == ':' || p[2] == '=' || p[2] == '!' ||
                  (p[2] == '<' && (p[3] == '=' || p[3] == '!'))))
                return 0;
        } else if (*p == '(' && p[1] == '*') {
            return 0;
        }
    }
    return 1;
}

/* Make slot an exact pattern if re allows: every alternative a plain
 * literal, or (mixed) some of them, the rest kept as one pattern of their
 * own to be matched by PCRE2 and merged in alternative order. */
static void prefilter_add_literals(struct prefilter *p, size_t slot, const char *re)
{
    size_t from[PREFILTER_ALTS_MAX], len[PREFILTER_ALTS_MAX], bytes[PREFILTER_ALTS_MAX];
    size_t n = prefilter_alternatives(re, from, len), nlit = 0;
    for (size_t i = 0; i < n; i++)
        nlit += (bytes[i] = prefilter_literal_len(re + from[i], len[i])) > 0;
    if (nlit == 0 || (nlit < n && !prefilter_splittable(re)))
        return;
    p->exact[slot] = 1;
    p->lit = xrealloc(p->lit, (p->nlit + nlit) * sizeof *p->lit);
    size_t hs = 0, pc = 0;
    for (size_t i = 0; i < n; i++) {
        if (bytes[i]) {
            p->lit[p->nlit++] = (struct prefilter_lit){(unsigned)slot, (unsigned)i, bytes[i],
                                                       xstrndup(re + from[i], len[i])};
        } else {
            hs += len[i] + 8;
            pc += len[i] + 32;
        }
    }
    if (nlit == n)
        return;
    char *h = p->rest_hs[slot] = xcalloc(1, hs + 1), *c = p->rest_re[slot] = xcalloc(1, pc + 1);
    for (size_t i = 0; i < n; i++) {
        if (bytes[i])
            continue;
        h += sprintf(h, "%s(?:%.*s)", h == p->rest_hs[slot] ? "" : "|", (int)len[i], re + from[i]);
        c += sprintf(c, "%s(*MARK:%zu)(?:%.*s)", c == p->rest_re[slot] ? "" : "|", i,
                     (int)len[i], re + from[i]);
    }
}

/* Compile the slots not marked always; a refused one becomes always and
 * the rest is tried again.  0, or -1 when Hyperscan fails as a whole. */
static int prefilter_compile(struct prefilter *p)
{
    size_t max = 2 * p->nslots + p->nlit + 1;
    const char **expr = xcalloc(max, sizeof *expr);
    unsigned *flags = xcalloc(max, sizeof *flags), *ids = xcalloc(max, sizeof *ids);
    int rc = -1;
    for (size_t tries = 0; tries <= p->nslots; tries++) {
        unsigned n = 0;
        for (size_t t = 0; t < p->rules->ntopics; t++) {
            const struct rules_topic *rt = &p->rules->topics[t];
            for (size_t k = 0; k < rt->npatterns + rt->nexcludes; k++)
                if (!p->always[p->base[t] + k] && !p->exact[p->base[t] + k]) {
                    expr[n] = prefilter_source(rt, k);
                    flags[n] = PREFILTER_FLAGS;
                    ids[n++] = (unsigned)(p->base[t] + k);
                }
        }
        for (size_t i = 0; i < p->nlit; i++)
            if (p->exact[p->lit[i].slot]) {
                expr[n] = p->lit[i].re;
                flags[n] = PREFILTER_LIT_FLAGS;
                ids[n++] = (unsigned)(p->nslots + i);
            }
        for (size_t k = 0; k < p->nslots; k++)
            if (p->exact[k] && p->rest_hs[k]) {
                expr[n] = p->rest_hs[k];
                flags[n] = PREFILTER_FLAGS;
                ids[n++] = (unsigned)(p->nslots + p->nlit + k);
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
        size_t slot = ids[bad] < p->nslots             ? ids[bad]
                      : ids[bad] < p->nslots + p->nlit ? p->lit[ids[bad] - p->nslots].slot
                                                       : ids[bad] - p->nslots - p->nlit;
        p->always[slot] = 1;          /* refused: PCRE2 runs it on every text */
        p->exact[slot] = 0;
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
    p->exact = xcalloc(p->nslots + 1, 1);
    p->rest_hs = xcalloc(p->nslots + 1, sizeof *p->rest_hs);
    p->rest_re = xcalloc(p->nslots + 1, sizeof *p->rest_re);
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        for (size_t k = 0; k < rt->npatterns + rt->nexcludes; k++) {
            const char *re = prefilter_source(rt, k);
            p->always[p->base[t] + k] = (unsigned char)prefilter_unsafe(re);
            if (k < rt->npatterns && !p->always[p->base[t] + k])
                prefilter_add_literals(p, p->base[t] + k, re);
        }
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
    for (size_t i = 0; i < p->nlit; i++)
        free(p->lit[i].re);
    free(p->lit);
    for (size_t k = 0; k < p->nslots; k++) {
        free(p->rest_hs[k]);
        free(p->rest_re[k]);
    }
    free(p->rest_hs);
    free(p->rest_re);
    free(p->exact);
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

int prefilter_always_slot(const struct prefilter *p, size_t slot)
{
    return p->always[slot];
}

const unsigned char *prefilter_exact_map(const struct prefilter *p)
{
    return p->exact;
}

const char *prefilter_rest(const struct prefilter *p, size_t slot)
{
    return p->exact[slot] ? p->rest_re[slot] : NULL;
}

struct prefilter_ctx {
    const struct prefilter *p;
    struct prefilter_result *res;
};

/* Mark slot possible (once per scan). */
static void prefilter_touch(struct prefilter_result *res, unsigned slot)
{
    if (res->may[slot])
        return;
    res->may[slot] = 1;
    res->touched[res->ntouched++] = slot;
}

static int prefilter_on_match(unsigned id, unsigned long long from, unsigned long long to,
                              unsigned flags, void *arg)
{
    struct prefilter_ctx *ctx = arg;
    struct prefilter_result *res = ctx->res;
    (void)from, (void)flags;
    if (id < ctx->p->nslots) {
        prefilter_touch(res, id);
        return 0;
    }
    if (id >= ctx->p->nslots + ctx->p->nlit) {    /* a mixed slot's regex part */
        unsigned slot = id - (unsigned)(ctx->p->nslots + ctx->p->nlit);
        prefilter_touch(res, slot);
        res->rest[slot] = 1;
        return 0;
    }
    const struct prefilter_lit *l = &ctx->p->lit[id - ctx->p->nslots];
    prefilter_touch(res, l->slot);
    if (res->nocc == res->cap) {
        res->cap = res->cap ? 2 * res->cap : 256;
        res->occ = xrealloc(res->occ, res->cap * sizeof *res->occ);
    }
    res->occ[res->nocc] = (struct prefilter_occ){l->alt, res->head[l->slot],
                                                 (size_t)to - l->len, (size_t)to};
    res->head[l->slot] = (unsigned)res->nocc++;
    return 0;
}

void prefilter_result_free(struct prefilter_result *res)
{
    free(res->may);
    free(res->touched);
    free(res->head);
    free(res->rest);
    free(res->occ);
    memset(res, 0, sizeof *res);
}

int prefilter_next(const struct prefilter_result *res, size_t slot, size_t pos,
                   size_t *start, size_t *end, unsigned *alt)
{
    unsigned best = PREFILTER_NONE;   /* the leftmost, earliest alternative */
    for (unsigned i = res->head[slot]; i != PREFILTER_NONE; i = res->occ[i].next) {
        const struct prefilter_occ *o = &res->occ[i];
        if (o->start >= pos &&
            (best == PREFILTER_NONE || o->start < res->occ[best].start ||
             (o->start == res->occ[best].start && o->alt < res->occ[best].alt)))
            best = i;
    }
    if (best == PREFILTER_NONE)
        return 0;
    *start = res->occ[best].start;
    *end = res->occ[best].end;
    *alt = res->occ[best].alt;
    return 1;
}

/* Characters PCRE2's caseless matching folds onto ASCII letters: U+212A
 * KELVIN SIGN (E2 84 AA), U+212B ANGSTROM SIGN (E2 84 AB), U+2126 OHM SIGN
 * (E2 84 A6), U+017F LONG S (C5 BF). */
static int prefilter_folds_to_ascii(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (const unsigned char *p = s; (p = memchr(p, 0xC5, len - (size_t)(p - s))) != NULL; p++)
        if ((size_t)(p - s) + 1 < len && p[1] == 0xBF)
            return 1;
    for (const unsigned char *p = s; (p = memchr(p, 0xE2, len - (size_t)(p - s))) != NULL; p++)
        if ((size_t)(p - s) + 2 < len && p[1] == 0x84 &&
            (p[2] == 0xAA || p[2] == 0xAB || p[2] == 0xA6))
            return 1;
    return 0;
}

/* Undo what the previous scan set; first use allocates. */
static void prefilter_reset(const struct prefilter *p, struct prefilter_result *res)
{
    if (!res->may || res->nslots != p->nslots) {
        prefilter_result_free(res);
        res->nslots = p->nslots;
        res->may = xmalloc(p->nslots + 1);
        memcpy(res->may, p->always, p->nslots);
        res->touched = xmalloc((p->nslots + 1) * sizeof *res->touched);
        res->head = xmalloc((p->nslots + 1) * sizeof *res->head);
        res->rest = xcalloc(p->nslots + 1, 1);
        memset(res->head, 0xFF, (p->nslots + 1) * sizeof *res->head);
    } else if (res->all) {
        memcpy(res->may, p->always, p->nslots);
    }
    for (size_t i = 0; i < res->ntouched; i++) {
        res->may[res->touched[i]] = 0;
        res->head[res->touched[i]] = PREFILTER_NONE;
        res->rest[res->touched[i]] = 0;
    }
    res->ntouched = 0;
    res->nocc = 0;
    res->all = 0;
}

int prefilter_scan(struct prefilter *p, const char *text, size_t len,
                   struct prefilter_result *res)
{
    prefilter_reset(p, res);
    struct prefilter_ctx ctx = {p, res};
    if (prefilter_folds_to_ascii(text, len) ||
        (p->db && hs_scan(p->db, text, (unsigned)len, 0, p->scratch, prefilter_on_match,
                          &ctx) != HS_SUCCESS)) {
        memset(res->may, 1, p->nslots);
        res->all = 1;
        return -1;
    }
    return 0;
}
