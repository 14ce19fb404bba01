/* proto_request.c: the requests on the query and ctl sockets and every
 * reply (proto.h): the command table, strict decoding of each member,
 * replies, and one call over a REQ socket.  The pipes and the submit
 * request are proto.c's. */
#include "proto.h"
#include "proto_impl.h"
#include "rules.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ---- */

enum field_type { FIELD_STR, FIELD_NUM, FIELD_ARRAY };

struct field {
    const char *name;
    enum field_type type;
    size_t off;                   /* in struct proto_request */
};

#define F_STR(n) {#n, FIELD_STR, offsetof(struct proto_request, n)}
#define F_NUM(n) {#n, FIELD_NUM, offsetof(struct proto_request, n)}
static const struct field fields[] = {
    F_STR(committee), F_STR(id), F_STR(outcome), F_STR(note), F_STR(who),
    F_STR(month), F_STR(since_id), F_NUM(limit), F_NUM(lease),
    {"reports", FIELD_ARRAY, offsetof(struct proto_request, reports)},
    F_STR(after), F_STR(path), F_STR(member),
};
enum { COMMITTEE = 1 << 0, ID = 1 << 1, OUTCOME = 1 << 2, NOTE = 1 << 3, WHO = 1 << 4,
       MONTH = 1 << 5, SINCE_ID = 1 << 6, LIMIT = 1 << 7, LEASE = 1 << 8, REPORTS = 1 << 9,
       AFTER = 1 << 10, PATH = 1 << 11, MEMBER = 1 << 12 };
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Each command: its name, the members it may have, those it must have. */
static const struct {
    const char *name;
    unsigned may, must;
} commands[PROTO_CMD_COUNT] = {
    [PROTO_CMD_PULL] = {"pull", COMMITTEE | LIMIT | LEASE | WHO, COMMITTEE},
    [PROTO_CMD_QUEUE] = {"queue", COMMITTEE | LIMIT | AFTER | WHO, COMMITTEE},
    [PROTO_CMD_ACK] = {"ack", ID | OUTCOME | NOTE | WHO, ID | OUTCOME},
    [PROTO_CMD_RELEASE] = {"release", ID | WHO, ID},
    [PROTO_CMD_REASSIGN] = {"reassign", ID | COMMITTEE | WHO, ID | COMMITTEE},
    [PROTO_CMD_SHOW] = {"show", ID | WHO, ID},
    [PROTO_CMD_AUDIT] = {"audit", MONTH | WHO, 0},
    [PROTO_CMD_IMPORT] = {"import", REPORTS | WHO, REPORTS},
    [PROTO_CMD_HISTORY] = {"history", LIMIT | SINCE_ID | WHO, 0},
    [PROTO_CMD_STATUS] = {"status", WHO, 0},
    [PROTO_CMD_RELOAD] = {"reload", WHO, 0},
    [PROTO_CMD_CHECK] = {"check", WHO, 0},
    [PROTO_CMD_BACKUP] = {"backup", PATH | WHO, PATH},
    [PROTO_CMD_OVERDUE] = {"overdue", COMMITTEE | LIMIT | WHO, 0},
    [PROTO_CMD_MINE] = {"mine", MEMBER | LIMIT | WHO, MEMBER},
};

const char *proto_cmd_name(enum proto_cmd cmd)
{
    return cmd > PROTO_CMD_NONE && cmd < PROTO_CMD_COUNT ? commands[cmd].name : "?";
}

static enum proto_cmd cmd_of(const char *name)
{
    for (int i = PROTO_CMD_NONE + 1; i < PROTO_CMD_COUNT; i++)
        if (!strcmp(name, commands[i].name))
            return (enum proto_cmd)i;
    return PROTO_CMD_NONE;
}

#define FIELD_STRP(q, f) ((const char **)(void *)((char *)(q) + (f)->off))
#define FIELD_NUMP(q, f) ((long *)(void *)((char *)(q) + (f)->off))
#define FIELD_ARRP(q, f) ((cJSON **)(void *)((char *)(q) + (f)->off))

