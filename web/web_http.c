/* web_http.c: the HTTP server of minyi-web on libmicrohttpd -- the only
 * file that includes <microhttpd.h>.  It gathers a request (headers, the
 * session cookie, a body of at most w->body_max bytes), hands it to
 * web_route as a struct web_req, and sends the struct web_resp back with
 * the headers every answer carries (CSP, nosniff, no-store).
 *
 * Connections are bounded: CONN_MAX in all, CONN_PER_IP from one address,
 * CONN_TIMEOUT_S of silence ends one (slow clients), and the headers of a
 * request must fit in CONN_MEMORY (larger: libmicrohttpd answers 431).
 */
#include "web.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONN_MAX 512
#define CONN_PER_IP 128
#define CONN_TIMEOUT_S 10
#define CONN_MEMORY (64 * 1024)
#define HTTP_THREADS 16           /* each waits on one daemon round trip: requests in flight */

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct web_http {
    struct MHD_Daemon *mhd;
    char url[96];
};

/* What one connection gathers while its request body arrives. */
struct conn {
    char *body;
    size_t len;
    int too_large;
};

const char *web_req_arg(const struct web_req *r, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn,
                                       MHD_GET_ARGUMENT_KIND, key);
}

static void http_addr(struct MHD_Connection *c, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(out, outlen, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)outlen);
}

/* libmicrohttpd's own complaints (a header too big, a TLS failure) as our
 * log lines. */
static void http_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("-: http: %s", line);
}

static enum MHD_Result http_send(struct MHD_Connection *c, struct web_resp *r)
{
    struct MHD_Response *m;
    if (r->body)
        m = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    else
        m = MHD_create_response_from_buffer(r->static_body ? strlen(r->static_body) : 0,
                                            (void *)(r->static_body ? r->static_body : ""),
                                            MHD_RESPMEM_PERSISTENT);
    if (!m) {
        free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(m, "Content-Type", r->type ? r->type : "text/plain; charset=utf-8");
    MHD_add_response_header(m, "Content-Security-Policy", csp);
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(m, "Cache-Control", "no-store");
    if (r->set_cookie[0])
        MHD_add_response_header(m, "Set-Cookie", r->set_cookie);
    if (r->location[0])
        MHD_add_response_header(m, "Location", r->location);
    if (r->retry_after > 0) {
        char s[16];
        snprintf(s, sizeof s, "%d", r->retry_after);
        MHD_add_response_header(m, "Retry-After", s);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, m);
    MHD_destroy_response(m);
    return ok;
}

/* Answer 413 before the body is read: the connection is closed after it. */
static enum MHD_Result http_too_large(struct web *w, struct MHD_Connection *c)
{
    struct web_resp r = {0};
    __atomic_add_fetch(&w->too_large, 1, __ATOMIC_RELAXED);
    web_resp_error(&r, "too_large", "the request body is over the limit");
    return http_send(c, &r);
}

static enum MHD_Result http_answer(struct web *w, struct MHD_Connection *c, const char *url,
                                   const char *method, struct conn *st)
{
    struct web_req req = {
        .method = method, .path = url, .body = st->body, .body_len = st->len,
        .cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "minyi_session"),
        .csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
        .host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
        .too_large = st->too_large, .conn = c,
    };
    struct web_resp resp = {0};
    http_addr(c, req.addr, sizeof req.addr);
    __atomic_add_fetch(&w->requests, 1, __ATOMIC_RELAXED);
    web_route(w, &req, &resp);
    return http_send(c, &resp);
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload, size_t *upload_size, void **con_cls)
{
    struct web *w = cls;
    struct conn *st = *con_cls;
    (void)version;
    if (!st) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > w->body_max)
            return http_too_large(w, c);
        *con_cls = st = xcalloc(1, sizeof *st);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (st->too_large || st->len + *upload_size > w->body_max) {
            st->too_large = 1;
            *upload_size = 0;
            return http_too_large(w, c);
        }
        st->body = xrealloc(st->body, st->len + *upload_size + 1);
        memcpy(st->body + st->len, upload, *upload_size);
        st->len += *upload_size;
        st->body[st->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    return http_answer(w, c, url, method, st);
}

static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode why)
{
    struct conn *st = *con_cls;
    (void)cls, (void)c, (void)why;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* "HOST:PORT" into *sa.  0 / -1. */
static int http_parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    char host[64];
    char *end;
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    long port = strtol(colon + 1, &end, 10);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -1;
    return 0;
}

/* Read a PEM file (caller frees) or NULL with err. */
static char *http_pem(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;
    if (f) {
        buf = xmalloc(65537);
        n = fread(buf, 1, 65536, f);
        buf[n] = '\0';
        fclose(f);
    }
    if (!f || n == 0) {
        snprintf(err, errlen, "%s: %s", path, f ? "empty" : strerror(errno));
        free(buf);
        return NULL;
    }
    return buf;
}

static struct MHD_Daemon *http_daemon(struct web *w, struct sockaddr_in *sa, const char *cert,
                                      const char *key)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (cert)
        flags |= MHD_USE_TLS;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, http_handler, w,
        MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL, /* first: libmicrohttpd warns otherwise */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, w,
        cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
        MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
}

int web_http_start(struct web *w, const char *listen, struct web_http **out, char *err,
                   size_t errlen)
{
    struct sockaddr_in sa;
    char *cert = NULL, *key = NULL;
    *out = NULL;
    if (http_parse_listen(listen, &sa) < 0) {
        snprintf(err, errlen, "web.listen \"%s\": want IPv4-ADDRESS:PORT", listen);
        return -1;
    }
    if (w->tls && (!(cert = http_pem(w->cfg->web.tls_cert, err, errlen)) ||
                   !(key = http_pem(w->cfg->web.tls_key, err, errlen)))) {
        free(cert);
        return -1;
    }
    struct MHD_Daemon *d = http_daemon(w, &sa, cert, key);
    free(cert);
    free(key);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s (in use, or bad TLS files)", listen);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    struct web_http *h = xcalloc(1, sizeof *h);
    char host[64];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    h->mhd = d;
    snprintf(h->url, sizeof h->url, "%s://%s:%u/", w->tls ? "https" : "http", host,
             di ? (unsigned)di->port : (unsigned)ntohs(sa.sin_port));
    *out = h;
    return 0;
}

void web_http_stop(struct web_http **hp)
{
    if (!*hp)
        return;
    MHD_stop_daemon((*hp)->mhd);
    free(*hp);
    *hp = NULL;
}

const char *web_http_url(const struct web_http *h)
{
    return h->url;
}
