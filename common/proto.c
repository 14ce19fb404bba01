/* proto.c: encoders and strict decoders of the messages between the
 * daemons (route, archive, confirm) and of the submit socket (proto.h,
 * docs/protocol.md), and the version check and refusal count every message
 * shares.  Requests and replies are proto_request.c's.
 *
 * The report's own JSON is report.c's (report_encode / report_decode,
 * printed by hand where it pays); this file frames it, versions it and
 * checks what surrounds it.  Confirmations are small and go through cJSON.
 */
#include "proto.h"
#include "proto_impl.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTO_STR_(x) #x
#define PROTO_STR(x) PROTO_STR_(x)

int proto_fail(struct proto_error *err, enum proto_reason reason, const char *fmt, ...)
{
    va_list ap;
    err->reason = reason;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return -1;
}

void proto_err_init(struct proto_error *err)
{
    err->reason = PROTO_OK;
    err->version = 0;
    err->detail[0] = '\0';
}

/* 0 when v is spoken here, else -1 with PROTO_BAD_VERSION. */
static int check_version(long v, struct proto_error *err)
{
    if (v >= PROTO_VERSION_MIN && v <= PROTO_VERSION)
        return 0;
    err->version = v > 0 && v < 1000000 ? (int)v : -1;
    return proto_fail(err, PROTO_BAD_VERSION, "peer speaks protocol %ld, this daemon %d", v,
                PROTO_VERSION);
}

/* The "v" member of a JSON message: 1 when absent; -1 when not a whole
 * number (refused as a bad field by the caller). */
static long json_version(const cJSON *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    if (!v)
        return 1;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

/* Parse one JSON object and check its version.  The object, or NULL. */
cJSON *proto_json_message(const char *buf, size_t len, int *version, struct proto_error *err)
{
    cJSON *o = buf ? cJSON_ParseWithLength(buf, len) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        proto_fail(err, PROTO_BAD_JSON, "want one JSON object");
        return NULL;
    }
    long v = json_version(o);
    if (v < 0 || check_version(v, err) < 0) {
        if (v < 0)
            proto_fail(err, PROTO_BAD_FIELD, "\"v\" is not a whole number");
        cJSON_Delete(o);
        return NULL;
    }
    *version = (int)v;
    return o;
}

const char *proto_reason_code(enum proto_reason reason)
{
    return reason == PROTO_BAD_VERSION ? "bad_version" : "bad_request";
}

void proto_refused(struct proto_peers *p, enum proto_chan ch, const struct proto_error *e)
{
    static const char *const names[PROTO_CH_COUNT] = {"route", "archive", "confirm", "query",
                                                      "ctl"};
    unsigned bit = e->version > 0 && e->version < 31 ? 1u << e->version : 1u << 31;
    p->refused++;
    if (p->logged[ch] & bit)
        return;
    p->logged[ch] |= bit;
    log_warn("-: %s: %s (refused; logged once, counted as proto_refused)", names[ch],
             e->detail);
}

/* ---- route ---- */

char *proto_route_encode(const struct report *r)
{
    return report_encode(r);
}

int proto_route_send(struct bus_sock *s, const char *text, size_t len, int dontwait)
{
    return bus_send(s, text, len, dontwait);
}

/* The version report_encode writes first ({"v":N,...}), or 1 when the text
 * does not start so (the decoder then reads "v" wherever it is). */
static long route_version(const char *text, size_t len)
{
    static const char head[] = "{\"v\":";
    size_t i = sizeof head - 1;
    long v = 0;
    if (len <= i || memcmp(text, head, i) != 0)
        return 1;
    for (; i < len && text[i] >= '0' && text[i] <= '9' && v < 1000000; i++)
        v = v * 10 + (text[i] - '0');
    return v;
}