char *proto_request_encode(const struct proto_request *q)
{
    if (q->cmd <= PROTO_CMD_NONE || q->cmd >= PROTO_CMD_COUNT)
        abort();                  /* a bug: encode only a command */
    unsigned may = commands[q->cmd].may;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "v", PROTO_VERSION);
    cJSON_AddStringToObject(o, "cmd", commands[q->cmd].name);
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        if (!(may & (1u << i)))
            continue;
        if (f->type == FIELD_STR && *FIELD_STRP(q, f))
            cJSON_AddStringToObject(o, f->name, *FIELD_STRP(q, f));
        else if (f->type == FIELD_NUM && *FIELD_NUMP(q, f) > 0)
            cJSON_AddNumberToObject(o, f->name, (double)*FIELD_NUMP(q, f));
        else if (f->type == FIELD_ARRAY && *FIELD_ARRP(q, f))
            cJSON_AddItemReferenceToObject(o, f->name, *FIELD_ARRP(q, f));
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);              /* a reference does not free the borrowed array */
    if (!s)
        abort();
    return s;
}

/* Set one member c of a request whose command allows `may`. */
static int request_member(struct proto_request *q, const cJSON *c, unsigned may,
                          unsigned *seen, struct proto_error *err)
{
    size_t i = 0;
    while (i < NFIELDS && strcmp(fields[i].name, c->string))
        i++;
    if (i == NFIELDS || !(may & (1u << i)))
        return proto_fail(err, PROTO_UNKNOWN_FIELD, "\"%s\" has no member \"%.64s\"",
                    commands[q->cmd].name, c->string);
    const struct field *f = &fields[i];
    *seen |= 1u << i;
    if (f->type == FIELD_STR && cJSON_IsString(c)) {
        if (f->off == offsetof(struct proto_request, committee) && c->valuestring[0] &&
            !rules_id_ok(c->valuestring))
            return proto_fail(err, PROTO_BAD_FIELD, "\"committee\": an id is 1-%d of a-z, 0-9, "
                        "_ and -", RULES_ID_MAX);
        *FIELD_STRP(q, f) = c->valuestring[0] ? c->valuestring : NULL;
        return 0;
    }
    if (f->type == FIELD_NUM && cJSON_IsNumber(c) && c->valuedouble >= 1 &&
        c->valuedouble <= 2147483647.0 && c->valuedouble == (double)(long)c->valuedouble) {
        *FIELD_NUMP(q, f) = (long)c->valuedouble;
        return 0;
    }
    if (f->type == FIELD_ARRAY && cJSON_IsArray(c)) {
        *FIELD_ARRP(q, f) = (cJSON *)c;
        return 0;
    }
    return proto_fail(err, PROTO_BAD_FIELD, "\"%s\" is not %s", f->name,
                f->type == FIELD_STR   ? "a string"
                : f->type == FIELD_NUM ? "a whole number from 1"
                                       : "an array");
}

