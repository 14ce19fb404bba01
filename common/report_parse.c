/* report_parse.c: strict decoding and validation of what members send.
 * Everything a member controls passes through here before any daemon acts
 * on it; every refusal carries a reason code and one readable sentence.
 * The wire format between daemons (report_encode/decode) is in report.c. */
#include "report.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct report_error *err, enum report_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct report_error *err, enum report_reason reason, const char *fmt, ...)
{
    va_list ap;
    err->reason = reason;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    for (char *p = err->detail; *p; p++)  /* details quote member input: keep one line */
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    return -1;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* 1 if any of the 8 bytes at p is a quote or a backslash. */
static int has_quote_or_backslash(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t v, q, b;
    memcpy(&v, p, sizeof v);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b)) & high ? 1 : 0;
}

/* cJSON silently truncates strings at \u0000 and calls lone surrogates a
 * syntax error; find both first so the member learns what is wrong. */
static int scan_escapes(const char *buf, size_t len, struct report_error *err)
{
    const char *p = buf, *end = buf + len;
    int in_string = 0;
    for (; p < end; p++) {
        while (end - p >= 8 && !has_quote_or_backslash(p))
            p += 8;                    /* neither ends nor escapes anything */
        if (p >= end)
            break;
        if (!in_string) {
            in_string = *p == '"';
            continue;
        }
        if (*p == '"') {
            in_string = 0;
        } else if (*p == '\\' && p + 1 < end) {
            p++;
            unsigned u, lo;
            if (*p != 'u' || hex4(p + 1, end, &u) < 0)
                continue;
            p += 4;
            if (u == 0)
                return fail(err, REPORT_BAD_UTF8, "\\u0000 (NUL) is not allowed in text");
            if (u >= 0xDC00 && u <= 0xDFFF)
                return fail(err, REPORT_BAD_UTF8, "lone low surrogate \\u%04X", u);
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (end - p < 7 || p[1] != '\\' || p[2] != 'u' || hex4(p + 3, end, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return fail(err, REPORT_BAD_UTF8, "lone high surrogate \\u%04X", u);
                p += 6;
            }
        }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Pairwise, for the few keys a report has (no allocation); names the
 * smallest duplicated key, as the sorting check below does. */
static int check_duplicate_keys_few(const cJSON *obj, struct report_error *err)
{
    const char *dup = NULL;
    for (const cJSON *a = obj->child; a; a = a->next) {
        const char *x = a->string ? a->string : "";
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(x, b->string ? b->string : "") == 0 && (!dup || strcmp(x, dup) < 0))
                dup = x;
    }
    return dup ? fail(err, REPORT_BAD_JSON, "duplicate key \"%.60s\"", dup) : 0;
}

static int check_duplicate_keys(const cJSON *obj, struct report_error *err)
{
    size_t n = 0, i = 0;
    int rc = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n <= 16)
        return check_duplicate_keys_few(obj, err);
    const char **names = xcalloc(n, sizeof *names);
    for (const cJSON *c = obj->child; c; c = c->next)
        names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, cmp_str);
    for (i = 1; i < n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = fail(err, REPORT_BAD_JSON, "duplicate key \"%.60s\"", names[i]);
    free(names);
    return rc;
}

/* Take an optional string field; -1 (bad_field) if present but not a string.
 * The string moves out of obj, whose item keeps a NULL valuestring: cJSON
 * allocates with malloc (nobody in minyi calls cJSON_InitHooks). */
static int take_string(cJSON *obj, const char *key, int required, char **out,
                       struct report_error *err)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return fail(err, REPORT_MISSING_FIELD, "missing required field \"%s\"", key);
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(err, REPORT_BAD_FIELD, "field \"%s\" must be a string", key);
    *out = v->valuestring;
    v->valuestring = NULL;
    return 0;
}

static const char *const known_fields[] = {"member", "title", "body", "ref", "submitted_at",
                                           NULL};

/* Fields minyi writes itself, on the wire, in the archive or in what
 * `show`, `pull` and `mine` print.  A sender's copy would be stored beside
 * the real one and shadow it, so a submission carrying one is refused. */
static const char *const reserved_fields[] = {
    "v", "id", "received_at", "source", "ck", "extra", "committee", "routed_committee",
    "topics", "state", "outcome", "note", "lease_until", "lease_who", "history", "name",
    "sector", "group", "who", "principal", "upstream", "points", NULL};

