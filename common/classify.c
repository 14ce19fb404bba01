/* classify.c: PCRE2 matching and the scoring of classify.h.
 *
 * Here: compiling a struct rules into PCRE2 codes, bounded matching, counting
 * hits, scoring topics, ordering tags.  Not here: reading the rules file
 * (common/rules.c) or anything about sockets (router/router.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "classify.h"
#include "prefilter.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "xmalloc.h"
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define CLASSIFY_HIT_TEXT_MAX 120     /* bytes of matched text kept in a hit */
#define CLASSIFY_COMPILE_OPTS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS)

struct classify_topic {
    pcre2_code **pat;                 /* one per rules_topic.patterns */
    pcre2_code **exc;                 /* one per rules_topic.excludes */
    size_t base;                      /* its first prefilter slot */
    int always;                       /* a pattern the prefilter cannot rule out */
    size_t idlen, catlen;             /* strlen of id and category (0: none) */
};

/* A topic's outcome before tags are ordered: hits point into the text. */
struct classify_hit {
    unsigned char field;              /* 0 title, 1 body */
    int pattern;
    size_t offset, len;
};
struct classify_scored {
    size_t topic;
    double score;
    struct classify_hit hits[CLASSIFY_HITS_MAX];
    size_t nhits;
};

/* Scratch space reused by every classify_report call (one thread). */
struct classify_scratch {
    pcre2_match_data *md;
    struct prefilter_result res[2];   /* title, body */
    unsigned char *mark;              /* per topic: already a candidate */
    size_t *cand;                     /* candidate topics */
    size_t *ord;                      /* tagged entries of v, best first */
    struct classify_scored *v;        /* per candidate */
    unsigned *slots;                  /* the slots the prefilter saw, in order */
    size_t *from, *count;             /* per topic: its part of slots */
};

struct classify {
    const struct rules *rules;        /* borrowed */
    struct classify_topic *topics;    /* one per rules->topics */
    pcre2_match_context *mctx;        /* limits; never written after new */
    size_t npatterns;
    struct prefilter *pf;             /* NULL: every pattern runs */
    unsigned char *exact;             /* per slot: exact in the prefilter and
                                         its rest (if any) compiled here */
    pcre2_code **rest;                /* per slot: a mixed slot's non-literal
                                         alternatives (prefilter_rest), or NULL */
    size_t *slot_topic;               /* per slot: its topic */
    size_t *always_topics;            /* topics with a slot run always */
    size_t nalways_topics;
    struct classify_scratch *x;
};

/* The text of one field of the report being classified. */
struct classify_field {
    const char *name;                 /* "title" / "body" */
    const char *s;
    size_t len;
};

/* One classify_report call: its match data and where its counts go. */
struct classify_run {
    const struct classify *c;
    const char *id;                   /* report id for log lines, or "-" */
    pcre2_match_data *md;
    struct classify_stats *st;
    struct classify_field field[2];   /* title, body */
    struct prefilter_result *res[2];  /* per field; NULL: no prefilter */
    int grouped;                      /* c->x->slots holds what the prefilter saw */
};

/* Compile one pattern; -1 with "FILE: topic ID: LABEL N: MSG at offset K". */
static int classify_compile(const struct rules *rules, const struct rules_topic *t,
                            const char *label, size_t i, pcre2_code **out,
                            struct rules_errors *errs)
{
    int ec;
    PCRE2_SIZE off;
    const char *re = label[0] == 'p' ? t->patterns[i].re : t->excludes[i].re;
    *out = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, CLASSIFY_COMPILE_OPTS,
                         &ec, &off, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unknown error");
        rules_errors_add(errs, "%s: topic %s: %s %zu: %s at offset %zu", rules->path,
                         t->id, label, i + 1, (char *)msg, (size_t)off);
        return -1;
    }
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);  /* no JIT: interpreter */
    return 0;
}

