/* test_decode: drop-file bytes -> UTF-8 -> report (collector_decode). */
#include "../../collector/collector_decode.h"
#include "harness.h"
#include "report.h"
#include <stdlib.h>

#define B(s) s, sizeof s - 1

struct text_case {
    const char *name;
    const char *in;
    size_t len;
    int rc;
    enum report_reason reason;
    const char *want;             /* UTF-8 output, or a detail substring */
};

static const struct text_case text_cases[] = {
    {"ascii", B("hello\nworld\n"), 0, REPORT_OK, "hello\nworld\n"},
    {"utf8 chinese", B("关于停车难\n正文"), 0, REPORT_OK, "关于停车难\n正文"},
    {"utf8 bom dropped", B("\xEF\xBB\xBF关于"), 0, REPORT_OK, "关于"},
    {"gb18030 关于", B("\xB9\xD8\xD3\xDA\n\xB9\xD8\xD3\xDA"), 0, REPORT_OK, "关于\n关于"},
    {"gb18030 4-byte U+1F600", B("\x94\x39\xFC\x36"), 0, REPORT_OK, "\xF0\x9F\x98\x80"},
    {"utf16le bom", B("\xFF\xFE\x73\x51\x8E\x4E\x0A\x00"), 0, REPORT_OK, "关于\n"},
    {"utf16be bom", B("\xFE\xFF\x51\x73\x4E\x8E"), 0, REPORT_OK, "关于"},
    {"utf16be mark twice", B("\xFE\xFF\xFE\xFF\x00\x41"), 0, REPORT_OK, "A"},
    {"utf8 mark, then NUL", B("\xEF\xBB\xBF" "ab\x00" "cd"), -1, REPORT_BAD_ENCODING,
     "binary file"},
    {"utf8 mark twice", B("\xEF\xBB\xBF\xEF\xBB\xBF" "A"), 0, REPORT_OK, "A"},
    {"utf16le surrogate pair", B("\xFF\xFE\x3D\xD8\x00\xDE"), 0, REPORT_OK, "\xF0\x9F\x98\x80"},
    {"utf16le lone surrogate", B("\xFF\xFE\x3D\xD8\x41\x00"), -1, REPORT_BAD_ENCODING,
     "not valid UTF-16LE"},
    {"utf16le odd length", B("\xFF\xFE\x41\x00\x42"), -1, REPORT_BAD_ENCODING, "odd"},
    {"utf16le with NUL char", B("\xFF\xFE\x41\x00\x00\x00"), -1, REPORT_BAD_ENCODING,
     "binary file"},
    {"utf16 bom only", B("\xFF\xFE"), -1, REPORT_MISSING_FIELD, "empty file"},
    {"binary with NUL", B("ab\x00\x01\x02\xFF"), -1, REPORT_BAD_ENCODING, "binary file"},
    {"utf16le without bom", B("A\x00" "B\x00"), -1, REPORT_BAD_ENCODING, "binary file"},
    /* C0 AF, the overlong "/", is not UTF-8 but is a GB18030 character: it
     * comes out as U+8721 (蜡), never as a "/". */
    {"overlong C0 AF", B("a\xC0\xAF"), 0, REPORT_OK, "a\xE8\x9C\xA1"},
    {"overlong E0 80 AF", B("a\xE0\x80\xAF"), -1, REPORT_BAD_ENCODING,
     "not UTF-8, UTF-16 or GB18030"},
    {"utf8 lone surrogate ED A0 80", B("x\xED\xA0\x80"), -1, REPORT_BAD_ENCODING,
     "not UTF-8, UTF-16 or GB18030"},
    {"truncated gb18030", B("\xB9\xD8\xD3"), -1, REPORT_BAD_ENCODING,
     "not UTF-8, UTF-16 or GB18030"},
    {"gb18030-valid with ESC", B("\xB9\xD8\x1B[0m"), -1, REPORT_BAD_ENCODING, "binary file"},
    {"bom then bad utf8", B("\xEF\xBB\xBF\xB9\xD8"), -1, REPORT_BAD_ENCODING,
     "byte-order mark"},
    {"empty", B(""), -1, REPORT_MISSING_FIELD, "empty file"},
    {"whitespace only", B(" \t\r\n\n  \xE3\x80\x80"), -1, REPORT_MISSING_FIELD, "empty file"},
    {"utf8 bom only", B("\xEF\xBB\xBF\n"), -1, REPORT_MISSING_FIELD, "empty file"},
};

