/* report.c: the report struct, its wire JSON (report_encode/decode), ids,
 * timestamps and duplicate keys.  Member input is checked in report_parse.c. */
#include "report.h"
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
    for (size_t i = 0; i < r->ntags; i++) {
        struct report_tag *t = &r->tags[i];
        for (size_t j = 0; j < t->nhits; j++)
            free(t->hits[j].text);
        free(t->hits);
        free(t->topic);
        free(t->category);
    }
    free(r->tags);
    r->tags = NULL;
    r->ntags = 0;
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

static void add_int(cJSON *o, const char *key, long long v)
{
    char buf[24];
    cJSON_AddItemToObjectCS(o, key, cJSON_CreateRaw(fmt_int(buf + sizeof buf, v)));
}

static void add_score(cJSON *o, const char *key, double v)
{
    if (!(v > -1e12 && v < 1e12)) {            /* NaN, huge: never from the router */
        cJSON_AddNumberToObject(o, key, v != v ? 0 : v);
        return;
    }
    long long m = llround(v * 1000), a = m < 0 ? -m : m;
    char buf[32], *p = fmt_int(buf + 24, a / 1000);
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
    cJSON_AddItemToObjectCS(o, key, cJSON_CreateRaw(p));
}

/* A tag borrows the report's strings (cJSON references) and uses constant
 * keys: a report often carries dozens of tags, and every malloc counted. */
static void add_ref(cJSON *o, const char *key, const char *val)
{
    cJSON_AddItemToObjectCS(o, key, cJSON_CreateStringReference(val));
}

static cJSON *tag_to_cjson(const struct report_tag *t)
{
    cJSON *o = cJSON_CreateObject(), *hits = cJSON_CreateArray();
    add_ref(o, "topic", t->topic ? t->topic : "");
    if (t->category)
        add_ref(o, "category", t->category);
    add_score(o, "score", t->score);
    cJSON_AddItemToObjectCS(o, "hits", hits);
    for (size_t i = 0; i < t->nhits; i++) {
        cJSON *h = cJSON_CreateObject();
        add_ref(h, "field", t->hits[i].field);
        add_int(h, "pattern", t->hits[i].pattern);
        add_int(h, "offset", t->hits[i].offset);
        add_ref(h, "text", t->hits[i].text ? t->hits[i].text : "");
        cJSON_AddItemToArray(hits, h);
    }
    return o;
}

static cJSON *report_tags_to_cjson(const struct report *r)
{
    cJSON *tags = cJSON_CreateArray();
    for (size_t i = 0; i < r->ntags; i++)
        cJSON_AddItemToArray(tags, tag_to_cjson(&r->tags[i]));
    return tags;
}

static void add_opt(cJSON *o, const char *key, const char *val)
{
    if (val)
        cJSON_AddStringToObject(o, key, val);
}

cJSON *report_to_cjson(const struct report *r)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "v", REPORT_VERSION);
    if (r->id[0])
        cJSON_AddStringToObject(o, "id", r->id);
    if (r->received_at[0])
        cJSON_AddStringToObject(o, "received_at", r->received_at);
    cJSON_AddStringToObject(o, "source", source_names[r->source]);
    add_opt(o, "member", r->member);
    add_opt(o, "title", r->title);
    add_opt(o, "body", r->body);
    add_opt(o, "ref", r->ref);
    add_opt(o, "submitted_at", r->submitted_at);
    add_opt(o, "committee", r->committee);
    if (r->committee || r->ntags)
        cJSON_AddItemToObject(o, "topics", report_tags_to_cjson(r));
    if (r->extra)
        cJSON_AddItemToObject(o, "extra", cJSON_Duplicate(r->extra, 1));
    return o;
}

static char *print_delete(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        abort();                       /* cJSON fails only when memory does */
    return s;
}

char *report_encode(const struct report *r)
{
    return print_delete(report_to_cjson(r));
}

/* An upper bound of the printed size of r's tags (strings without escapes,
 * which is what the router's hits are; print_sized falls back otherwise). */
static size_t tags_size(const struct report *r)
{
    size_t n = 16;
    for (size_t i = 0; i < r->ntags; i++) {
        const struct report_tag *t = &r->tags[i];
        n += 96 + (t->topic ? strlen(t->topic) : 0) + (t->category ? strlen(t->category) : 0);
        for (size_t k = 0; k < t->nhits; k++)
            n += 96 + (t->hits[k].text ? strlen(t->hits[k].text) : 0);
    }
    return n;
}

