/* test_report_utf8: the strict UTF-8 validator and code point counter.
 * A table of good and bad sequences, each tried at every offset of an ASCII
 * frame (so it straddles the 8-byte fast path in every way), then a
 * differential run against the plain byte-at-a-time validator the fast one
 * replaced, over random bytes and over mutated valid text. */
#include "harness.h"
#include "report.h"
#include <stdint.h>
#include <stdlib.h>

/* The reference: the validator before the fast paths, unchanged. */
static size_t ref_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (c == 0xE0 && s[1] < 0xA0)
        return 0;
    if (c == 0xED && s[1] >= 0xA0)
        return 0;
    if (c == 0xF0 && s[1] < 0x90)
        return 0;
    if (c == 0xF4 && s[1] >= 0x90)
        return 0;
    return n;
}

static int ref_valid(const unsigned char *p, size_t len)
{
    for (size_t i = 0, n; i < len; i += n)
        if ((n = ref_seq(p + i, len - i)) == 0)
            return 0;
    return 1;
}

static size_t ref_chars(const unsigned char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (p[i] & 0xC0) != 0x80;
    return n;
}

static const struct {
    const char *what, *bytes;
    int valid;
    size_t chars;
} cases[] = {
    {"empty", "", 1, 0},
    {"ascii", "hello", 1, 5},
    {"two-byte", "\xC2\xA9", 1, 1},
    {"cjk", "\xE6\x94\xBF\xE5\x8D\x8F", 1, 2},
    {"E0 lowest", "\xE0\xA0\x80", 1, 1},
    {"ED below surrogates", "\xED\x9F\xBF", 1, 1},
    {"EE private use", "\xEE\x80\x80", 1, 1},
    {"EF BOM", "\xEF\xBB\xBF", 1, 1},
    {"U+FFFF", "\xEF\xBF\xBF", 1, 1},
    {"four-byte", "\xF0\x9F\x98\x80", 1, 1},
    {"U+10FFFF", "\xF4\x8F\xBF\xBF", 1, 1},
    {"lone continuation", "\x80", 0, 0},
    {"C0 overlong", "\xC0\xAF", 0, 0},
    {"C1 overlong", "\xC1\xBF", 0, 0},
    {"E0 overlong", "\xE0\x9F\xBF", 0, 0},
    {"surrogate low", "\xED\xA0\x80", 0, 0},
    {"surrogate high", "\xED\xBF\xBF", 0, 0},
    {"F0 overlong", "\xF0\x8F\xBF\xBF", 0, 0},
    {"above U+10FFFF", "\xF4\x90\x80\x80", 0, 0},
    {"F5 lead", "\xF5\x80\x80\x80", 0, 0},
    {"FF byte", "\xFF", 0, 0},
    {"cut two-byte", "\xC2", 0, 0},
    {"cut three-byte", "\xE6\x94", 0, 0},
    {"cut four-byte", "\xF0\x9F\x98", 0, 0},
    {"bad second of three", "\xE6\x14\xBF", 0, 0},
    {"bad third of three", "\xE6\x94\xFF", 0, 0},
    {"bad third of E1", "\xE1\x80\x41", 0, 0},
    {"bad fourth", "\xF0\x9F\x98\x41", 0, 0},
};

/* Every case at offsets 0..16 of an ASCII frame, with ASCII after it. */
static void test_table(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = strlen(cases[k].bytes);
        for (size_t at = 0; at <= 16; at++) {
            char buf[64];
            memset(buf, 'a', sizeof buf);
            memcpy(buf + at, cases[k].bytes, n);
            for (size_t tail = 0; tail <= 9; tail += 9) {
                size_t len = at + n + tail;
                int got = report_utf8_valid(buf, len);
                CHECK(got == cases[k].valid, "%s at %zu (+%zu): got %d, want %d",
                      cases[k].what, at, tail, got, cases[k].valid);
                if (cases[k].valid)
                    CHECK_INT(cases[k].what, report_utf8_chars(buf, len),
                              at + cases[k].chars + tail);
            }
        }
    }
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/* Append one code point of a random kind (mostly valid) at p; its length. */
static size_t put_random_char(unsigned char *p)
{
    static const unsigned char pool[][4] = {
        {'a'}, {' '}, {0xC3, 0xA9}, {0xE6, 0x94, 0xBF}, {0xE4, 0xB8, 0x80},
        {0xE0, 0xA0, 0x80}, {0xED, 0x9F, 0xBF}, {0xEF, 0xBF, 0xBD},
        {0xF0, 0x9F, 0x98, 0x80}, {0xF4, 0x8F, 0xBF, 0xBF},
    };
    static const size_t lens[] = {1, 1, 2, 3, 3, 3, 3, 3, 4, 4};
    size_t k = rng() % 10;
    memcpy(p, pool[k], lens[k]);
    return lens[k];
}