int proto_route_decode(const struct bus_msg *m, struct proto_route *x, struct proto_error *err)
{
    struct report_error rerr;
    memset(x, 0, sizeof *x);
    proto_err_init(err);
    if (bus_msg_parts(m) != 1 || !(x->text = bus_msg_part(m, 0, &x->len)) || !x->len)
        return proto_fail(err, PROTO_BAD_FRAMES, "a route message is one frame (got %zu)",
                    m->nframes);
    long v = route_version(x->text, x->len);
    if (check_version(v, err) < 0)
        return -1;
    x->version = (int)v;
    if (report_decode_wire(x->text, x->len, 0, &x->r, &rerr) < 0)
        return proto_fail(err, PROTO_BAD_JSON, "%s: %s", report_reason_name(rerr.reason),
                    rerr.detail);
    if (!x->r->id[0]) {
        proto_route_clear(x);
        return proto_fail(err, PROTO_MISSING_FIELD, "a routed report has an id");
    }
    return 0;
}

void proto_route_clear(struct proto_route *x)
{
    if (x)
        report_free(&x->r);
}

/* ---- archive ---- */

static int send_frame(struct bus_sock *s, const char *data, size_t len, int more,
                      int (*stop)(void))
{
    while ((more ? bus_send_more(s, data, len) : bus_send(s, data, len, 0)) < 0)
        if (errno != EINTR || (stop && stop()))
            return -1;
    return 0;
}

int proto_archive_send(struct bus_sock *s, const struct proto_route *route,
                       const struct report *r, const char *tags, size_t tlen,
                       int (*stop)(void))
{
    static const char version[] = PROTO_STR(PROTO_VERSION);
    const char *topic = r->ntags ? r->tags[0].topic : "";
    const char *category = r->ntags && r->tags[0].category ? r->tags[0].category : "";
    const char *committee = r->committee ? r->committee : "";
    /* ZeroMQ delivers all frames or none */
    return send_frame(s, version, sizeof version - 1, 1, stop) < 0 ||
                   send_frame(s, route->text, route->len, 1, stop) < 0 ||
                   send_frame(s, committee, strlen(committee), 1, stop) < 0 ||
                   send_frame(s, tags, tlen, 1, stop) < 0 ||
                   send_frame(s, topic, strlen(topic), 1, stop) < 0 ||
                   send_frame(s, category, strlen(category), 0, stop) < 0
               ? -1
               : 0;
}

/* The version frame of an archive message (decimal digits), or 1 for the
 * version-1 layout, whose first frame is the report ('{'); -1: neither. */
static long archive_version(const char *f, size_t len)
{
    long v = 0;
    if (len && f[0] == '{')
        return 1;
    if (len == 0 || len > 6)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (f[i] < '0' || f[i] > '9')
            return -1;
        v = v * 10 + (f[i] - '0');
    }
    return v;
}

/* A string frame of at most max bytes (min 1 when required), no NUL. */
static int frame_str(const struct bus_msg *m, size_t k, size_t max, int required,
                     const char *what, char **out, struct proto_error *err)
{
    size_t len = 0;
    const char *f = bus_msg_part(m, k, &len);
    if (!f || len > max || (required && len == 0) || memchr(f, '\0', len))
        return proto_fail(err, PROTO_BAD_FIELD, "bad %s frame (%zu bytes)", what, len);
    *out = len || required ? xstrndup(f, len) : NULL;
    return 0;
}

