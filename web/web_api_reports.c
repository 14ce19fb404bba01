/* web_api_reports.c: the report endpoints of /api/v1/ and who may use them.
 *
 *   POST reports                  member   file a report (as itself)
 *   GET  reports                  member   my reports, newest first
 *   GET  points                   member   my count, quota and points
 *   GET  reports/ID               all      one report with history (member: own;
 *                                          clerk: its committees'; staff: any)
 *   POST reports/ID/ack           clerk    {outcome, note}
 *   POST reports/ID/release       clerk
 *   POST reports/ID/reassign      clerk    {committee}
 *   GET  queue/COMMITTEE          clerk (its own), staff
 *   POST queue/COMMITTEE/pull     clerk (its own)   {limit}
 *   GET  committees               all      ids and names
 *   POST rules/test               clerk, staff   {title, body}: where it would go, why
 *   GET  audit?month=YYYY-MM      staff
 *   GET  status                   staff    every daemon's status
 *
 * The acting user goes to the daemons as "who".  Run under its own account
 * (or key) minyi-web is the access file's gateway, and the archiver checks
 * that user's own rights again; this table checks them first either way,
 * so a refusal is answered before a daemon is asked.
 */
#include "web_api.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "report.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request of cmd made by the session's user. */
static struct proto_request rq(enum proto_cmd cmd, const struct web_session *s)
{
    struct proto_request q = {.cmd = cmd, .who = s->user.name};
    return q;
}

/* Send a query to the archiver and forward its answer. */
static void ask_archiver(struct web *w, const struct proto_request *q, struct web_resp *resp)
{
    cJSON *r = api_ask(w, w->cfg->ep.query, q, resp);
    if (r)
        api_answer(resp, r);
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n <= 40 && strspn(id, "0123456789-") == n;
}

/* ---- member ---- */

static void submit(struct web *w, const struct web_req *req, struct web_resp *resp,
                   const struct web_session *s)
{
    static const char *const allowed[] = {"title", "body", "ref", "submitted_at", "member"};
    cJSON *b = api_body(req, resp), *f;
    if (!b)
        return;
    cJSON_ArrayForEach(f, b) {
        size_t i = 0;
        while (i < 5 && strcmp(f->string, allowed[i]))
            i++;
        if (i == 5 || !cJSON_IsString(f)) {
            char d[128];
            snprintf(d, sizeof d, "field \"%.40s\" is not taken here", f->string);
            web_resp_error(resp, "bad_field", d);
            cJSON_Delete(b);
            return;
        }
    }
    const char *m = api_str(b, "member");
    if (m && strcmp(m, s->user.member)) {
        cJSON_Delete(b);
        api_refuse(w, resp, s, "filing as another member");
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(b, "member");
    cJSON_AddStringToObject(b, "member", s->user.member);
    cJSON *r = api_submit(w, b, resp);
    cJSON_Delete(b);
    if (!r)
        return;
    const char *id = api_str(r, "id");
    if (id)
        log_info("%s: filed on the web by %s", id, s->user.name);
    api_answer(resp, r);
}

static void mine(struct web *w, struct web_resp *resp, const struct web_session *s)
{
    struct proto_request q = rq(PROTO_CMD_MINE, s);
    q.member = s->user.member;
    q.limit = 200;
    ask_archiver(w, &q, resp);
}

/* The audit of month (NULL: this one), or NULL with resp filled.  s: asked
 * for that user (staff); NULL: by the web door itself, for the member's own
 * line and the committee names (a gateway may read the audit, which holds
 * counts, never a report; a member may not). */
static cJSON *audit(struct web *w, const char *month, struct web_resp *resp,
                    const struct web_session *s)
{
    struct proto_request q = {.cmd = PROTO_CMD_AUDIT, .who = s ? s->user.name : NULL};
    q.month = month;
    cJSON *r = api_ask(w, w->cfg->ep.query, &q, resp);
    if (r && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
        api_answer(resp, r);
        return NULL;
    }
    return r;
}

/* The member's own line of this month's audit. */
static void points(struct web *w, struct web_resp *resp, const struct web_session *s)
{
    cJSON *r = audit(w, NULL, resp, NULL), *m, *mine_row = NULL;
    if (!r)
        return;
    cJSON *a = cJSON_GetObjectItemCaseSensitive(r, "audit");
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(a, "members"))
        if (!strcmp(api_str(m, "member") ? api_str(m, "member") : "", s->user.member))
            mine_row = m;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "month", api_str(a, "month") ? api_str(a, "month") : "");
    if (mine_row)
        cJSON_AddItemToObject(o, "me", cJSON_Duplicate(mine_row, 1));
    else
        cJSON_AddNullToObject(o, "me");
    cJSON_Delete(r);
    api_json(resp, 200, o);
}

/* ---- one report ---- */

/* Whether s may see report r (the archiver's record). */
static int may_see(const struct web_session *s, const cJSON *r)
{
    switch (s->user.role) {
    case WEB_ROLE_STAFF: return 1;
    case WEB_ROLE_CLERK: return web_user_has_committee(&s->user, api_str(r, "committee"));
    default: return api_str(r, "member") && !strcmp(api_str(r, "member"), s->user.member);
    }
}

