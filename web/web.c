/* web.c: minyi-web, the web door -- members file and follow their reports,
 * clerks work their committee's queue, staff audit the month, from a
 * browser (web_http.c serves; web_api*.c answer; web/static/ are the pages).
 *
 * It keeps no report: it submits through the collector's submit socket and
 * reads and acts through the archiver's query socket.  Its own state is the
 * users file (read) and the sessions (memory).
 *
 *   minyi-web [-c FILE] [--state-dir DIR] [-n]      the daemon
 *   minyi-web passwd [-c FILE] NAME ROLE [MEMBER | COMMITTEE...]
 *                   set NAME's password (read from stdin) and role
 */
#include "web.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "pwhash.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int web_check(struct daemon *d, char *err, size_t errlen)
{
    struct web_users *u;
    if (web_users_load(d->cfg->web.users, &u, err, errlen) < 0)
        return -1;
    web_users_free(&u);
    return 0;
}

static int web_open(struct daemon *d, char *err, size_t errlen)
{
    struct web *w = d->state;
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
    if (web_users_load(d->cfg->web.users, &w->users, err, errlen) < 0)
        return -1;
    w->sessions = web_sessions_new((int64_t)d->cfg->web.idle_minutes * 60000,
                                   (int64_t)d->cfg->web.max_hours * 3600000);
    log_buffer(0);                     /* the HTTP threads log too: whole lines, at once */
    if (web_http_start(w, d->cfg->web.listen, &w->http, err, errlen) < 0)
        return -1;
    log_info("listening on %s (users %s)", web_http_url(w->http), d->cfg->web.users);
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

/* The password on stdin's first line (NUL-terminated in buf): 0 / -1. */
static int web_read_password(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return strlen(buf) >= 8 ? 0 : -1;
}

static int web_passwd(int argc, char **argv)
{
    const char *config = NULL;
    int i = 2;
    if (i + 1 < argc && !strcmp(argv[i], "-c"))
        config = argv[i + 1], i += 2;
    struct web_user u = {0};
    if (argc - i < 2 || strlen(argv[i]) >= WEB_NAME_MAX || web_role_parse(argv[i + 1], &u.role) < 0) {
        fprintf(stderr, "usage: minyi-web passwd [-c FILE] NAME member|clerk|staff "
                        "[MEMBER | COMMITTEE...]  (password on stdin)\n");
        return 2;
    }
    strcpy(u.name, argv[i]);
    for (int k = i + 2; k < argc && u.ncommittees < WEB_COMMITTEES_MAX; k++)
        if (u.role == WEB_ROLE_MEMBER)
            snprintf(u.member, sizeof u.member, "%s", argv[k]);
        else if (u.role == WEB_ROLE_CLERK)
            snprintf(u.committees[u.ncommittees++], WEB_NAME_MAX, "%s", argv[k]);
    if (u.role == WEB_ROLE_MEMBER && !u.member[0])
        snprintf(u.member, sizeof u.member, "%s", u.name);
    if (u.role == WEB_ROLE_CLERK && u.ncommittees == 0) {
        fprintf(stderr, "minyi-web: passwd: a clerk needs at least one committee\n");
        return 2;
    }
    char pw[1100], err[512] = "out of memory";
    struct config *cfg;
    if (web_read_password(pw, sizeof pw) < 0) {
        fprintf(stderr, "minyi-web: passwd: want a password of 8 or more characters on stdin\n");
        return 1;
    }
    if (config_load(config, NULL, &cfg, err, sizeof err) < 0 || config_make_state_dirs(cfg, err, sizeof err) < 0 ||
        pwhash_init() < 0 || pwhash_hash(pw, u.hash) < 0 ||
        web_users_set(cfg->web.users, &u, err, sizeof err) < 0) {
        fprintf(stderr, "minyi-web: passwd: %s\n", err);
        return 1;
    }
    printf("minyi-web: %s (%s) can log in\n", u.name, web_role_name(u.role));
    config_free(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct daemon_ops ops = {
        .name = "web", .check = web_check, .open = web_open, .step = web_step,
        .reload = web_reload, .close = web_close,
    };
    static struct web w;
    if (argc > 1 && !strcmp(argv[1], "passwd"))
        return web_passwd(argc, argv);
    return daemon_main(argc, argv, &ops, &w);
}