int report_field_reserved(const char *name)
{
    for (int i = 0; reserved_fields[i]; i++)
        if (strcmp(name, reserved_fields[i]) == 0)
            return 1;
    return 0;
}

/* The first field of obj that minyi owns, or NULL. */
static const char *first_reserved(const cJSON *obj)
{
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && report_field_reserved(c->string))
            return c->string;
    return NULL;
}

static cJSON *collect_extra(const cJSON *obj)
{
    cJSON *extra = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        int known = 0;
        for (int i = 0; known_fields[i]; i++)
            known |= strcmp(c->string, known_fields[i]) == 0;
        if (known)
            continue;
        if (!extra)
            extra = cJSON_CreateObject();
        cJSON_AddItemToObject(extra, c->string, cJSON_Duplicate(c, 1));
    }
    return extra;
}

static int parse_object(const char *buf, size_t len, cJSON **out, struct report_error *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= buf && at <= buf + len ? (long)(at - buf) : -1;
        return fail(err, REPORT_BAD_JSON, "not valid JSON (error near byte %ld)", off);
    }
    while (end && end < buf + len && isspace((unsigned char)*end))
        end++;
    if (end && end < buf + len) {
        cJSON_Delete(root);
        return fail(err, REPORT_BAD_JSON, "trailing data after the JSON object at byte %ld",
                    (long)(end - buf));
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(err, REPORT_BAD_JSON, "a report must be a JSON object");
    }
    if (check_duplicate_keys(root, err) < 0) {
        cJSON_Delete(root);
        return -1;
    }
    *out = root;
    return 0;
}

/* 1 if buf[0..len) holds nothing but ASCII white space (buf need not end in NUL). */
static int all_space(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", buf[i]) || buf[i] == '\0')
            return 0;
    return 1;
}

int report_parse_submission(const char *buf, size_t len, size_t max_bytes,
                            struct report **out, struct report_error *err)
{
    cJSON *root = NULL;
    *out = NULL;
    err->reason = REPORT_OK;
    err->detail[0] = '\0';
    if (len > max_bytes)
        return fail(err, REPORT_TOO_LARGE, "%zu bytes, the limit is %zu", len, max_bytes);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        buf += 3, len -= 3;
    if (all_space(buf, len))
        return fail(err, REPORT_MISSING_FIELD, "empty report");
    if (!report_utf8_valid(buf, len))
        return fail(err, REPORT_BAD_UTF8, "not valid UTF-8");
    if (memchr(buf, '\0', len))
        return fail(err, REPORT_BAD_UTF8, "NUL byte in the report");
    if (scan_escapes(buf, len, err) < 0 || parse_object(buf, len, &root, err) < 0)
        return -1;
    const char *owned = first_reserved(root);
    if (owned) {
        fail(err, REPORT_BAD_FIELD, "field \"%.40s\" is written by minyi, not by the sender",
             owned);
        cJSON_Delete(root);
        return -1;
    }
    struct report *r = report_new();
    if (take_string(root, "member", 1, &r->member, err) < 0 ||
        take_string(root, "title", 1, &r->title, err) < 0 ||
        take_string(root, "body", 1, &r->body, err) < 0 ||
        take_string(root, "ref", 0, &r->ref, err) < 0 ||
        take_string(root, "submitted_at", 0, &r->submitted_at, err) < 0 ||
        report_validate(r, err) < 0) {
        cJSON_Delete(root);
        report_free(&r);
        return -1;
    }
    r->extra = collect_extra(root);
    cJSON_Delete(root);
    *out = r;
    return 0;
}

