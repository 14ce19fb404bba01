/* report.c: the report struct, its wire JSON (report_encode/decode), ids,
 * timestamps and duplicate keys.  Member input is checked in report_parse.c. */
#include "report.h"
#include "hash.h"
#include "proto.h"
#include <ctype.h>
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct report *report_new(void)
{
    return xcalloc(1, sizeof(struct report));
}

static void report_free_tags(struct report *r)
{
    free(r->tagmem.block);
    memset(&r->tagmem, 0, sizeof r->tagmem);
    r->tags = NULL;
    r->ntags = 0;
}

void report_tags_reserve(struct report *r, size_t ntags, size_t nhits, size_t strbytes)
{
    report_free_tags(r);
    size_t tagb = ntags * sizeof(struct report_tag);
    size_t hitb = nhits * sizeof(struct report_hit);
    char *b = xmalloc(tagb + hitb + strbytes + 1);
    r->tagmem.block = b;
    r->tags = ntags ? (struct report_tag *)b : NULL;
    r->tagmem.hits = (struct report_hit *)(b + tagb);
    r->tagmem.hits_cap = nhits;
    r->tagmem.strs = b + tagb + hitb;
    r->tagmem.strs_cap = strbytes;
}

struct report_hit *report_tags_hits(struct report *r, size_t n)
{
    struct report_tagmem *m = &r->tagmem;
    if (n > m->hits_cap - m->nhits)
        abort();                       /* the caller reserved too little: a bug */
    struct report_hit *h = m->hits + m->nhits;
    m->nhits += n;
    memset(h, 0, n * sizeof *h);
    return h;
}

char *report_tags_str(struct report *r, const char *s, size_t len)
{
    struct report_tagmem *m = &r->tagmem;
    if (len + 1 > m->strs_cap - m->nstrs)
        abort();
    char *d = m->strs + m->nstrs;
    memcpy(d, s, len);
    d[len] = '\0';
    m->nstrs += len + 1;
    return d;
}

void report_free(struct report **rp)
{
    struct report *r = rp ? *rp : NULL;
    if (!r)
        return;
    free(r->member);
    free(r->title);
    free(r->body);
    free(r->ref);
    free(r->submitted_at);
    free(r->committee);
    report_free_tags(r);
    cJSON_Delete(r->extra);
    free(r);
    *rp = NULL;
}

const char *report_reason_name(enum report_reason reason)
{
    static const char *const names[] = {
        [REPORT_OK] = "ok",
        [REPORT_BAD_JSON] = "bad_json",
        [REPORT_BAD_UTF8] = "bad_utf8",
        [REPORT_BAD_ENCODING] = "bad_encoding",
        [REPORT_MISSING_FIELD] = "missing_field",
        [REPORT_BAD_FIELD] = "bad_field",
        [REPORT_TOO_LARGE] = "too_large",
        [REPORT_UNKNOWN_MEMBER] = "unknown_member",
        [REPORT_BUSY] = "busy",
        [REPORT_INTERNAL] = "internal",
        [REPORT_FORBIDDEN] = "forbidden",
    };
    if ((unsigned)reason < sizeof names / sizeof names[0] && names[reason])
        return names[reason];
    return "internal";
}

static const char *const source_names[] = {"socket", "drop", "import"};

/* Numbers on the wire are written by hand as raw JSON: cJSON prints every
 * number with sprintf (and a double with sprintf and sscanf), which was the
 * router's and the archiver's largest cost with dozens of tags per report.
 * Integers are exact; a score is rounded to 3 decimals (weights are given
 * to at most that in practice, and only the order of scores matters). */
static char *fmt_int(char *end, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    *--end = '\0';
    do
        *--end = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--end = '-';
    return end;
}

/* v rounded to 3 decimals as JSON ("14", "2.5", "0.333") into buf[32];
 * returns the start.  NaN and huge values never come from the router. */
