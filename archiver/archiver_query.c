/* archiver_query.c: answers the minyi command's requests (see
 * archiver_query.h and common/proto.h).  Each handler checks its fields,
 * calls the store, and shapes the reply; the store does the SQL.
 */
#include "archiver_query.h"
#include "archiver_audit.h"
#include "archiver_feedback.h"
#include "archiver_store.h"
#include "archiver_supervise.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "report.h"
#include "roster.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_LIMIT_MAX 1000
#define QUERY_LEASE_MAX (30 * 86400)

static char *reply_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *reply_error(const char *code, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "detail", detail);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* {"ok": true} + the members of o (consumed). */
static char *reply_ok(cJSON *o)
{
    cJSON *r = cJSON_CreateObject(), *f;
    cJSON_AddBoolToObject(r, "ok", 1);
    while (o && (f = o->child) != NULL) {
        cJSON_DetachItemViaPointer(o, f);
        cJSON_AddItemToObject(r, f->string, f);
    }
    cJSON_Delete(o);
    char *s = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return s;
}

/* The reply for a store result other than STORE_OK. */
static char *reply_store(int rc, const char *err)
{
    switch (rc) {
    case STORE_NOT_FOUND: return reply_error("not_found", "%s", err);
    case STORE_CONFLICT:  return reply_error("conflict", "%s", err);
    case STORE_FORBIDDEN: return reply_error("forbidden", "%s", err);
    default:              return reply_error("busy", "%s; try again", err);
    }
}

static const char *req_str(const cJSON *req, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* A whole number in [lo, hi], def when absent; -1 when present and bad. */
static long req_num(const cJSON *req, const char *key, long def, long lo, long hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    if (!v)
        return def;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
        v->valuedouble != (double)(long)v->valuedouble)
        return -1;
    return (long)v->valuedouble;
}

static const char *req_who(const cJSON *req)
{
    const char *who = req_str(req, "who");
    return who ? who : "unknown";
}

/* The known committee named by key, or NULL. */
static const char *req_committee(const struct query_ctx *q, const cJSON *req, const char *key)
{
    const char *c = req_str(req, key);
    return c && q->rules && rules_committee(q->rules, c) ? c : NULL;
}

