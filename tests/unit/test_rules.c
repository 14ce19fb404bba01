/* test_rules.c: loading and checking rules files (common/rules.c). */
#include "harness.h"
#include "rules.h"
#include <stdlib.h>

#define HEAD "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}, " \
             "{\"id\": \"b\", \"name\": \"乙\"}], \"categories\": {\"民政\": \"b\"}, "

/* One rules text and the one error it must produce (NULL: it must load). */
static const struct {
    const char *what, *json, *want;
} cases[] = {
    {"valid", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                   " \"patterns\": [\"低保\"]}]}", NULL},
    {"syntax", "{\"triage\": \"a\",\n \"topics\": [}", "t.json: json: syntax error at line 2, column 13"},
    {"not object", "[1, 2]", "t.json: json: the file must hold one object"},
    {"no triage", "{\"committees\": [{\"id\": \"a\", \"name\": \"甲\"}], \"topics\": []}",
     "t.json: triage: missing"},
    {"bad triage", "{\"triage\": \"z\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}],"
                   " \"topics\": []}", "t.json: triage: unknown committee \"z\""},
    {"no committees", "{\"triage\": \"a\", \"topics\": []}", "t.json: committees: missing"},
    {"dup committee", "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"},"
                      " {\"id\": \"a\", \"name\": \"乙\"}], \"topics\": []}",
     "t.json: committees[1]: duplicate id \"a\""},
    {"committee id", "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"},"
                     " {\"id\": \"B\\\"x\", \"name\": \"乙\"}], \"topics\": []}",
     "t.json: committees[1]: id \"B\"x\" is not 1-32 of a-z, 0-9, _ and -"},
    {"no topics", HEAD "\"title_weight\": 2}", "t.json: topics: missing"},
    {"bad title_weight", HEAD "\"title_weight\": -1, \"topics\": []}",
     "t.json: title_weight: must be a number >= 0"},
    {"bad version", HEAD "\"version\": 2, \"topics\": []}", "t.json: version: must be 1"},
    {"unknown key", HEAD "\"topic\": [], \"topics\": []}", "t.json: topic: unknown key"},
    {"unknown top key", HEAD "\"topics\": [], \"x\": 1, \"_note\": 2}", "t.json: x: unknown key"},
    {"duplicate key", HEAD "\"min_score\": 1, \"min_score\": 2, \"topics\": []}",
     "t.json: min_score: duplicate key"},
    {"duplicate category", HEAD "\"topics\": [], \"categories\": {}}", "t.json: categories: duplicate key"},
    {"category name", "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}],"
                      " \"categories\": {\"天文\": \"a\"}, \"topics\": []}",
     "t.json: categories.天文: unknown category"},
    {"category committee", "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}],"
                           " \"categories\": {\"民政\": \"q\"}, \"topics\": []}",
     "t.json: categories.民政: must name a committee"},
    {"topic category", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"天文\","
                            " \"committee\": \"a\", \"patterns\": [\"星\"]}]}",
     "t.json: topic x: category: unknown category \"天文\""},
    {"topic committee", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                             " \"committee\": \"zz\", \"patterns\": [\"低保\"]}]}",
     "t.json: topic x: committee: unknown committee \"zz\""},
    {"no committee", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"政法\","
                          " \"patterns\": [\"法院\"]}]}",
     "t.json: topic x: committee: not set, and category 政法 has no committee"},
    {"dup topic", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                       " \"patterns\": [\"a\"]}, {\"id\": \"x\", \"name\": \"Y\","
                       " \"category\": \"民政\", \"patterns\": [\"b\"]}]}",
     "t.json: topic x: duplicate id"},
    {"no id", HEAD "\"topics\": [{\"name\": \"X\", \"category\": \"民政\", \"patterns\": [\"a\"]}]}",
     "t.json: topic #1: id: missing"},
    {"no patterns", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\"}]}",
     "t.json: topic x: patterns: missing"},
    {"pattern type", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                          " \"patterns\": [\"a\", 7]}]}",
     "t.json: topic x: pattern 2: must be a string or {\"re\", \"w\"}"},
    {"pattern weight", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                            " \"patterns\": [{\"re\": \"a\", \"w\": 0}]}]}",
     "t.json: topic x: pattern 1: w: must be a non-zero number"},
    {"pattern weight type", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                            " \"patterns\": [{\"re\": \"a\", \"w\": \"-1\"}]}]}",
     "t.json: topic x: pattern 1: w: must be a non-zero number"},
    {"negative weight", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                            " \"patterns\": [\"a\", {\"re\": \"b\", \"w\": -1.5}]}]}", NULL},
    {"bias", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                  " \"bias\": -2, \"patterns\": [\"a\"]}]}", NULL},
    {"bias type", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                       " \"bias\": \"low\", \"patterns\": [\"a\"]}]}",
     "t.json: topic x: bias: must be a number"},
    {"tag_ratio", HEAD "\"tag_ratio\": 1.5, \"topics\": []}",
     "t.json: tag_ratio: must be a number from 0 to 1"},
    {"max_tags", HEAD "\"max_tags\": 2.5, \"topics\": []}",
     "t.json: max_tags: must be a whole number from 0 to 1000"},
    {"max_tags negative", HEAD "\"max_tags\": -1, \"topics\": []}",
     "t.json: max_tags: must be a number >= 0"},
    {"pattern key", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                         " \"patterns\": [{\"re\": \"a\", \"weight\": 2}]}]}",
     "t.json: topic x: pattern 1: weight: unknown key"},
    {"empty pattern", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                           " \"patterns\": [\"\"]}]}", "t.json: topic x: pattern 1: empty pattern"},
    {"exclude type", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                          " \"patterns\": [\"a\"], \"exclude\": [null]}]}",
     "t.json: topic x: exclude 1: must be a string or {\"re\", \"w\"}"},
    {"topic weight", HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                          " \"weight\": \"2\", \"patterns\": [\"a\"]}]}",
     "t.json: topic x: weight: must be a number > 0"},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rules_errors errs = {0};
        struct rules *r = NULL;
        int rc = rules_parse("t.json", cases[i].json, strlen(cases[i].json), &r, &errs);
        CHECK_INT(cases[i].what, rc, cases[i].want ? -1 : 0);
        CHECK_INT(cases[i].what, errs.n, cases[i].want ? 1 : 0);
        CHECK_STR(cases[i].what, errs.n ? errs.v[0] : NULL, cases[i].want);
        CHECK(rc == 0 ? r != NULL : r == NULL, "%s: *out set iff ok", cases[i].what);
        rules_free(&r);
        rules_errors_clear(&errs);
    }
}

