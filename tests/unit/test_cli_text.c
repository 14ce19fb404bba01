/* test_cli_text.c: the pure text helpers of the minyi command -- what a
 * person sees in tables (CJK width, truncation) and what a spreadsheet or
 * browser reads (CSV quoting, HTML escaping), plus times and ages. */
#include "../../cli/cli.h"
#include "harness.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_width(void)
{
    static const struct { const char *s; size_t want; } cases[] = {
        {"", 0},
        {"abc", 3},
        {"中文", 4},                    /* CJK ideographs: 2 each */
        {"M001 张伟", 9},
        {"，。！", 6},                  /* fullwidth punctuation */
        {"ＡＢ", 4},                    /* fullwidth Latin */
        {"한국", 4},                    /* Hangul */
        {"e\xcc\x81", 1},               /* e + combining acute */
        {"✓✗", 2},                      /* check marks are narrow */
        {"a\tb", 2},                    /* controls take no column */
        {"\xff\xfe", 2},                /* invalid bytes: 1 each */
        {"\xe4\xb8", 2},                /* truncated sequence */
        {"😀", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "width of case %zu", i);
        CHECK_INT(what, cli_text_width(cases[i].s), cases[i].want);
    }
}

static void test_truncate(void)
{
    static const struct { const char *s; size_t cols; const char *want; } cases[] = {
        {"hello", 10, "hello"},
        {"hello", 5, "hello"},
        {"hello world", 5, "hell…"},
        {"关于增开公交线路", 16, "关于增开公交线路"},
        {"关于增开公交线路", 7, "关于增…"},   /* 6 columns + ellipsis */
        {"关于增开公交线路", 8, "关于增…"},   /* a wide char never straddles */
        {"关于", 1, "…"},
        {"abc", 0, ""},
        {"", 3, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = cli_text_truncate(cases[i].s, cases[i].cols);
        CHECK_STR(cases[i].s, got, cases[i].want);
        CHECK(cli_text_width(got) <= cases[i].cols, "truncate \"%s\" to %zu: width %zu",
              cases[i].s, cases[i].cols, cli_text_width(got));
        free(got);
    }
}

static void test_csv(void)
{
    static const struct { const char *s, *want; } cases[] = {
        {"plain", "plain"},
        {"张伟", "张伟"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" padded", "\" padded\""},
        {"欧阳,\"娜\"", "\"欧阳,\"\"娜\"\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = cli_text_csv(cases[i].s);
        CHECK_STR(cases[i].s, got, cases[i].want);
        free(got);
    }
}

static void test_html(void)
{
    static const struct { const char *s, *want; } cases[] = {
        {"plain 中文", "plain 中文"},
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"a & b", "a &amp; b"},
        {"\"quoted\"", "&quot;quoted&quot;"},
        {"&amp;", "&amp;amp;"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = cli_text_html(cases[i].s);
        CHECK_STR(cases[i].s, got, cases[i].want);
        free(got);
    }
}

static void test_oneline(void)
{
    char *got = cli_text_oneline("标题\n第二行\tend\r");
    CHECK_STR("oneline", got, "标题 第二行 end ");
    free(got);
}

static void test_time(void)
{
    static const struct { const char *s; int rc; long long want; } cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-11-23T06:31:24.512+08:00", 0, 1795386684LL},
        {"2026-11-22T22:31:24Z", 0, 1795386684LL},
        {"2026-11-22T17:31:24-05:00", 0, 1795386684LL},
        {"2026-11-22 22:31:24+00:00", 0, 1795386684LL},
        {"2026-11-22 22:31:24+0000", -1, 0},       /* RFC 3339 wants hh:mm */
        {"2026-11-22T22:31:24", -1, 0},            /* no zone */
        {"2026-13-01T00:00:00Z", -1, 0},
        {"yesterday", -1, 0},
        {"2026-11-22T22:31:24Zjunk", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        time_t t = 0;
        int rc = cli_text_time(cases[i].s, &t);
        CHECK_INT(cases[i].s, rc, cases[i].rc);
        if (rc == 0)
            CHECK_INT(cases[i].s, (long long)t, cases[i].want);
    }
    CHECK_INT("NULL time", cli_text_time(NULL, &(time_t){0}), -1);
}

static void test_age_month(void)
{
    static const struct { long s; const char *want; } ages[] = {
        {-5, "0s"}, {0, "0s"}, {59, "59s"}, {60, "1m"}, {3599, "59m"},
        {3600, "1h"}, {86399, "23h"}, {86400, "1d"}, {10 * 86400 + 5, "10d"},
    };
    for (size_t i = 0; i < sizeof ages / sizeof ages[0]; i++) {
        char buf[16];
        cli_text_age(ages[i].s, buf, sizeof buf);
        CHECK_STR("age", buf, ages[i].want);
    }
    static const struct { const char *s; int want; } months[] = {
        {"2026-11", 1}, {"2026-01", 1}, {"2026-12", 1}, {"2026-00", 0}, {"2026-13", 0},
        {"2026-1", 0},  {"26-11", 0},   {"2026/11", 0}, {"2026-11-01", 0}, {"", 0},
    };
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
        CHECK_INT(months[i].s, cli_text_month(months[i].s), months[i].want);
}

int main(void)
{
    test_width();
    test_truncate();
    test_csv();
    test_html();
    test_oneline();
    test_time();
    test_age_month();
    return harness_done();
}
