/* archiver_query.c: answers the minyi command's requests (see
 * archiver_query.h and common/proto.h).  Each handler checks its fields,
 * calls the store, and shapes the reply; the store does the SQL.
 */
#include "archiver_query.h"
#include "access.h"
#include "archiver_audit.h"
#include "archiver_feedback.h"
#include "archiver_store.h"
#include "archiver_supervise.h"
#include "archiver_upstream.h"
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
#define QUERY_PAGE_BYTES (1u << 20)   /* a queue page stops growing here */
#define QUERY_LEASE_MAX (30 * 86400)

/* The reply for a store result other than STORE_OK. */
static char *reply_store(int rc, const char *err)
{
    switch (rc) {
    case STORE_NOT_FOUND: return proto_reply_error("not_found", "%s", err);
    case STORE_CONFLICT:  return proto_reply_error("conflict", "%s", err);
    case STORE_FORBIDDEN: return proto_reply_error("forbidden", "%s", err);
    default:              return proto_reply_error("busy", "%s; try again", err);
    }
}

/* A whole number in [lo, hi], def when absent (0); -1 when out of range. */
static long req_num(long v, long def, long lo, long hi)
{
    if (!v)
        return def;
    return v < lo || v > hi ? -1 : v;
}

/* Who acts: the person a gateway names (checked against the access file),
 * the name a staff member or admin gives in "who", or the principal itself
 * (a clerk's "who" is its own name, whatever it says). */
static const char *req_who(const struct query_ctx *q, const struct proto_request *req)
{
    if (q->acting && q->acting != q->principal)
        return q->acting->name;
    if (req->who && access_may_act_for(q->principal))
        return req->who;
    return access_name(q->principal);
}

/* A store_actor for req: clerks, also through a gateway, act only on
 * leases they hold. */
static struct store_actor req_actor(const struct query_ctx *q, const struct proto_request *req)
{
    const struct access_principal *p = q->acting ? q->acting : q->principal;
    return (struct store_actor){.who = req_who(q, req),
                                .must_hold = p && p->role == ACCESS_CLERK};
}