static void test_all_at_once(void)
{
    const char *json = "{\"triage\": \"nope\", \"min_score\": \"1\", "
                       "\"committees\": [{\"id\": \"a\", \"name\": \"甲\"}], "
                       "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"天文\", "
                       "\"patterns\": [1]}]}";
    static const char *want[] = {
        "t.json: min_score: must be a number >= 0",
        "t.json: triage: unknown committee \"nope\"",
        "t.json: topic x: category: unknown category \"天文\"",
        "t.json: topic x: pattern 1: must be a string or {\"re\", \"w\"}",
    };
    struct rules_errors errs = {0};
    struct rules *r = NULL;
    CHECK_INT("all at once: rc", rules_parse("t.json", json, strlen(json), &r, &errs), -1);
    CHECK_INT("all at once: errors", errs.n, 4);
    for (size_t i = 0; i < 4 && i < errs.n; i++)
        CHECK_STR("all at once", errs.v[i], want[i]);
    rules_errors_clear(&errs);
    CHECK_INT("cleared", errs.n, 0);
}

static void test_defaults(void)
{
    const char *json = HEAD "\"topics\": [{\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\","
                            " \"patterns\": [\"低保\", {\"re\": \"救助\", \"w\": 2.5}],"
                            " \"exclude\": [\"演习\"]}]}";
    struct rules_errors errs = {0};
    struct rules *r = NULL;
    CHECK_INT("defaults: rc", rules_parse("t.json", json, strlen(json), &r, &errs), 0);
    if (!r)
        return;
    CHECK_STR("path", r->path, "t.json");
    CHECK_STR("triage", r->triage, "a");
    CHECK(r->title_weight == 3.0, "title_weight default: got %g, want 3", r->title_weight);
    CHECK(r->min_score == 1.0, "min_score default: got %g, want 1", r->min_score);
    CHECK(r->tag_ratio == 0.0, "tag_ratio default: got %g, want 0", r->tag_ratio);
    CHECK_INT("max_tags default", r->max_tags, 0);
    CHECK(r->topics[0].bias == 0.0, "bias default: got %g, want 0", r->topics[0].bias);
    CHECK_INT("ntopics", r->ntopics, 1);
    CHECK_STR("committee from category", r->topics[0].committee, "b");
    CHECK(r->topics[0].weight == 1.0, "topic weight default: got %g", r->topics[0].weight);
    CHECK_INT("npatterns", r->topics[0].npatterns, 2);
    CHECK_STR("pattern 2", r->topics[0].patterns[1].re, "救助");
    CHECK(r->topics[0].patterns[0].w == 1.0, "w default: got %g", r->topics[0].patterns[0].w);
    CHECK(r->topics[0].patterns[1].w == 2.5, "w given: got %g", r->topics[0].patterns[1].w);
    CHECK_INT("nexcludes", r->topics[0].nexcludes, 1);
    CHECK_STR("committee name", rules_committee(r, "b")->name, "乙");
    CHECK(rules_committee(r, "c") == NULL, "unknown committee: want NULL");
    CHECK_STR("category committee", rules_category_committee(r, "民政"), "b");
    CHECK_STR("unmapped category", rules_category_committee(r, "政法"), NULL);
    rules_free(&r);
    CHECK(r == NULL, "rules_free nulls: want NULL");
    rules_free(&r);
}