static void test_text(void)
{
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        const struct text_case *c = &text_cases[i];
        struct report_error err = {0};
        char *out = (char *)"unset";
        size_t outlen = 99;
        int rc = collector_decode_text(c->in, c->len, &out, &outlen, &err);
        CHECK(rc == c->rc, "%s: rc: got %d, want %d (%s)", c->name, rc, c->rc, err.detail);
        if (c->rc == 0 && rc == 0) {
            CHECK_STR(c->name, out, c->want);
            CHECK_INT(c->name, outlen, strlen(c->want));
        } else if (c->rc < 0 && rc < 0) {
            CHECK(err.reason == c->reason, "%s: reason: got %s, want %s", c->name,
                  report_reason_name(err.reason), report_reason_name(c->reason));
            CHECK(strstr(err.detail, c->want) != NULL, "%s: detail: got \"%s\", want \"%s\"",
                  c->name, err.detail, c->want);
            CHECK(out == NULL, "%s: out: got %p, want NULL", c->name, (void *)out);
        }
        if (rc == 0)
            free(out);
    }
}

struct report_case {
    const char *name;
    enum collector_decode_kind kind;
    const char *in;
    size_t len;
    size_t max;
    enum report_reason reason;
    const char *title;            /* when accepted */
    const char *body;
};

static const struct report_case report_cases[] = {
    {"json utf8", COLLECTOR_DECODE_JSON,
     B("{\"member\":\"M001\",\"title\":\"关于\",\"body\":\"正文\"}"), 65536, REPORT_OK, "关于",
     "正文"},
    /* JSON reports are UTF-8 only (SPEC.md); GB18030 is for text files */
    {"json gb18030", COLLECTOR_DECODE_JSON,
     B("{\"member\":\"M001\",\"title\":\"\xB9\xD8\xD3\xDA\",\"body\":\"x\"}"), 65536,
     REPORT_BAD_UTF8, NULL, NULL},
    {"json overlong", COLLECTOR_DECODE_JSON,
     B("{\"member\":\"M001\",\"title\":\"\xC0\xAF\",\"body\":\"x\"}"), 65536,
     REPORT_BAD_UTF8, NULL, NULL},
    {"json bom", COLLECTOR_DECODE_JSON,
     B("\xEF\xBB\xBF{\"member\":\"M001\",\"title\":\"t\",\"body\":\"x\"}"), 65536,
     REPORT_OK, "t", "x"},
    {"json bad", COLLECTOR_DECODE_JSON, B("{\"member\":"), 65536, REPORT_BAD_JSON, NULL, NULL},
    {"json too large", COLLECTOR_DECODE_JSON, B("{\"member\":\"M001\"}"), 10, REPORT_TOO_LARGE,
     NULL, NULL},
    {"text split", COLLECTOR_DECODE_TEXT, B("\n\n  关于停车难  \n\n第一段\n第二段\n"), 65536,
     REPORT_OK, "关于停车难", "第一段\n第二段"},
    {"text utf16le", COLLECTOR_DECODE_TEXT, B("\xFF\xFE\x73\x51\x8E\x4E\x0A\x00\x41\x00"), 65536,
     REPORT_OK, "关于", "A"},
    {"text title only", COLLECTOR_DECODE_TEXT, B("title\n"), 65536, REPORT_MISSING_FIELD, NULL,
     NULL},
    {"text binary", COLLECTOR_DECODE_TEXT, B("\x7F" "ELF\x02\x01\x01\x00"), 65536,
     REPORT_BAD_ENCODING, NULL, NULL},
};

static void test_report(void)
{
    for (size_t i = 0; i < sizeof report_cases / sizeof report_cases[0]; i++) {
        const struct report_case *c = &report_cases[i];
        struct report_error err = {0};
        struct report *r = NULL;
        int rc = collector_decode_report(c->kind, "M001", c->in, c->len, c->max, &r, &err);
        CHECK(rc == (c->reason == REPORT_OK ? 0 : -1), "%s: rc: got %d (%s: %s)", c->name,
              rc, report_reason_name(err.reason), err.detail);
        if (rc == 0 && c->reason == REPORT_OK) {
            CHECK_STR(c->name, r->member, "M001");
            CHECK_STR(c->name, r->title, c->title);
            CHECK_STR(c->name, r->body, c->body);
            CHECK_INT(c->name, r->source, REPORT_SOURCE_DROP);
        } else if (rc < 0) {
            CHECK(err.reason == c->reason, "%s: reason: got %s, want %s", c->name,
                  report_reason_name(err.reason), report_reason_name(c->reason));
            CHECK(r == NULL, "%s: report: got %p, want NULL", c->name, (void *)r);
        }
        report_free(&r);
    }
}

int main(void)
{
    test_text();
    test_report();
    return harness_done();
}