/* Compile the non-literal part of mixed slot k.  0, or -1 when it cannot
 * serve (it does not compile, or could match the empty string). */
static int classify_rest(struct classify *c, size_t k)
{
    int ec;
    PCRE2_SIZE off;
    uint32_t minlen = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)prefilter_rest(c->pf, k), PCRE2_ZERO_TERMINATED,
                                     CLASSIFY_COMPILE_OPTS, &ec, &off, NULL);
    if (code)
        pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen);
    if (!code || minlen == 0) {
        pcre2_code_free(code);
        return -1;
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    c->rest[k] = code;
    return 0;
}

/* Slot bookkeeping for the prefilter: which topic each slot belongs to and
 * which topics have a pattern that runs on every text. */
static void classify_slots(struct classify *c)
{
    const struct rules *rules = c->rules;
    size_t nslots = prefilter_slots(c->pf);
    c->exact = xcalloc(nslots + 1, 1);
    memcpy(c->exact, prefilter_exact_map(c->pf), nslots);
    c->rest = xcalloc(nslots + 1, sizeof *c->rest);
    for (size_t k = 0; k < nslots; k++)
        if (c->exact[k] && prefilter_rest(c->pf, k) && classify_rest(c, k) < 0)
            c->exact[k] = 0;          /* PCRE2 runs the whole pattern instead */
    c->slot_topic = xcalloc(nslots + 1, sizeof *c->slot_topic);
    c->always_topics = xcalloc(rules->ntopics + 1, sizeof *c->always_topics);
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        int always = 0;
        for (size_t k = 0; k < rt->npatterns + rt->nexcludes; k++) {
            size_t slot = prefilter_slot(c->pf, t, k);
            c->slot_topic[slot] = t;
            always |= k < rt->npatterns && prefilter_always_slot(c->pf, slot);
        }
        if (always)
            c->always_topics[c->nalways_topics++] = t;
        c->topics[t].always = always;
    }
}

static struct classify_scratch *classify_scratch_new(size_t ntopics, size_t nslots)
{
    struct classify_scratch *x = xcalloc(1, sizeof *x);
    x->md = pcre2_match_data_create(1, NULL);
    if (!x->md)
        abort();
    x->mark = xcalloc(ntopics + 1, 1);
    x->cand = xcalloc(ntopics + 1, sizeof *x->cand);
    x->ord = xcalloc(ntopics + 1, sizeof *x->ord);
    x->v = xcalloc(ntopics + 1, sizeof *x->v);
    x->slots = xcalloc(2 * nslots + 1, sizeof *x->slots);
    x->from = xcalloc(ntopics + 1, sizeof *x->from);
    x->count = xcalloc(ntopics + 1, sizeof *x->count);
    return x;
}

int classify_new(const struct rules *rules, struct classify **out,
                 struct rules_errors *errs)
{
    struct classify *c = xcalloc(1, sizeof *c);
    int bad = 0;
    c->rules = rules;
    c->topics = xcalloc(rules->ntopics + 1, sizeof *c->topics);
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        struct classify_topic *ct = &c->topics[t];
        ct->pat = xcalloc(rt->npatterns + 1, sizeof(pcre2_code *));
        ct->exc = xcalloc(rt->nexcludes + 1, sizeof(pcre2_code *));
        for (size_t i = 0; i < rt->npatterns; i++)
            bad |= classify_compile(rules, rt, "pattern", i, &ct->pat[i], errs);
        for (size_t i = 0; i < rt->nexcludes; i++)
            bad |= classify_compile(rules, rt, "exclude", i, &ct->exc[i], errs);
        ct->base = c->npatterns;
        ct->idlen = strlen(rt->id);
        ct->catlen = rt->category ? strlen(rt->category) : 0;
        c->npatterns += rt->npatterns + rt->nexcludes;
    }
    c->mctx = pcre2_match_context_create(NULL);
    if (!c->mctx)
        abort();
    pcre2_set_match_limit(c->mctx, CLASSIFY_MATCH_LIMIT);
    pcre2_set_depth_limit(c->mctx, CLASSIFY_DEPTH_LIMIT);
    if (bad) {
        classify_free(&c);
        *out = NULL;
        return -1;
    }
    c->pf = prefilter_new(rules);
    if (c->pf)
        classify_slots(c);
    c->x = classify_scratch_new(rules->ntopics, c->pf ? prefilter_slots(c->pf) : 0);
    *out = c;
    return 0;
}