static char *fmt_score(char buf[32], double v)
{
    if (!(v > -1e12 && v < 1e12)) {
        snprintf(buf, 32, "%.17g", isfinite(v) ? v : 0);
        return buf;
    }
    long long m = llround(v * 1000), a = m < 0 ? -m : m;
    char *p = fmt_int(buf + 24, a / 1000);
    int frac = (int)(a % 1000);
    if (m < 0)
        *--p = '-';
    if (frac) {
        char *q = buf + 23;
        *q++ = '.';
        for (int d = 100; frac; frac %= d, d /= 10)
            *q++ = (char)('0' + frac / d);
        *q = '\0';
    }
    return p;
}

/* The wire JSON and the tags are printed straight into one buffer, not
 * through a cJSON tree: a report of the bench corpus carries ~20 tags and
 * ~60 hits, and building and printing their tree was most of the router's
 * time (and a fifth of the collector's for the report itself).  The shapes
 * are fixed and every string is escaped as JSON requires. */
struct tagbuf {
    char *s;
    size_t len, cap;
};

static void tb_need(struct tagbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    while (b->len + n + 1 > b->cap)
        b->cap = b->cap ? 2 * b->cap : 1024;
    b->s = xrealloc(b->s, b->cap);
}

static void tb_raw(struct tagbuf *b, const char *s, size_t n)
{
    tb_need(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
}

#define TB_LIT(b, lit) tb_raw(b, lit, sizeof(lit) - 1)

/* 1 if none of the 8 bytes at p needs escaping in JSON (below 0x20, a
 * quote or a backslash): the classic has-zero-byte tests, a word at once. */
static int tb_plain8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t v, q, k;
    memcpy(&v, p, sizeof v);
    q = v ^ (ones * '"');
    k = v ^ (ones * '\\');
    return !((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((k - ones) & ~k)) & high);
}

/* One byte of a JSON string at d, escaped if it must be; returns its length. */
static size_t tb_byte(char *d, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    if (c >= 0x20 && c != '"' && c != '\\') {
        *d = (char)c;
        return 1;
    }
    if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r') {
        d[0] = '\\';
        d[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : (char)c;
        return 2;
    }
    memcpy(d, "\\u00", 4);
    d[4] = hex[c >> 4], d[5] = hex[c & 15];
    return 6;
}

/* s as a JSON string: quotes, backslashes and control characters escaped,
 * UTF-8 passed through (report strings are valid UTF-8).  Runs of 8 bytes
 * that need nothing are copied whole: a body is mostly such runs. */
static void tb_str(struct tagbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p);
    tb_need(b, len * 6 + 2);
    char *d = b->s + b->len;
    *d++ = '"';
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        if (tb_plain8(p + i)) {
            memcpy(d, p + i, 8);
            d += 8;
        } else {
            for (size_t k = i; k < i + 8; k++)
                d += tb_byte(d, p[k]);
        }
    }
    for (; i < len; i++)
        d += tb_byte(d, p[i]);
    *d++ = '"';
    b->len = (size_t)(d - b->s);
}

static void tb_int(struct tagbuf *b, long long v)
{
    char buf[24], *p = fmt_int(buf + sizeof buf, v);
    tb_raw(b, p, strlen(p));
}

static void tb_score(struct tagbuf *b, double v)
{
    char buf[32], *p = fmt_score(buf, v);
    tb_raw(b, p, strlen(p));
}

static void tb_tag(struct tagbuf *b, const struct report_tag *t)
{
    TB_LIT(b, "{\"topic\":");
    tb_str(b, t->topic);
    if (t->category) {
        TB_LIT(b, ",\"category\":");
        tb_str(b, t->category);
    }
    TB_LIT(b, ",\"score\":");
    tb_score(b, t->score);
    TB_LIT(b, ",\"hits\":[");
    for (size_t i = 0; i < t->nhits; i++) {   /* [field, pattern, offset, text] */
        const struct report_hit *h = &t->hits[i];
        TB_LIT(b, "[");
        tb_str(b, h->field);
        TB_LIT(b, ",");
        tb_int(b, h->pattern);
        TB_LIT(b, ",");
        tb_int(b, h->offset);
        TB_LIT(b, ",");
        tb_str(b, h->text);
        TB_LIT(b, "]");
        if (i + 1 < t->nhits)
            TB_LIT(b, ",");
    }
    TB_LIT(b, "]}");
}