int proto_archive_decode(const struct bus_msg *m, struct proto_archive *x,
                         struct proto_error *err)
{
    size_t parts = bus_msg_parts(m), len = 0, first;
    const char *f = bus_msg_part(m, 0, &len);
    struct report_error rerr;
    memset(x, 0, sizeof *x);
    proto_err_init(err);
    for (size_t k = 0; k < m->nkept; k++)
        x->bytes += m->frame[k].size;
    long v = f ? archive_version(f, len) : -1;
    if (v < 0)
        return proto_fail(err, PROTO_BAD_FRAMES, "the first frame is neither a version nor a report");
    if (check_version(v, err) < 0)
        return -1;
    x->version = (int)v;
    first = v == 1 ? 0 : 1;       /* version 1: the same frames, no version frame */
    if (parts != first + 5)
        return proto_fail(err, PROTO_BAD_FRAMES, "an archive message of version %ld is %zu frames "
                    "(got %zu)", v, first + 5, parts);
    f = bus_msg_part(m, first, &len);
    if (report_decode_wire(f, len, 1, &x->r, &rerr) < 0)
        return proto_fail(err, PROTO_BAD_JSON, "report: %s", rerr.detail);
    if (!x->r->id[0])
        return proto_fail(err, PROTO_MISSING_FIELD, "the report has no id");
    free(x->r->committee);
    x->r->committee = NULL;
    if (frame_str(m, first + 1, RULES_ID_MAX, 1, "committee", &x->r->committee, err) < 0 ||
        frame_str(m, first + 2, (size_t)-1, 1, "tags", &x->tags, err) < 0 ||
        frame_str(m, first + 3, PROTO_TOPIC_MAX, 0, "topic", &x->topic, err) < 0 ||
        frame_str(m, first + 4, PROTO_TOPIC_MAX, 0, "category", &x->category, err) < 0)
        return -1;
    if (!rules_id_ok(x->r->committee))
        return proto_fail(err, PROTO_BAD_FIELD, "committee \"%s\" is not a committee id",
                    x->r->committee);
    if (!x->topic && x->category)
        return proto_fail(err, PROTO_BAD_FIELD, "a category without a topic");
    return 0;
}

void proto_archive_clear(struct proto_archive *x)
{
    if (!x)
        return;
    report_free(&x->r);
    free(x->tags);
    free(x->topic);
    free(x->category);
    memset(x, 0, sizeof *x);
}

/* ---- confirm ---- */

char *proto_confirm_encode(const char *const *ids, size_t n, const struct proto_epoch *e)
{
    cJSON *o = cJSON_CreateObject(), *a;
    cJSON_AddNumberToObject(o, "v", PROTO_VERSION);
    a = cJSON_AddArrayToObject(o, "confirm");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
    if (e) {
        cJSON *x = cJSON_AddObjectToObject(o, "archive");
        cJSON_AddStringToObject(x, "generation", e->generation);
        cJSON_AddNumberToObject(x, "commits", (double)e->commits);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        abort();                  /* cJSON fails only when memory does */
    return s;
}

int proto_confirm_send(struct bus_sock *s, const char *const *ids, size_t n,
                       const struct proto_epoch *e)
{
    char *text = proto_confirm_encode(ids, n, e);
    int rc = bus_send(s, text, strlen(text), 1);
    int saved = errno;
    free(text);
    errno = saved;
    return rc;
}

/* Every member of o is one of names[] (NULL-ended): 0, or -1 with err. */
static int only_members(const cJSON *o, const char *const *names, struct proto_error *err)
{
    for (const cJSON *c = o->child; c; c = c->next) {
        int known = 0;
        for (size_t i = 0; names[i] && !known; i++)
            known = strcmp(c->string, names[i]) == 0;
        if (!known)
            return proto_fail(err, PROTO_UNKNOWN_FIELD, "unknown member \"%.64s\"", c->string);
    }
    return 0;
}

/* The optional "archive": {"generation": 1-32 lowercase hex digits,
 * "commits": a whole number >= 0} into c->epoch.  0, or -1 with err. */
static int confirm_epoch(struct proto_confirm *c, const cJSON *a, struct proto_error *err)
{
    static const char *const members[] = {"generation", "commits", NULL};
    if (!a)
        return 0;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(a, "generation");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(a, "commits");
    size_t len = cJSON_IsString(g) ? strlen(g->valuestring) : 0;
    if (!cJSON_IsObject(a) || only_members(a, members, err) < 0 || len == 0 || len > 32 ||
        strspn(g->valuestring, "0123456789abcdef") != len || !cJSON_IsNumber(n) ||
        n->valuedouble < 0 || n->valuedouble != (double)(long long)n->valuedouble)
        return err->reason ? -1 : proto_fail(err, PROTO_BAD_FIELD, "\"archive\" is not "
                                       "{\"generation\": hex, \"commits\": N}");
    c->epoch.generation = g->valuestring;
    c->epoch.commits = (long long)n->valuedouble;
    c->has_epoch = 1;
    return 0;
}

int proto_confirm_decode(const struct bus_msg *m, struct proto_confirm *c,
                         struct proto_error *err)
{
    static const char *const members[] = {"v", "confirm", "archive", NULL};
    size_t len = 0;
    const char *body = bus_msg_parts(m) == 1 ? bus_msg_part(m, 0, &len) : NULL;
    const cJSON *id;
    memset(c, 0, sizeof *c);
    proto_err_init(err);
    if (!body)
        return proto_fail(err, PROTO_BAD_FRAMES, "a confirmation is one frame (got %zu)", m->nframes);
    if (!(c->tree = proto_json_message(body, len, &c->version, err)))
        return -1;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c->tree, "confirm");
    if (only_members(c->tree, members, err) < 0 ||
        (!ids && proto_fail(err, PROTO_MISSING_FIELD, "no \"confirm\"") < 0) ||
        (!cJSON_IsArray(ids) && proto_fail(err, PROTO_BAD_FIELD, "\"confirm\" is not an array") < 0)) {
        proto_confirm_clear(c);
        return -1;
    }
    c->ids = xcalloc((size_t)cJSON_GetArraySize(ids) + 1, sizeof *c->ids);
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsString(id) || report_id_to_us(id->valuestring) < 0) {
            proto_confirm_clear(c);
            return proto_fail(err, PROTO_BAD_FIELD, "\"confirm\" holds something not a report id");
        }
        c->ids[c->n++] = id->valuestring;
    }
    if (confirm_epoch(c, cJSON_GetObjectItemCaseSensitive(c->tree, "archive"), err) < 0) {
        proto_confirm_clear(c);
        return -1;
    }
    return 0;
}

