/* test_classify.c: the router's scoring and bounded matching
 * (common/classify.c), on small inline rules files. */
#include "harness.h"
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <stdlib.h>
#include <time.h>

#define HEAD "{\"triage\": \"tri\", \"title_weight\": 3, " \
             "\"committees\": [{\"id\": \"tri\", \"name\": \"提案\"}, "       \
             "{\"id\": \"c1\", \"name\": \"一\"}, {\"id\": \"c2\", \"name\": \"二\"}], "
#define T1(extra) "{\"id\": \"t1\", \"name\": \"甲\", \"category\": \"民政\", " \
                  "\"committee\": \"c1\", " extra "}"
#define T2(extra) "{\"id\": \"t2\", \"name\": \"乙\", \"category\": \"政法\", " \
                  "\"committee\": \"c2\", " extra "}"

static struct rules *load(const char *json, struct classify **c)
{
    struct rules_errors errs = {0};
    struct rules *r = NULL;
    *c = NULL;
    if (rules_parse("t.json", json, strlen(json), &r, &errs) < 0 ||
        classify_new(r, c, &errs) < 0) {
        for (size_t i = 0; i < errs.n; i++)
            printf("FAIL load: %s\n", errs.v[i]);
        CHECK(0, "rules did not load");
    }
    rules_errors_clear(&errs);
    return r;
}

static struct report *classify_text(struct classify *c, const char *title,
                                    const char *body, struct classify_stats *st)
{
    struct report *r = report_new();
    r->title = xstrdup(title);
    r->body = xstrdup(body);
    strcpy(r->id, "20250101-000000-000001");
    classify_report(c, r, st);
    return r;
}