/* The committee c when the rules file has it, or NULL. */
static const char *req_committee(const struct query_ctx *q, const char *c)
{
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

static char *q_pull(struct query_ctx *q, const struct proto_request *req)
{
    const char *committee = req_committee(q, req->committee);
    long limit = req_num(req->limit, 10, 1, QUERY_LIMIT_MAX);
    long lease = req_num(req->lease, q->cfg->limits.lease_seconds, 1, QUERY_LEASE_MAX);
    char err[512];
    if (!committee)
        return proto_reply_error("not_found", "no committee \"%s\" in the rules file",
                           req->committee ? req->committee : "");
    if (limit < 0 || lease < 0)
        return proto_reply_error("bad_request", "limit is 1-%d and lease 1-%d seconds",
                           QUERY_LIMIT_MAX, QUERY_LEASE_MAX);
    cJSON *list = store_pull(q->store, committee, (int)limit, (int)lease, req_who(q, req),
                             daemon_now_us(), err, sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *id;
    cJSON_ArrayForEach(id, list)
        log_info("%s: leased to %s for %lds", cJSON_GetStringValue(cJSON_GetObjectItem(id, "id")),
                 req_who(q, req), lease);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return proto_reply_ok(o);
}

static char *q_queue(struct query_ctx *q, const struct proto_request *req)
{
    const char *committee = req_committee(q, req->committee);
    long limit = req_num(req->limit, 100, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (!committee)
        return proto_reply_error("not_found", "no committee \"%s\" in the rules file",
                           req->committee ? req->committee : "");
    if (limit < 0)
        return proto_reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    int64_t now = daemon_now_us();
    cJSON *o = store_queue(q->store, committee, (int)limit, req->after, QUERY_PAGE_BYTES, now,
                           err, sizeof err);
    if (!o && !strncmp(err, "no report", 9))
        return proto_reply_error("not_found", "%s", err);
    if (o)
        supervise_mark(q->store, q->cfg, committee, cJSON_GetObjectItem(o, "reports"), now);
    return o ? proto_reply_ok(o) : reply_store(STORE_ERROR, err);
}

/* The reply to a change of report id: {"id", "state", ...}. */
static char *q_changed(const char *id, const char *state, const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "state", state);
    if (key)
        cJSON_AddStringToObject(o, key, value);
    return proto_reply_ok(o);
}

static char *q_ack(struct query_ctx *q, const struct proto_request *req)
{
    const char *id = req->id, *outcome = req->outcome;
    char err[512];
    if (!id)
        return proto_reply_error("bad_request", "want \"id\"");
    if (!known_outcome(outcome))
        return proto_reply_error("bad_request", "outcome is adopted, forwarded, filed or declined");
    struct store_actor by = req_actor(q, req);
    int rc = store_ack(q->store, id, outcome, req->note, &by, daemon_now_us(), err,
                       sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: closed by %s: %s", id, req_who(q, req), outcome);
    return q_changed(id, "closed", "outcome", outcome);
}

static char *q_release(struct query_ctx *q, const struct proto_request *req)
{
    const char *id = req->id;
    char err[512];
    if (!id)
        return proto_reply_error("bad_request", "want \"id\"");
    struct store_actor by = req_actor(q, req);
    int rc = store_release(q->store, id, &by, daemon_now_us(), err, sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: released by %s", id, req_who(q, req));
    return q_changed(id, "open", NULL, NULL);
}

static char *q_reassign(struct query_ctx *q, const struct proto_request *req)
{
    const char *id = req->id, *committee = req_committee(q, req->committee);
    char err[512];
    if (!id)
        return proto_reply_error("bad_request", "want \"id\"");
    if (!committee)
        return proto_reply_error("not_found", "no committee \"%s\" in the rules file",
                           req->committee ? req->committee : "");
    struct store_actor by = req_actor(q, req);
    int rc = store_reassign(q->store, id, committee, &by, daemon_now_us(), err, sizeof err);
    if (rc != STORE_OK)
        return reply_store(rc, err);
    log_info("%s: reassigned to %s by %s", id, committee, req_who(q, req));
    return q_changed(id, "open", "committee", committee);
}

static char *q_show(struct query_ctx *q, const struct proto_request *req)
{
    const char *id = req->id;
    char err[512];
    if (!id)
        return proto_reply_error("bad_request", "want \"id\"");
    cJSON *r = store_show(q->store, id, err, sizeof err);
    if (!r)
        return proto_reply_error(strncmp(err, "no report", 9) ? "busy" : "not_found", "%s", err);
    const char *member = cJSON_GetStringValue(cJSON_GetObjectItem(r, "member"));
    char why[256];
    if (daemon_allow_for(q->daemon, q->msg, req->who, ACCESS_SHOW,
                         cJSON_GetStringValue(cJSON_GetObjectItem(r, "committee")), member, why,
                         sizeof why, &q->acting) < 0) {
        cJSON_Delete(r);
        return proto_reply_error("forbidden", "%s", why);
    }
    const struct roster_member *m = roster_find(q->roster, member);
    if (m)
        cJSON_AddStringToObject(r, "name", m->name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "report", r);
    return proto_reply_ok(o);
}

/* ---- audit, history, status ---- */

static char *q_audit(struct query_ctx *q, const struct proto_request *req)
{
    const char *month = req->month;
    char err[512];
    cJSON *a = audit_build(q->store, q->cfg, q->roster, q->rules, month, err, sizeof err);
    if (!a)
        return proto_reply_error(strncmp(err, "bad month", 9) ? "busy" : "bad_request", "%s", err);
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
    return proto_reply_ok(o);
}

static char *q_history(struct query_ctx *q, const struct proto_request *req)
{
    long limit = req_num(req->limit, 1000, 1, 10000);
    char err[512];
    if (limit < 0)
        return proto_reply_error("bad_request", "limit is 1-10000");
    cJSON *list = store_history(q->store, req->since_id, (int)limit, err,
                                sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return proto_reply_ok(o);
}

static char *q_status(struct query_ctx *q)
{
    char err[512];
    cJSON *o = store_status(q->store, err, sizeof err);
    if (!o && store_damaged(q->store))
        o = cJSON_CreateObject();  /* the counters and the damage still show */
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
    cJSON_AddNumberToObject(o, "batch_reports", (double)st->batch_reports);
    cJSON_AddNumberToObject(o, "backups", (double)st->backups);
    cJSON_AddNumberToObject(o, "retained", (double)st->retained);
    cJSON *h = cJSON_AddArrayToObject(o, "batch_hist_pow2");
    for (int i = 0; i < ARCHIVER_BATCH_BUCKETS; i++)
        cJSON_AddItemToArray(h, cJSON_CreateNumber((double)st->batch_hist[i]));
    cJSON_AddNumberToObject(o, "now_us", (double)daemon_now_us());
    cJSON_AddNumberToObject(o, "proto_refused", (double)st->peers.refused);
    cJSON_AddNumberToObject(o, "forbidden", (double)access_forbidden(q->daemon->access));
    cJSON_AddStringToObject(o, "archive", store_damaged(q->store) ? "damaged" : "ok");
    if (store_damaged(q->store))
        cJSON_AddStringToObject(o, "damage", store_damaged(q->store));
    if (q->sv)
        cJSON_AddItemToObject(o, "overdue", supervise_counts(q->sv));
    long spool[3];
    if (store_upstream_counts(q->store, spool) == 0) {
        cJSON *u = cJSON_AddObjectToObject(o, "upstream_spool");
        cJSON_AddNumberToObject(u, "pending", (double)spool[0]);
        cJSON_AddNumberToObject(u, "sent", (double)spool[1]);
        cJSON_AddNumberToObject(u, "closed", (double)spool[2]);
    }
    if (q->up)
        upstream_status(q->up, o);
    return proto_reply_ok(o);
}

/* 督办: reports past a deadline, oldest first. */
static char *q_overdue(struct query_ctx *q, const struct proto_request *req)
{
    const char *committee = req->committee;
    long limit = req_num(req->limit, QUERY_LIMIT_MAX, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (committee && !req_committee(q, committee))
        return proto_reply_error("not_found", "no committee \"%s\" in the rules file",
                                 committee);
    if (limit < 0)
        return proto_reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    cJSON *list = supervise_list(q->store, q->cfg, q->rules, committee, (int)limit,
                                 daemon_now_us(), err, sizeof err);
    if (!list)
        return reply_store(STORE_ERROR, err);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "reports", list);
    return proto_reply_ok(o);
}

/* 反馈: a member's own reports and what became of them. */
static char *q_mine(struct query_ctx *q, const struct proto_request *req)
{
    long limit = req_num(req->limit, QUERY_LIMIT_MAX, 1, QUERY_LIMIT_MAX);
    char err[512];
    if (limit < 0)
        return proto_reply_error("bad_request", "limit is 1-%d", QUERY_LIMIT_MAX);
    cJSON *o = feedback_mine(q->store, q->cfg, req->member, (int)limit, err, sizeof err);
    if (!o)
        return reply_store(STORE_ERROR, err);
    const struct roster_member *m = roster_find(q->roster, req->member);
    if (!m && cJSON_GetNumberValue(cJSON_GetObjectItem(o, "count")) == 0) {
        cJSON_Delete(o);
        return proto_reply_error("not_found", "no member \"%s\" in the roster", req->member);
    }
    if (m)
        cJSON_AddStringToObject(o, "name", m->name);
    return proto_reply_ok(o);
}

/* {"cmd": "check"}: PRAGMA integrity_check now (minyi check).  The
 * answer is ok either way: {"check": "ok"|"damaged", "problems", "ms"}. */
static char *q_check(struct query_ctx *q)
{
    char out[2048];
    int64_t t0 = daemon_mono_ms();
    int rc = store_check(q->store, 1, out, sizeof out);
    int64_t ms = daemon_mono_ms() - t0;
    if (rc < 0)
        return proto_reply_error("busy", "%s; try again", out);
    if (rc > 0)
        log_error("archive: integrity_check (minyi check) failed in %lld ms: %s",
                  (long long)ms, out);
    else
        log_info("archive: integrity_check (minyi check) ok in %lld ms", (long long)ms);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "check", rc ? "damaged" : "ok");
    if (rc)
        cJSON_AddStringToObject(o, "problems", out);
    cJSON_AddNumberToObject(o, "ms", (double)ms);
    return proto_reply_ok(o);
}

/* 1 if the command changes the archive (refused while it is damaged). */
static int query_writes(enum proto_cmd cmd)
{
    return cmd == PROTO_CMD_PULL || cmd == PROTO_CMD_ACK || cmd == PROTO_CMD_RELEASE ||
           cmd == PROTO_CMD_REASSIGN || cmd == PROTO_CMD_IMPORT;
}

static char *q_import(struct query_ctx *q, const struct proto_request *req)
{
    char err[512];
    cJSON *o = import_batch(q, req->reports, err, sizeof err);
    return o ? proto_reply_ok(o) : reply_store(STORE_ERROR, err);
}

/* What a command asks to do (show is decided once the report is read). */
static enum access_act query_act(enum proto_cmd cmd)
{
    switch (cmd) {
    case PROTO_CMD_PULL:
    case PROTO_CMD_QUEUE:    return ACCESS_QUEUE;
    case PROTO_CMD_ACK:
    case PROTO_CMD_RELEASE:
    case PROTO_CMD_REASSIGN: return ACCESS_CHANGE;
    case PROTO_CMD_SHOW:     return ACCESS_SHOW;
    case PROTO_CMD_STATUS:   return ACCESS_STATUS;
    case PROTO_CMD_AUDIT:
    case PROTO_CMD_HISTORY:  return ACCESS_AUDIT;
    case PROTO_CMD_OVERDUE:  return ACCESS_QUEUE;     /* a clerk: its committee's */
    case PROTO_CMD_MINE:     return ACCESS_SHOW;      /* a member: only its own */
    default:                 return ACCESS_MANAGE;
    }
}

char *query_answer(struct query_ctx *q, const struct proto_request *req)
{
    enum access_act act = query_act(req->cmd);
    char why[256];
    if ((act != ACCESS_SHOW || req->cmd == PROTO_CMD_MINE) &&
        daemon_allow_for(q->daemon, q->msg, req->who, act,
                         act == ACCESS_QUEUE ? req->committee : NULL,
                         req->cmd == PROTO_CMD_MINE ? req->member : NULL, why, sizeof why,
                         &q->acting) < 0)
        return proto_reply_error("forbidden", "%s", why);
    if (query_writes(req->cmd) && store_damaged(q->store))
        return proto_reply_error("internal", "the archive is damaged (%s): nothing is written "
                                 "until it is restored (README: Recovering the archive)",
                                 store_damaged(q->store));
    switch (req->cmd) {
    case PROTO_CMD_PULL:     return q_pull(q, req);
    case PROTO_CMD_QUEUE:    return q_queue(q, req);
    case PROTO_CMD_ACK:      return q_ack(q, req);
    case PROTO_CMD_RELEASE:  return q_release(q, req);
    case PROTO_CMD_REASSIGN: return q_reassign(q, req);
    case PROTO_CMD_SHOW:     return q_show(q, req);
    case PROTO_CMD_AUDIT:    return q_audit(q, req);
    case PROTO_CMD_IMPORT:   return q_import(q, req);
    case PROTO_CMD_HISTORY:  return q_history(q, req);
    case PROTO_CMD_STATUS:   return q_status(q);
    case PROTO_CMD_OVERDUE:  return q_overdue(q, req);
    case PROTO_CMD_MINE:     return q_mine(q, req);
    case PROTO_CMD_CHECK:    return q_check(q);
    default:
        return proto_reply_error("bad_request", "the archiver does not answer \"%s\"",
                                 proto_cmd_name(req->cmd));
    }
}
