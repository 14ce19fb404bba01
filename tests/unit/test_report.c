/* test_report.c: the report schema -- member input validation with reason
 * codes, the text format, the wire round trip, ids and duplicate keys. */
#include "harness.h"
#include "report.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sub_case {
    const char *name;
    const char *json;
    enum report_reason want;
};

static const struct sub_case sub_cases[] = {
    {"minimal", "{\"member\":\"M001\",\"title\":\"关于公交的建议\",\"body\":\"线路太少\"}", REPORT_OK},
    {"bom", "\xEF\xBB\xBF{\"member\":\"M001\",\"title\":\"t\",\"body\":\"b\"}", REPORT_OK},
    {"extra kept", "{\"member\":\"M001\",\"title\":\"t\",\"body\":\"b\",\"phone\":\"1\"}", REPORT_OK},
    {"ref + time", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"ref\":\"r1\",\"submitted_at\":\"2026-03-01T09:30:00+08:00\"}", REPORT_OK},
    {"truncated", "{\"member\":\"M001\",\"title\":", REPORT_BAD_JSON},
    {"array", "[1,2,3]", REPORT_BAD_JSON},
    {"string", "\"hello\"", REPORT_BAD_JSON},
    {"trailing", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\"} x", REPORT_BAD_JSON},
    {"dup key", "{\"member\":\"M1\",\"title\":\"t\",\"title\":\"u\",\"body\":\"b\"}", REPORT_BAD_JSON},
    {"dup key last", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"x\":1,\"x\":2}", REPORT_BAD_JSON},
    {"nul escape", "{\"member\":\"M1\",\"title\":\"a\\u0000b\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"lone high surrogate", "{\"member\":\"M1\",\"title\":\"\\ud800x\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"lone low surrogate", "{\"member\":\"M1\",\"title\":\"\\udc00\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"pair ok", "{\"member\":\"M1\",\"title\":\"\\ud83d\\ude00\",\"body\":\"b\"}", REPORT_OK},
    {"overlong utf8", "{\"member\":\"M1\",\"title\":\"\xC0\xAF\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"raw surrogate utf8", "{\"member\":\"M1\",\"title\":\"\xED\xA0\x80\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"gbk bytes", "{\"member\":\"M1\",\"title\":\"\xB9\xD8\xD3\xDA\",\"body\":\"b\"}", REPORT_BAD_UTF8},
    {"missing member", "{\"title\":\"t\",\"body\":\"b\"}", REPORT_MISSING_FIELD},
    {"missing body", "{\"member\":\"M1\",\"title\":\"t\"}", REPORT_MISSING_FIELD},
    {"null title", "{\"member\":\"M1\",\"title\":null,\"body\":\"b\"}", REPORT_MISSING_FIELD},
    {"title number", "{\"member\":\"M1\",\"title\":5,\"body\":\"b\"}", REPORT_BAD_FIELD},
    {"body object", "{\"member\":\"M1\",\"title\":\"t\",\"body\":{}}", REPORT_BAD_FIELD},
    {"empty title", "{\"member\":\"M1\",\"title\":\"  \",\"body\":\"b\"}", REPORT_BAD_FIELD},
    {"control char", "{\"member\":\"M1\",\"title\":\"a\\u0007\",\"body\":\"b\"}", REPORT_BAD_FIELD},
    {"newline in title", "{\"member\":\"M1\",\"title\":\"a\\nb\",\"body\":\"b\"}", REPORT_BAD_FIELD},
    {"newline in body ok", "{\"member\":\"M1\",\"title\":\"a\",\"body\":\"b\\nc\"}", REPORT_OK},
    {"bad time", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"submitted_at\":\"yesterday\"}", REPORT_BAD_FIELD},
    {"own topics", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"topics\":[]}", REPORT_BAD_FIELD},
    {"own history", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"history\":[]}", REPORT_BAD_FIELD},
    {"own committee", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"committee\":\"tian\"}", REPORT_BAD_FIELD},
    {"own id", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"id\":\"x\"}", REPORT_BAD_FIELD},
    {"own state", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"state\":\"closed\"}", REPORT_BAD_FIELD},
    {"own outcome", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"outcome\":\"adopted\"}", REPORT_BAD_FIELD},
    {"own name", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"name\":\"x\"}", REPORT_BAD_FIELD},
    {"own received_at", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"received_at\":\"x\"}", REPORT_BAD_FIELD},
    {"own extra", "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"extra\":{}}", REPORT_BAD_FIELD},
    {"empty", "", REPORT_MISSING_FIELD},
    {"whitespace", "  \n ", REPORT_MISSING_FIELD},
};

static void test_submissions(void)
{
    for (size_t i = 0; i < sizeof sub_cases / sizeof sub_cases[0]; i++) {
        const struct sub_case *c = &sub_cases[i];
        struct report *r = NULL;
        struct report_error err;
        int rc = report_parse_submission(c->json, strlen(c->json), REPORT_MAX_BYTES, &r, &err);
        enum report_reason got = rc == 0 ? REPORT_OK : err.reason;
        CHECK(got == c->want, "%s: got %s (%s), want %s", c->name, report_reason_name(got),
              rc ? err.detail : "", report_reason_name(c->want));
        CHECK((rc == 0) == (r != NULL), "%s: report returned iff ok", c->name);
        report_free(&r);
    }
}

/* The word-at-a-time scans (escapes, control characters) must see a probe
 * at any offset of a long field: each probe at offsets 0..40 of the title
 * and of the body, between plain ASCII or CJK text. */
static void test_positions(void)
{
    static const struct {
        const char *probe;
        int in_body;
        enum report_reason want;
    } probes[] = {
        {"\\u0000", 0, REPORT_BAD_UTF8},   {"\\u0000", 1, REPORT_BAD_UTF8},
        {"\\udc00", 1, REPORT_BAD_UTF8},   {"\\ud800x", 0, REPORT_BAD_UTF8},
        {"\\u0007", 0, REPORT_BAD_FIELD},  {"\\u001f", 1, REPORT_BAD_FIELD},
        {"\x7F", 1, REPORT_BAD_FIELD},       {"\\u007f", 0, REPORT_BAD_FIELD},
        {"\\t", 0, REPORT_OK},             {"\\n", 0, REPORT_BAD_FIELD},
        {"\\r\\n", 1, REPORT_OK},         {"\\\"", 0, REPORT_OK},
        {"\\\\u0000", 1, REPORT_OK},      {"\\u00e9", 0, REPORT_OK},
        {"\xC0\xAF", 1, REPORT_BAD_UTF8},  {"\xED\xA0\x80", 0, REPORT_BAD_UTF8},
    };
    static const char *const fills[] = {"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
                                        "政协委员建议增开公交线路早晚高峰等车时间长请优化"};
    char json[768], field[256];
    for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
        for (size_t f = 0; f < 2; f++)
            for (int at = 0; at <= 40; at++) {
                int cut = at;
                while (f && cut % 3)
                    cut--;                 /* keep CJK characters whole */
                snprintf(field, sizeof field, "%.*s%s%s", cut, fills[f], probes[k].probe,
                         fills[f]);
                snprintf(json, sizeof json, "{\"member\":\"M1\",\"title\":\"%s\",\"body\":\"%s\"}",
                         probes[k].in_body ? "t" : field, probes[k].in_body ? field : "b");
                struct report *r = NULL;
                struct report_error err;
                int rc = report_parse_submission(json, strlen(json), REPORT_MAX_BYTES, &r, &err);
                enum report_reason got = rc == 0 ? REPORT_OK : err.reason;
                CHECK(got == probes[k].want, "probe %zu at %d of fill %zu: got %s, want %s", k,
                      cut, f, report_reason_name(got), report_reason_name(probes[k].want));
                report_free(&r);
            }
}

static char *repeat(const char *unit, size_t times, const char *prefix, const char *suffix)
{
    size_t u = strlen(unit), p = strlen(prefix), s = strlen(suffix);
    char *buf = malloc(p + u * times + s + 1), *q = buf;
    memcpy(q, prefix, p), q += p;
    for (size_t i = 0; i < times; i++, q += u)
        memcpy(q, unit, u);
    memcpy(q, suffix, s + 1);
    return buf;
}

static void test_lengths(void)
{
    struct { const char *name; size_t n; const char *pre, *suf; enum report_reason want; } cases[] = {
        {"title 200 CJK", 200, "{\"member\":\"M1\",\"body\":\"b\",\"title\":\"", "\"}", REPORT_OK},
        {"title 201 CJK", 201, "{\"member\":\"M1\",\"body\":\"b\",\"title\":\"", "\"}", REPORT_BAD_FIELD},
        {"body 20000 CJK", 20000, "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"", "\"}", REPORT_OK},
        {"body 20001 CJK", 20001, "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"", "\"}", REPORT_BAD_FIELD},
        {"ref 129", 129, "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"ref\":\"", "\"}", REPORT_BAD_FIELD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *unit = strstr(cases[i].pre, "\"ref\"") ? "r" : "字";
        char *json = repeat(unit, cases[i].n, cases[i].pre, cases[i].suf);
        struct report *r = NULL;
        struct report_error err;
        int rc = report_parse_submission(json, strlen(json), REPORT_MAX_BYTES, &r, &err);
        enum report_reason got = rc == 0 ? REPORT_OK : err.reason;
        CHECK(got == cases[i].want, "%s: got %s, want %s", cases[i].name,
              report_reason_name(got), report_reason_name(cases[i].want));
        report_free(&r);
        free(json);
    }
    char *big = repeat("a", 70000, "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"", "\"}");
    struct report *r = NULL;
    struct report_error err;
    report_parse_submission(big, strlen(big), REPORT_MAX_BYTES, &r, &err);
    CHECK_STR("70 KB message", report_reason_name(err.reason), "too_large");
    free(big);
}

static void test_deep_nesting(void)
{
    char *deep = repeat("[", 5000, "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"x\":", "");
    struct report *r = NULL;
    struct report_error err;
    int rc = report_parse_submission(deep, strlen(deep), REPORT_MAX_BYTES, &r, &err);
    CHECK(rc < 0 && err.reason == REPORT_BAD_JSON, "deep nesting: got rc %d reason %s", rc,
          report_reason_name(err.reason));
    free(deep);
}

static void test_text(void)
{
    struct { const char *name, *text, *title, *body; enum report_reason want; } cases[] = {
        {"simple", "标题\n正文第一段\n第二段\n", "标题", "正文第一段\n第二段", REPORT_OK},
        {"leading blanks", "\n \r\n  标题  \r\n\r\n正文", "标题", "正文", REPORT_OK},
        {"crlf", "t\r\nb\r\n", "t", "b", REPORT_OK},
        {"bom", "\xEF\xBB\xBFt\nb", "t", "b", REPORT_OK},
        {"title only", "只有标题\n", NULL, NULL, REPORT_MISSING_FIELD},
        {"empty", "", NULL, NULL, REPORT_MISSING_FIELD},
        {"blank lines", "\n\n  \n", NULL, NULL, REPORT_MISSING_FIELD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct report *r = NULL;
        struct report_error err;
        int rc = report_parse_text("M007", cases[i].text, strlen(cases[i].text), &r, &err);
        enum report_reason got = rc == 0 ? REPORT_OK : err.reason;
        CHECK(got == cases[i].want, "text %s: got %s (%s), want %s", cases[i].name,
              report_reason_name(got), err.detail, report_reason_name(cases[i].want));
        if (rc == 0 && cases[i].title) {
            CHECK_STR(cases[i].name, r->title, cases[i].title);
            CHECK_STR(cases[i].name, r->body, cases[i].body);
            CHECK_STR(cases[i].name, r->member, "M007");
        }
        report_free(&r);
    }
}

static void test_roundtrip(void)
{
    const char *in = "{\"member\":\"M002\",\"title\":\"油烟扰民\",\"body\":\"楼下饭店\",\"ref\":\"k1\",\"phone\":\"123\"}";
    struct report *r = NULL, *back = NULL;
    struct report_error err;
    CHECK(report_parse_submission(in, strlen(in), REPORT_MAX_BYTES, &r, &err) == 0, "parse");
    if (!r)
        return;
    report_stamp(r, 1780000000123456LL);
    r->committee = strdup("renhuan");
    report_tags_reserve(r, 1, 1, 64);
    r->ntags = 1;
    r->tags[0].topic = report_tags_str(r, "fumes", 5);
    r->tags[0].category = report_tags_str(r, "环境保护", strlen("环境保护"));
    r->tags[0].score = 4.5;
    r->tags[0].nhits = 1;
    r->tags[0].hits = report_tags_hits(r, 1);
    strcpy(r->tags[0].hits[0].field, "title");
    r->tags[0].hits[0].text = report_tags_str(r, "油烟", strlen("油烟"));
    r->content_key = report_content_key(r);
    char *wire = report_encode(r);
    CHECK(report_decode(wire, strlen(wire), &back, &err) == 0, "decode: %s", err.detail);
    if (back)
        CHECK(back->content_key == r->content_key &&
                  report_content_key_known(back) == report_content_key(back),
              "content key on the wire: got %llx, want %llx",
              (unsigned long long)back->content_key, (unsigned long long)r->content_key);
    if (back) {
        CHECK_STR("id", back->id, r->id);
        CHECK_INT("received_us", back->received_us, 1780000000123456LL);
        CHECK_STR("received_at", back->received_at, r->received_at);
        CHECK_STR("committee", back->committee, "renhuan");
        CHECK_STR("ref", back->ref, "k1");
        CHECK_INT("ntags", back->ntags, 1);
        CHECK_STR("topic", back->ntags ? back->tags[0].topic : NULL, "fumes");
        CHECK_STR("hit", back->ntags ? back->tags[0].hits[0].text : NULL, "油烟");
        const cJSON *phone = cJSON_GetObjectItem(back->extra, "phone");
        CHECK_STR("extra kept", cJSON_IsString(phone) ? phone->valuestring : NULL, "123");
        CHECK_INT("content key stable", report_content_key(back), report_content_key(r));
        CHECK_INT("ref key stable", report_ref_key(back), report_ref_key(r));
    }
    free(wire);
    report_free(&back);
    report_free(&r);
    CHECK(r == NULL, "report_free nulls the pointer");
}

static void test_ids(void)
{
    struct report *r = report_new();
    setenv("TZ", "CST-8", 1);
    tzset();
    report_stamp(r, 1769875199999000LL);   /* 2026-01-31T15:59:59.999Z */
    CHECK_STR("id", r->id, "20260131-155959-999000");
    CHECK_STR("received_at", r->received_at, "2026-01-31T23:59:59.999+08:00");
    CHECK_INT("id back", report_id_to_us(r->id), 1769875199999000LL);
    CHECK_INT("bad id", report_id_to_us("2026-01-31"), -1);
    CHECK_INT("bad id 2", report_id_to_us("20261331-155959-999000"), -1);
    struct report *a = report_new(), *b = report_new();
    a->member = strdup("M1"), a->title = strdup("t"), a->body = strdup("b");
    b->member = strdup("M1"), b->title = strdup("tb"), b->body = strdup("");
    CHECK(report_content_key(a) != report_content_key(b), "field boundaries matter");
    CHECK_INT("no ref key", report_ref_key(a), 0);
    report_free(&a), report_free(&b), report_free(&r);
}

/* The tags frame is JSON whatever the strings hold: quotes, backslashes and
 * control characters are escaped, UTF-8 passes, scores keep 3 decimals. */
static void test_tags_frame(void)
{
    static const char *texts[] = {"引号\"和\\反斜杠", "tab\there\x01\x1f", "普通", ""};
    static const double scores[] = {4.5, 1.0 / 3, 12, 0.0005};
    struct report *r = report_new();
    report_tags_reserve(r, 4, 4, 256);
    for (int i = 0; i < 4; i++) {
        struct report_tag *t = &r->tags[r->ntags++];
        t->topic = report_tags_str(r, texts[i], strlen(texts[i]));
        t->category = i == 3 ? NULL : report_tags_str(r, "民政", strlen("民政"));
        t->score = scores[i];
        t->nhits = 1;
        t->hits = report_tags_hits(r, 1);
        strcpy(t->hits[0].field, i % 2 ? "body" : "title");
        t->hits[0].pattern = i;
        t->hits[0].offset = 1000 * i;
        t->hits[0].text = report_tags_str(r, texts[3 - i], strlen(texts[3 - i]));
    }
    char *frame = report_encode_tags(r);
    cJSON *a = cJSON_Parse(frame);
    CHECK(cJSON_IsArray(a) && cJSON_GetArraySize(a) == 4, "frame is a JSON array: %s", frame);
    static const char *want_scores[] = {"4.5", "0.333", "12", "0.001"};
    for (int i = 0; cJSON_IsArray(a) && i < 4; i++) {
        const cJSON *t = cJSON_GetArrayItem(a, i);
        const cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "hits"), 0);
        CHECK_STR("topic", cJSON_GetStringValue(cJSON_GetObjectItem(t, "topic")), texts[i]);
        CHECK(cJSON_IsArray(h) && cJSON_GetArraySize(h) == 4, "hit %d: [field, pattern, "
              "offset, text]", i);
        CHECK_STR("hit field", cJSON_GetStringValue(cJSON_GetArrayItem(h, 0)),
                  i % 2 ? "body" : "title");
        CHECK_INT("hit pattern", cJSON_GetArrayItem(h, 1)->valueint, i);
        CHECK_INT("hit offset", cJSON_GetArrayItem(h, 2)->valueint, 1000 * i);
        CHECK_STR("hit text", cJSON_GetStringValue(cJSON_GetArrayItem(h, 3)), texts[3 - i]);
        CHECK(i < 3 || !cJSON_GetObjectItem(t, "category"), "no category when NULL");
        CHECK(strstr(frame, want_scores[i]) != NULL, "score %d printed as %s in %s", i,
              want_scores[i], frame);
    }
    cJSON_Delete(a);
    /* decoded again, and from the older object form of a hit */
    char *wire = xasprintf("{\"id\":\"20260131-155959-999000\",\"member\":\"M1\","
                           "\"title\":\"t\",\"body\":\"b\",\"committee\":\"c\",\"topics\":%s}",
                           frame);
    const char *old = "{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"topics\":"
                      "[{\"topic\":\"x\",\"score\":1,\"hits\":[{\"field\":\"body\","
                      "\"pattern\":2,\"offset\":7,\"text\":\"旧\"}]}]}";
    struct report *back = NULL, *back_old = NULL;
    struct report_error err;
    CHECK(report_decode(wire, strlen(wire), &back, &err) == 0, "decode tags: %s", err.detail);
    CHECK(back && back->ntags == 4 && back->tags[1].nhits == 1 &&
              strcmp(back->tags[1].hits[0].text, texts[2]) == 0 &&
              back->tags[1].hits[0].offset == 1000 && back->tags[1].hits[0].pattern == 1 &&
              strcmp(back->tags[1].hits[0].field, "body") == 0,
          "tags decode back to what was encoded");
    CHECK(report_decode(old, strlen(old), &back_old, &err) == 0, "decode old: %s", err.detail);
    CHECK(back_old && back_old->ntags == 1 && back_old->tags[0].nhits == 1 &&
              strcmp(back_old->tags[0].hits[0].text, "旧") == 0 &&
              back_old->tags[0].hits[0].offset == 7 && back_old->tags[0].hits[0].pattern == 2,
          "an object hit (older archives, imports) decodes too");
    report_free(&back);
    report_free(&back_old);
    free(wire);
    free(frame);
    report_free(&r);
}

/* The wire JSON carries any text exactly: escapes, newlines, UTF-8. */
static void test_wire_text(void)
{
    static const char *bodies[] = {"第一段\n第二段\t制表\r回车", "引号\"反斜杠\\斜杠/",
                                   "控制\x01\x1f字符", "ascii only", "𝄞 四字节"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct report *r = report_new(), *back = NULL;
        struct report_error err;
        r->member = xstrdup("M1"), r->title = xstrdup(bodies[i]), r->body = xstrdup(bodies[i]);
        r->extra = cJSON_Parse("{\"n\":1.5,\"s\":\"x\\ny\"}");
        char *wire = report_encode(r);
        CHECK(report_decode_unchecked(wire, strlen(wire), &back, &err) == 0, "decode %zu: %s",
              i, err.detail);
        CHECK_STR("body back", back ? back->body : NULL, bodies[i]);
        CHECK_STR("title back", back ? back->title : NULL, bodies[i]);
        CHECK(back && cJSON_Compare(back->extra, r->extra, 1), "extra %zu back", i);
        free(wire);
        report_free(&r);
        report_free(&back);
    }
}

/* The one RFC 3339 parser (report_time_parse). */
static void test_times(void)
{
    static const struct {
        const char *s;
        int rc;
        long long us;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-11-23T06:31:24.512+08:00", 0, 1795386684512000LL},
        {"2026-11-22t22:31:24.512z", 0, 1795386684512000LL},
        {"2026-11-22 22:31:24.5123456Z", 0, 1795386684512345LL},
        {"2026-11-22T17:31:24-05:00", 0, 1795386684000000LL},
        {"2026-11-22T22:31:24", -1, 0},            /* no zone */
        {"2026-11-22T22:31:24+0000", -1, 0},       /* hh:mm */
        {"2026-11-22T22:31:24.Z", -1, 0},
        {"2026-13-01T00:00:00Z", -1, 0},
        {"2026-11-22T24:00:00Z", -1, 0},
        {"2026-11-22T22:31:24Zjunk", -1, 0},
        {"2026-11-22T22:31:24+08:00 ", -1, 0},
        {"yesterday", -1, 0},
        {"", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 0;
        int rc = report_time_parse(cases[i].s, &us);
        CHECK(rc == cases[i].rc && (rc < 0 || us == cases[i].us),
              "time \"%s\": got %d %lld, want %d %lld", cases[i].s, rc, (long long)us,
              cases[i].rc, cases[i].us);
    }
    CHECK(report_time_parse(NULL, &(int64_t){0}) < 0, "NULL is not a time");
    CHECK(report_time_to_us("nope") == -1, "report_time_to_us: -1 for not a time");
}

int main(void)
{
    test_times();
    test_wire_text();
    test_tags_frame();
    test_submissions();
    test_positions();
    test_lengths();
    test_deep_nesting();
    test_text();
    test_roundtrip();
    test_ids();
    return harness_done();
}