/* The archiver's show reply for id when s may see it, else NULL with resp
 * filled (404, 403, 503). */
static cJSON *show(struct web *w, const char *id, struct web_resp *resp,
                   const struct web_session *s)
{
    if (!valid_id(id)) {
        web_resp_error(resp, "not_found", "no such report");
        return NULL;
    }
    struct proto_request q = rq(PROTO_CMD_SHOW, s);
    q.id = id;
    cJSON *r = api_ask(w, w->cfg->ep.query, &q, resp);
    if (r && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
        api_answer(resp, r);
        return NULL;
    }
    if (r && !may_see(s, cJSON_GetObjectItemCaseSensitive(r, "report"))) {
        cJSON_Delete(r);
        char what[80];
        snprintf(what, sizeof what, "report %s", id);
        api_refuse(w, resp, s, what);
        return NULL;
    }
    return r;
}

/* A clerk changes only a report it holds the lease of (a closed one is
 * left to the archiver, which answers conflict), as the archiver requires
 * of clerks. */
static int holds_lease(const struct web_session *s, const cJSON *r)
{
    const char *state = api_str(r, "state"), *who = api_str(r, "lease_who");
    if (state && !strcmp(state, "closed"))
        return 1;
    return state && !strcmp(state, "leased") && who && !strcmp(who, s->user.name);
}

/* ack, release, reassign of id by a clerk of its committee. */
static void change(struct web *w, const struct web_req *req, struct web_resp *resp,
                   const struct web_session *s, const char *id, const char *what)
{
    if (s->user.role != WEB_ROLE_CLERK) {
        api_refuse(w, resp, s, what);
        return;
    }
    cJSON *b = api_body(req, resp), *r;
    if (!b || !(r = show(w, id, resp, s))) {
        cJSON_Delete(b);
        return;
    }
    if (!holds_lease(s, cJSON_GetObjectItemCaseSensitive(r, "report"))) {
        cJSON_Delete(r);
        cJSON_Delete(b);
        api_refuse(w, resp, s, "a report without its lease");
        return;
    }
    cJSON_Delete(r);
    struct proto_request q = rq(!strcmp(what, "ack") ? PROTO_CMD_ACK :
                                !strcmp(what, "release") ? PROTO_CMD_RELEASE : PROTO_CMD_REASSIGN, s);
    q.id = id;
    q.outcome = q.cmd == PROTO_CMD_ACK ? api_str(b, "outcome") : NULL;
    q.note = q.cmd == PROTO_CMD_ACK ? api_str(b, "note") : NULL;
    q.committee = q.cmd == PROTO_CMD_REASSIGN ? api_str(b, "committee") : NULL;
    if (q.cmd == PROTO_CMD_ACK && !q.outcome)
        web_resp_error(resp, "missing_field", "want \"outcome\": adopted, forwarded, filed or declined");
    else if (q.cmd == PROTO_CMD_REASSIGN && !q.committee)
        web_resp_error(resp, "missing_field", "want \"committee\"");
    else
        ask_archiver(w, &q, resp);
    cJSON_Delete(b);
}

static void report(struct web *w, const struct web_req *req, struct web_resp *resp,
                   const struct web_session *s, int post, int n, char *seg[4])
{
    cJSON *r;
    if (!post && n == 2) {
        if ((r = show(w, seg[1], resp, s)) != NULL)
            api_json(resp, 200, r);
    } else if (post && n == 3 &&
               (!strcmp(seg[2], "ack") || !strcmp(seg[2], "release") ||
                !strcmp(seg[2], "reassign"))) {
        change(w, req, resp, s, seg[1], seg[2]);
    } else {
        web_resp_error(resp, "not_found", "no such endpoint");
    }
}

/* ---- queues, audit, status ---- */

static void queue(struct web *w, const struct web_req *req, struct web_resp *resp,
                  const struct web_session *s, int post, const char *c)
{
    int clerk = s->user.role == WEB_ROLE_CLERK && web_user_has_committee(&s->user, c);
    if (!(clerk || (!post && s->user.role == WEB_ROLE_STAFF))) {
        char what[96];
        snprintf(what, sizeof what, "queue %.64s", c);
        api_refuse(w, resp, s, what);
        return;
    }
    cJSON *b = post ? api_body(req, resp) : NULL;
    if (post && !b)
        return;
    struct proto_request q = rq(post ? PROTO_CMD_PULL : PROTO_CMD_QUEUE, s);
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(b, "limit");
    const char *arg = post ? NULL : web_req_arg(req, "limit");
    char *end = NULL;
    double l = limit ? (cJSON_IsNumber(limit) ? limit->valuedouble : -1)
                     : arg ? strtod(arg, &end) : post ? 1 : 100;
    q.committee = c;
    q.limit = (long)l;
    if (l < 1 || l > 1000 || l != (double)q.limit || (end && *end))
        web_resp_error(resp, "bad_request", "limit is a whole number 1-1000");
    else
        ask_archiver(w, &q, resp);
    cJSON_Delete(b);
}