void classify_free(struct classify **cp)
{
    struct classify *c = cp ? *cp : NULL;
    if (!c)
        return;
    for (size_t t = 0; t < c->rules->ntopics; t++) {
        const struct rules_topic *rt = &c->rules->topics[t];
        for (size_t i = 0; i < rt->npatterns; i++)
            pcre2_code_free(c->topics[t].pat[i]);
        for (size_t i = 0; i < rt->nexcludes; i++)
            pcre2_code_free(c->topics[t].exc[i]);
        free(c->topics[t].pat);
        free(c->topics[t].exc);
    }
    free(c->topics);
    for (size_t k = 0; c->rest && k < c->npatterns; k++)
        pcre2_code_free(c->rest[k]);
    free(c->rest);
    free(c->exact);
    prefilter_free(&c->pf);
    free(c->slot_topic);
    free(c->always_topics);
    if (c->x) {
        pcre2_match_data_free(c->x->md);
        prefilter_result_free(&c->x->res[0]);
        prefilter_result_free(&c->x->res[1]);
        free(c->x->mark);
        free(c->x->cand);
        free(c->x->ord);
        free(c->x->v);
        free(c->x->slots);
        free(c->x->from);
        free(c->x->count);
        free(c->x);
    }
    pcre2_match_context_free(c->mctx);
    free(c);
    *cp = NULL;
}

const struct rules *classify_rules(const struct classify *c)
{
    return c->rules;
}

size_t classify_npatterns(const struct classify *c)
{
    return c->npatterns;
}

/* One bounded match from `start`: 1 and [*ms, *me), 0 no match, -1 a limit
 * was hit (logged and counted: the caller treats it as no match). */
static int classify_match(struct classify_run *run, const pcre2_code *code,
                          const struct classify_field *f, size_t start, size_t *ms,
                          size_t *me, size_t topic, const char *label, size_t i)
{
    pcre2_match_context *mctx = run->c->mctx;
    int rc = pcre2_match(code, (PCRE2_SPTR)f->s, f->len, start, PCRE2_NO_UTF_CHECK,
                         run->md, mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  /* bounded by the match limit, unlike JIT */
        rc = pcre2_match(code, (PCRE2_SPTR)f->s, f->len, start,
                         PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, run->md, mctx);
    if (rc >= 0) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(run->md);
        *ms = ov[0];
        *me = ov[1] > ov[0] ? ov[1] : ov[0];  /* \K can put the end first */
        return 1;
    }
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        log_warn("%s: topic %s %s %zu: match limit hit", run->id,
                 run->c->rules->topics[topic].id, label, i + 1);
        if (run->st)
            run->st->match_limit++;
        return -1;
    }
    log_error("%s: topic %s %s %zu: pcre2_match error %d", run->id,
              run->c->rules->topics[topic].id, label, i + 1, rc);
    return -1;
}

/* Keep a hit in s->hits (up to CLASSIFY_HITS_MAX); its text is cut to
 * CLASSIFY_HIT_TEXT_MAX bytes on a character boundary. */
static void classify_keep_hit(struct classify_scored *s, const struct classify_field *f,
                              int field, size_t i, size_t ms, size_t me)
{
    if (s->nhits >= CLASSIFY_HITS_MAX)
        return;
    size_t n = me - ms;
    if (n > CLASSIFY_HIT_TEXT_MAX) {
        n = CLASSIFY_HIT_TEXT_MAX;
        while (n > 0 && ((unsigned char)f->s[ms + n] & 0xC0) == 0x80)
            n--;
    }
    s->hits[s->nhits++] = (struct classify_hit){(unsigned char)field, (int)i, ms, n};
}