static int known_outcome(const char *o)
{
    static const char *const outcomes[] = {"adopted", "forwarded", "filed", "declined"};
    for (size_t i = 0; o && i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (!strcmp(o, outcomes[i]))
            return 1;
    return 0;
}

/* ---- the queue commands ---- */

static char *q_pull(struct query_ctx *q, const cJSON *req)
{
    const char *committee = req_committee(q, req, "committee");
    long limit = req_num(req, "limit", 10, 1, QUERY_LIMIT_MAX);
    long lease = req_num(req, "lease", q->cfg->limits.lease_seconds, 1, QUERY_LEASE_MAX);
    char err[512];
    if (!committee)
        return reply_error("not_found", "no committee \"%s\" in the rules file",
                           req_str(req, "committee") ? req_str(req, "committee") : "");
    if (limit < 0 || lease < 0)
        return reply_error("bad_request", "limit is 1-%d and lease 1-%d seconds",
                           QUERY_LIMIT_MAX, QUERY_LEASE_MAX);
    cJSON *list = store_pull(q->store, committee, (int)limit, (int)lease, req_who(req),
                             daemon_now_us(), err, sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *id;
    cJSON_ArrayForEach(id, list)
        log_info("%s: leased to %s for %lds", cJSON_GetStringValue(cJSON_GetObjectItem(id, "id")),
                 req_who(req), lease);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return reply_ok(o);
}

static char *q_queue(struct query_ctx *q, const cJSON *req)
{
    const char *committee = req_committee(q, req, "committee");
    long limit = req_num(req, "limit", 100, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (!committee)
        return reply_error("not_found", "no committee \"%s\" in the rules file",
                           req_str(req, "committee") ? req_str(req, "committee") : "");
    if (limit < 0)
        return reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    int64_t now = daemon_now_us();
    cJSON *o = store_queue(q->store, committee, (int)limit, now, err, sizeof err);
    if (o)
        supervise_mark(q->store, q->cfg, committee, cJSON_GetObjectItem(o, "reports"), now);
    return o ? reply_ok(o) : reply_store(STORE_ERROR, err);
}

/* The reply to a change of report id: {"id", "state", ...}. */
static char *q_changed(const char *id, const char *state, const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "state", state);
    if (key)
        cJSON_AddStringToObject(o, key, value);
    return reply_ok(o);
}

static char *q_ack(struct query_ctx *q, const cJSON *req)
{
    const char *id = req_str(req, "id"), *outcome = req_str(req, "outcome");
    char err[512];
    if (!id)
        return reply_error("bad_request", "want \"id\"");
    if (!known_outcome(outcome))
        return reply_error("bad_request", "outcome is adopted, forwarded, filed or declined");
    struct store_actor by = {.who = req_who(req)};
    int rc = store_ack(q->store, id, outcome, req_str(req, "note"), &by, daemon_now_us(), err,
                       sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: closed by %s: %s", id, req_who(req), outcome);
    return q_changed(id, "closed", "outcome", outcome);
}

static char *q_release(struct query_ctx *q, const cJSON *req)
{
    const char *id = req_str(req, "id");
    char err[512];
    if (!id)
        return reply_error("bad_request", "want \"id\"");
    struct store_actor by = {.who = req_who(req)};
    int rc = store_release(q->store, id, &by, daemon_now_us(), err, sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: released by %s", id, req_who(req));
    return q_changed(id, "open", NULL, NULL);
}

static char *q_reassign(struct query_ctx *q, const cJSON *req)
{
    const char *id = req_str(req, "id"), *committee = req_committee(q, req, "committee");
    char err[512];
    if (!id)
        return reply_error("bad_request", "want \"id\"");
    if (!committee)
        return reply_error("not_found", "no committee \"%s\" in the rules file",
                           req_str(req, "committee") ? req_str(req, "committee") : "");
    struct store_actor by = {.who = req_who(req)};
    int rc = store_reassign(q->store, id, committee, &by, daemon_now_us(), err, sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: reassigned to %s by %s", id, committee, req_who(req));
    return q_changed(id, "open", "committee", committee);
}

static char *q_show(struct query_ctx *q, const cJSON *req)
{
    const char *id = req_str(req, "id");
    char err[512];
    if (!id)
        return reply_error("bad_request", "want \"id\"");
    cJSON *r = store_show(q->store, id, err, sizeof err);
    if (!r)
        return reply_error(strncmp(err, "no report", 9) ? "busy" : "not_found", "%s", err);
    const struct roster_member *m =
        roster_find(q->roster, cJSON_GetStringValue(cJSON_GetObjectItem(r, "member")));
    if (m)
        cJSON_AddStringToObject(r, "name", m->name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "report", r);
    return reply_ok(o);
}

/* ---- audit, history, status ---- */

static char *q_audit(struct query_ctx *q, const cJSON *req)
{
    const char *month = req_str(req, "month");
    char err[512];
    cJSON *a = audit_build(q->store, q->cfg, q->roster, q->rules, month, err, sizeof err);
    if (!a)
        return reply_error(strncmp(err, "bad month", 9) ? "busy" : "bad_request", "%s", err);
    cJSON *sv = supervise_audit(q->store, q->cfg, q->rules,
                                cJSON_GetStringValue(cJSON_GetObjectItem(a, "month")),
                                daemon_now_us(), err, sizeof err);
    if (!sv) {
        cJSON_Delete(a);
        return reply_store(STORE_ERROR, err);
    }
    cJSON_AddItemToObject(a, "supervision", sv);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "audit", a);
    return reply_ok(o);
}

static char *q_history(struct query_ctx *q, const cJSON *req)
{
    long limit = req_num(req, "limit", 1000, 1, 10000);
    char err[512];
    if (limit < 0)
        return reply_error("bad_request", "limit is 1-10000");
    cJSON *list = store_history(q->store, req_str(req, "since_id"), (int)limit, err,
                                sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return reply_ok(o);
}

static char *q_status(struct query_ctx *q)
{
    char err[512];
    cJSON *o = store_status(q->store, err, sizeof err);
    if (!o)
        return reply_store(STORE_ERROR, err);
    const struct archiver_stats *st = q->stats;
    cJSON_AddStringToObject(o, "daemon", "archiver");
    cJSON_AddNumberToObject(o, "stored", (double)st->stored);
    cJSON_AddNumberToObject(o, "already", (double)st->already);
    cJSON_AddNumberToObject(o, "duplicates", (double)st->duplicates);
    cJSON_AddNumberToObject(o, "batches", (double)st->batches);
    cJSON_AddNumberToObject(o, "failed_batches", (double)st->failed_batches);
    cJSON_AddNumberToObject(o, "bad", (double)st->bad);
    cJSON_AddNumberToObject(o, "large", (double)st->large);
    if (q->sv)
        cJSON_AddItemToObject(o, "overdue", supervise_counts(q->sv));
    return reply_ok(o);
}

/* 督办: reports past a deadline, oldest first. */
static char *q_overdue(struct query_ctx *q, const cJSON *req)
{
    const char *committee = req_str(req, "committee");
    long limit = req_num(req, "limit", QUERY_LIMIT_MAX, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (committee && !req_committee(q, req, "committee"))
        return reply_error("not_found", "no committee \"%s\" in the rules file", committee);
    if (limit < 0)
        return reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    cJSON *list = supervise_list(q->store, q->cfg, q->rules, committee, (int)limit,
                                 daemon_now_us(), err, sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return reply_ok(o);
}

/* 反馈: a member's own reports and what became of them. */
static char *q_mine(struct query_ctx *q, const cJSON *req)
{
    const char *member = req_str(req, "member");
    long limit = req_num(req, "limit", QUERY_LIMIT_MAX, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (!member)
        return reply_error("bad_request", "want \"member\"");
    if (limit < 0)
        return reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    cJSON *o = feedback_mine(q->store, q->cfg, member, (int)limit, err, sizeof err);
    if (!o)
        return reply_store(STORE_ERROR, err);
    const struct roster_member *m = roster_find(q->roster, member);
    if (!m && cJSON_GetNumberValue(cJSON_GetObjectItem(o, "count")) == 0) {
        cJSON_Delete(o);
        return reply_error("not_found", "no member \"%s\" in the roster", member);
    }
    if (m)
        cJSON_AddStringToObject(o, "name", m->name);
    return reply_ok(o);
}

static char *q_import(struct query_ctx *q, const cJSON *req)
{
    const cJSON *reports = cJSON_GetObjectItemCaseSensitive(req, "reports");
    char err[512];
    if (!cJSON_IsArray(reports))
        return reply_error("bad_request", "want \"reports\": [...]");
    cJSON *o = import_batch(q, reports, err, sizeof err);
    return o ? reply_ok(o) : reply_store(STORE_ERROR, err);
}

char *query_answer(struct query_ctx *q, const char *body, size_t len)
{
    cJSON *req = body ? cJSON_ParseWithLength(body, len) : NULL;
    const char *cmd = req_str(req, "cmd");
    char *s;
    if (!cJSON_IsObject(req) || !cmd)
        s = reply_error("bad_request", "want one JSON object with \"cmd\"");
    else if (!strcmp(cmd, "pull"))
        s = q_pull(q, req);
    else if (!strcmp(cmd, "queue"))
        s = q_queue(q, req);
    else if (!strcmp(cmd, "ack"))
        s = q_ack(q, req);
    else if (!strcmp(cmd, "release"))
        s = q_release(q, req);
    else if (!strcmp(cmd, "reassign"))
        s = q_reassign(q, req);
    else if (!strcmp(cmd, "show"))
        s = q_show(q, req);
    else if (!strcmp(cmd, "audit"))
        s = q_audit(q, req);
    else if (!strcmp(cmd, "import"))
        s = q_import(q, req);
    else if (!strcmp(cmd, "history"))
        s = q_history(q, req);
    else if (!strcmp(cmd, "status"))
        s = q_status(q);
    else if (!strcmp(cmd, "overdue"))
        s = q_overdue(q, req);
    else if (!strcmp(cmd, "mine"))
        s = q_mine(q, req);
    else
        s = reply_error("bad_request", "unknown command \"%.64s\"", cmd);
    cJSON_Delete(req);
    return s;
}
