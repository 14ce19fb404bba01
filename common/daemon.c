/* daemon.c: the skeleton every minyi daemon runs on -- options, config,
 * signals, the ready line, the loop.  What a daemon does lives in its ops. */
#include "daemon.h"
#include "access.h"
#include "bus.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "notify.h"
#include "version.h"
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static volatile sig_atomic_t daemon_stop_flag, daemon_hup_flag;

static void daemon_on_signal(int sig)
{
    if (sig == SIGHUP)
        daemon_hup_flag = 1;
    else
        daemon_stop_flag = 1;
}

static void daemon_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = daemon_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int daemon_stopping(void)
{
    return daemon_stop_flag != 0;
}

#ifdef MINYI_TEST_CLOCK
/* Test builds only: $MINYI_TEST_CLOCK names a file holding a number of
 * seconds added to the wall clock (e.g. 518400: six days later), read
 * again at most every 100 ms so a test can move time while daemons run.
 * An absent or unreadable file adds nothing. */
static int64_t daemon_test_offset_us(void)
{
    static int64_t offset_us, read_at_us = -1;
    const char *path = getenv("MINYI_TEST_CLOCK");
    int64_t mono = daemon_mono_us();
    if (!path || !*path)
        return 0;
    if (read_at_us >= 0 && mono - read_at_us < 100000)
        return offset_us;
    read_at_us = mono;
    FILE *f = fopen(path, "r");
    double secs = 0;
    if (f && fscanf(f, "%lf", &secs) != 1)
        secs = 0;
    if (f)
        fclose(f);
    offset_us = (int64_t)(secs * 1e6);
    return offset_us;
}
#else
static int64_t daemon_test_offset_us(void)
{
    return 0;
}
#endif

int64_t daemon_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + daemon_test_offset_us();
}

int64_t daemon_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t daemon_mono_ms(void)
{
    return daemon_mono_us() / 1000;
}

static void daemon_usage(const char *program, FILE *f)
{
    fprintf(f,
            "usage: %s [-c FILE] [--state-dir DIR] [-n]\n"
            "  -c FILE          config file (default $MINYI_CONFIG or config/minyi.json)\n"
            "  --state-dir DIR  state directory (default $MINYI_STATE_DIR or the config's)\n"
            "  --instance N     which of several routers this is (endpoints.router_ctl's\n"
            "                   N-th control socket; default 1)\n"
            "  -n               check the config and exit\n"
            "  --version        print the version and exit\n",
            program);
}

struct daemon_args {
    const char *config, *state_dir;
    int check, instance;
};

/* 0 to go on, otherwise exit status + 1 */
static int daemon_parse_args(int argc, char **argv, const char *program, struct daemon_args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 'S'},
        {"instance", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'S': a->state_dir = optarg; break;
        case 'n': a->check = 1; break;
        case 'I':
            a->instance = atoi(optarg);
            if (a->instance < 1 || a->instance > CONFIG_ROUTERS_MAX) {
                fprintf(stderr, "%s: --instance: want 1 to %d\n", program, CONFIG_ROUTERS_MAX);
                return 3;
            }
            break;
        case 'h': daemon_usage(program, stdout); return 1;
        case 'V': version_print(stdout, program); return 1;
        default: daemon_usage(program, stderr); return 3;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", program, argv[optind]);
        return 3;
    }
    return 0;
}

/* The principal behind m ("insecure": a tcp:// client is the local admin). */
static const struct access_principal *daemon_sender(struct daemon *d, const struct bus_msg *m)
{
    const struct access_principal *p = access_of_msg(d->access, m);
    if (!p && m->plain_tcp)            /* an endpoint the config calls insecure */
        p = access_by_name(d->access, "local");
    return p;
}

/* Count and log a refusal of p's request (why: its detail, made exact). */
static int daemon_refuse(struct daemon *d, const struct bus_msg *m,
                         const struct access_principal *p, char *why, size_t whylen)
{
    access_count_forbidden(d->access);
    if (!p && m->user_id[0])
        snprintf(why, whylen, "key %.8s... is no longer valid (revoked)", m->user_id);
    else if (!p && m->peer_uid >= 0)
        snprintf(why, whylen, "uid %ld is not a known principal", m->peer_uid);
    log_info("-: forbidden: %s", why);
    return -1;
}