/* Print o into one buffer of about size bytes (no growing and copying on
 * the way), and delete it. */
static char *print_sized(cJSON *o, size_t size)
{
    char *s = xmalloc(size);
    if (size > INT_MAX || !cJSON_PrintPreallocated(o, s, (int)size, 0)) {
        free(s);
        return print_delete(o);
    }
    cJSON_Delete(o);
    return s;
}

char *report_encode_tags(const struct report *r)
{
    return print_sized(report_tags_to_cjson(r), tags_size(r));
}

static char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int decode_tag(const cJSON *j, struct report_tag *t)
{
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(j, "score");
    const cJSON *hits = cJSON_GetObjectItemCaseSensitive(j, "hits"), *h;
    t->topic = get_str(j, "topic");
    t->category = get_str(j, "category");
    t->score = cJSON_IsNumber(score) ? score->valuedouble : 0;
    if (!t->topic)
        return -1;
    t->hits = xcalloc((size_t)cJSON_GetArraySize(hits) + 1, sizeof *t->hits);
    cJSON_ArrayForEach(h, hits) {
        struct report_hit *x = &t->hits[t->nhits++];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(h, "field");
        xstrlcpy(x->field, cJSON_IsString(f) ? f->valuestring : "", sizeof x->field);
        x->pattern = cJSON_GetObjectItemCaseSensitive(h, "pattern")
                         ? cJSON_GetObjectItemCaseSensitive(h, "pattern")->valueint : 0;
        x->offset = cJSON_GetObjectItemCaseSensitive(h, "offset")
                        ? cJSON_GetObjectItemCaseSensitive(h, "offset")->valueint : 0;
        x->text = get_str(h, "text");
    }
    return 0;
}

static int decode_fields(const cJSON *o, struct report *r, struct report_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "source");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "topics"), *t;
    if (v && (!cJSON_IsNumber(v) || v->valueint != REPORT_VERSION)) {
        snprintf(err->detail, sizeof err->detail, "unsupported report version");
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
    r->member = get_str(o, "member");
    r->title = get_str(o, "title");
    r->body = get_str(o, "body");
    r->ref = get_str(o, "ref");
    r->submitted_at = get_str(o, "submitted_at");
    r->committee = get_str(o, "committee");
    r->tags = xcalloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof *r->tags);
    cJSON_ArrayForEach(t, tags) {
        if (decode_tag(t, &r->tags[r->ntags++]) < 0) {
            snprintf(err->detail, sizeof err->detail, "malformed topic");
            return -1;
        }
    }
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(o, "extra");
    if (cJSON_IsObject(extra))
        r->extra = cJSON_Duplicate(extra, 1);
    return 0;
}

int report_decode(const char *buf, size_t len, struct report **out, struct report_error *err)
{
    *out = NULL;
    err->reason = REPORT_BAD_JSON;
    err->detail[0] = '\0';
    cJSON *o = cJSON_ParseWithLength(buf, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        snprintf(err->detail, sizeof err->detail, "not a JSON object");
        return -1;
    }
    struct report *r = report_new();
    int rc = decode_fields(o, r, err);
    cJSON_Delete(o);
    if (rc == 0 && report_validate(r, err) < 0)
        rc = -1;
    if (rc < 0) {
        report_free(&r);
        return -1;
    }
    err->reason = REPORT_OK;
    *out = r;
    return 0;
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
    return ((int64_t)timegm(&tm) - offset) * 1000000 + micros;
}

int64_t report_id_to_us(const char *id)
{
    struct tm tm = {0};
    int micros, n = 0;
    if (!id || strlen(id) != REPORT_ID_LEN)
        return -1;
    if (sscanf(id, "%4d%2d%2d-%2d%2d%2d-%6d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros, &n) != 7 || n != REPORT_ID_LEN ||
        id[8] != '-' || id[15] != '-')
        return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || micros < 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + micros;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;                         /* field separator */
    return h * 0x100000001b3ULL;
}

uint64_t report_content_key(const struct report *r)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, "content");
    h = fnv(h, r->member ? r->member : "");
    h = fnv(h, r->title ? r->title : "");
    return fnv(h, r->body ? r->body : "");
}

uint64_t report_ref_key(const struct report *r)
{
    if (!r->ref)
        return 0;
    uint64_t h = fnv(0xcbf29ce484222325ULL, "ref");
    h = fnv(h, r->member ? r->member : "");
    h = fnv(h, r->ref);
    return h ? h : 1;
}
