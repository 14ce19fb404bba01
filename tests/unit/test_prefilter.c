/* test_prefilter: the Hyperscan prefilter changes nothing but speed.  Every
 * report of the development set and the citizen sample, and a table of
 * tricky texts, is classified twice -- with the prefilter and with
 * MINYI_NO_PREFILTER=1 -- and the tags (topics, scores, every hit's field,
 * pattern, offset and text) and the committee must be identical. */
#include "harness.h"
#include "report.h"
#include "classify.h"
#include "prefilter.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rules that try the prefilter's corners: case, classes, quantifiers, a
 * pattern without any literal, excludes, lookarounds, backreferences, a
 * pattern Hyperscan refuses, letters with Unicode case, the empty match. */
static const char *tricky_rules =
    "{\"triage\": \"tri\", \"title_weight\": 3, \"min_score\": 1,"
    " \"committees\": [{\"id\": \"tri\", \"name\": \"提案\"}, {\"id\": \"c1\", \"name\": \"一\"}],"
    " \"topics\": ["
    "  {\"id\": \"app\", \"name\": \"应用\", \"category\": \"科技与信息产业\", \"committee\": \"c1\","
    "   \"patterns\": [\"APP\", \"5G|WiFi\", \"[Ww]eb\\\\s?site\", \"\\\\d{4}\", \"网[络速]{1,2}\"]},"
    "  {\"id\": \"ex\", \"name\": \"排除\", \"category\": \"交通运输\", \"committee\": \"c1\","
    "   \"patterns\": [\"公交\"], \"exclude\": [\"公交化|公交卡充值\"]},"
    "  {\"id\": \"look\", \"name\": \"环视\", \"category\": \"交通运输\", \"committee\": \"c1\","
    "   \"patterns\": [\"(?<!电)动车\", \"(\\\\w)\\\\1\", \"跑了.{0,2}趟\", \"(?=物业)物业费\"]},"
    "  {\"id\": \"cased\", \"name\": \"大小写\", \"category\": \"政法\", \"committee\": \"c1\","
    "   \"patterns\": [\"ＡＢＣ\", \"straße\", \"Ωμέγα\", \"kelvin\", \"a*\"]},"
    "  {\"id\": \"anchor\", \"name\": \"锚\", \"category\": \"民政\", \"committee\": \"c1\","
    "   \"patterns\": [\"^低保\", \"救助$\", \"\\\\b(?:help|aid)\\\\b\"]},"
    "  {\"id\": \"mixed\", \"name\": \"混合\", \"category\": \"交通运输\", \"committee\": \"c1\","
    "   \"patterns\": [\"违章(?!建|搭)|停车|违章建\", \"a.c|abc\", \"abc|a.c\", \"x(?=y)|xy|q+\","
    "                \"[]|]a|b|c\", \"(a|b)c|d\", \"(?i)k|K\", \"(e)\\\\1|f\", \"停车|车(?!位)\","
    "                \"(?<!电)动车|火车|动车组\", \"跑了.{0,2}趟|窗口|办事\"]}"
    " ]}";

static const struct { const char *title, *body; } tricky_texts[] = {
    {"违章建筑", "违章停车，违章搭建，违章建房，停车难"},
    {"abc abc", "abc a-c abcabc xbc"},
    {"xy", "xy xyy qqq xq x"},
    {"|a", "|a ]a b c ba"},
    {"ac", "ac bc d dd"},
    {"kK", "eef ee f"},
    {"停车停车", "停车停车停车停车车辆车位"},
    {"动车", "电动车 动车组 火车 动车"},
    {"办事跑了三趟", "跑了好几趟窗口，办事难，跑了2趟"},
    {"app 太卡", "手机app打不开，网速慢"},
    {"App 和 WEB SITE", "5g 信号差，wifi 断线；website 打不开；2026 年"},
    {"公交化改造", "公交卡充值不便，公交线路少"},
    {"公交", "公交"},
    {"电动车", "电动车乱停，摩托动车"},
    {"跑了三趟", "办事跑了好几趟，跑了2趟"},
    {"物业费", "物业费太高"},
    {"ａｂｃ 全角", "ＡＢＣ abc"},
    {"STRASSE", "strasse Straße STRAẞE"},
    {"ΩΜΈΓΑ", "ωμέγα"},
    {"\xE2\x84\xAA" "elvin", "KELVIN kelvin"},
    {"低保申请", "申请救助"},
    {"help", "we need aid, helpless"},
    {"", "x"},
    {"aa", "bb 中中"},
};

/* Compare two classifications of the same text; 1 if identical. */
static int same(const struct report *a, const struct report *b, char *why, size_t len)
{
    if (strcmp(a->committee, b->committee) != 0 || a->ntags != b->ntags) {
        snprintf(why, len, "committee %s/%s, tags %zu/%zu", a->committee, b->committee,
                 a->ntags, b->ntags);
        return 0;
    }
    for (size_t i = 0; i < a->ntags; i++) {
        const struct report_tag *x = &a->tags[i], *y = &b->tags[i];
        if (strcmp(x->topic, y->topic) || x->score != y->score || x->nhits != y->nhits) {
            snprintf(why, len, "tag %zu: %s %g (%zu hits) vs %s %g (%zu hits)", i, x->topic,
                     x->score, x->nhits, y->topic, y->score, y->nhits);
            return 0;
        }
        for (size_t k = 0; k < x->nhits; k++)
            if (strcmp(x->hits[k].field, y->hits[k].field) ||
                x->hits[k].pattern != y->hits[k].pattern ||
                x->hits[k].offset != y->hits[k].offset ||
                strcmp(x->hits[k].text, y->hits[k].text)) {
                snprintf(why, len, "tag %s hit %zu differs", x->topic, k);
                return 0;
            }
    }
    return 1;
}

