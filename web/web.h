/* web.h: private to minyi-web, the web door.
 *
 *   web.c          the daemon: config, users, sessions, the HTTP server
 *   web_http.c     the only file that includes <microhttpd.h>: turns each
 *                  request into a struct web_req and sends a struct web_resp
 *   web_route.c    which handler a method and path go to; static files
 *   web_api.c      /api/v1/...: checks the session and the role, asks the
 *                  collector (submit) or the archiver (everything else)
 *   web_session.c  sessions, CSRF tokens, the slowdown of failed logins
 *   web_users.c    who may log in: a principal of the access file with a
 *                  password in the password file (minyi passwd)
 *   web_rules.c    rules test: the router's classifier on a text
 *
 * minyi-web holds no report and never opens the archive.  It checks each
 * role's view on every request (member: own reports; clerk: own
 * committees, leased reports; staff: all, read-only) and passes the user's
 * name as "who".  Run under its own account (or key) it is the access
 * file's gateway, and the daemons check that user's own rights again.
 */
#ifndef MINYI_WEB_H
#define MINYI_WEB_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct classify;
struct cJSON;
struct config;
struct rules;
struct web_http;

/* ---- users (web_users.c) ---- */

enum web_role { WEB_ROLE_MEMBER, WEB_ROLE_CLERK, WEB_ROLE_STAFF };
#define WEB_NAME_MAX 64
#define WEB_COMMITTEES_MAX 8

struct web_user {
    char name[WEB_NAME_MAX];
    enum web_role role;
    char member[WEB_NAME_MAX];                        /* role member: the roster id */
    char committees[WEB_COMMITTEES_MAX][WEB_NAME_MAX]; /* role clerk */
    int ncommittees;
    char hash[128];                                   /* argon2id string */
};

struct web_users;
/* Who may log in: the access file (cfg->access_path) and the password file
 * (cfg->passwd_path).  0 and *out (free with web_users_free), or -1 with
 * "path: why" in err. */
int web_users_load(const struct config *cfg, struct web_users **out, char *err, size_t errlen);
/* Free *u; sets *u = NULL.  NULL-safe. */
void web_users_free(struct web_users **u);
/* The principal called name with its password hash into *out: 0, or -1 when
 * there is none, it has no password, or it is no person (gateway, daemon,
 * "local").  Reads either file again first when it changed (thread-safe). */
int web_users_find(struct web_users *u, const char *name, struct web_user *out);
/* "member", "clerk", "staff" (an admin principal is seen as staff). */
const char *web_role_name(enum web_role r);
/* 1 if a clerk user works for committee c. */
int web_user_has_committee(const struct web_user *u, const char *c);

/* ---- sessions (web_session.c) ---- */

#define WEB_TOKEN_LEN 43          /* 32 random bytes, base64url without padding */
struct web_session {
    char token[WEB_TOKEN_LEN + 1];
    char csrf[WEB_TOKEN_LEN + 1];
    struct web_user user;         /* a copy taken at login (no hash) */
    int64_t created_ms, used_ms;
};
struct web_sessions;
/* A session table with these timeouts; never NULL.  Free with _free. */
struct web_sessions *web_sessions_new(int64_t idle_ms, int64_t max_ms);
/* Free *s (every session ends); sets *s = NULL.  NULL-safe. */
void web_sessions_free(struct web_sessions **s);
/* Start a session for user: fills *out (token and csrf).  The oldest
 * session is ended when the table is full. */
void web_sessions_start(struct web_sessions *s, const struct web_user *user,
                        struct web_session *out);
/* The live session of token into *out, its idle timer restarted: 0, or -1
 * (unknown, idle or too old: then it is ended). */
int web_sessions_get(struct web_sessions *s, const char *token, struct web_session *out);
/* End the session of token (no-op when unknown). */
void web_sessions_end(struct web_sessions *s, const char *token);
/* End every idle or too old session; returns how many are left. */
int web_sessions_expire(struct web_sessions *s);
/* Failed logins.  web_throttle_wait: seconds the user or address must
 * still wait before another try (0: go ahead).  _fail counts a failure of
 * both (delays 1, 2, 4 ... 60 s after the third), _ok forgets the user's. */