/* r's tags as a JSON array: the one printer of tags, for the tags frame
 * and the wire report alike. */
static void tb_tags(struct tagbuf *b, const struct report *r)
{
    tb_need(b, 256 * r->ntags + 2);
    TB_LIT(b, "[");
    for (size_t i = 0; i < r->ntags; i++) {
        if (i)
            TB_LIT(b, ",");
        tb_tag(b, &r->tags[i]);
    }
    TB_LIT(b, "]");
}

char *report_encode_tags(const struct report *r)
{
    struct tagbuf b = {0};
    tb_tags(&b, r);
    b.s[b.len] = '\0';
    return b.s;
}

/* ,"key":"value" (escaped), when value is set. */
static void tb_field(struct tagbuf *b, const char *key, const char *val)
{
    if (!val)
        return;
    tb_raw(b, ",\"", 2);
    tb_raw(b, key, strlen(key));
    tb_raw(b, "\":", 2);
    tb_str(b, val);
}

char *report_encode(const struct report *r)
{
    struct tagbuf b = {0};
    TB_LIT(&b, "{\"v\":");
    tb_int(&b, PROTO_VERSION);
    tb_field(&b, "id", r->id[0] ? r->id : NULL);
    tb_field(&b, "received_at", r->received_at[0] ? r->received_at : NULL);
    tb_field(&b, "source", source_names[r->source]);
    if (r->content_key) {
        char hex[17];
        for (int i = 0; i < 16; i++)
            hex[i] = "0123456789abcdef"[(r->content_key >> (60 - 4 * i)) & 15];
        hex[16] = '\0';
        tb_field(&b, "ck", hex);
    }
    tb_field(&b, "member", r->member);
    tb_field(&b, "title", r->title);
    tb_field(&b, "body", r->body);
    tb_field(&b, "ref", r->ref);
    tb_field(&b, "submitted_at", r->submitted_at);
    tb_field(&b, "committee", r->committee);
    if (r->committee || r->ntags) {
        TB_LIT(&b, ",\"topics\":");
        tb_tags(&b, r);
    }
    if (r->extra) {
        char *extra = cJSON_PrintUnformatted(r->extra);    /* kept as cJSON read it */
        if (!extra)
            abort();                   /* cJSON fails only when memory does */
        TB_LIT(&b, ",\"extra\":");
        tb_raw(&b, extra, strlen(extra));
        free(extra);
    }
    TB_LIT(&b, "}");
    b.s[b.len] = '\0';
    return b.s;
}

/* The string value of key, moved out of o (no copy: cJSON allocates with
 * malloc, nobody in minyi calls cJSON_InitHooks), or NULL. */
static char *get_str(cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return NULL;
    char *s = v->valuestring;
    v->valuestring = NULL;
    return s;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* A hit is [field, pattern, offset, text]; tags written before that form
 * (and imports) may hold {"field", "pattern", "offset", "text"} objects. */
static const cJSON *hit_item(const cJSON *h, int i, const char *key)
{
    return cJSON_IsArray(h) ? cJSON_GetArrayItem(h, i) : cJSON_GetObjectItemCaseSensitive(h, key);
}

static const char *hit_text(const cJSON *h)
{
    return cJSON_GetStringValue(hit_item(h, 3, "text"));
}

/* Room the tags of array `tags` need in the tag block: hits and bytes. */
static void tags_size(const cJSON *tags, size_t *nhits, size_t *bytes)
{
    const cJSON *t, *h;
    *nhits = *bytes = 0;
    cJSON_ArrayForEach(t, tags) {
        *bytes += str_size(str_of(t, "topic")) + str_size(str_of(t, "category"));
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(t, "hits")) {
            (*nhits)++;
            *bytes += str_size(hit_text(h)) + 1;
        }
    }
}