static void test_load(void)
{
    const char *root = getenv("MINYI_TEST_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/rules-small.json", root ? root : ".");
    struct rules_errors errs = {0};
    struct rules *r = NULL;
    CHECK_INT("load fixture", rules_load(path, &r, &errs), 0);
    CHECK_INT("load fixture errors", errs.n, 0);
    for (size_t i = 0; i < errs.n; i++)
        printf("    %s\n", errs.v[i]);
    CHECK_INT("fixture topics", r ? r->ntopics : 0, 6);
    CHECK_INT("fixture categories", r ? r->ncategories : 0, 15);
    rules_free(&r);
    rules_errors_clear(&errs);
    CHECK_INT("load missing", rules_load("/nonexistent/rules.json", &r, &errs), -1);
    CHECK_STR("load missing", errs.n ? errs.v[0] : NULL,
              "/nonexistent/rules.json: cannot open: No such file or directory");
    rules_errors_clear(&errs);
    size_t n = 0;
    while (rules_category_names[n])
        n++;
    CHECK_INT("15 categories", n, 15);
}

/* Committee ids: the one character set accepted everywhere. */
static void test_ids(void)
{
    static const struct {
        const char *id;
        int ok;
    } ids[] = {{"tian", 1}, {"chengjian", 1}, {"c-2_x", 1}, {"9", 1}, {"", 0}, {"Tian", 0},
               {"-x", 0}, {"_x", 0}, {"a b", 0}, {"a\"b", 0}, {"委员会", 0}, {"a/b", 0},
               {"abcdefghijabcdefghijabcdefghij12", 1}, {"abcdefghijabcdefghijabcdefghij123", 0}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        CHECK(rules_id_ok(ids[i].id) == ids[i].ok, "rules_id_ok(\"%s\"): got %d, want %d",
              ids[i].id, rules_id_ok(ids[i].id), ids[i].ok);
    CHECK(!rules_id_ok(NULL), "rules_id_ok(NULL) is 0");
}

int main(void)
{
    test_ids();
    test_cases();
    test_all_at_once();
    test_defaults();
    test_load();
    return harness_done();
}