int daemon_allow(struct daemon *d, const struct bus_msg *m, int act, const char *committee,
                 const char *member, char *why, size_t whylen)
{
    const struct access_principal *p = daemon_sender(d, m);
    if (access_may(p, (enum access_act)act, committee, member, why, whylen) == 0)
        return 0;
    return daemon_refuse(d, m, p, why, whylen);
}

int daemon_allow_for(struct daemon *d, const struct bus_msg *m, const char *who, int act,
                     const char *committee, const char *member, char *why, size_t whylen,
                     const struct access_principal **acting)
{
    const struct access_principal *p = daemon_sender(d, m), *as = p;
    *acting = NULL;
    if (p && p->role == ACCESS_GATEWAY && (who || (act == ACCESS_SUBMIT && member))) {
        as = who ? access_person(d->access, who) : access_member_person(d->access, member);
        if (!as) {
            snprintf(why, whylen, "gateway %s names %s \"%.64s\", not a person of the access "
                     "file", p->name, who ? "user" : "member", who ? who : member);
            return daemon_refuse(d, m, p, why, whylen);
        }
    }
    if (access_may_as(p, as, (enum access_act)act, committee, member, why, whylen) < 0)
        return daemon_refuse(d, m, p, why, whylen);
    *acting = as;
    return 0;
}

/* A client without CURVE tries again every 100 ms (ZeroMQ reconnects):
 * each try is counted, but logged at most once a second.  1: stay quiet. */
static int daemon_zap_quiet(void)
{
    static int64_t last_ms;
    int64_t now = daemon_mono_ms();
    if (last_ms && now - last_ms < 1000)
        return 1;
    last_ms = now;
    return 0;
}

/* The ZAP lookup (bus_zap): a listed key may connect; onto the pipes
 * between daemons ("pipe") only a daemon's.  A refusal is counted and logged. */
static int daemon_zap(void *arg, const char *domain, const char *key, char *why, size_t whylen)
{
    struct daemon *d = arg;
    const struct access_principal *p = key ? access_by_key(d->access, key) : NULL;
    if (p && (strcmp(domain, DAEMON_ZAP_PIPE) != 0 || p->role == ACCESS_DAEMON))
        return 0;
    if (!key)
        snprintf(why, whylen, "a client without CURVE (or with the wrong server key) on a "
                 "\"%s\" socket", domain);
    else if (!p)
        snprintf(why, whylen, "key %.8s... is not a known principal (unknown or revoked)", key);
    else
        snprintf(why, whylen, "%s (%s) may not reach the pipes between daemons", p->name,
                 access_role_name(p->role));
    access_count_forbidden(d->access);
    if (!key && daemon_zap_quiet())
        return -1;
    log_info("-: forbidden: %s: refused at the CURVE handshake", why);
    return -1;
}

/* CURVE for every tcp:// endpoint the config does not call insecure: the
 * server's key pair must be readable (else the daemon does not start, and
 * -n says why); insecure ones are warned about at every start (warn).
 * 0 and *k (k->public_key[0] == '\0': no CURVE endpoint), or -1 with err. */
static int daemon_curve(struct daemon *d, struct bus_curve *k, int warn, char *err,
                        size_t errlen)
{
    const char *eps[CONFIG_EP_MAX], *names[CONFIG_EP_MAX];
    size_t n = config_endpoint_list(d->cfg, CONFIG_EP_PLAIN, eps, names, CONFIG_EP_MAX);
    for (size_t i = 0; warn && i < n; i++)
        log_warn("%s: insecure: no CURVE, every client that reaches it is the admin "
                 "(endpoints.%s is in \"insecure\")", eps[i], names[i]);
    memset(k, 0, sizeof *k);
    n = config_endpoint_list(d->cfg, CONFIG_EP_CURVE, eps, names, CONFIG_EP_MAX);
    if (n == 0)
        return 0;
    char why[600];
    if (keys_read(d->cfg->server_key, k, 1, why, sizeof why) < 0) {
        snprintf(err, errlen, "endpoints.%s: %s needs the server's CURVE key: %s (make it "
                 "with `minyi keys server`, or list \"%s\" in \"insecure\")", names[0], eps[0],
                 why, names[0]);
        return -1;
    }
    memcpy(k->server_key, k->public_key, sizeof k->server_key);
    access_set_daemon_key(d->access, k->public_key);
    return 0;
}