/* 1 when pattern slot of field f may match: no prefilter, the text was not
 * prefiltered, or the prefilter saw it. */
static int classify_may(const struct classify_run *run, int f, size_t slot)
{
    const struct prefilter_result *res = run->res[f];
    return !res || res->all || res->may[slot];
}

/* Pattern i of s->topic run by PCRE2 in field f from byte `start`, n
 * matches counted already: non-overlapping, non-empty matches up to
 * CLASSIFY_COUNT_MAX in all, each kept as a hit.  Returns the new count. */
static int classify_count_pcre2(struct classify_run *run, struct classify_scored *s, size_t i,
                                int field, size_t start, int n)
{
    const struct classify_field *f = &run->field[field];
    const pcre2_code *code = run->c->topics[s->topic].pat[i];
    size_t ms, me;
    while (n < CLASSIFY_COUNT_MAX && start <= f->len &&
           classify_match(run, code, f, start, &ms, &me, s->topic, "pattern", i) == 1) {
        if (me == ms) {               /* empty: step over one character */
            start = ms + 1;
            while (start < f->len && ((unsigned char)f->s[start] & 0xC0) == 0x80)
                start++;
            continue;
        }
        classify_keep_hit(s, f, field, i, ms, me);
        n++;
        start = me;
    }
    return n;
}

/* The next match of a mixed slot's non-literal part from pos: 1 and
 * [*ms, *me) and its alternative (the MARK), 0 none, -1 a limit was hit. */
static int classify_rest_next(struct classify_run *run, size_t slot,
                              const struct classify_field *f, size_t pos, size_t *ms,
                              size_t *me, unsigned *alt, size_t topic, size_t i)
{
    int rc = classify_match(run, run->c->rest[slot], f, pos, ms, me, topic, "pattern", i);
    if (rc == 1) {
        PCRE2_SPTR mark = pcre2_get_mark(run->md);
        *alt = mark ? (unsigned)strtoul((const char *)mark, NULL, 10) : 0;
    }
    return rc;
}

/* The matches of exact slot `slot` (pattern i of s->topic) in field f, as
 * PCRE2 would find them: literal occurrences from the prefilter, merged
 * with the PCRE2 matches of the slot's non-literal part when it has one
 * and Hyperscan saw it -- leftmost first, then the earlier alternative. */
static int classify_count_exact(struct classify_run *run, struct classify_scored *s,
                                size_t i, int field, size_t slot)
{
    const struct prefilter_result *res = run->res[field];
    const struct classify_field *f = &run->field[field];
    int rest = run->c->rest[slot] && res->rest[slot], n = 0;
    size_t pos = 0, rs = 0, re = 0, ls, le;
    unsigned ralt = 0, lalt;
    int rok = 0;                      /* [rs, re) is the rest's match from pos */
    while (n < CLASSIFY_COUNT_MAX) {
        int lok = prefilter_next(res, slot, pos, &ls, &le, &lalt);
        if (rest && (!rok || rs < pos)) {
            int rc = classify_rest_next(run, slot, f, pos, &rs, &re, &ralt, s->topic, i);
            if (rc < 0)               /* a limit: the whole pattern from here, as plain
                                         PCRE2 would have run it */
                return classify_count_pcre2(run, s, i, field, pos, n);
            rok = rc == 1;
            rest = rok;
        }
        if (rok && (!lok || rs < ls || (rs == ls && ralt < lalt)))
            ls = rs, le = re, rok = 0;
        else if (!lok)
            break;
        classify_keep_hit(s, f, field, i, ls, le);
        n++;
        pos = le;
    }
    return n;
}