static int decode_tag(struct report *r, const cJSON *j, struct report_tag *t)
{
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(j, "score");
    const cJSON *hits = cJSON_GetObjectItemCaseSensitive(j, "hits"), *h;
    const char *topic = str_of(j, "topic"), *category = str_of(j, "category");
    memset(t, 0, sizeof *t);
    if (!topic)
        return -1;
    t->topic = report_tags_str(r, topic, strlen(topic));
    t->category = category ? report_tags_str(r, category, strlen(category)) : NULL;
    t->score = cJSON_IsNumber(score) ? score->valuedouble : 0;
    t->hits = report_tags_hits(r, (size_t)cJSON_GetArraySize(hits));
    cJSON_ArrayForEach(h, hits) {
        struct report_hit *x = &t->hits[t->nhits++];
        const char *f = cJSON_GetStringValue(hit_item(h, 0, "field")), *text = hit_text(h);
        const cJSON *pattern = hit_item(h, 1, "pattern"), *offset = hit_item(h, 2, "offset");
        xstrlcpy(x->field, f ? f : "", sizeof x->field);
        x->pattern = cJSON_IsNumber(pattern) ? pattern->valueint : 0;
        x->offset = cJSON_IsNumber(offset) ? offset->valueint : 0;
        x->text = report_tags_str(r, text ? text : "", text ? strlen(text) : 0);
    }
    return 0;
}

static int decode_fields(cJSON *o, struct report *r, struct report_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "topics"), *t;
    if (v && (!cJSON_IsNumber(v) || v->valueint < PROTO_VERSION_MIN ||
              v->valueint > PROTO_VERSION)) {
        snprintf(err->detail, sizeof err->detail, "unsupported protocol version");
        return -1;
    }
    if (cJSON_IsString(id)) {
        if (report_id_to_us(id->valuestring) < 0) {
            snprintf(err->detail, sizeof err->detail, "malformed id");
            return -1;
        }
        xstrlcpy(r->id, id->valuestring, sizeof r->id);
        r->received_us = report_id_to_us(r->id);
    }
    char *at = get_str(o, "received_at");
    if (at)
        xstrlcpy(r->received_at, at, sizeof r->received_at);
    free(at);
    for (int i = 0; i < 3; i++)
        if (cJSON_IsString(src) && strcmp(src->valuestring, source_names[i]) == 0)
            r->source = (enum report_source)i;
    const char *ck = str_of(o, "ck");         /* 16 hex digits, as report_encode writes */
    if (ck && strlen(ck) == 16 && strspn(ck, "0123456789abcdefABCDEF") == 16)
        r->content_key = strtoull(ck, NULL, 16);
    r->member = get_str(o, "member");
    r->title = get_str(o, "title");
    r->body = get_str(o, "body");
    r->ref = get_str(o, "ref");
    r->submitted_at = get_str(o, "submitted_at");
    r->committee = get_str(o, "committee");
    size_t nhits, bytes, ntags = (size_t)cJSON_GetArraySize(tags);
    tags_size(tags, &nhits, &bytes);
    if (ntags)
        report_tags_reserve(r, ntags, nhits, bytes);
    cJSON_ArrayForEach(t, tags) {
        if (decode_tag(r, t, &r->tags[r->ntags++]) < 0) {
            snprintf(err->detail, sizeof err->detail, "malformed topic");
            return -1;
        }
    }
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(o, "extra");
    if (cJSON_IsObject(extra))
        r->extra = cJSON_Duplicate(extra, 1);
    return 0;
}

/* The first member of o that report_encode does not write, or NULL. */
static const char *unknown_wire_member(const cJSON *o)
{
    static const char *const wire[] = {"v", "id", "received_at", "source", "ck", "member",
                                       "title", "body", "ref", "submitted_at", "committee",
                                       "topics", "extra", NULL};
    for (const cJSON *c = o->child; c; c = c->next) {
        int known = 0;
        for (int i = 0; wire[i] && !known; i++)
            known = strcmp(c->string, wire[i]) == 0;
        if (!known)
            return c->string;
    }
    return NULL;
}

enum { DECODE_CHECKED = 1, DECODE_WIRE = 2 };

