/* web.c: minyi-web, the web door -- members file and follow their reports,
 * clerks work their committee's queue, staff audit the month, from a
 * browser (web_http.c serves; web_api*.c answer; web/static/ are the pages).
 *
 * It keeps no report: it submits through the collector's submit socket and
 * reads and acts through the archiver's query socket, as the gateway
 * principal of the access file acting for the logged-in user ("who").  It
 * reads the access file and the password file (`minyi passwd NAME` writes
 * it); its own state is the sessions, in memory.
 *
 *   minyi-web [-c FILE] [--state-dir DIR] [-n]      the daemon
 */
#include "web.h"
#include "bus.h"
#include "config.h"
#include "curve_client.h"
#include "daemon.h"
#include "log.h"
#include "pwhash.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int web_curve(struct daemon *d, char *err, size_t errlen);

static int web_check(struct daemon *d, char *err, size_t errlen)
{
    struct web_users *u;
    struct bus *b = bus_new();
    d->bus = b;
    int rc = web_curve(d, err, errlen);
    d->bus = NULL;
    bus_destroy(&b);
    if (rc < 0)
        return -1;
    if (web_users_load(d->cfg, &u, err, errlen) < 0)
        return -1;
    web_users_free(&u);
    return 0;
}

/* The endpoints the web door connects to (NULL-terminated, borrowed). */
static void web_endpoints(const struct config *cfg, const char *uses[6])
{
    size_t n = 0;
    uses[n++] = cfg->ep.submit;
    uses[n++] = cfg->ep.query;
    uses[n++] = cfg->ep.collector_ctl;
    uses[n++] = cfg->ep.router_ctl;
    uses[n] = NULL;
}

/* Over tcp:// the web door is the gateway by its own CURVE key (web.key). */
static int web_curve(struct daemon *d, char *err, size_t errlen)
{
    const char *uses[6];
    char why[800];
    web_endpoints(d->cfg, uses);
    int rc = curve_client(d->cfg, uses, d->cfg->web.key, d->bus, why, sizeof why);
    if (rc < 0)
        snprintf(err, errlen, "web.key: %s", why);
    else if (rc > 0)
        log_info("tcp:// endpoints: CURVE with the key in %s", d->cfg->web.key);
    return rc < 0 ? -1 : 0;
}

static int web_open(struct daemon *d, char *err, size_t errlen)
{
    struct web *w = d->state;
    if (web_curve(d, err, errlen) < 0)
        return -1;
    w->cfg = d->cfg;
    w->bus = d->bus;
    w->tls = d->cfg->web.tls_cert != NULL;
    w->body_max = d->cfg->limits.max_report_bytes + 4096;
    pthread_mutex_init(&w->verify_lock, NULL);
    pthread_mutex_init(&w->rules_lock, NULL);
    char secret[33];
    if (pwhash_init() < 0) {
        snprintf(err, errlen, "libsodium did not start");
        return -1;
    }
    pwhash_random(secret, 32);
    for (int i = 0; i < 32; i++)
        secret[i] = (char)('a' + (unsigned char)secret[i] % 26);
    secret[32] = '\0';
    if (pwhash_hash(secret, w->decoy) < 0) {
        snprintf(err, errlen, "no memory for argon2id");
        return -1;
    }
    if (web_users_load(d->cfg, &w->users, err, errlen) < 0)
        return -1;
    w->sessions = web_sessions_new((int64_t)d->cfg->web.idle_minutes * 60000,
                                   (int64_t)d->cfg->web.max_hours * 3600000);
    log_buffer(0);                     /* the HTTP threads log too: whole lines, at once */
    if (web_http_start(w, d->cfg->web.listen, &w->http, err, errlen) < 0)
        return -1;
    log_info("listening on %s (users: %s, passwords: %s)", web_http_url(w->http),
             d->cfg->access_path, d->cfg->passwd_path);
    return 0;
}

/* The HTTP threads do the work; the loop only ends idle sessions. */
static void web_step(struct daemon *d, long timeout_ms)
{
    struct web *w = d->state;
    log_buffer(0);
    poll(NULL, 0, (int)timeout_ms);
    web_sessions_expire(w->sessions);
}

/* SIGHUP: the rules file may have changed; the users file is reread when it does. */
static void web_reload(struct daemon *d)
{
    web_rules_drop(d->state);
    log_info("reload: the rules are read again at the next rules test");
}

static void web_close(struct daemon *d)
{
    struct web *w = d->state;
    web_http_stop(&w->http);
    web_rules_drop(w);
    pthread_mutex_destroy(&w->rules_lock);
    web_sessions_free(&w->sessions);
    web_users_free(&w->users);
    pthread_mutex_destroy(&w->verify_lock);
}

int main(int argc, char **argv)
{
    static const struct daemon_ops ops = {
        .name = "web", .check = web_check, .open = web_open, .step = web_step,
        .reload = web_reload, .close = web_close, .client = 1,
    };
    static struct web w;
    if (argc > 1 && !strcmp(argv[1], "passwd")) {
        fprintf(stderr, "minyi-web: passwd is `minyi passwd NAME` now (the name a principal "
                        "of the access file)\n");
        return 2;
    }
    return daemon_main(argc, argv, &ops, &w);
}
