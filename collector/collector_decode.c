/* collector_decode.c: drop-file bytes -> UTF-8 (the only iconv user), then
 * the report parsers of common/report.h.  Reading files, names and folders
 * is collector_drop.c's business, not this file's.
 *
 * Order of the checks, first match wins:
 *   empty                      -> missing_field "empty file"
 *   EF BB BF                   -> dropped; the rest must be UTF-8
 *   FF FE / FE FF              -> UTF-16 LE / BE, converted
 *   a NUL byte                 -> bad_encoding "binary file"
 *   valid UTF-8                -> as is (so ASCII never goes through GB18030)
 *   valid GB18030, no controls -> converted
 *   otherwise                  -> bad_encoding "not UTF-8, UTF-16 or GB18030"
 * and after any conversion: further marks (U+FEFF) at the start dropped,
 * a NUL -> "binary file", only white space -> "empty file".
 */
#include "collector_decode.h"
#include "report.h"
#include "xmalloc.h"
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECODE_NOT_TEXT "not UTF-8, UTF-16 or GB18030"

static int decode_fail(struct report_error *err, enum report_reason reason,
                       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int decode_fail(struct report_error *err, enum report_reason reason,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->reason = reason;
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return -1;
}

/* Convert buf from charset `from` to UTF-8.  Returns 0 with *out (caller
 * frees) only when every input byte converted reversibly; -1 when the input
 * is not valid in `from`; -2 when iconv cannot convert from `from` at all. */
static int decode_iconv(const char *from, const char *buf, size_t len, char **out,
                        size_t *outlen)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return -2;
    size_t cap = 2 * len + 16;        /* GB18030 FE xx -> 4 bytes: at most 2:1 */
    char *dst = xmalloc(cap), *o = dst, *in = (char *)buf;
    size_t inleft = len, oleft = cap - 1;
    int rc = 0;
    while (rc == 0) {
        size_t n = iconv(cd, inleft ? &in : NULL, &inleft, &o, &oleft);
        if (n == (size_t)-1 && errno == E2BIG) {
            size_t used = (size_t)(o - dst);
            cap *= 2;
            dst = xrealloc(dst, cap);
            o = dst + used;
            oleft = cap - used - 1;
        } else if (n != 0) {          /* EILSEQ, EINVAL or irreversible */
            rc = -1;
        } else if (inleft == 0 && in != NULL) {
            in = NULL;                /* flush the shift state once */
        } else {
            break;
        }
    }
    iconv_close(cd);
    if (rc < 0) {
        free(dst);
        return rc;
    }
    *o = '\0';
    *out = dst;
    *outlen = (size_t)(o - dst);
    return 0;
}

/* A NUL-terminated copy of buf[0..len), NULs inside included (xstrndup would
 * stop at the first one). */
static char *decode_dup(const char *buf, size_t len)
{
    char *p = xmalloc(len + 1);
    memcpy(p, buf, len);
    p[len] = '\0';
    return p;
}

/* Control characters other than TAB, LF, VT, FF, CR: a sign of binary data. */
static int decode_has_controls(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(c >= '\t' && c <= '\r')) || c == 0x7F)
            return 1;
    }
    return 0;
}

/* 1 if s is nothing but ASCII white space, U+3000 and U+FEFF. */
static int decode_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (strchr(" \t\n\v\f\r", s[i]) && s[i] != '\0')
            i++;
        else if (len - i >= 3 && (memcmp(s + i, "\xE3\x80\x80", 3) == 0 ||
                                  memcmp(s + i, "\xEF\xBB\xBF", 3) == 0))
            i += 3;
        else
            return 0;
    }
    return 1;
}

static int decode_utf16(const char *from, const char *buf, size_t len, char **out,
                        size_t *outlen, struct report_error *err)
{
    if (len % 2)
        return decode_fail(err, REPORT_BAD_ENCODING, "%s with an odd number of bytes",
                           from);
    int rc = decode_iconv(from, buf, len, out, outlen);
    if (rc == -2)
        return decode_fail(err, REPORT_INTERNAL, "iconv cannot convert from %s", from);
    if (rc < 0)
        return decode_fail(err, REPORT_BAD_ENCODING,
                           "%s byte-order mark, but not valid %s", from, from);
    return 0;
}

