/* web_api.h: shared by web_api.c (plumbing, login) and web_api_reports.c
 * (the report endpoints); private to the web door. */
#ifndef MINYI_WEB_API_H
#define MINYI_WEB_API_H
#include "web.h"
#include <cjson/cJSON.h>

/* Fill resp with o as JSON (o is consumed). */
void api_json(struct web_resp *resp, int status, cJSON *o);
/* Forward a daemon's reply: 200 when ok, else the status of its code. */
void api_answer(struct web_resp *resp, cJSON *reply);
struct proto_request;
/* Ask a daemon (common/proto.c): the reply object without its "v" (caller
 * frees; {"ok": false, ...} included), or NULL with resp filled (503). */
cJSON *api_ask(struct web *w, const char *endpoint, const struct proto_request *q,
               struct web_resp *resp);
/* Submit report (a member's JSON object) to the collector: as api_ask. */
cJSON *api_submit(struct web *w, const cJSON *report, struct web_resp *resp);
/* The request's JSON object body ({} when empty; caller frees), or NULL
 * with resp filled (not JSON, not an object). */
cJSON *api_body(const struct web_req *req, struct web_resp *resp);
/* The string member key of o, or NULL. */
const char *api_str(const cJSON *o, const char *key);
/* The caller's session into *s; changes: the request must carry the
 * session's CSRF token (and an Origin, when sent, of this host).  0, or -1
 * with resp filled (401, 403). */
int api_session(struct web *w, const struct web_req *req, struct web_resp *resp,
                struct web_session *s, int changes);
/* Refuse what (logged, counted, 403).  Returns -1. */
int api_refuse(struct web *w, struct web_resp *resp, const struct web_session *s,
               const char *what);
/* Everything under /api/v1/ but login, logout and me (web_api_reports.c). */
void api_reports(struct web *w, const struct web_req *req, struct web_resp *resp, int post,
                 int n, char *seg[4]);

#endif