/* A rules text, a report, and what routing must make of it. */
static const struct {
    const char *what, *json, *title, *body;
    const char *committee, *best;       /* best: first tag's topic, NULL = none */
    double score;                       /* first tag's score */
    int ntags;
} cases[] = {
    {"title counts title_weight", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "公交站", "公交车和公交线路", "c1", "t1", 3 * 1 + 2, 1},
    {"each field capped at 3", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "公交公交公交公交公交", "公交公交公交公交", "c1", "t1", 3 * 3 + 3, 1},
    {"pattern weight", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\", {\"re\": \"地铁\", \"w\": 2.5}]") "]}",
     "无关", "地铁和公交", "c1", "t1", 2.5 + 1, 1},
    {"topic weight", HEAD "\"topics\": [" T1("\"weight\": 2, \"patterns\": [\"公交\"]") "]}",
     "无关", "公交", "c1", "t1", 2, 1},
    {"exclude vetoes (body)", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"], \"exclude\": [\"公交化\"]") "]}",
     "公交", "推进城乡公交化", "tri", NULL, 0, 0},
    {"exclude vetoes (title)", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"], \"exclude\": [\"演练\"]") "]}",
     "公交演练", "公交", "tri", NULL, 0, 0},
    {"exclude vetoes one topic only",
     HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"], \"exclude\": [\"法院\"]") ", "
          T2("\"patterns\": [\"法院\"]") "]}",
     "公交", "法院", "c2", "t2", 1, 1},
    {"below min_score", HEAD "\"min_score\": 2, \"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "无关", "公交", "tri", NULL, 0, 0},
    {"at min_score", HEAD "\"min_score\": 2, \"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "无关", "公交公交", "c1", "t1", 2, 1},
    {"min_score 0 still needs a hit", HEAD "\"min_score\": 0, \"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "无关", "无关", "tri", NULL, 0, 0},
    {"tie: file order", HEAD "\"topics\": [" T2("\"patterns\": [\"法院\"]") ", " T1("\"patterns\": [\"公交\"]") "]}",
     "无关", "公交和法院", "c2", "t2", 1, 2},
    {"higher score wins", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"]") ", " T2("\"patterns\": [\"法院\"]") "]}",
     "法院", "公交", "c2", "t2", 3, 2},
    {"unmatched: triage", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\"]") "]}",
     "道路", "拥堵", "tri", NULL, 0, 0},
    {"caseless ASCII", HEAD "\"topics\": [" T1("\"patterns\": [\"PM2\\\\.5\"]") "]}",
     "pm2.5 超标", "Pm2.5", "c1", "t1", 4, 1},
    {"empty matches do not count", HEAD "\"topics\": [" T1("\"patterns\": [\"x*\"]") "]}",
     "abc", "def", "tri", NULL, 0, 0},
    {"UCP word boundary", HEAD "\"topics\": [" T1("\"patterns\": [\"\\\\bbus\\\\b\"]") "]}",
     "无关", "take the BUS, not the buses", "c1", "t1", 1, 1},
    {"no topics", HEAD "\"topics\": []}", "公交", "公交", "tri", NULL, 0, 0},
    {"negative weight lowers the score",
     HEAD "\"topics\": [" T1("\"patterns\": [\"公交\", {\"re\": \"公交化\", \"w\": -0.5}]") "]}",
     "无关", "公交公交化", "c1", "t1", 2 - 0.5, 1},
    {"negative weight can untag", HEAD "\"topics\": [" T1("\"patterns\": [\"公交\", {\"re\": \"演练\", \"w\": -2}]")
     ", " T2("\"patterns\": [\"法院\"]") "]}", "无关", "公交演练法院", "c2", "t2", 1, 1},
    {"a negative hit alone is a hit: the bias counts", HEAD "\"min_score\": 0, \"topics\": ["
     T1("\"bias\": 5, \"patterns\": [\"公交\", {\"re\": \"演练\", \"w\": -1}]") "]}",
     "无关", "演练", "c1", "t1", 5 - 1, 1},
    {"bias is added", HEAD "\"topics\": [" T1("\"bias\": -0.5, \"patterns\": [\"公交\"]") ", "
     T2("\"bias\": 1, \"patterns\": [\"法院\"]") "]}", "公交", "法院", "c1", "t1", 2.5, 2},
    {"bias needs a hit", HEAD "\"min_score\": 0, \"topics\": [" T1("\"bias\": 3, \"patterns\": [\"公交\"]") "]}",
     "无关", "无关", "tri", NULL, 0, 0},
    {"bias times topic weight", HEAD "\"topics\": [" T1("\"weight\": 2, \"bias\": 1, \"patterns\": [\"公交\"]") "]}",
     "无关", "公交", "c1", "t1", 4, 1},
    {"negative bias can untag", HEAD "\"topics\": [" T1("\"bias\": -1.5, \"patterns\": [\"公交\"]") "]}",
     "无关", "公交", "tri", NULL, 0, 0},
    {"tag_ratio drops the weak", HEAD "\"tag_ratio\": 0.5, \"topics\": [" T1("\"patterns\": [\"公交\"]") ", "
     T2("\"patterns\": [\"法院\"]") "]}", "法院", "公交", "c2", "t2", 3, 1},
    {"tag_ratio keeps the share", HEAD "\"tag_ratio\": 0.25, \"topics\": [" T1("\"patterns\": [\"公交\"]") ", "
     T2("\"patterns\": [\"法院\"]") "]}", "法院", "公交", "c2", "t2", 3, 2},
    {"max_tags caps", HEAD "\"max_tags\": 1, \"topics\": [" T1("\"patterns\": [\"公交\"]") ", "
     T2("\"patterns\": [\"法院\"]") "]}", "无关", "公交和法院", "c1", "t1", 1, 1},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct classify *c;
        struct rules *rules = load(cases[i].json, &c);
        if (!c) {
            printf("FAIL case %s\n", cases[i].what);
            rules_free(&rules);
            continue;
        }
        struct report *r = classify_text(c, cases[i].title, cases[i].body, NULL);
        CHECK_STR(cases[i].what, r->committee, cases[i].committee);
        CHECK_INT(cases[i].what, r->ntags, cases[i].ntags);
        CHECK_STR(cases[i].what, r->ntags ? r->tags[0].topic : NULL, cases[i].best);
        double got = r->ntags ? r->tags[0].score : 0;
        CHECK(got == cases[i].score, "%s: score: got %g, want %g", cases[i].what, got,
              cases[i].score);
        report_free(&r);
        classify_free(&c);
        rules_free(&rules);
    }
}