int web_throttle_wait(struct web_sessions *s, const char *user, const char *addr);
/* Count one failed login of user from addr. */
void web_throttle_fail(struct web_sessions *s, const char *user, const char *addr);
/* user logged in: forget its failures (the address keeps its own). */
void web_throttle_ok(struct web_sessions *s, const char *user);

/* ---- requests and responses ---- */

struct web_req {
    const char *method;           /* "GET", "POST" ... */
    const char *path;             /* "/api/v1/reports" (no query string) */
    const char *body;             /* NUL-terminated, or NULL */
    size_t body_len;
    const char *cookie;           /* the session cookie's value, or NULL */
    const char *csrf;             /* the X-CSRF-Token header, or NULL */
    const char *content_type;     /* or NULL */
    const char *origin;           /* the Origin header, or NULL */
    const char *host;             /* the Host header, or NULL */
    char addr[64];                /* the client's address */
    int too_large;                /* the body was over the limit (not kept) */
    const void *conn;             /* for web_req_arg */
};
/* The query-string argument key of r, or NULL (web_http.c). */
const char *web_req_arg(const struct web_req *r, const char *key);

struct web_resp {
    int status;                   /* 200 ... */
    const char *type;             /* Content-Type */
    char *body;                   /* owned (freed after sending) */
    size_t len;
    const char *static_body;      /* or this, not freed */
    char set_cookie[160];         /* "" or a Set-Cookie value */
    char location[64];            /* "" or a redirect target */
    int retry_after;              /* > 0: a Retry-After header */
};

/* ---- the daemon's state, shared by the HTTP threads ---- */

struct web {
    struct config *cfg;           /* borrowed from the daemon skeleton */
    struct bus *bus;              /* borrowed; thread-safe (a socket per request) */
    struct web_users *users;
    struct web_sessions *sessions;
    struct web_http *http;
    int tls;                      /* serving HTTPS: cookies are Secure */
    size_t body_max;              /* the largest request body taken */
    pthread_mutex_t verify_lock;  /* one argon2id verification at a time (64 MB) */
    char decoy[128];              /* a hash verified for unknown names (same time) */
    pthread_mutex_t rules_lock;   /* guards rules and classify (web_rules.c) */
    struct rules *rules;          /* loaded at the first rules test, or NULL */
    struct classify *classify;
    /* counters (atomics): the status page and the log */
    unsigned long requests, logins, login_failures, refused, too_large;
};

/* Answer one request (web_route.c): fills *resp. */
void web_route(struct web *w, const struct web_req *req, struct web_resp *resp);
/* Answer one /api/v1/ request (web_api.c). */
void web_api(struct web *w, const struct web_req *req, struct web_resp *resp);
/* A JSON error body {"ok": false, "error": code, "detail": ...} with the
 * HTTP status its code maps to (web_api.c). */
void web_resp_error(struct web_resp *resp, const char *code, const char *detail);
/* The HTTP status for a reason code of the sockets (400 ... 503). */
int web_status_of(const char *code);
/* The logged-in session of req into *s: 0, or -1 (web_api.c). */
int web_session_of(struct web *w, const struct web_req *req, struct web_session *s);

/* ---- rules test (web_rules.c) ---- */

/* Which committee title and body would go to, and why: {"ok", "committee",
 * "committee_name", "tags": [...]} (caller frees), or NULL with err (the
 * rules file does not load). */
struct cJSON *web_rules_test(struct web *w, const char *title, const char *body, char *err,
                             size_t errlen);
/* Forget the compiled rules (SIGHUP): the next test loads the file again. */
void web_rules_drop(struct web *w);

/* ---- the HTTP server (web_http.c) ---- */

/* Listen on "HOST:PORT" (port 0: any; the one chosen is logged) and serve
 * every request through web_route on a pool of threads.  0 and *out, or -1
 * with err. */
int web_http_start(struct web *w, const char *listen, struct web_http **out, char *err,
                   size_t errlen);
/* Stop serving and free; sets *h = NULL.  NULL-safe. */
void web_http_stop(struct web_http **h);
/* The URL served ("http://127.0.0.1:8080/"), valid while h lives. */
const char *web_http_url(const struct web_http *h);

#endif
