/* report_utf8.c: strict UTF-8 checks used by the report schema and the
 * drop-file decoder.  Strict means RFC 3629: no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF. */
#include "report.h"

/* Length of the valid sequence starting at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;                      /* continuation, overlong lead, > U+10FFFF */
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (c == 0xE0 && s[1] < 0xA0)
        return 0;                      /* overlong 3-byte */
    if (c == 0xED && s[1] >= 0xA0)
        return 0;                      /* surrogate */
    if (c == 0xF0 && s[1] < 0x90)
        return 0;                      /* overlong 4-byte */
    if (c == 0xF4 && s[1] >= 0x90)
        return 0;                      /* > U+10FFFF */
    return n;
}

int report_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t report_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}