/* Both validators and counters agree on len bytes at buf. */
static int agree(const unsigned char *buf, size_t len)
{
    int want = ref_valid(buf, len);
    if (report_utf8_valid((const char *)buf, len) != want)
        return 0;
    return !want || report_utf8_chars((const char *)buf, len) == ref_chars(buf, len);
}

static void test_differential(void)
{
    unsigned char buf[96];
    long bad = 0, valid = 0;
    for (long iter = 0; iter < 400000; iter++) {
        size_t len = 0;
        if (iter % 2) {                /* random bytes, biased to the high half */
            len = rng() % 40;
            for (size_t i = 0; i < len; i++)
                buf[i] = (unsigned char)(rng() % 3 ? 0x80 | rng() : rng());
        } else {                       /* valid text, then maybe one byte changed */
            while (len < 80)
                len += put_random_char(buf + len);
            if (iter % 4 == 0)
                buf[rng() % len] = (unsigned char)rng();
            len -= rng() % 4;          /* sometimes cut inside a sequence */
        }
        valid += ref_valid(buf, len);
        if (!agree(buf, len) && bad++ < 5) {
            printf("# differs on:");
            for (size_t i = 0; i < len; i++)
                printf(" %02X", buf[i]);
            printf("\n");
        }
    }
    CHECK_INT("inputs where the fast validator differs from the reference", bad, 0);
    CHECK(valid > 10000 && valid < 390000, "a mix of valid and invalid inputs: %ld valid",
          valid);
}

/* Every two-byte and three-byte prefix followed by continuation bytes. */
static void test_exhaustive_leads(void)
{
    long bad = 0;
    for (unsigned a = 0x80; a < 0x100; a++)
        for (unsigned b = 0; b < 0x100; b++)
            for (unsigned c = 0x70; c < 0xC8; c += 0x08) {
                unsigned char buf[12] = {'x', (unsigned char)a, (unsigned char)b,
                                         (unsigned char)c, 0xBF, 'y', 'z', 'w', 'v',
                                         'u', 't', 's'};
                for (size_t len = 2; len <= sizeof buf; len += 3)
                    bad += !agree(buf, len);
            }
    CHECK_INT("lead and second byte pairs that differ from the reference", bad, 0);
}

/* The one decoder (report_utf8_decode): lengths and code points, and
 * every form the validator refuses refused here too. */
static void test_decode(void)
{
    static const struct {
        const char *s;
        size_t left, len;
        uint32_t cp;
    } dcases[] = {
        {"A", 1, 1, 0x41},         {"\xC3\xA9", 2, 2, 0xE9},
        {"\xE4\xB8\xAD", 3, 3, 0x4E2D}, {"\xF0\x9F\x98\x80", 4, 4, 0x1F600},
        {"\xEF\xBF\xBF", 3, 3, 0xFFFF}, {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
        {"\xE4\xB8\xAD", 2, 0, 0},    /* cut short */
        {"\xC0\x80", 2, 0, 0},         /* overlong */
        {"\xE0\x80\x80", 3, 0, 0},    /* overlong */
        {"\xED\xA0\x80", 3, 0, 0},    /* surrogate */
        {"\xF4\x90\x80\x80", 4, 0, 0}, /* > U+10FFFF */
        {"\x80", 1, 0, 0},              /* continuation */
        {"\xE4\xB8", 3, 0, 0},         /* NUL-terminated, cut short */
    };
    for (size_t i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
        uint32_t cp = 0;
        size_t len = report_utf8_decode(dcases[i].s, dcases[i].left, &cp);
        CHECK(len == dcases[i].len && (len == 0 || cp == dcases[i].cp),
              "decode case %zu: got %zu U+%04X, want %zu U+%04X", i, len, (unsigned)cp,
              dcases[i].len, (unsigned)dcases[i].cp);
        CHECK_INT("decode agrees with the validator", len == dcases[i].left,
                  report_utf8_valid(dcases[i].s, dcases[i].left) && len > 0);
    }
}

int main(void)
{
    test_decode();
    test_table();
    test_differential();
    test_exhaustive_leads();
    return harness_done();
}