/* Non-overlapping, non-empty matches of pattern i of s->topic in field f,
 * at most CLASSIFY_COUNT_MAX; each is kept as a hit. */
static int classify_count(struct classify_run *run, struct classify_scored *s, size_t i,
                          int field)
{
    const struct classify_topic *ct = &run->c->topics[s->topic];
    const struct prefilter_result *res = run->res[field];
    size_t slot = ct->base + i;
    if (!classify_may(run, field, slot))
        return 0;
    if (res && !res->all && run->c->exact[slot])
        return classify_count_exact(run, s, i, field, slot);
    return classify_count_pcre2(run, s, i, field, 0, 0);
}

/* 1 if any exclude of the topic matches the title or the body (even empty). */
static int classify_vetoed(struct classify_run *run, size_t t)
{
    const struct rules_topic *rt = &run->c->rules->topics[t];
    const struct classify_topic *ct = &run->c->topics[t];
    size_t ms, me;
    for (size_t i = 0; i < rt->nexcludes; i++)
        for (int f = 0; f < 2; f++)
            if (classify_may(run, f, ct->base + rt->npatterns + i) &&
                classify_match(run, ct->exc[i], &run->field[f], 0, &ms, &me, t, "exclude",
                               i) == 1)
                return 1;
    return 0;
}

/* Add pattern i's hits in the title and the body to *sum; 1 if any. */
static int classify_pattern(struct classify_run *run, struct classify_scored *s, size_t i,
                            double *sum)
{
    const struct rules *rules = run->c->rules;
    int th = classify_count(run, s, i, 0);
    int bh = classify_count(run, s, i, 1);
    *sum += rules->topics[s->topic].patterns[i].w *
            (rules->title_weight * th + bh);
    return th + bh;
}

/* Score topic s->topic (0 when vetoed), collecting its hits; patterns the
 * prefilter ruled out are not run (they would count 0).  When the slots the
 * prefilter saw are grouped, only those are visited, in pattern order: the
 * others would add 0, so the sum is the same to the last bit. */
static void classify_topic(struct classify_run *run, struct classify_scored *s)
{
    const struct rules *rules = run->c->rules;
    const struct rules_topic *rt = &rules->topics[s->topic];
    const struct classify_topic *ct = &run->c->topics[s->topic];
    const struct classify_scratch *x = run->c->x;
    double sum = 0;
    int matched = 0;
    s->score = 0;
    s->nhits = 0;
    if (run->grouped && !ct->always) {
        for (size_t k = x->from[s->topic]; k < x->from[s->topic] + x->count[s->topic]; k++)
            if (x->slots[k] - ct->base < rt->npatterns)
                matched |= classify_pattern(run, s, x->slots[k] - ct->base, &sum);
    } else {
        for (size_t i = 0; i < rt->npatterns; i++)
            matched |= classify_pattern(run, s, i, &sum);
    }
    if (!matched)                     /* the bias counts only for a topic with a hit,
                                         so the prefilter may skip the others */
        return;
    sum += rt->bias;
    if (sum > 0 && rt->nexcludes && classify_vetoed(run, s->topic))
        sum = 0;
    s->score = rt->weight * sum;
}

/* Highest score first, then file order: insertion of v[n-1] into the
 * order of v[0..n-1) kept in ord (tags are few; the entries are large). */
static void classify_order(const struct classify_scored *v, size_t *ord, size_t n)
{
    const struct classify_scored *s = &v[n - 1];
    size_t i = n - 1;
    while (i > 0 && (v[ord[i - 1]].score < s->score ||
                     (v[ord[i - 1]].score == s->score && v[ord[i - 1]].topic > s->topic))) {
        ord[i] = ord[i - 1];
        i--;
    }
    ord[i] = n - 1;
}

/* Add topic t to x->cand at n unless it is there already.  The mark is a
 * flag, never a count: a topic may have any number of patterns the
 * prefilter saw, and a counter would wrap and add the topic twice. */
