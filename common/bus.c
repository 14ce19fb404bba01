/* bus.c: the only file that includes <zmq.h>.  Thin, explicit wrappers:
 * sockets are opened with their options in one call, messages are received
 * whole (all frames) and copied into NUL-terminated buffers, and ROUTER
 * envelopes are split from bodies the same way for REQ and DEALER clients. */
#include "bus.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#define BUS_MONITORS 12             /* CURVE server sockets watched at most */

struct bus {
    void *ctx;
    int has_curve;                /* bus_set_curve gave keys */
    struct bus_curve curve;
    char **plain;                 /* tcp:// endpoints without CURVE */
    void *zap;                    /* the ZAP handler's REP socket, or NULL */
    bus_zap_fn zap_fn;
    void *zap_arg;
    pthread_t zap_thread;         /* the only thread that serves zap */
    struct bus_mon {              /* a CURVE server's failed handshakes */
        void *pair;               /* the monitor's events, or NULL */
        char domain[32];
    } mon[BUS_MONITORS];
};

struct bus_sock {
    void *zs;
    struct bus *b;
    enum bus_type type;
    int ipc;                      /* an ipc:// endpoint: peers have a uid */
    int plain_tcp;                /* a tcp:// endpoint without CURVE */
};

struct bus *bus_new(void)
{
    struct bus *b = xcalloc(1, sizeof *b);
    b->ctx = zmq_ctx_new();
    if (!b->ctx) {
        fprintf(stderr, "minyi: cannot start ZeroMQ: %s\n", zmq_strerror(errno));
        abort();
    }
    return b;
}

void bus_destroy(struct bus **bp)
{
    if (!bp || !*bp)
        return;
    if ((*bp)->zap)
        zmq_close((*bp)->zap);
    for (int i = 0; i < BUS_MONITORS; i++)
        if ((*bp)->mon[i].pair)
            zmq_close((*bp)->mon[i].pair);
    bus_set_curve(*bp, NULL, NULL);
    zmq_ctx_term((*bp)->ctx);
    free(*bp);
    *bp = NULL;
}

void bus_set_curve(struct bus *b, const struct bus_curve *curve, const char *const *plain)
{
    for (size_t i = 0; b->plain && b->plain[i]; i++)
        free(b->plain[i]);
    free(b->plain);
    b->plain = NULL;
    b->has_curve = curve != NULL;
    if (!curve)
        return;
    b->curve = *curve;
    size_t n = 0;
    while (plain && plain[n])
        n++;
    b->plain = xcalloc(n + 1, sizeof *b->plain);
    for (size_t i = 0; i < n; i++)
        b->plain[i] = xstrdup(plain[i]);
}

int bus_curve_keypair(char *public_key, char *secret_key)
{
    return zmq_curve_keypair(public_key, secret_key) < 0 ? -1 : 0;
}

int bus_curve_public(const char *secret_key, char *public_key)
{
    if (!secret_key || strlen(secret_key) != BUS_KEY_LEN)
        return -1;
    return zmq_curve_public(public_key, secret_key) < 0 ? -1 : 0;
}

int bus_zap(struct bus *b, bus_zap_fn fn, void *arg, char *err, size_t errlen)
{
    b->zap = zmq_socket(b->ctx, ZMQ_REP);
    int linger = 0;
    if (!b->zap || zmq_setsockopt(b->zap, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        zmq_bind(b->zap, "inproc://zeromq.zap.01") < 0) {
        snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(errno));
        if (b->zap)
            zmq_close(b->zap);
        b->zap = NULL;
        return -1;
    }
    b->zap_fn = fn;
    b->zap_arg = arg;
    b->zap_thread = pthread_self();
    return 0;
}

/* One frame of a ZAP request into buf (NUL-terminated, cut at len - 1);
 * its size, or -1. */
static int bus_zap_frame(void *zs, char *buf, size_t len, int *more)
{
    zmq_msg_t zm;
    zmq_msg_init(&zm);
    if (zmq_msg_recv(&zm, zs, 0) < 0) {
        zmq_msg_close(&zm);
        return -1;
    }
    size_t n = zmq_msg_size(&zm);
    memcpy(buf, zmq_msg_data(&zm), n < len ? n : len - 1);
    buf[n < len ? n : len - 1] = '\0';
    *more = zmq_msg_more(&zm);
    zmq_msg_close(&zm);
    return (int)n;
}