static void test_hits(void)
{
    struct classify *c;
    struct rules *rules = load(HEAD "\"topics\": [" T1("\"patterns\": [\"地铁\", \"公交\", \"ab+\"]") ", "
                               T2("\"patterns\": [\"法院\"]") "]}", &c);
    struct classify_stats st = {0};
    struct report *r = classify_text(c, "关于公交", "ABBB。地铁、公交公交公交公交", &st);
    CHECK_INT("hits: ntags", r->ntags, 1);
    if (r->ntags == 1) {
        struct report_tag *t = &r->tags[0];
        CHECK_STR("tag category", t->category, "民政");
        CHECK(t->score == 1 + 3 + 3 + 1, "hits score: got %g, want 8", t->score);
        /* pattern order, title before body: 地铁(body) 公交(title) 公交x3(body) ab+(body) */
        CHECK_INT("nhits", t->nhits, 6);
        static const struct { const char *field; int pattern, offset; const char *text; } want[] = {
            {"body", 0, 7, "地铁"}, {"title", 1, 6, "公交"}, {"body", 1, 16, "公交"},
            {"body", 1, 22, "公交"}, {"body", 1, 28, "公交"}, {"body", 2, 0, "ABBB"},
        };
        for (size_t i = 0; i < 6 && i < t->nhits; i++) {
            CHECK_STR("hit field", t->hits[i].field, want[i].field);
            CHECK_INT("hit pattern", t->hits[i].pattern, want[i].pattern);
            CHECK_INT("hit offset", t->hits[i].offset, want[i].offset);
            CHECK_STR("hit text", t->hits[i].text, want[i].text);
        }
    }
    CHECK_INT("stats reports", st.reports, 1);
    CHECK_INT("stats tagged", st.tagged, 1);
    /* classifying again replaces the tags (ASan checks nothing leaks) */
    free(r->title);
    free(r->body);
    r->title = xstrdup("法院");
    r->body = xstrdup("法院");
    classify_report(c, r, &st);
    CHECK_STR("again: committee", r->committee, "c2");
    CHECK_INT("again: ntags", r->ntags, 1);
    report_free(&r);
    classify_free(&c);
    CHECK(c == NULL, "classify_free nulls");
    rules_free(&rules);
}

static void test_hits_capped(void)
{
    struct classify *c;
    struct rules *rules = load(HEAD "\"topics\": [" T1("\"patterns\": [\"甲\", \"乙\", \"丙\"]") "]}", &c);
    struct report *r = classify_text(c, "甲甲甲乙乙乙丙丙丙", "甲乙丙", NULL);
    CHECK_INT("capped hits", r->ntags ? r->tags[0].nhits : 0, CLASSIFY_HITS_MAX);
    report_free(&r);
    classify_free(&c);
    rules_free(&rules);
}

/* Catastrophic patterns: with the prefilter they are mostly ruled out before
 * PCRE2 runs (nothing to bound); without it (no_prefilter) PCRE2's limits
 * must bound them.  Same routing either way. */
static void catastrophic_run(int no_prefilter)
{
    struct classify *c;
    if (no_prefilter)
        setenv("MINYI_NO_PREFILTER", "1", 1);
    struct rules *rules = load(HEAD "\"topics\": [" T1("\"patterns\": [\"(a+)+$\", \"公交\", \"(a|x)*\\\\d\"]") ", "
                               T2("\"patterns\": [\"法院\"], \"exclude\": [\"(x+x+)+\\\\d\"]") "]}", &c);
    unsetenv("MINYI_NO_PREFILTER");
    char *body = xmalloc(20001);
    for (int i = 0; i < 20000; i++)
        body[i] = i % 2000 == 1999 ? 'x' : 'a';
    body[19999] = 'b';
    struct classify_stats st = {0};
    char *title = xasprintf("法院 %.*s", 60, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    clock_t t0 = clock();
    struct report *r = classify_text(c, title, body, &st);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 5, "catastrophic: took %.2fs, want bounded", secs);
    /* (a+)+$ exhausts the match limit; (a|x)*\d overflows the JIT stack and
     * then the interpreter's limit; the exclude (x+x+)+\d on the title too */
    if (no_prefilter)
        CHECK(st.match_limit >= 3, "catastrophic: match_limit got %lu, want >= 3", st.match_limit);
    CHECK_STR("catastrophic: limit = no match", r->committee, "c2");
    CHECK_INT("catastrophic: ntags", r->ntags, 1);
    report_free(&r);
    free(body);
    free(title);
    classify_free(&c);
    rules_free(&rules);
}

static void test_catastrophic(void)
{
    catastrophic_run(1);
    catastrophic_run(0);
}

static void test_compile_errors(void)
{
    const char *json = HEAD "\"topics\": [" T1("\"patterns\": [\"公交\", \"(abc\", \"[z\"], \"exclude\": [\"a{2,1}\"]")
                       ", " T2("\"patterns\": [\"法院\\\\\"]") "]}";
    static const char *want[] = {
        "t.json: topic t1: pattern 2: missing closing parenthesis at offset 4",
        "t.json: topic t1: pattern 3: missing terminating ] for character class at offset 2",
        "t.json: topic t1: exclude 1: numbers out of order in {} quantifier at offset 5",
        "t.json: topic t2: pattern 1: \\ at end of pattern at offset 7",
    };
    struct rules_errors errs = {0};
    struct rules *rules = NULL;
    struct classify *c = (struct classify *)&errs;  /* must be reset to NULL */
    CHECK_INT("compile: rules load", rules_parse("t.json", json, strlen(json), &rules, &errs), 0);
    CHECK_INT("compile: rc", classify_new(rules, &c, &errs), -1);
    CHECK(c == NULL, "compile: *out NULL on error");
    CHECK_INT("compile: every error", errs.n, 4);
    for (size_t i = 0; i < errs.n && i < 4; i++)
        CHECK_STR("compile error", errs.v[i], want[i]);
    rules_errors_clear(&errs);
    rules_free(&rules);
}