static size_t classify_candidate_add(struct classify_scratch *x, size_t n, size_t t)
{
    if (x->mark[t])
        return n;
    x->mark[t] = 1;
    x->cand[n] = t;
    return n + 1;
}

/* The topics worth scoring: every one without a prefilter or when a field
 * was not prefiltered; otherwise those the prefilter saw, and those with a
 * pattern that runs always.  Returns how many (at most ntopics), in x->cand. */
static size_t classify_candidates(const struct classify *c, const struct classify_run *run)
{
    struct classify_scratch *x = c->x;
    size_t n = 0, ntopics = c->rules->ntopics;
    if (!c->pf || run->res[0]->all || run->res[1]->all) {
        for (size_t t = 0; t < ntopics; t++)
            x->cand[n++] = t;
        return n;
    }
    for (size_t i = 0; i < c->nalways_topics; i++)
        n = classify_candidate_add(x, n, c->always_topics[i]);
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < run->res[f]->ntouched; i++)
            n = classify_candidate_add(x, n, c->slot_topic[run->res[f]->touched[i]]);
    for (size_t i = 0; i < n; i++)
        x->mark[x->cand[i]] = 0;
    return n;
}

static int classify_cmp_slot(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* Group the slots either field's prefilter saw by topic (slots of a topic
 * are consecutive): x->slots in order, x->from / x->count per candidate. */
static void classify_group(const struct classify *c, struct classify_run *run, size_t ncand)
{
    struct classify_scratch *x = c->x;
    size_t n = 0, k = 0;
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < run->res[f]->ntouched; i++)
            x->slots[n++] = run->res[f]->touched[i];
    qsort(x->slots, n, sizeof *x->slots, classify_cmp_slot);
    for (size_t i = 0; i < ncand; i++)
        x->count[x->cand[i]] = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && x->slots[k - 1] == x->slots[i])
            continue;
        size_t t = c->slot_topic[x->slots[i]];
        x->slots[k] = x->slots[i];
        if (x->count[t]++ == 0)
            x->from[t] = k;
        k++;
    }
    run->grouped = 1;
}

/* How many of the n tagged topics (best first in ord) to keep: those
 * scoring at least tag_ratio of the best, at most max_tags. */
static size_t classify_keep(const struct rules *rules, const struct classify_scored *v,
                            const size_t *ord, size_t n)
{
    size_t k = 1;
    if (n == 0)
        return 0;
    while (k < n && v[ord[k]].score >= rules->tag_ratio * v[ord[0]].score)
        k++;
    return rules->max_tags && k > rules->max_tags ? rules->max_tags : k;
}

/* Turn the tagged topics into r->tags (one block) and r->committee. */
static void classify_fill(const struct classify *c, const struct classify_run *run,
                          struct report *r, const struct classify_scored *v,
                          const size_t *ord, size_t n)
{
    const struct rules *rules = c->rules;
    size_t nhits = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const struct classify_scored *s = &v[ord[i]];
        const struct classify_topic *ct = &c->topics[s->topic];
        bytes += ct->idlen + 1 + ct->catlen + 1;
        nhits += s->nhits;
        for (size_t k = 0; k < s->nhits; k++)
            bytes += s->hits[k].len + 1;
    }
    report_tags_reserve(r, n, nhits, bytes);
    for (size_t i = 0; i < n; i++) {
        const struct classify_scored *s = &v[ord[i]];
        const struct rules_topic *rt = &rules->topics[s->topic];
        const struct classify_topic *ct = &c->topics[s->topic];
        struct report_tag *t = &r->tags[i];
        t->topic = report_tags_str(r, rt->id, ct->idlen);
        t->category = rt->category ? report_tags_str(r, rt->category, ct->catlen) : NULL;
        t->score = s->score;
        t->nhits = s->nhits;
        t->hits = report_tags_hits(r, s->nhits);
        for (size_t k = 0; k < s->nhits; k++) {
            const struct classify_hit *h = &s->hits[k];
            const struct classify_field *f = &run->field[h->field];
            memcpy(t->hits[k].field, f->name, strlen(f->name) + 1);
            t->hits[k].pattern = h->pattern;
            t->hits[k].offset = (int)h->offset;
            t->hits[k].text = report_tags_str(r, f->s + h->offset, h->len);
        }
    }
    r->ntags = n;
    free(r->committee);
    r->committee = xstrdup(n ? rules->topics[v[ord[0]].topic].committee : rules->triage);
}

