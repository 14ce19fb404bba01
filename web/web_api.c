/* web_api.c: the plumbing of /api/v1/ -- reason codes to HTTP statuses,
 * sessions and CSRF checks, asking a daemon, login, logout, and the table
 * of endpoints.  The report endpoints themselves are in web_api_reports.c.
 *
 * Every answer is JSON: {"ok": true, ...} or {"ok": false, "error": CODE,
 * "detail": TEXT}, CODE being the sockets' reason code (common/proto.h,
 * SPEC.md) or one of the door's own: unauthenticated (401), forbidden and
 * csrf (403), slow_down (429), unavailable (503).  docs/http.md lists them.
 */
#include "web_api.h"
#include "proto.h"
#include "config.h"
#include "log.h"
#include "pwhash.h"
#include "xmalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int web_status_of(const char *code)
{
    static const struct { const char *code; int status; } map[] = {
        {"unauthenticated", 401}, {"forbidden", 403}, {"csrf", 403}, {"not_found", 404},
        {"conflict", 409}, {"too_large", 413}, {"slow_down", 429}, {"busy", 503},
        {"internal", 503}, {"unavailable", 503}, {"bad_method", 405},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(code, map[i].code))
            return map[i].status;
    return 400;                    /* bad_json, bad_field, missing_field, bad_request ... */
}

void api_json(struct web_resp *resp, int status, cJSON *o)
{
    resp->status = status;
    resp->type = "application/json; charset=utf-8";
    resp->body = cJSON_PrintUnformatted(o);
    resp->len = strlen(resp->body);
    cJSON_Delete(o);
}

void web_resp_error(struct web_resp *resp, const char *code, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "detail", detail);
    free(resp->body);
    resp->body = NULL;
    api_json(resp, web_status_of(code), o);
}

int web_session_of(struct web *w, const struct web_req *req, struct web_session *s)
{
    return req->cookie ? web_sessions_get(w->sessions, req->cookie, s) : -1;
}

int api_refuse(struct web *w, struct web_resp *resp, const struct web_session *s,
               const char *what)
{
    __atomic_add_fetch(&w->refused, 1, __ATOMIC_RELAXED);
    log_info("-: refused %s to %s (%s)", what, s->user.name, web_role_name(s->user.role));
    web_resp_error(resp, "forbidden", "not allowed for this user");
    return -1;
}

/* The reply tree of a call (its "v" dropped), or NULL with resp filled:
 * 503 when the daemon did not answer in time or not in the protocol. */
static cJSON *api_reply(int rc, struct proto_reply *r, const struct proto_error *e,
                        struct web_resp *resp)
{
    cJSON *tree = r->tree;
    if (rc < 0) {
        web_resp_error(resp, errno == ETIMEDOUT ? "unavailable" : "internal",
                       errno == ETIMEDOUT ? "the pipeline did not answer in time; try again"
                                          : e->detail);
        proto_reply_clear(r);
        return NULL;
    }
    r->tree = NULL;
    proto_reply_clear(r);
    cJSON_DeleteItemFromObjectCaseSensitive(tree, "v");
    return tree;
}

cJSON *api_ask(struct web *w, const char *endpoint, const struct proto_request *q,
               struct web_resp *resp)
{
    struct proto_reply r;
    struct proto_error e;
    int rc = proto_call(w->bus, endpoint, q, w->cfg->limits.request_timeout_ms, &r, &e);
    return api_reply(rc, &r, &e, resp);
}

cJSON *api_submit(struct web *w, const cJSON *report, struct web_resp *resp)
{
    struct proto_reply r;
    struct proto_error e;
    char *text = cJSON_PrintUnformatted(report);
    int rc = proto_submit_call(w->bus, w->cfg->ep.submit, text, strlen(text),
                               w->cfg->limits.request_timeout_ms, &r, &e);
    free(text);
    return api_reply(rc, &r, &e, resp);
}

void api_answer(struct web_resp *resp, cJSON *reply)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        api_json(resp, 200, reply);
        return;
    }
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "error"));
    resp->status = web_status_of(code ? code : "internal");
    api_json(resp, resp->status, reply);
}

cJSON *api_body(const struct web_req *req, struct web_resp *resp)
{
    const char *ct = req->content_type;
    if (req->body_len == 0)
        return cJSON_CreateObject();
    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        web_resp_error(resp, "bad_request", "send the body as application/json");
        return NULL;
    }
    cJSON *o = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        web_resp_error(resp, "bad_json", "the body is not one JSON object");
        return NULL;
    }
    return o;
}

const char *api_str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* An Origin header, when sent, must name this host. */
static int api_same_origin(const struct web_req *req)
{
    const char *o = req->origin, *sep;
    if (!o)
        return 1;
    sep = strstr(o, "://");
    return req->host && sep && !strcmp(sep + 3, req->host);
}