/* Give the bus the server's keys and the ZAP handler.  0, or -1 with err. */
static int daemon_bus_curve(struct daemon *d, const struct bus_curve *k, char *err,
                            size_t errlen)
{
    const char *plain[CONFIG_EP_MAX + 1] = {0};
    if (!k->public_key[0])
        return 0;
    config_endpoint_list(d->cfg, CONFIG_EP_PLAIN, plain, NULL, CONFIG_EP_MAX);
    bus_set_curve(d->bus, k, plain);
    return bus_zap(d->bus, daemon_zap, d, err, errlen);
}

/* The principals file changed: take it (a bad one is logged, the old kept). */
static void daemon_access_refresh(struct daemon *d)
{
    char err[1024];
    int rc = access_refresh(d->access, daemon_mono_ms(), err, sizeof err);
    if (rc > 0)
        log_info("principals read again from %s", d->cfg->access_path);
    else if (rc < 0)
        log_error("%s; keeping the principals read before", err);
}

static void daemon_loop(struct daemon *d)
{
    while (!daemon_stop_flag) {
        d->ops->step(d, 250);
        daemon_access_refresh(d);
        log_flush();
        if (daemon_hup_flag) {
            daemon_hup_flag = 0;
            log_info("SIGHUP: reloading");
            notify_reloading(0);
            if (d->ops->reload)
                d->ops->reload(d);
            notify_reloading(1);
        }
    }
}

int daemon_main(int argc, char **argv, const struct daemon_ops *ops, void *state)
{
    static char program[64];
    struct daemon_args args = {0};
    char err[1024] = "";
    snprintf(program, sizeof program, "minyi-%s", ops->name);
    log_init(program);
    /* Every report allocates and frees a little: keep up to 8 MB of freed
     * heap instead of giving it back and faulting it in again each time. */
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    int rc = daemon_parse_args(argc, argv, program, &args);
    if (rc)
        return rc - 1;
    if (args.instance > 1) {           /* minyi-router-2: its log lines say which */
        snprintf(program, sizeof program, "minyi-%s-%d", ops->name, args.instance);
        log_init(program);
    }
    struct daemon d = {.ops = ops, .state = state, .program = program,
                       .instance = args.instance ? args.instance : 1};
    if (config_load(args.config, args.state_dir, &d.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s: config: %s\n", program, err);
        return 1;
    }
    config_apply_timezone(d.cfg);
    if (!(d.access = access_load(d.cfg->access_path, err, sizeof err))) {
        fprintf(stderr, "%s: access: %s\n", program, err);
        config_free(&d.cfg);
        return 1;
    }
    umask(077);                        /* files private; bus_open opens the shared sockets */
    struct bus_curve curve;
    if (args.check) {
        rc = ops->client ? 0 : daemon_curve(&d, &curve, 0, err, sizeof err);
        if (rc == 0 && ops->check)
            rc = ops->check(&d, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", program, err);
        else
            printf("%s: %s: ok\n", program, d.cfg->path);
        access_free(&d.access);
        config_free(&d.cfg);
        return rc < 0 ? 1 : 0;
    }
    if (config_make_state_dirs(d.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s: state: %s\n", program, err);
        access_free(&d.access);
        config_free(&d.cfg);
        return 1;
    }
    daemon_signals();
    d.bus = bus_new();
    if ((!ops->client && (daemon_curve(&d, &curve, 1, err, sizeof err) < 0 ||
                          daemon_bus_curve(&d, &curve, err, sizeof err) < 0)) ||
        ops->open(&d, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", program, err);
        bus_destroy(&d.bus);
        access_free(&d.access);
        config_free(&d.cfg);
        return 1;
    }
    log_info("ready (state %s)", d.cfg->state_dir);
    log_flush();
    notify_ready("ready");
    log_buffer(1);                     /* per-report lines: one write per step */
    daemon_loop(&d);
    notify_stopping();
    ops->close(&d);
    bus_destroy(&d.bus);
    log_info("stopped");
    log_buffer(0);
    access_free(&d.access);
    config_free(&d.cfg);
    return 0;
}