/* Point f at s, or at "" when s is not valid UTF-8 (cannot happen for
 * validated reports; PCRE2_NO_UTF_CHECK relies on it). */
static void classify_field_set(struct classify_field *f, const char *name, const char *s,
                               const char *id)
{
    f->name = name;
    f->s = s ? s : "";
    f->len = strlen(f->s);
    if (!report_utf8_valid(f->s, f->len)) {
        log_warn("%s: %s is not valid UTF-8, not matched", id, name);
        f->s = "";
        f->len = 0;
    }
}

void classify_report(const struct classify *c, struct report *r,
                     struct classify_stats *st)
{
    const struct rules *rules = c->rules;
    struct classify_scratch *x = c->x;
    struct classify_run run = {.c = c, .id = r->id[0] ? r->id : "-", .st = st, .md = x->md};
    classify_field_set(&run.field[0], "title", r->title, run.id);
    classify_field_set(&run.field[1], "body", r->body, run.id);
    for (int f = 0; c->pf && f < 2; f++) {
        run.res[f] = &x->res[f];
        prefilter_scan(c->pf, run.field[f].s, run.field[f].len, run.res[f]);
    }
    size_t ncand = classify_candidates(c, &run), n = 0;
    if (c->pf && !run.res[0]->all && !run.res[1]->all)
        classify_group(c, &run, ncand);
    for (size_t i = 0; i < ncand; i++) {
        struct classify_scored *s = &x->v[n];
        s->topic = x->cand[i];
        if (rules->topics[s->topic].npatterns == 0)
            continue;
        classify_topic(&run, s);
        if (s->score > 0 && s->score >= rules->min_score)
            classify_order(x->v, x->ord, ++n);
    }
    n = classify_keep(rules, x->v, x->ord, n);
    classify_fill(c, &run, r, x->v, x->ord, n);
    if (st) {
        st->reports++;
        st->tagged += n > 0;
    }
}

size_t classify_warnings(const struct classify *c, struct rules_errors *warns)
{
    const struct rules *rules = c->rules;
    size_t n0 = warns->n;
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        double best = rt->bias;
        size_t npositive = 0;
        if (rt->npatterns == 0)
            rules_errors_add(warns, "%s: topic %s: no patterns, can never match",
                             rules->path, rt->id);
        for (size_t i = 0; i < rt->npatterns; i++) {
            uint32_t minlen = 1;
            pcre2_pattern_info(c->topics[t].pat[i], PCRE2_INFO_MINLENGTH, &minlen);
            if (minlen == 0)
                rules_errors_add(warns, "%s: topic %s: pattern %zu: can match the empty string",
                                 rules->path, rt->id, i + 1);
            if (rt->patterns[i].w > 0) {
                best += rt->patterns[i].w * CLASSIFY_COUNT_MAX * (rules->title_weight + 1);
                npositive++;
            }
        }
        if (rt->npatterns && !npositive && rt->bias <= 0)
            rules_errors_add(warns, "%s: topic %s: only negative patterns and no positive bias, "
                             "can never be tagged", rules->path, rt->id);
        else if (rt->npatterns && rt->weight * best < rules->min_score)
            rules_errors_add(warns, "%s: topic %s: best possible score %g is below min_score %g",
                             rules->path, rt->id, rt->weight * best, rules->min_score);
    }
    return warns->n - n0;
}