static void committees(struct web *w, struct web_resp *resp)
{
    cJSON *r = audit(w, NULL, resp, NULL), *c;
    if (!r)
        return;
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "committees");
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(r, "audit"), "committees")) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "committee", api_str(c, "committee") ? api_str(c, "committee") : "");
        cJSON_AddStringToObject(x, "name", api_str(c, "name") ? api_str(c, "name") : "");
        cJSON_AddItemToArray(list, x);
    }
    cJSON_Delete(r);
    api_json(resp, 200, o);
}

/* {"ok", "archiver": {...}, "collector": {...}, "router": {...}, "web": {...}}. */
static void status(struct web *w, struct web_resp *resp, const struct web_session *s)
{
    const char *eps[3] = {w->cfg->ep.query, w->cfg->ep.collector_ctl, w->cfg->ep.router_ctl};
    const char *names[3] = {"archiver", "collector", "router"};
    cJSON *o = cJSON_CreateObject();
    struct proto_request q = rq(PROTO_CMD_STATUS, s);
    cJSON_AddBoolToObject(o, "ok", 1);
    for (int i = 0; i < 3; i++) {
        struct web_resp ignored = {0};
        cJSON *r = api_ask(w, eps[i], &q, &ignored);
        free(ignored.body);
        if (!r) {
            r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "error", "did not answer");
        }
        cJSON_AddItemToObject(o, names[i], r);
    }
    cJSON *x = cJSON_AddObjectToObject(o, "web");
    cJSON_AddNumberToObject(x, "requests", (double)__atomic_load_n(&w->requests, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(x, "logins", (double)__atomic_load_n(&w->logins, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(x, "login_failures",
                            (double)__atomic_load_n(&w->login_failures, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(x, "refused", (double)__atomic_load_n(&w->refused, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(x, "too_large", (double)__atomic_load_n(&w->too_large, __ATOMIC_RELAXED));
    cJSON_AddNumberToObject(x, "sessions", web_sessions_expire(w->sessions));
    api_json(resp, 200, o);
}

static void rules_test(struct web *w, const struct web_req *req, struct web_resp *resp,
                       const struct web_session *s)
{
    char err[512];
    cJSON *b, *o;
    if (s->user.role == WEB_ROLE_MEMBER) {
        api_refuse(w, resp, s, "rules test");
    } else if ((b = api_body(req, resp)) != NULL) {
        const char *t = api_str(b, "title") ? api_str(b, "title") : "",
                   *x = api_str(b, "body") ? api_str(b, "body") : "";
        if (!*t && !*x)
            web_resp_error(resp, "missing_field", "want \"title\" or \"body\"");
        else if (!report_utf8_valid(t, strlen(t)) || !report_utf8_valid(x, strlen(x)))
            web_resp_error(resp, "bad_encoding", "the text is not valid UTF-8");
        else if ((o = web_rules_test(w, t, x, err, sizeof err)) != NULL)
            api_json(resp, 200, o);
        else
            web_resp_error(resp, "internal", err);
        cJSON_Delete(b);
    }
}

static void staff_only(struct web *w, const struct web_req *req, struct web_resp *resp,
                       const struct web_session *s, const char *what)
{
    cJSON *r;
    if (s->user.role != WEB_ROLE_STAFF)
        api_refuse(w, resp, s, what);
    else if (!strcmp(what, "status"))
        status(w, resp, s);
    else if ((r = audit(w, web_req_arg(req, "month"), resp, s)) != NULL)
        api_json(resp, 200, r);
}

void api_reports(struct web *w, const struct web_req *req, struct web_resp *resp, int post,
                 int n, char *seg[4])
{
    struct web_session s;
    int member;
    if (!post && strcmp(req->method, "GET")) {
        web_resp_error(resp, "bad_method", "GET or POST");
        return;
    }
    if (api_session(w, req, resp, &s, post) < 0)
        return;
    member = s.user.role == WEB_ROLE_MEMBER;
    if (n == 1 && !strcmp(seg[0], "reports"))
        member ? post ? submit(w, req, resp, &s) : mine(w, resp, &s)
               : (void)api_refuse(w, resp, &s, "my reports");
    else if (!strcmp(seg[0], "reports"))
        report(w, req, resp, &s, post, n, seg);
    else if (!post && n == 1 && !strcmp(seg[0], "points"))
        member ? points(w, resp, &s) : (void)api_refuse(w, resp, &s, "points");
    else if (!strcmp(seg[0], "queue") && ((n == 2 && !post) || (n == 3 && post &&
                                                                !strcmp(seg[2], "pull"))))
        queue(w, req, resp, &s, post, seg[1]);
    else if (post && n == 2 && !strcmp(seg[0], "rules") && !strcmp(seg[1], "test"))
        rules_test(w, req, resp, &s);
    else if (!post && n == 1 && !strcmp(seg[0], "committees"))
        committees(w, resp);
    else if (!post && n == 1 && (!strcmp(seg[0], "audit") || !strcmp(seg[0], "status")))
        staff_only(w, req, resp, &s, seg[0]);
    else
        web_resp_error(resp, "not_found", "no such endpoint");
}