struct pair {
    struct rules *rules;
    struct classify *pf, *plain;
};

static int pair_load(struct pair *p, const char *name, const char *json)
{
    struct rules_errors errs = {0};
    memset(p, 0, sizeof *p);
    if (rules_parse(name, json, strlen(json), &p->rules, &errs) < 0 ||
        classify_new(p->rules, &p->pf, &errs) < 0) {
        CHECK(0, "%s: %s", name, errs.n ? errs.v[0] : "?");
        rules_errors_clear(&errs);
        return -1;
    }
    setenv("MINYI_NO_PREFILTER", "1", 1);
    classify_new(p->rules, &p->plain, &errs);
    unsetenv("MINYI_NO_PREFILTER");
    return 0;
}

static void pair_free(struct pair *p)
{
    classify_free(&p->pf);
    classify_free(&p->plain);
    rules_free(&p->rules);
}

/* Classify title/body both ways; 1 if the results are identical. */
static int compare(struct pair *p, const char *title, const char *body, char *why, size_t len)
{
    struct report *a = report_new(), *b = report_new();
    a->title = xstrdup(title), a->body = xstrdup(body);
    b->title = xstrdup(title), b->body = xstrdup(body);
    classify_report(p->pf, a, NULL);
    classify_report(p->plain, b, NULL);
    int ok = same(a, b, why, len);
    report_free(&a);
    report_free(&b);
    return ok;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = xmalloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

/* Every line of a JSON Lines file, both ways. */
static void compare_file(struct pair *p, const char *rules_name, const char *path)
{
    char *text = slurp(path), *save = NULL, why[256];
    size_t n = 0, diff = 0;
    CHECK(text != NULL, "cannot read %s", path);
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(o, "title"));
        const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(o, "body"));
        if (t && b && !compare(p, t, b, why, sizeof why) && diff++ < 3)
            printf("  %s: %s: line %zu: %s\n", rules_name, path, n + 1, why);
        n += t && b;
        cJSON_Delete(o);
    }
    CHECK(n > 0 && diff == 0, "%s on %s: %zu of %zu reports differ", rules_name, path, diff, n);
    free(text);
}

/* The mixed patterns of the tricky rules are split where that is safe:
 * their literal alternatives matched exactly, the rest apart. */
static void test_split(const struct rules *rules)
{
    struct prefilter *pf = prefilter_new(rules);
    size_t t = 0;
    while (t < rules->ntopics && strcmp(rules->topics[t].id, "mixed") != 0)
        t++;
    CHECK(pf && t < rules->ntopics, "prefilter and the mixed topic");
    if (!pf || t == rules->ntopics) {
        prefilter_free(&pf);
        return;
    }
    static const char *const want[] = {
        "(*MARK:0)(?:违章(?!建|搭))", "(*MARK:0)(?:a.c)", "(*MARK:1)(?:a.c)",
        "(*MARK:0)(?:x(?=y))|(*MARK:2)(?:q+)", "(*MARK:0)(?:[]|]a)", "(*MARK:0)(?:(a|b)c)",
        NULL, NULL, "(*MARK:1)(?:车(?!位))", "(*MARK:0)(?:(?<!电)动车)",
        "(*MARK:0)(?:跑了.{0,2}趟)"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const char *got = prefilter_rest(pf, prefilter_slot(pf, t, k));
        CHECK(want[k] ? got && strcmp(got, want[k]) == 0 : got == NULL,
              "pattern %zu: rest %s, want %s", k + 1, got ? got : "none",
              want[k] ? want[k] : "none");
        CHECK(prefilter_exact_map(pf)[prefilter_slot(pf, t, k)] == (want[k] != NULL),
              "pattern %zu: exact", k + 1);
    }
    prefilter_free(&pf);
}

int main(void)
{
    const char *root = getenv("MINYI_TEST_ROOT");
    char *dir = xstrdup(root ? root : ".");
    struct pair p;
    if (pair_load(&p, "tricky.json", tricky_rules) == 0) {
        CHECK(p.pf != NULL, "Hyperscan prefilter available on this machine");
        CHECK(p.plain != NULL, "plain classifier");
        test_split(p.rules);
        for (size_t i = 0; p.pf && i < sizeof tricky_texts / sizeof tricky_texts[0]; i++) {
            char why[256] = "";
            CHECK(compare(&p, tricky_texts[i].title, tricky_texts[i].body, why, sizeof why),
                  "tricky %zu (%s): %s", i, tricky_texts[i].title, why);
        }
        pair_free(&p);
    }
    static const char *const rules_files[] = {"config/rules.json", "tests/data/rules-small.json"};
    static const char *const data[] = {"tests/data/dev-reports.jsonl",
                                       "tests/data/citizen-sample.jsonl",
                                       "tests/data/eval-small.jsonl"};
    for (size_t r = 0; r < 2; r++) {
        char *path = xasprintf("%s/%s", dir, rules_files[r]), *json = slurp(path);
        if (json && pair_load(&p, rules_files[r], json) == 0) {
            for (size_t d = 0; d < 3; d++) {
                char *dpath = xasprintf("%s/%s", dir, data[d]);
                compare_file(&p, rules_files[r], dpath);
                free(dpath);
            }
            pair_free(&p);
        }
        free(json);
        free(path);
    }
    free(dir);
    return harness_done();
}