/* No byte-order mark: UTF-8 as is, else GB18030 if it converts cleanly. */
static int decode_plain(const char *buf, size_t len, char **out, size_t *outlen,
                        struct report_error *err)
{
    if (memchr(buf, '\0', len))
        return decode_fail(err, REPORT_BAD_ENCODING, "binary file");
    if (report_utf8_valid(buf, len)) {
        *out = decode_dup(buf, len);
        *outlen = len;
        return 0;
    }
    int rc = decode_iconv("GB18030", buf, len, out, outlen);
    if (rc == -2)
        return decode_fail(err, REPORT_INTERNAL, "iconv cannot convert from GB18030");
    if (rc < 0)
        return decode_fail(err, REPORT_BAD_ENCODING, DECODE_NOT_TEXT);
    if (decode_has_controls(*out, *outlen) || !report_utf8_valid(*out, *outlen)) {
        free(*out);
        *out = NULL;
        return decode_fail(err, REPORT_BAD_ENCODING, "binary file");
    }
    return 0;
}

int collector_decode_text(const char *buf, size_t len, char **out, size_t *outlen,
                          struct report_error *err)
{
    const unsigned char *u = (const unsigned char *)buf;
    int rc;
    *out = NULL;
    *outlen = 0;
    err->reason = REPORT_OK;
    err->detail[0] = '\0';
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        if (!report_utf8_valid(buf + 3, len - 3))
            return decode_fail(err, REPORT_BAD_ENCODING,
                               "UTF-8 byte-order mark, but not valid UTF-8");
        *out = decode_dup(buf + 3, len - 3);
        *outlen = len - 3;
        rc = 0;
    } else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        rc = decode_utf16("UTF-16LE", buf + 2, len - 2, out, outlen, err);
    } else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
        rc = decode_utf16("UTF-16BE", buf + 2, len - 2, out, outlen, err);
    } else {
        rc = decode_plain(buf, len, out, outlen, err);
    }
    if (rc < 0)
        return rc;
    while (*outlen >= 3 && memcmp(*out, "\xEF\xBB\xBF", 3) == 0) {   /* a mark twice */
        *outlen -= 3;
        memmove(*out, *out + 3, *outlen + 1);
    }
    if (memchr(*out, '\0', *outlen))
        rc = decode_fail(err, REPORT_BAD_ENCODING, "binary file");
    else if (decode_blank(*out, *outlen))
        rc = decode_fail(err, REPORT_MISSING_FIELD, "empty file");
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *outlen = 0;
    }
    return rc;
}

int collector_decode_report(enum collector_decode_kind kind, const char *member,
                            const char *buf, size_t len, size_t max_bytes,
                            struct report **out, struct report_error *err)
{
    char *text;
    size_t n;
    int rc;
    *out = NULL;
    if (len > max_bytes)
        return decode_fail(err, REPORT_TOO_LARGE, "more than %zu bytes", max_bytes);
    /* A report is "a JSON object in UTF-8" (SPEC.md): only plain-text files
     * get the GB18030 / UTF-16 conversion, so invalid UTF-8 in a .json file
     * is refused as bad_utf8 rather than reinterpreted. */
    if (kind == COLLECTOR_DECODE_JSON) {
        rc = report_parse_submission(buf, len, max_bytes, out, err);
        if (rc == 0)
            (*out)->source = REPORT_SOURCE_DROP;
        return rc;
    }
    if (collector_decode_text(buf, len, &text, &n, err) < 0)
        return -1;
    rc = report_parse_text(member, text, n, out, err);
    free(text);
    if (rc == 0)
        (*out)->source = REPORT_SOURCE_DROP;
    return rc;
}