static void test_warnings(void)
{
    struct classify *c;
    struct rules *rules = load(HEAD "\"min_score\": 100, \"topics\": ["
                               T1("\"patterns\": [\"公交\", \"a*\", \"x|\"]") ", "
                               T2("\"patterns\": []") "]}", &c);
    static const char *want[] = {
        "t.json: topic t1: pattern 2: can match the empty string",
        "t.json: topic t1: pattern 3: can match the empty string",
        "t.json: topic t1: best possible score 36 is below min_score 100",
        "t.json: topic t2: no patterns, can never match",
    };
    struct rules_errors w = {0};
    CHECK_INT("warnings", classify_warnings(c, &w), 4);
    for (size_t i = 0; i < w.n && i < 4; i++)
        CHECK_STR("warning", w.v[i], want[i]);
    CHECK_INT("npatterns", classify_npatterns(c), 3);
    CHECK(classify_rules(c) == rules, "classify_rules returns the rules");
    rules_errors_clear(&w);
    classify_free(&c);
    rules_free(&rules);
}

/* A topic of 1,000 patterns and a report that hits every one (the
 * candidate mark was once a byte counter: past 255 hits of one topic it
 * wrapped, the topic was scored again and the arrays overran), with and
 * without the prefilter; a second topic keeps the count of tags honest. */
static void big_topic_run(int no_prefilter)
{
    enum { NPAT = 1000 };
    size_t cap = NPAT * 64 + 4096, len = 0, blen = 0;
    char *json = xmalloc(cap), *body = xmalloc(NPAT * 16 + 64);
    len += (size_t)snprintf(json + len, cap - len, "%s", HEAD "\"topics\": [{\"id\": \"big\", "
                            "\"name\": \"大\", \"category\": \"民政\", \"committee\": \"c1\", \"patterns\": [");
    for (int i = 0; i < NPAT; i++) {
        len += (size_t)snprintf(json + len, cap - len, "%s\"w%04dz\"", i ? ", " : "", i);
        blen += (size_t)sprintf(body + blen, "w%04dz ", i);
    }
    snprintf(json + len, cap - len, "]}, %s]}", T2("\"patterns\": [\"法院\"]"));
    strcpy(body + blen, "法院");
    if (no_prefilter)
        setenv("MINYI_NO_PREFILTER", "1", 1);
    struct classify *c;
    struct rules *rules = load(json, &c);
    unsetenv("MINYI_NO_PREFILTER");
    struct report *r = c ? classify_text(c, "w0001z", body, NULL) : NULL;
    CHECK_INT("1,000 hits of one topic: ntags", r ? (long)r->ntags : -1L, 2);
    CHECK_STR("1,000 hits of one topic: best", r && r->ntags ? r->tags[0].topic : NULL, "big");
    double want = 3 + NPAT;
    CHECK(r && r->ntags && r->tags[0].score == want, "1,000 hits: score: got %g, want %g",
          r && r->ntags ? r->tags[0].score : -1, want);
    report_free(&r);
    classify_free(&c);
    rules_free(&rules);
    free(json);
    free(body);
}

static void test_big_topic(void)
{
    big_topic_run(0);
    big_topic_run(1);
}

static void test_warnings_negative(void)
{
    struct classify *c;
    struct rules *rules = load(HEAD "\"topics\": [" T1("\"patterns\": [{\"re\": \"演练\", \"w\": -1}]") ", "
                               T2("\"bias\": 2, \"patterns\": [{\"re\": \"演练\", \"w\": -1}]") "]}", &c);
    struct rules_errors w = {0};
    CHECK_INT("negative-only warnings", classify_warnings(c, &w), 1);
    CHECK_STR("negative-only warning", w.n ? w.v[0] : NULL,
              "t.json: topic t1: only negative patterns and no positive bias, can never be tagged");
    rules_errors_clear(&w);
    classify_free(&c);
    rules_free(&rules);
}

int main(void)
{
    test_warnings_negative();
    test_cases();
    test_hits();
    test_hits_capped();
    test_catastrophic();
    test_compile_errors();
    test_warnings();
    test_big_topic();
    return harness_done();
}
