/* router_classify.c: PCRE2 matching and the scoring of router_classify.h.
 *
 * Here: compiling a struct rules into PCRE2 codes, bounded matching, counting
 * hits, scoring topics, ordering tags.  Not here: reading the rules file
 * (common/rules.c) or anything about sockets (router.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "router_classify.h"
#include "router_prefilter.h"
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
};

struct classify {
    const struct rules *rules;        /* borrowed */
    struct classify_topic *topics;    /* one per rules->topics */
    pcre2_match_context *mctx;        /* limits; never written after new */
    size_t npatterns;
    struct prefilter *pf;             /* NULL: every pattern runs */
    struct prefilter_result *res;     /* [2]: title, body; reused per report */
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
};

/* A topic's outcome before tags are ordered. */
struct classify_scored {
    size_t topic;
    double score;
    struct report_hit *hits;
    size_t nhits;
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

int classify_new(const struct rules *rules, struct classify **out,
                 struct rules_errors *errs)
{
    struct classify *c = xcalloc(1, sizeof *c);
    int bad = 0;
    c->rules = rules;
    c->topics = xcalloc(rules->ntopics + 1, sizeof *c->topics);
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        c->topics[t].pat = xcalloc(rt->npatterns + 1, sizeof(pcre2_code *));
        c->topics[t].exc = xcalloc(rt->nexcludes + 1, sizeof(pcre2_code *));
        for (size_t i = 0; i < rt->npatterns; i++)
            bad |= classify_compile(rules, rt, "pattern", i, &c->topics[t].pat[i], errs);
        for (size_t i = 0; i < rt->nexcludes; i++)
            bad |= classify_compile(rules, rt, "exclude", i, &c->topics[t].exc[i], errs);
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
    c->res = xcalloc(2, sizeof *c->res);
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
    prefilter_free(&c->pf);
    if (c->res) {
        prefilter_result_free(&c->res[0]);
        prefilter_result_free(&c->res[1]);
        free(c->res);
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

/* Keep a hit in s->hits (up to CLASSIFY_HITS_MAX). */
static void classify_keep_hit(struct classify_scored *s, const struct classify_field *f,
                              size_t i, size_t ms, size_t me)
{
    if (s->nhits >= CLASSIFY_HITS_MAX)
        return;
    size_t n = me - ms;
    if (n > CLASSIFY_HIT_TEXT_MAX) {  /* cut on a character boundary */
        n = CLASSIFY_HIT_TEXT_MAX;
        while (n > 0 && ((unsigned char)f->s[ms + n] & 0xC0) == 0x80)
            n--;
    }
    if (!s->hits)
        s->hits = xcalloc(CLASSIFY_HITS_MAX, sizeof *s->hits);
    struct report_hit *h = &s->hits[s->nhits++];
    xstrlcpy(h->field, f->name, sizeof h->field);
    h->pattern = (int)i;
    h->offset = (int)ms;
    h->text = xstrndup(f->s + ms, n);
}

/* Non-overlapping, non-empty matches of pattern i of s->topic in f, at most
 * CLASSIFY_COUNT_MAX; each is kept as a hit. */
static int classify_count(struct classify_run *run, struct classify_scored *s, size_t i,
                          const struct classify_field *f)
{
    const pcre2_code *code = run->c->topics[s->topic].pat[i];
    size_t start = 0, ms, me;
    int n = 0;
    const struct prefilter_result *res = run->res[f == &run->field[0] ? 0 : 1];
    if (res && res->exact && prefilter_exact(run->c->pf, prefilter_slot(run->c->pf, s->topic, i))) {
        size_t st[CLASSIFY_COUNT_MAX], en[CLASSIFY_COUNT_MAX];
        n = (int)prefilter_matches(res, prefilter_slot(run->c->pf, s->topic, i),
                                   CLASSIFY_COUNT_MAX, st, en);
        for (int k = 0; k < n; k++)     /* the very matches PCRE2 would find */
            classify_keep_hit(s, f, i, st[k], en[k]);
        return n;
    }
    while (n < CLASSIFY_COUNT_MAX && start <= f->len &&
           classify_match(run, code, f, start, &ms, &me, s->topic, "pattern", i) == 1) {
        if (me == ms) {               /* empty: step over one character */
            start = ms + 1;
            while (start < f->len && ((unsigned char)f->s[start] & 0xC0) == 0x80)
                start++;
            continue;
        }
        classify_keep_hit(s, f, i, ms, me);
        n++;
        start = me;
    }
    return n;
}

/* 0 when the prefilter ruled out slot k (pattern, then excludes) of topic t
 * in field f; 1 when it may match or there is no prefilter. */
static int classify_may(const struct classify_run *run, int f, size_t t, size_t k)
{
    return !run->res[f] || run->res[f]->may[prefilter_slot(run->c->pf, t, k)];
}

/* 1 if any exclude of the topic matches the title or the body (even empty). */
static int classify_vetoed(struct classify_run *run, size_t t)
{
    const struct rules_topic *rt = &run->c->rules->topics[t];
    size_t ms, me;
    for (size_t i = 0; i < rt->nexcludes; i++)
        for (int f = 0; f < 2; f++)
            if (classify_may(run, f, t, rt->npatterns + i) &&
                classify_match(run, run->c->topics[t].exc[i], &run->field[f], 0, &ms,
                               &me, t, "exclude", i) == 1)
                return 1;
    return 0;
}

/* 1 if the prefilter leaves some pattern of topic t possible. */
static int classify_topic_possible(const struct classify_run *run, size_t t)
{
    const struct rules_topic *rt = &run->c->rules->topics[t];
    for (size_t i = 0; i < rt->npatterns; i++)
        if (classify_may(run, 0, t, i) || classify_may(run, 1, t, i))
            return 1;
    return 0;
}

/* Score topic s->topic (0 when vetoed), collecting its hits; patterns the
 * prefilter ruled out are not run (they would count 0). */
static void classify_topic(struct classify_run *run, struct classify_scored *s)
{
    const struct rules *rules = run->c->rules;
    const struct rules_topic *rt = &rules->topics[s->topic];
    double sum = 0;
    s->score = 0;
    if (rt->npatterns == 0 || !classify_topic_possible(run, s->topic) ||
        classify_vetoed(run, s->topic))
        return;
    for (size_t i = 0; i < rt->npatterns; i++) {
        int th = classify_may(run, 0, s->topic, i)
                     ? classify_count(run, s, i, &run->field[0]) : 0;
        int bh = classify_may(run, 1, s->topic, i)
                     ? classify_count(run, s, i, &run->field[1]) : 0;
        sum += rt->patterns[i].w * (rules->title_weight * th + bh);
    }
    s->score = rt->weight * sum;
}

/* Highest score first, then file order. */
static int classify_cmp(const void *a, const void *b)
{
    const struct classify_scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->topic < y->topic ? -1 : x->topic > y->topic;
}

static void classify_free_hits(struct report_hit *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(h[i].text);
    free(h);
}

/* Drop whatever tags and committee r carried. */
static void classify_clear(struct report *r)
{
    for (size_t i = 0; i < r->ntags; i++) {
        free(r->tags[i].topic);
        free(r->tags[i].category);
        classify_free_hits(r->tags[i].hits, r->tags[i].nhits);
    }
    free(r->tags);
    free(r->committee);
    r->tags = NULL;
    r->ntags = 0;
    r->committee = NULL;
}

/* Turn the tagged topics (sorted) into r->tags and r->committee. */
static void classify_fill(const struct classify *c, struct report *r,
                          struct classify_scored *v, size_t n)
{
    const struct rules *rules = c->rules;
    qsort(v, n, sizeof *v, classify_cmp);
    r->tags = n ? xcalloc(n, sizeof *r->tags) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct rules_topic *rt = &rules->topics[v[i].topic];
        r->tags[i].topic = xstrdup(rt->id);
        r->tags[i].category = xstrdup(rt->category);
        r->tags[i].score = v[i].score;
        r->tags[i].hits = v[i].hits;
        r->tags[i].nhits = v[i].nhits;
    }
    r->ntags = n;
    r->committee = xstrdup(n ? rules->topics[v[0].topic].committee : rules->triage);
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

int classify_report(const struct classify *c, struct report *r,
                    struct classify_stats *st)
{
    const struct rules *rules = c->rules;
    struct classify_run run = {.c = c, .id = r->id[0] ? r->id : "-", .st = st};
    classify_clear(r);
    run.md = pcre2_match_data_create(1, NULL);
    if (!run.md) {
        r->committee = xstrdup(rules->triage);
        return -1;
    }
    classify_field_set(&run.field[0], "title", r->title, run.id);
    classify_field_set(&run.field[1], "body", r->body, run.id);
    for (int f = 0; c->pf && f < 2; f++) {
        run.res[f] = &c->res[f];
        prefilter_scan(c->pf, run.field[f].s, run.field[f].len, run.res[f]);
    }
    struct classify_scored *v = xcalloc(rules->ntopics + 1, sizeof *v);
    size_t n = 0;
    for (size_t t = 0; t < rules->ntopics; t++) {
        v[n].topic = t;
        classify_topic(&run, &v[n]);
        if (v[n].score > 0 && v[n].score >= rules->min_score) {
            n++;
        } else {
            classify_free_hits(v[n].hits, v[n].nhits);
            v[n] = (struct classify_scored){0};
        }
    }
    pcre2_match_data_free(run.md);
    classify_fill(c, r, v, n);
    free(v);
    if (st) {
        st->reports++;
        st->tagged += n > 0;
    }
    return 0;
}

size_t classify_warnings(const struct classify *c, struct rules_errors *warns)
{
    const struct rules *rules = c->rules;
    size_t n0 = warns->n;
    for (size_t t = 0; t < rules->ntopics; t++) {
        const struct rules_topic *rt = &rules->topics[t];
        double best = 0;
        if (rt->npatterns == 0)
            rules_errors_add(warns, "%s: topic %s: no patterns, can never match",
                             rules->path, rt->id);
        for (size_t i = 0; i < rt->npatterns; i++) {
            uint32_t minlen = 1;
            pcre2_pattern_info(c->topics[t].pat[i], PCRE2_INFO_MINLENGTH, &minlen);
            if (minlen == 0)
                rules_errors_add(warns, "%s: topic %s: pattern %zu: can match the empty string",
                                 rules->path, rt->id, i + 1);
            best += rt->patterns[i].w * CLASSIFY_COUNT_MAX * (rules->title_weight + 1);
        }
        if (rt->npatterns && rt->weight * best < rules->min_score)
            rules_errors_add(warns, "%s: topic %s: best possible score %g is below min_score %g",
                             rules->path, rt->id, rt->weight * best, rules->min_score);
    }
    return warns->n - n0;
}