static int decode(const char *buf, size_t len, int how, struct report **out,
                  struct report_error *err)
{
    *out = NULL;
    err->reason = REPORT_BAD_JSON;
    err->detail[0] = '\0';
    cJSON *o = cJSON_ParseWithLength(buf, len);
    const char *unknown = NULL;
    if (!cJSON_IsObject(o) || ((how & DECODE_WIRE) && (unknown = unknown_wire_member(o)))) {
        if (unknown)
            snprintf(err->detail, sizeof err->detail, "unknown member \"%.64s\"", unknown);
        else
            snprintf(err->detail, sizeof err->detail, "not a JSON object");
        cJSON_Delete(o);
        return -1;
    }
    struct report *r = report_new();
    int rc = decode_fields(o, r, err);
    cJSON_Delete(o);
    if (rc == 0 && (how & DECODE_CHECKED) && report_validate(r, err) < 0)
        rc = -1;
    if (rc < 0) {
        report_free(&r);
        return -1;
    }
    err->reason = REPORT_OK;
    *out = r;
    return 0;
}

int report_decode(const char *buf, size_t len, struct report **out, struct report_error *err)
{
    return decode(buf, len, DECODE_CHECKED, out, err);
}

int report_decode_wire(const char *buf, size_t len, int checked, struct report **out,
                       struct report_error *err)
{
    return decode(buf, len, DECODE_WIRE | (checked ? DECODE_CHECKED : 0), out, err);
}

int report_decode_unchecked(const char *buf, size_t len, struct report **out,
                            struct report_error *err)
{
    return decode(buf, len, 0, out, err);
}

void report_stamp(struct report *r, int64_t us)
{
    time_t secs = (time_t)(us / 1000000);
    int micros = (int)(us % 1000000);
    struct tm utc, local;
    char date[32], zone[8];
    gmtime_r(&secs, &utc);
    localtime_r(&secs, &local);
    strftime(date, sizeof date, "%Y%m%d-%H%M%S", &utc);
    snprintf(r->id, sizeof r->id, "%.15s-%06u", date, (unsigned)micros % 1000000u);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &local);
    strftime(zone, sizeof zone, "%z", &local);           /* "+0800" */
    snprintf(r->received_at, sizeof r->received_at, "%.19s.%03u%.3s:%.2s", date,
             (unsigned)micros / 1000u % 1000u, zone, zone + 3);
    r->received_us = us;
}

int64_t report_time_to_us(const char *s)
{
    int64_t us;
    return report_time_parse(s, &us) == 0 ? us : -1;
}

int report_time_parse(const char *s, int64_t *us)
{
    struct tm tm = {0};
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t micros = 0, scale = 100000;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            micros += (*p - '0') * scale;
    }
    int64_t offset = 0;
    int oh, om;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        offset = 0;
    else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
             n == 5 && p[6] == '\0' && oh <= 23 && om <= 59)
        offset = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    else
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *us = ((int64_t)timegm(&tm) - offset) * 1000000 + micros;
    return 0;
}

/* n decimal digits at s, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t report_id_to_us(const char *id)
{
    if (!id || strlen(id) != REPORT_ID_LEN || id[8] != '-' || id[15] != '-')
        return -1;
    struct tm tm = {.tm_year = digits(id, 4), .tm_mon = digits(id + 4, 2),
                    .tm_mday = digits(id + 6, 2), .tm_hour = digits(id + 9, 2),
                    .tm_min = digits(id + 11, 2), .tm_sec = digits(id + 13, 2)};
    int micros = digits(id + 16, 6);
    if (tm.tm_year < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
        tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60 || micros < 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + micros;
}

/* One field of a key: its bytes, then a 0xff separator. */
static uint64_t fnv(uint64_t h, const char *s)
{
    return hash_fnv1a(hash_fnv1a_str(h, s), "\xff", 1);
}

uint64_t report_content_key(const struct report *r)
{
    uint64_t h = fnv(HASH_FNV_OFFSET, "content");
    h = fnv(h, r->member ? r->member : "");
    h = fnv(h, r->title ? r->title : "");
    return fnv(h, r->body ? r->body : "");
}

uint64_t report_content_key_known(const struct report *r)
{
    return r->content_key ? r->content_key : report_content_key(r);
}

uint64_t report_ref_key(const struct report *r)
{
    if (!r->ref)
        return 0;
    uint64_t h = fnv(HASH_FNV_OFFSET, "ref");
    h = fnv(h, r->member ? r->member : "");
    h = fnv(h, r->ref);
    return h ? h : 1;
}