void proto_confirm_clear(struct proto_confirm *c)
{
    if (!c)
        return;
    free(c->ids);
    cJSON_Delete(c->tree);
    memset(c, 0, sizeof *c);
}

/* ---- submit ---- */

int proto_submit_decode(const struct bus_msg *m, size_t max_bytes, struct report **out,
                        struct report_error *err)
{
    size_t len = 0;
    const char *body = bus_msg_body(m, &len);
    *out = NULL;
    if (!body) {
        err->reason = REPORT_BAD_JSON;
        snprintf(err->detail, sizeof err->detail,
                 "a request is one frame holding one JSON object (got %zu)", m->nframes);
        return -1;
    }
    return report_parse_submission(body, len, max_bytes, out, err);
}

char *proto_submit_reply(const char *id, int duplicate, const struct report_error *err)
{
    if (!err || err->reason == REPORT_OK)      /* nearly all: an id is digits and dashes */
        return xasprintf("{\"v\":%d,\"ok\":true,\"id\":\"%s\"%s}", PROTO_VERSION, id,
                         duplicate ? ",\"duplicate\":true" : "");
    return proto_reply_error(report_reason_name(err->reason), "%s", err->detail);
}

int proto_submit_send(struct bus_sock *s, const void *tag, size_t taglen, const char *report,
                      size_t len)
{
    if (bus_send_more(s, tag, taglen) < 0 || bus_send_more(s, "", 0) < 0)
        return -1;
    return bus_send(s, report, len, 0);
}

int proto_submit_reply_decode(const struct bus_msg *m, const void **tag, size_t *taglen,
                              struct proto_reply *r, struct proto_error *err)
{
    memset(r, 0, sizeof *r);
    proto_err_init(err);
    if (m->nkept != 3 || m->nframes != 3 || m->frame[1].size != 0)
        return proto_fail(err, PROTO_BAD_FRAMES, "want [tag][\"\"][reply] (got %zu frames)",
                    m->nframes);
    *tag = m->frame[0].data;
    *taglen = m->frame[0].size;
    return proto_reply_decode(m->frame[2].data, m->frame[2].size, r, err);
}