/* Trim ASCII and ideographic (U+3000) white space at both ends, in place. */
static char *trim(char *s)
{
    for (;;) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            s++;
        else if (strncmp(s, "\xE3\x80\x80", 3) == 0)
            s += 3;
        else
            break;
    }
    size_t n = strlen(s);
    for (;;) {
        if (n && strchr(" \t\r\n", s[n - 1]))
            n--;
        else if (n >= 3 && memcmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    s[n] = '\0';
    return s;
}

/* The first line of p that is not blank (or p's last line). */
static char *skip_blank_lines(char *p)
{
    for (;;) {
        size_t eol = strcspn(p, "\n");
        if (strspn(p, " \t\r") < eol || p[eol] == '\0')
            return p;
        p += eol + 1;
    }
}

int report_parse_text(const char *member, const char *text, size_t len,
                      struct report **out, struct report_error *err)
{
    *out = NULL;
    err->reason = REPORT_OK;
    err->detail[0] = '\0';
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    if (!report_utf8_valid(text, len))
        return fail(err, REPORT_BAD_UTF8, "not valid UTF-8");
    if (memchr(text, '\0', len))
        return fail(err, REPORT_BAD_ENCODING, "NUL byte in a text file");
    char *copy = xstrndup(text, len), *p = skip_blank_lines(copy);
    size_t eol = strcspn(p, "\n");
    char *rest = p[eol] ? p + eol + 1 : p + eol;
    p[eol] = '\0';
    struct report *r = report_new();
    r->member = xstrdup(member);
    r->title = xstrdup(trim(p));
    r->body = xstrdup(trim(rest));
    r->source = REPORT_SOURCE_DROP;
    free(copy);
    if (!*r->title) {
        report_free(&r);
        return fail(err, REPORT_MISSING_FIELD, "empty file: no title line");
    }
    if (!*r->body) {
        report_free(&r);
        return fail(err, REPORT_MISSING_FIELD, "no body after the title line");
    }
    if (report_validate(r, err) < 0) {
        report_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

/* 1 if any of the 8 bytes at p is below 0x20 or is 0x7F. */
static int has_control8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t v, del;
    memcpy(&v, p, sizeof v);
    del = v ^ (ones * 0x7F);
    return (((v - ones * 0x20) & ~v) | ((del - ones) & ~del)) & high ? 1 : 0;
}

/* 1 if s[0..len) has a control character other than those allowed (a
 * word at a time; words with one, e.g. a body's newlines, byte by byte). */
static int has_control(const char *s, size_t len, const char *allowed)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i += 8) {
        if (len - i >= 8 && !has_control8(p + i))
            continue;
        for (size_t k = i; k < len && k < i + 8; k++)
            if ((p[k] < 0x20 || p[k] == 0x7F) && !strchr(allowed, p[k]))
                return 1;
    }
    return 0;
}

static int check_text(const char *name, const char *s, size_t maxchars, const char *allowed,
                      struct report_error *err)
{
    size_t len = strlen(s), chars;
    if (!report_utf8_valid(s, len))
        return fail(err, REPORT_BAD_UTF8, "field \"%s\" is not valid UTF-8", name);
    chars = report_utf8_chars(s, len);
    if (len == 0 || strspn(s, " \t\r\n") == len)
        return fail(err, REPORT_BAD_FIELD, "field \"%s\" is empty", name);
    if (chars > maxchars)
        return fail(err, REPORT_BAD_FIELD, "field \"%s\" has %zu characters, at most %zu",
                    name, chars, maxchars);
    if (has_control(s, len, allowed))
        return fail(err, REPORT_BAD_FIELD, "field \"%s\" contains a control character", name);
    return 0;
}

int report_validate(const struct report *r, struct report_error *err)
{
    if (!r->member)
        return fail(err, REPORT_MISSING_FIELD, "missing required field \"member\"");
    if (!r->title)
        return fail(err, REPORT_MISSING_FIELD, "missing required field \"title\"");
    if (!r->body)
        return fail(err, REPORT_MISSING_FIELD, "missing required field \"body\"");
    if (strlen(r->member) > REPORT_MEMBER_MAX)
        return fail(err, REPORT_BAD_FIELD, "field \"member\" is longer than %d bytes",
                    REPORT_MEMBER_MAX);
    if (check_text("member", r->member, REPORT_MEMBER_MAX, "", err) < 0 ||
        check_text("title", r->title, REPORT_TITLE_MAX, "\t", err) < 0 ||
        check_text("body", r->body, REPORT_BODY_MAX, "\t\r\n", err) < 0)
        return -1;
    if (r->ref && check_text("ref", r->ref, REPORT_REF_MAX, "", err) < 0)
        return -1;
    if (r->submitted_at && report_time_parse(r->submitted_at, &(int64_t){0}) < 0)
        return fail(err, REPORT_BAD_FIELD,
                    "field \"submitted_at\" is not an RFC 3339 time (e.g. 2026-03-01T09:30:00+08:00)");
    return 0;
}
