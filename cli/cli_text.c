/* cli_text.c: pure text helpers of the minyi command -- display width of
 * UTF-8 (CJK counts two columns), truncation, one-line cells, CSV and HTML
 * escaping, RFC 3339 times and short ages.  No I/O, no global state; the
 * unit tests in tests/unit/test_cli_text.c pin every behaviour. */
#include "cli.h"
#include "report.h"
#include "xmalloc.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cli_range {
    uint32_t lo, hi;
};

/* East Asian Width W and F (Unicode 15, merged where harmless). */
static const struct cli_range cli_text_wide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18AFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

/* Combining marks and invisible format characters. */
static const struct cli_range cli_text_zero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x2028, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x3099, 0x309A},
    {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

static int cli_text_in(const struct cli_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Decode one character at s (NUL-terminated); returns its byte length
 * (>= 1) and *cp.  An invalid sequence is one byte with *cp = 0xFFFD. */
static size_t cli_text_decode(const unsigned char *s, uint32_t *cp)
{
    size_t len = report_utf8_decode((const char *)s, 4, cp);
    if (len == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return len;
}

static size_t cli_text_cpwidth(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
        return 0;
    if (cli_text_in(cli_text_zero, sizeof cli_text_zero / sizeof cli_text_zero[0], cp))
        return 0;
    if (cli_text_in(cli_text_wide, sizeof cli_text_wide / sizeof cli_text_wide[0], cp))
        return 2;
    return 1;
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    uint32_t cp;
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        p += cli_text_decode(p, &cp);
        w += cli_text_cpwidth(cp);
    }
    return w;
}

char *cli_text_truncate(const char *s, size_t cols)
{
    if (cli_text_width(s) <= cols)
        return xstrdup(s ? s : "");
    if (cols == 0)
        return xstrdup("");
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0, keep = 0;
    uint32_t cp;
    while (p[keep]) {
        size_t len = cli_text_decode(p + keep, &cp), cw = cli_text_cpwidth(cp);
        if (w + cw > cols - 1)         /* leave one column for the ellipsis */
            break;
        w += cw;
        keep += len;
    }
    char *out = xmalloc(keep + sizeof "…");
    memcpy(out, s, keep);
    memcpy(out + keep, "…", sizeof "…");
    return out;
}

char *cli_text_oneline(const char *s)
{
    char *out = xstrdup(s ? s : "");
    for (unsigned char *p = (unsigned char *)out; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            *p = ' ';
    return out;
}

char *cli_text_csv(const char *s)
{
    s = s ? s : "";
    size_t len = strlen(s);
    int quote = strpbrk(s, ",\"\r\n") != NULL ||
                (len > 0 && (s[0] == ' ' || s[len - 1] == ' '));
    if (!quote)
        return xstrdup(s);
    char *out = xmalloc(2 * len + 3), *o = out;
    *o++ = '"';
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

char *cli_text_html(const char *s)
{
    s = s ? s : "";
    char *out = xmalloc(6 * strlen(s) + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
        if (rep) {
            size_t n = strlen(rep);
            memcpy(o, rep, n);
            o += n;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Parse the zone part: "Z" or "+HH:MM"/"-HH:MM" (also "+HHMM"), then the end. */
int cli_text_time(const char *s, time_t *t)
{
    int64_t us;
    if (report_time_parse(s, &us) < 0)
        return -1;
    *t = (time_t)(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
    return 0;
}

void cli_text_age(long seconds, char *buf, size_t n)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 60)
        snprintf(buf, n, "%lds", seconds);
    else if (seconds < 3600)
        snprintf(buf, n, "%ldm", seconds / 60);
    else if (seconds < 86400)
        snprintf(buf, n, "%ldh", seconds / 3600);
    else
        snprintf(buf, n, "%ldd", seconds / 86400);
}

int cli_text_month(const char *s)
{
    if (!s || strlen(s) != 7 || s[4] != '-')
        return 0;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    return month >= 1 && month <= 12;
}
