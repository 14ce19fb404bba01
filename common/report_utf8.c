/* report_utf8.c: strict UTF-8 checks used by the report schema and the
 * drop-file decoder.  Strict means RFC 3629: no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF.
 *
 * Every report passes through these several times, so the common cases are
 * fast: ASCII is skipped eight bytes at a time and the three-byte forms of
 * CJK text (leads E1..EC and EE..EF, which need no check beyond their
 * continuation bytes) take a short path; everything else goes through
 * utf8_seq, the one full check. */
#include "report.h"
#include <endian.h>
#include <stdint.h>
#include <string.h>

#define UTF8_HIGH 0x8080808080808080ull   /* bit 7 of each byte */

/* The 8 bytes at p as one word (any alignment). */
static uint64_t utf8_load8(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

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

/* 1 if s[0..3) is a three-byte form whose lead needs no range check on the
 * second byte (E1..EC, EE, EF: not E0's overlongs, not ED's surrogates). */
static int utf8_plain3(const unsigned char *s)
{
    unsigned char c = s[0];
    return c >= 0xE1 && c <= 0xEF && c != 0xED && (s[1] & 0xC0) == 0x80 &&
           (s[2] & 0xC0) == 0x80;
}

/* Skip a run of plain three-byte forms (a CJK stretch) from p, testing
 * each with one 32-bit load while four bytes are left: lead 1110xxxx with
 * xxxx neither 0 (E0) nor D (ED), then two 10xxxxxx. */
static const unsigned char *utf8_skip3(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 4) {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        v = le32toh(v);
        uint32_t nib = v & 0x0F;
        if ((v & 0x00C0C0F0u) != 0x008080E0u || nib == 0 || nib == 0xD)
            break;
        p += 3;
    }
    while (end - p >= 3 && utf8_plain3(p))
        p += 3;
    return p;
}

int report_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t left = (size_t)(end - p);
        if (left >= 8 && !(utf8_load8(p) & UTF8_HIGH)) {
            p += 8;
        } else if (*p < 0x80) {
            p++;
        } else if (left >= 3 && utf8_plain3(p)) {
            p = utf8_skip3(p + 3, end);
        } else {
            size_t n = utf8_seq(p, left);
            if (n == 0)
                return 0;
            p += n;
        }
    }
    return 1;
}

size_t report_utf8_decode(const char *s, size_t left, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = left ? utf8_seq(p, left) : 0;
    static const unsigned char lead_bits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    if (n == 0)
        return 0;
    uint32_t v = p[0] & lead_bits[n];
    for (size_t i = 1; i < n; i++)
        v = v << 6 | (p[i] & 0x3F);
    *cp = v;
    return n;
}

size_t report_utf8_chars(const char *s, size_t len)
{
    /* code points = bytes that are not continuation bytes (10xxxxxx) */
    const unsigned char *p = (const unsigned char *)s;
    size_t cont = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = utf8_load8(p + i);
        uint64_t marks = (v & ~(v << 1) & UTF8_HIGH) >> 7;   /* 1 per continuation byte */
        cont += (size_t)((marks * 0x0101010101010101ull) >> 56);
    }
    for (; i < len; i++)
        cont += (p[i] & 0xC0) == 0x80;
    return len - cont;
}