/* Answer one ZAP request (RFC 27): version, id, domain, address, identity,
 * mechanism, credentials -> version, id, status, text, user id, metadata. */
static void bus_zap_answer(struct bus *b)
{
    char f[7][256], key[BUS_KEY_LEN + 1] = "", why[200] = "";
    int size[7] = {0}, more = 1, k = 0;
    for (; more && k < 7; k++)
        if ((size[k] = bus_zap_frame(b->zap, f[k], sizeof f[k], &more)) < 0)
            return;
    char rest[8];
    while (more)                       /* frames beyond RFC 27's: drained */
        bus_zap_frame(b->zap, rest, sizeof rest, &more);
    int ok;
    if (k == 7 && strcmp(f[5], "CURVE") == 0 && size[6] == 32) {
        zmq_z85_encode(key, (const uint8_t *)f[6], 32);
        ok = b->zap_fn(b->zap_arg, f[2], key, why, sizeof why) == 0;
    } else {                           /* NULL on a plain socket: decided per request */
        ok = k >= 6 && strcmp(f[5], "NULL") == 0;
        snprintf(why, sizeof why, "mechanism %.32s is not accepted", k >= 6 ? f[5] : "?");
    }
    zmq_send(b->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(b->zap, f[1], k > 1 ? (size_t)size[1] : 0, ZMQ_SNDMORE);
    zmq_send(b->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(b->zap, ok ? "OK" : why, strlen(ok ? "OK" : why), ZMQ_SNDMORE);
    zmq_send(b->zap, key, ok ? strlen(key) : 0, ZMQ_SNDMORE);
    zmq_send(b->zap, "", 0, 0);
}

/* Serve every ZAP request waiting (bus_poll, in the ZAP thread only). */
static void bus_zap_serve(struct bus *b)
{
    int events = 0;
    size_t len = sizeof events;
    while (zmq_getsockopt(b->zap, ZMQ_EVENTS, &events, &len) == 0 && (events & ZMQ_POLLIN))
        bus_zap_answer(b);
}

/* Watch a CURVE server socket for clients that fail the handshake before
 * ZAP is asked (no CURVE at all, a wrong server key): the lookup hears of
 * each with key NULL.  Best effort: past BUS_MONITORS sockets, unwatched. */
static void bus_monitor(struct bus *b, void *zs, const char *domain)
{
    int i = 0;
    while (i < BUS_MONITORS && b->mon[i].pair)
        i++;
    if (!b->zap || i == BUS_MONITORS)
        return;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://bus-monitor-%p-%d", (void *)b, i);
    void *pair = zmq_socket(b->ctx, ZMQ_PAIR);
    if (!pair || zmq_socket_monitor(zs, ep, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) < 0 ||
        zmq_connect(pair, ep) < 0) {
        if (pair)
            zmq_close(pair);
        return;
    }
    b->mon[i].pair = pair;
    snprintf(b->mon[i].domain, sizeof b->mon[i].domain, "%s", domain);
}

/* Read one monitor event (two frames) and tell the lookup. */
static void bus_monitor_event(struct bus *b, struct bus_mon *m)
{
    char f[2][256], why[200];
    int more = 0;
    if (bus_zap_frame(m->pair, f[0], sizeof f[0], &more) < 0)
        return;
    if (more && bus_zap_frame(m->pair, f[1], sizeof f[1], &more) < 0)
        return;
    b->zap_fn(b->zap_arg, m->domain, NULL, why, sizeof why);
}

static int bus_zmq_type(enum bus_type t)
{
    switch (t) {
    case BUS_PUSH: return ZMQ_PUSH;
    case BUS_PULL: return ZMQ_PULL;
    case BUS_ROUTER: return ZMQ_ROUTER;
    case BUS_DEALER: return ZMQ_DEALER;
    case BUS_REQ: return ZMQ_REQ;
    }
    abort();
}

static int bus_set_opts(void *zs, const struct bus_opts *o)
{
    int linger = o ? o->linger_ms : 0;
    if (zmq_setsockopt(zs, ZMQ_LINGER, &linger, sizeof linger) < 0)
        return -1;
    if (o && o->hwm > 0 && zmq_setsockopt(zs, ZMQ_SNDHWM, &o->hwm, sizeof o->hwm) < 0)
        return -1;
    int rcvhwm = o && o->rcvhwm > 0 ? o->rcvhwm : o ? o->hwm : 0;
    if (rcvhwm > 0 && zmq_setsockopt(zs, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) < 0)
        return -1;
    if (o && o->maxmsgsize > 0) {
        int64_t max = o->maxmsgsize;
        if (zmq_setsockopt(zs, ZMQ_MAXMSGSIZE, &max, sizeof max) < 0)
            return -1;
    }
    return 0;
}

/* ipc:// paths must fit in sun_path; say so instead of failing obscurely. */
static int bus_check_endpoint(const char *endpoint, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    if (!endpoint || !*endpoint) {
        snprintf(err, errlen, "no endpoint configured");
        errno = EINVAL;
        return -1;
    }
    if (strncmp(endpoint, "ipc://", 6) == 0 && strlen(endpoint + 6) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "%.100s...: socket path longer than %zu bytes", endpoint,
                 sizeof sun.sun_path - 1);
        return -1;
    }
    return 0;
}

/* After a bind: ipc:// socket files get their mode, a tcp:// endpoint on
 * every interface a warning (at every start: it is rarely meant). */
static int bus_bound(const char *endpoint, const struct bus_opts *o)
{
    if (strncmp(endpoint, "ipc://", 6) == 0)
        return chmod(endpoint + 6, o && o->shared ? 0770 : 0700);
    if (strncmp(endpoint, "tcp://0.0.0.0:", 14) == 0 || strncmp(endpoint, "tcp://*:", 8) == 0 ||
        strncmp(endpoint, "tcp://[::]:", 11) == 0)
        log_warn("%s: listening on every interface; name one address, or keep it behind a "
                 "firewall", endpoint);
    return 0;
}

/* The keys a tcp:// socket uses: opts', else the context's unless the
 * endpoint is one of the plain ones; NULL for none. */
static const struct bus_curve *bus_curve_for(const struct bus *b, const char *endpoint,
                                             const struct bus_opts *o)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return NULL;
    if (o && o->curve)
        return o->curve;
    for (size_t i = 0; b->has_curve && b->plain && b->plain[i]; i++)
        if (strcmp(b->plain[i], endpoint) == 0)
            return NULL;
    return b->has_curve ? &b->curve : NULL;
}