/* The members of q->tree beside "v" and "cmd". */
static int request_members(struct proto_request *q, struct proto_error *err)
{
    unsigned may = commands[q->cmd].may, must = commands[q->cmd].must, seen = 0;
    for (const cJSON *c = q->tree->child; c; c = c->next) {
        if (!strcmp(c->string, "v") || !strcmp(c->string, "cmd"))
            continue;
        if (request_member(q, c, may, &seen, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        int empty = f->type == FIELD_STR && !*FIELD_STRP(q, f);
        if ((must & (1u << i)) && (!(seen & (1u << i)) || empty))
            return proto_fail(err, PROTO_MISSING_FIELD, "\"%s\" needs \"%s\"", commands[q->cmd].name,
                        f->name);
    }
    return 0;
}

int proto_request_decode(const char *buf, size_t len, struct proto_request *q,
                         struct proto_error *err)
{
    memset(q, 0, sizeof *q);
    proto_err_init(err);
    if (!(q->tree = proto_json_message(buf, len, &q->version, err)))
        return -1;
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(q->tree, "cmd");
    if (!cmd)
        proto_fail(err, PROTO_MISSING_FIELD, "want a JSON object with \"cmd\"");
    else if (!cJSON_IsString(cmd) || (q->cmd = cmd_of(cmd->valuestring)) == PROTO_CMD_NONE)
        proto_fail(err, PROTO_BAD_FIELD, "unknown command \"%.64s\"",
             cJSON_IsString(cmd) ? cmd->valuestring : "");
    if (err->reason != PROTO_OK || request_members(q, err) < 0) {
        proto_request_clear(q);
        return -1;
    }
    return 0;
}

int proto_request_decode_msg(const struct bus_msg *m, struct proto_request *q,
                             struct proto_error *err)
{
    size_t len = 0;
    const char *body = bus_msg_body(m, &len);
    if (!body) {
        memset(q, 0, sizeof *q);
        proto_err_init(err);
        return proto_fail(err, PROTO_BAD_FRAMES, "a request is one frame (got %zu)", m->nframes);
    }
    return proto_request_decode(body, len, q, err);
}

void proto_request_clear(struct proto_request *q)
{
    if (!q)
        return;
    cJSON_Delete(q->tree);
    memset(q, 0, sizeof *q);
}

/* ---- replies ---- */

static char *print_consumed(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        abort();                  /* cJSON fails only when memory does */
    return s;
}

char *proto_reply_ok(cJSON *o)
{
    cJSON *r = cJSON_CreateObject(), *f;
    cJSON_AddNumberToObject(r, "v", PROTO_VERSION);
    cJSON_AddBoolToObject(r, "ok", 1);
    while (o && (f = o->child) != NULL) {
        cJSON_DetachItemViaPointer(o, f);
        if (!strcmp(f->string, "v") || !strcmp(f->string, "ok"))
            cJSON_Delete(f);      /* a bug upstream; never two "ok" */
        else
            cJSON_AddItemToObject(r, f->string, f);
    }
    cJSON_Delete(o);
    return print_consumed(r);
}

char *proto_reply_error(const char *code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "v", PROTO_VERSION);
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "detail", detail);
    return print_consumed(o);
}

char *proto_reply_refusal(const struct proto_error *err)
{
    return proto_reply_error(proto_reason_code(err->reason), "%s", err->detail);
}

int proto_reply_send(struct bus_sock *s, const struct bus_msg *req, const char *text)
{
    return bus_reply(s, req, text, strlen(text));
}

int proto_reply_decode(const char *buf, size_t len, struct proto_reply *r,
                       struct proto_error *err)
{
    memset(r, 0, sizeof *r);
    proto_err_init(err);
    if (!(r->tree = proto_json_message(buf, len, &r->version, err)))
        return -1;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r->tree, "ok");
    if (!cJSON_IsBool(ok)) {
        proto_reply_clear(r);
        return proto_fail(err, PROTO_MISSING_FIELD, "a reply has \"ok\": true or false");
    }
    r->ok = cJSON_IsTrue(ok);
    if (!r->ok) {
        r->error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->tree, "error"));
        r->detail = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->tree, "detail"));
        if (!r->error || !*r->error) {
            proto_reply_clear(r);
            return proto_fail(err, PROTO_MISSING_FIELD, "a refusal has an \"error\" code");
        }
        if (!r->detail)
            r->detail = "";
    }
    return 0;
}

void proto_reply_clear(struct proto_reply *r)
{
    if (!r)
        return;
    cJSON_Delete(r->tree);
    memset(r, 0, sizeof *r);
}

static int call(struct bus *b, const char *endpoint, const char *text, size_t len,
                long timeout_ms, struct proto_reply *r, struct proto_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    proto_err_init(err);
    if (bus_request(b, endpoint, text, len, timeout_ms, &buf, &n) < 0) {
        errno = ETIMEDOUT;        /* unreachable or silent: the same to a user */
        return proto_fail(err, PROTO_OK, "no answer in time");
    }
    int rc = proto_reply_decode(buf, n, r, err);
    free(buf);
    if (rc < 0)
        errno = EPROTO;
    return rc;
}

int proto_call(struct bus *b, const char *endpoint, const struct proto_request *q,
               long timeout_ms, struct proto_reply *r, struct proto_error *err)
{
    char *text = proto_request_encode(q);
    int rc = call(b, endpoint, text, strlen(text), timeout_ms, r, err);
    int saved = errno;
    free(text);
    errno = saved;
    return rc;
}

int proto_submit_call(struct bus *b, const char *endpoint, const char *report, size_t len,
                      long timeout_ms, struct proto_reply *r, struct proto_error *err)
{
    return call(b, endpoint, report, len, timeout_ms, r, err);
}