int api_session(struct web *w, const struct web_req *req, struct web_resp *resp,
                struct web_session *s, int changes)
{
    if (web_session_of(w, req, s) < 0) {
        web_resp_error(resp, "unauthenticated", "log in first (or again: the session ended)");
        return -1;
    }
    if (!changes)
        return 0;
    if (!req->csrf || strlen(req->csrf) != WEB_TOKEN_LEN ||
        !pwhash_equal(req->csrf, s->csrf, WEB_TOKEN_LEN) || !api_same_origin(req)) {
        __atomic_add_fetch(&w->refused, 1, __ATOMIC_RELAXED);
        log_info("-: refused a change by %s from %s: missing or wrong CSRF token", s->user.name,
                 req->addr);
        web_resp_error(resp, "csrf", "missing or wrong X-CSRF-Token; reload the page");
        return -1;
    }
    return 0;
}

/* The session as the pages see it. */
static cJSON *api_me_json(const struct web_session *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "user", s->user.name);
    cJSON_AddStringToObject(o, "role", web_role_name(s->user.role));
    if (s->user.role == WEB_ROLE_MEMBER)
        cJSON_AddStringToObject(o, "member", s->user.member);
    cJSON *cs = cJSON_AddArrayToObject(o, "committees");
    for (int i = 0; i < s->user.ncommittees; i++)
        cJSON_AddItemToArray(cs, cJSON_CreateString(s->user.committees[i]));
    cJSON_AddStringToObject(o, "csrf", s->csrf);
    return o;
}

/* 1 if the password is the user's; one argon2id at a time (64 MB each).  An
 * unknown name costs the same verification (against w->decoy), so the time
 * of an answer does not tell which names exist. */
static int api_password_ok(struct web *w, const char *name, const char *password,
                           struct web_user *u)
{
    int found = web_users_find(w->users, name, u) == 0;
    pthread_mutex_lock(&w->verify_lock);
    int ok = pwhash_verify(found ? u->hash : w->decoy, password);
    pthread_mutex_unlock(&w->verify_lock);
    return found && ok;
}

static void api_login(struct web *w, const struct web_req *req, struct web_resp *resp)
{
    cJSON *b = api_body(req, resp);
    const char *name = api_str(b, "user"), *pw = api_str(b, "password");
    struct web_user u;
    int wait;
    if (!b)
        return;
    if (!name || !pw || strlen(name) >= WEB_NAME_MAX || strlen(pw) > 1024) {
        web_resp_error(resp, "missing_field", "want \"user\" and \"password\"");
    } else if ((wait = web_throttle_wait(w->sessions, name, req->addr)) > 0) {
        web_resp_error(resp, "slow_down", "too many failed logins; wait and try again");
        resp->retry_after = wait;
    } else if (!api_password_ok(w, name, pw, &u)) {
        web_throttle_fail(w->sessions, name, req->addr);
        __atomic_add_fetch(&w->login_failures, 1, __ATOMIC_RELAXED);
        log_info("-: login of \"%.64s\" from %s failed", name, req->addr);
        web_resp_error(resp, "unauthenticated", "wrong user name or password");
    } else {
        struct web_session s;
        web_throttle_ok(w->sessions, name);
        web_sessions_start(w->sessions, &u, &s);
        __atomic_add_fetch(&w->logins, 1, __ATOMIC_RELAXED);
        log_info("-: %s (%s) logged in from %s", u.name, web_role_name(u.role), req->addr);
        snprintf(resp->set_cookie, sizeof resp->set_cookie,
                 "minyi_session=%s; Path=/; HttpOnly; SameSite=Strict%s", s.token,
                 w->tls ? "; Secure" : "");
        api_json(resp, 200, api_me_json(&s));
    }
    cJSON_Delete(b);
}

static void api_logout(struct web *w, const struct web_req *req, struct web_resp *resp)
{
    struct web_session s;
    if (api_session(w, req, resp, &s, 1) < 0)
        return;
    web_sessions_end(w->sessions, s.token);
    log_info("-: %s logged out", s.user.name);
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             "minyi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             w->tls ? "; Secure" : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    api_json(resp, 200, o);
}

static void api_me(struct web *w, const struct web_req *req, struct web_resp *resp)
{
    struct web_session s;
    if (api_session(w, req, resp, &s, 0) == 0)
        api_json(resp, 200, api_me_json(&s));
}

/* Split "/api/v1/A/B/C" into up to 4 segments (in buf). */
static int api_split(const char *path, char *buf, size_t buflen, char *seg[4])
{
    int n = 0;
    snprintf(buf, buflen, "%s", path + 8);
    for (char *p = buf; n < 4 && p && *p;) {
        seg[n++] = p;
        p = strchr(p, '/');
        if (p)
            *p++ = '\0';
    }
    for (int i = n; i < 4; i++)
        seg[i] = "";
    return n;
}

void web_api(struct web *w, const struct web_req *req, struct web_resp *resp)
{
    char buf[256], *seg[4];
    int post = !strcmp(req->method, "POST");
    int n = api_split(req->path, buf, sizeof buf, seg);
    if (req->too_large)
        web_resp_error(resp, "too_large", "the request body is over the limit");
    else if (post && n == 1 && !strcmp(seg[0], "login"))
        api_login(w, req, resp);
    else if (post && n == 1 && !strcmp(seg[0], "logout"))
        api_logout(w, req, resp);
    else if (!post && n == 1 && !strcmp(seg[0], "me"))
        api_me(w, req, resp);
    else
        api_reports(w, req, resp, post, n, seg);
}