/* A CURVE server (bind) or client (connect).  0, or -1 (errno EINVAL: a
 * key is missing or not 40 Z85 characters). */
static int bus_set_curve_opts(struct bus *b, void *zs, const struct bus_curve *k, int bind,
                              const struct bus_opts *o)
{
    const char *domain = o && o->zap_domain ? o->zap_domain : "minyi";
    int one = 1;
    errno = EINVAL;
    if (bind) {
        if (strlen(k->secret_key) != BUS_KEY_LEN ||
            zmq_setsockopt(zs, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0 ||
            zmq_setsockopt(zs, ZMQ_CURVE_SERVER, &one, sizeof one) < 0 ||
            zmq_setsockopt(zs, ZMQ_CURVE_SECRETKEY, k->secret_key, BUS_KEY_LEN + 1) < 0)
            return -1;
        bus_monitor(b, zs, domain);
        return 0;
    }
    return strlen(k->secret_key) != BUS_KEY_LEN || strlen(k->public_key) != BUS_KEY_LEN ||
           strlen(k->server_key) != BUS_KEY_LEN ||
           zmq_setsockopt(zs, ZMQ_CURVE_SERVERKEY, k->server_key, BUS_KEY_LEN + 1) < 0 ||
           zmq_setsockopt(zs, ZMQ_CURVE_PUBLICKEY, k->public_key, BUS_KEY_LEN + 1) < 0 ||
           zmq_setsockopt(zs, ZMQ_CURVE_SECRETKEY, k->secret_key, BUS_KEY_LEN + 1) < 0
           ? -1 : 0;
}

struct bus_sock *bus_open(struct bus *b, enum bus_type type, const char *endpoint, int bind,
                          const struct bus_opts *opts, char *err, size_t errlen)
{
    if (bus_check_endpoint(endpoint, err, errlen) < 0)
        return NULL;
    void *zs = zmq_socket(b->ctx, bus_zmq_type(type));
    if (!zs) {
        snprintf(err, errlen, "%s: %s", endpoint, zmq_strerror(errno));
        return NULL;
    }
    const struct bus_curve *curve = bus_curve_for(b, endpoint, opts);
    if (curve && bus_set_curve_opts(b, zs, curve, bind, opts) < 0) {
        snprintf(err, errlen, "%s: CURVE: %s", endpoint,
                 errno == EINVAL ? "a key is missing or not 40 Z85 characters"
                                 : zmq_strerror(errno));
        zmq_close(zs);
        return NULL;
    }
    if (bus_set_opts(zs, opts) < 0 ||
        (bind ? zmq_bind(zs, endpoint) : zmq_connect(zs, endpoint)) < 0 ||
        (bind && bus_bound(endpoint, opts) < 0)) {
        snprintf(err, errlen, "%s: %s", endpoint, zmq_strerror(errno));
        zmq_close(zs);
        return NULL;
    }
    struct bus_sock *s = xcalloc(1, sizeof *s);
    s->zs = zs;
    s->b = b;
    s->type = type;
    s->ipc = strncmp(endpoint, "ipc://", 6) == 0;
    s->plain_tcp = !curve && strncmp(endpoint, "tcp://", 6) == 0;
    return s;
}

int bus_last_endpoint(struct bus_sock *s, char *buf, size_t len)
{
    return zmq_getsockopt(s->zs, ZMQ_LAST_ENDPOINT, buf, &len) < 0 ? -1 : 0;
}

void bus_close(struct bus_sock **sp)
{
    if (!sp || !*sp)
        return;
    zmq_close((*sp)->zs);
    free(*sp);
    *sp = NULL;
}

int bus_send(struct bus_sock *s, const void *data, size_t len, int dontwait)
{
    return zmq_send(s->zs, data, len, dontwait ? ZMQ_DONTWAIT : 0) < 0 ? -1 : 0;
}

int bus_send_more(struct bus_sock *s, const void *data, size_t len)
{
    return zmq_send(s->zs, data, len, ZMQ_SNDMORE) < 0 ? -1 : 0;
}

void bus_msg_clear(struct bus_msg *m)
{
    for (size_t i = 0; i < m->nkept; i++)
        free(m->frame[i].data);
    memset(m, 0, sizeof *m);
    m->peer_uid = -1;                  /* nobody, never uid 0 */
}

/* The body starts after the last empty frame (REQ) or after the identity. */
static size_t bus_body_index(const struct bus_sock *s, const struct bus_msg *m)
{
    if (s->type != BUS_ROUTER)
        return 0;
    for (size_t i = m->nkept; i-- > 1;)
        if (m->frame[i].size == 0)
            return i + 1;
    return 1;
}

/* Who sent zm: the ZAP user id (CURVE), and for ipc:// the peer's uid from
 * SO_PEERCRED on the connection the message came in on (ZeroMQ's own
 * "Peer-Address" credentials are the listening socket's, i.e. our own).
 * A ROUTER's identity frame is made here, not received: look at the last. */
static void bus_msg_peer(const struct bus_sock *s, struct bus_msg *m, zmq_msg_t *zm)
{
    const char *user = zmq_msg_gets(zm, "User-Id");
    if (user)
        snprintf(m->user_id, sizeof m->user_id, "%s", user);
    if (!s->ipc)
        return;
    int fd = zmq_msg_get(zm, ZMQ_SRCFD);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        m->peer_uid = (long)cred.uid;
}

int bus_recv(struct bus_sock *s, struct bus_msg *m, int dontwait)
{
    int more = 1;
    memset(m, 0, sizeof *m);
    m->peer_uid = -1;
    while (more) {
        zmq_msg_t zm;
        zmq_msg_init(&zm);
        if (zmq_msg_recv(&zm, s->zs, dontwait && m->nframes == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            int e = errno;
            zmq_msg_close(&zm);
            bus_msg_clear(m);
            errno = e;
            return -1;
        }
        more = zmq_msg_more(&zm);
        if (!more)
            bus_msg_peer(s, m, &zm);
        if (m->nkept < BUS_MAX_FRAMES) {
            size_t n = zmq_msg_size(&zm);
            char *copy = xmalloc(n + 1);
            memcpy(copy, zmq_msg_data(&zm), n);
            copy[n] = '\0';
            m->frame[m->nkept].data = copy;
            m->frame[m->nkept].size = n;
            m->nkept++;
        }
        m->nframes++;
        zmq_msg_close(&zm);
    }
    m->body = bus_body_index(s, m);
    m->plain_tcp = s->plain_tcp;
    return 0;
}

const void *bus_msg_part(const struct bus_msg *m, size_t k, size_t *len)
{
    if (m->body + k >= m->nkept) {
        errno = EPROTO;
        return NULL;
    }
    *len = m->frame[m->body + k].size;
    return m->frame[m->body + k].data;
}

size_t bus_msg_parts(const struct bus_msg *m)
{
    return m->nframes > m->body ? m->nframes - m->body : 0;
}

const void *bus_msg_body(const struct bus_msg *m, size_t *len)
{
    if (bus_msg_parts(m) != 1) {
        errno = EPROTO;
        return NULL;
    }
    return bus_msg_part(m, 0, len);
}

int bus_reply(struct bus_sock *s, const struct bus_msg *req, const void *data, size_t len)
{
    size_t env = req->body <= req->nkept ? req->body : req->nkept;
    for (size_t i = 0; i < env; i++)
        if (zmq_send(s->zs, req->frame[i].data, req->frame[i].size,
                     ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            return -1;
    return zmq_send(s->zs, data, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* The context whose ZAP requests this thread serves while polling items. */
static struct bus *bus_poll_zap(const struct bus_poll *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].sock)
            return items[i].sock->b->zap &&
                   pthread_equal(items[i].sock->b->zap_thread, pthread_self())
                   ? items[i].sock->b : NULL;
    return NULL;
}

int bus_poll(struct bus_poll *items, size_t n, long timeout_ms)
{
    zmq_pollitem_t zi[16 + 1 + BUS_MONITORS];
    size_t nz = n;
    if (n > 16) {
        errno = EINVAL;
        return -1;
    }
    struct bus *zap = bus_poll_zap(items, n);
    for (int i = 0; zap && i <= BUS_MONITORS; i++) {
        void *extra = i == 0 ? zap->zap : zap->mon[i - 1].pair;
        if (extra)
            zi[nz++] = (zmq_pollitem_t){.socket = extra, .events = ZMQ_POLLIN};
    }
    for (size_t i = 0; i < n; i++) {
        zi[i].socket = items[i].sock ? items[i].sock->zs : NULL;
        zi[i].fd = items[i].sock ? 0 : items[i].fd;
        zi[i].events = ZMQ_POLLIN;
        zi[i].revents = 0;
    }
    int rc = zmq_poll(zi, (int)nz, timeout_ms);
    if (rc < 0 && errno == EINTR)
        rc = 0;
    for (size_t i = n; rc > 0 && i < nz; i++) {     /* answered here, not reported */
        if (!(zi[i].revents & ZMQ_POLLIN))
            continue;
        rc--;
        if (i == n) {
            bus_zap_serve(zap);
            continue;
        }
        for (int k = 0; k < BUS_MONITORS; k++)
            if (zap->mon[k].pair == zi[i].socket)
                bus_monitor_event(zap, &zap->mon[k]);
    }
    for (size_t i = 0; i < n; i++)
        items[i].readable = rc > 0 && (zi[i].revents & ZMQ_POLLIN);
    return rc;
}

int bus_request(struct bus *b, const char *endpoint, const char *request, size_t len,
                long timeout_ms, char **reply, size_t *reply_len)
{
    char err[256];
    struct bus_opts opts = {.linger_ms = 0};
    struct bus_sock *s = bus_open(b, BUS_REQ, endpoint, 0, &opts, err, sizeof err);
    struct bus_msg m;
    *reply = NULL;
    if (!s)
        return -1;
    if (bus_send(s, request, len, 0) < 0) {
        bus_close(&s);
        return -1;
    }
    struct bus_poll item = {.sock = s, .fd = -1};
    if (bus_poll(&item, 1, timeout_ms) <= 0 || !item.readable || bus_recv(s, &m, 1) < 0) {
        bus_close(&s);
        errno = ETIMEDOUT;
        return -1;
    }
    size_t n = 0;
    const char *body = bus_msg_body(&m, &n);
    *reply = body ? xstrndup(body, n) : xstrdup("");
    if (reply_len)
        *reply_len = body ? n : 0;
    bus_msg_clear(&m);
    bus_close(&s);
    return 0;
}

void bus_unlink(const char *endpoint)
{
    if (endpoint && strncmp(endpoint, "ipc://", 6) == 0)
        unlink(endpoint + 6);
}
