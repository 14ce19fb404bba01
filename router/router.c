/* router.c: minyi-router -- pulls reports from the collector, tags them with
 * topics by the rules file (common/classify.c), sets the committee, and
 * pushes them on to the archiver.  It keeps no state but its counters, so
 * several routers may run side by side.
 *
 * Sockets:  PULL   connects to ep.route and ep.route_large (the collector binds)
 *           PUSH   connects to ep.archive and ep.archive_large (the archiver binds)
 *           ROUTER binds ep.router_ctl     {"cmd": "status" | "reload"}
 *
 * A message that does not decode is logged, counted and dropped (the
 * collector set it aside already, so this is a peer's bug, not a member's).
 * Sending to the archiver blocks at the high-water mark: backpressure flows
 * back to the collector.  A message goes on the large lane when the report
 * and its tags together pass 8 KB (config.h: lanes).  SIGHUP and
 * {"cmd":"reload"} reload the rules; a file with errors leaves the old
 * rules in place. */
#include "bus.h"
#include "config.h"
#include "access.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTER_BATCH 512              /* reports per step before looking at ctl */

/* Reports routed to one committee, for status (committees beyond
 * ROUTER_COMMITTEES count under the last slot's name "other"). */
#define ROUTER_COMMITTEES 32
struct router_count {
    char committee[64];
    unsigned long n;
};

struct router {
    struct rules *rules;
    struct classify *classify;
    struct bus_sock *pull[2], *push[2], *ctl;   /* [1]: the large lane */
    struct classify_stats st;
    unsigned long routed, bad;
    unsigned long large_in, large_out;   /* messages on the large lanes */
    unsigned long reloads, reload_failures;
    struct router_count by_committee[ROUTER_COMMITTEES];
    size_t ncommittees;
    struct proto_peers peers;     /* messages of other protocol versions */
};

/* One more report routed to committee. */
static void router_count(struct router *rt, const char *committee)
{
    size_t i = 0;
    while (i < rt->ncommittees && strcmp(rt->by_committee[i].committee, committee))
        i++;
    if (i == rt->ncommittees && i < ROUTER_COMMITTEES) {
        snprintf(rt->by_committee[i].committee, sizeof rt->by_committee[i].committee, "%s",
                 i == ROUTER_COMMITTEES - 1 ? "other" : committee);
        rt->ncommittees++;
    }
    rt->by_committee[i < ROUTER_COMMITTEES ? i : ROUTER_COMMITTEES - 1].n++;
}

/* Load and compile the rules file.  0 and *r, *c, or -1 with every error
 * logged and "first error (+N more)" in detail. */
static int router_load(const char *path, struct rules **r, struct classify **c,
                       char *detail, size_t len)
{
    struct rules_errors errs = {0};
    *c = NULL;
    if (rules_load(path, r, &errs) == 0 && classify_new(*r, c, &errs) == 0)
        return 0;
    for (size_t i = 0; i < errs.n; i++)
        log_error("%s", errs.v[i]);
    if (errs.n > 1)
        snprintf(detail, len, "%s (+%zu more)", errs.v[0], errs.n - 1);
    else
        snprintf(detail, len, "%s", errs.n ? errs.v[0] : "cannot load the rules");
    rules_free(r);
    rules_errors_clear(&errs);
    return -1;
}

/* Swap in a fresh copy of the rules file, or keep the old one. 0 / -1. */
static int router_reload_rules(struct daemon *d, char *detail, size_t len)
{
    struct router *rt = d->state;
    struct rules *r;
    struct classify *c;
    if (router_load(d->cfg->rules_path, &r, &c, detail, len) < 0) {
        log_error("reload: %s has errors, keeping the old rules", d->cfg->rules_path);
        rt->reload_failures++;
        return -1;
    }
    classify_free(&rt->classify);
    rules_free(&rt->rules);
    rt->rules = r;
    rt->classify = c;
    log_info("reload: %s: %zu topics", d->cfg->rules_path, r->ntopics);
    rt->reloads++;
    return 0;
}

static void router_on_hup(struct daemon *d)
{
    char detail[1024];
    (void)router_reload_rules(d, detail, sizeof detail);
}

static int router_check(struct daemon *d, char *err, size_t errlen)
{
    struct rules *r;
    struct classify *c;
    if (router_load(d->cfg->rules_path, &r, &c, err, errlen) < 0)
        return -1;
    classify_free(&c);
    rules_free(&r);
    return 0;
}

static int router_open(struct daemon *d, char *err, size_t errlen)
{
    struct router *rt = d->state;
    const struct config *cfg = d->cfg;
    struct bus_opts pipe = {.hwm = cfg->limits.hwm, .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                            .zap_domain = DAEMON_ZAP_PIPE};
    struct bus_opts large = {.hwm = config_large_hwm(cfg), .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                             .zap_domain = DAEMON_ZAP_PIPE};
    struct bus_opts ctl = {.maxmsgsize = CONFIG_CTL_MSG_MAX, .rcvhwm = CONFIG_CTL_HWM,
                           .shared = 1};
    if ((size_t)d->instance > cfg->nrouters) {
        snprintf(err, errlen, "--instance %d: endpoints.router_ctl lists %zu router%s",
                 d->instance, cfg->nrouters, cfg->nrouters == 1 ? "" : "s");
        return -1;
    }
    if (router_load(cfg->rules_path, &rt->rules, &rt->classify, err, errlen) < 0)
        return -1;
    if ((rt->pull[0] = bus_open(d->bus, BUS_PULL, cfg->ep.route, 0, &pipe, err, errlen)) &&
        (rt->pull[1] = bus_open(d->bus, BUS_PULL, cfg->ep.route_large, 0, &large, err, errlen)) &&
        (rt->push[0] = bus_open(d->bus, BUS_PUSH, cfg->ep.archive, 0, &pipe, err, errlen)) &&
        (rt->push[1] = bus_open(d->bus, BUS_PUSH, cfg->ep.archive_large, 0, &large, err, errlen)))
        rt->ctl = bus_open(d->bus, BUS_ROUTER, cfg->router_ctls[d->instance - 1], 1, &ctl, err,
                           errlen);
    if (!rt->ctl) {
        for (int i = 0; i < 2; i++) {
            bus_close(&rt->pull[i]);
            bus_close(&rt->push[i]);
        }
        classify_free(&rt->classify);
        rules_free(&rt->rules);
        return -1;
    }
    log_info("rules %s: %zu topics", cfg->rules_path, rt->rules->ntopics);
    return 0;
}

/* Send to the archiver the route message as the collector sent it, the
 * committee, the tags and the best tag (proto_archive_send): the router
 * adds to a report and never rewrites it. */
static int router_forward(struct router *rt, const struct proto_route *in)
{
    char *tags = report_encode_tags(in->r);
    size_t tlen = strlen(tags);
    int large = config_lane_large(in->len + tlen);
    rt->large_out += large;
    int rc = proto_archive_send(rt->push[large], in, in->r, tags, tlen, daemon_stopping);
    free(tags);
    return rc;
}

/* Route one message from the collector. */
static void router_route(struct router *rt, const struct bus_msg *m)
{
    struct proto_route in;
    struct proto_error err;
    if (proto_route_decode(m, &in, &err) < 0) {
        if (err.reason == PROTO_BAD_VERSION)
            proto_refused(&rt->peers, PROTO_CH_ROUTE, &err);
        else
            log_warn("-: cannot decode a route message: %s, dropped", err.detail);
        rt->bad++;
        return;
    }
    struct report *r = in.r;
    classify_report(rt->classify, r, &rt->st);
    if (router_forward(rt, &in) < 0) {
        log_error("%s: cannot forward to the archiver: %s", r->id, strerror(errno));
    } else {
        rt->routed++;
        router_count(rt, r->committee);
        if (r->ntags)
            log_info("%s: routed to %s (topic %s score %g)", r->id, r->committee,
                     r->tags[0].topic, r->tags[0].score);
        else
            log_info("%s: routed to %s (no topic matched)", r->id, r->committee);
    }
    proto_route_clear(&in);
}

static char *router_status_json(const struct daemon *d)
{
    const struct router *rt = d->state;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "daemon", "router");
    cJSON_AddNumberToObject(o, "instance", d->instance);
    cJSON_AddNumberToObject(o, "routed", (double)rt->routed);
    cJSON_AddNumberToObject(o, "bad", (double)rt->bad);
    cJSON_AddNumberToObject(o, "large_in", (double)rt->large_in);
    cJSON_AddNumberToObject(o, "large_out", (double)rt->large_out);
    cJSON_AddNumberToObject(o, "match_limit", (double)rt->st.match_limit);
    cJSON_AddNumberToObject(o, "proto_refused", (double)rt->peers.refused);
    cJSON_AddNumberToObject(o, "forbidden", (double)access_forbidden(d->access));
    cJSON_AddNumberToObject(o, "topics", (double)rt->rules->ntopics);
    cJSON_AddStringToObject(o, "rules", d->cfg->rules_path);
    cJSON_AddNumberToObject(o, "reloads", (double)rt->reloads);
    cJSON_AddNumberToObject(o, "reload_failures", (double)rt->reload_failures);
    cJSON *by = cJSON_AddObjectToObject(o, "routed_by");
    for (size_t i = 0; i < rt->ncommittees; i++)
        cJSON_AddNumberToObject(by, rt->by_committee[i].committee, (double)rt->by_committee[i].n);
    return proto_reply_ok(o);
}

static char *router_reload_json(struct daemon *d)
{
    struct router *rt = d->state;
    char detail[1024];
    if (router_reload_rules(d, detail, sizeof detail) < 0)
        return proto_reply_error("rules", "%s", detail);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "topics", (double)rt->rules->ntopics);
    return proto_reply_ok(o);
}

/* The answer to one ctl request (caller frees). */
static char *router_answer(struct daemon *d, const struct bus_msg *m)
{
    struct router *rt = d->state;
    struct proto_request q;
    struct proto_error err;
    char *s;
    if (proto_request_decode_msg(m, &q, &err) < 0) {
        if (err.reason == PROTO_BAD_VERSION)
            proto_refused(&rt->peers, PROTO_CH_CTL, &err);
        return proto_reply_refusal(&err);
    }
    char why[256];
    if (daemon_allow(d, m, q.cmd == PROTO_CMD_RELOAD ? ACCESS_MANAGE : ACCESS_STATUS, NULL,
                     NULL, why, sizeof why) < 0)
        s = proto_reply_error("forbidden", "%s", why);
    else if (q.cmd == PROTO_CMD_STATUS)
        s = router_status_json(d);
    else if (q.cmd == PROTO_CMD_RELOAD)
        s = router_reload_json(d);
    else
        s = proto_reply_error("bad_request", "the router answers \"status\" and \"reload\", "
                              "not \"%s\"", proto_cmd_name(q.cmd));
    proto_request_clear(&q);
    return s;
}

static void router_ctl(struct daemon *d)
{
    struct router *rt = d->state;
    struct bus_msg m = {0};
    while (bus_recv(rt->ctl, &m, 1) == 0) {
        char *answer = router_answer(d, &m);
        if (proto_reply_send(rt->ctl, &m, answer) < 0)
            log_warn("ctl: cannot answer a client: %s", strerror(errno));
        free(answer);
        bus_msg_clear(&m);
    }
}

static void router_step(struct daemon *d, long timeout_ms)
{
    struct router *rt = d->state;
    struct bus_poll items[3] = {{.sock = rt->pull[0], .fd = -1},
                                {.sock = rt->pull[1], .fd = -1},
                                {.sock = rt->ctl, .fd = -1}};
    if (bus_poll(items, 3, timeout_ms) <= 0)
        return;
    for (int lane = 0; lane < 2; lane++) {
        if (!items[lane].readable)
            continue;
        struct bus_msg m = {0};
        for (int i = 0; i < ROUTER_BATCH && !daemon_stopping(); i++) {
            if (bus_recv(rt->pull[lane], &m, 1) < 0)
                break;
            rt->large_in += lane;
            router_route(rt, &m);
            bus_msg_clear(&m);
        }
    }
    if (items[2].readable)
        router_ctl(d);
}

static void router_close(struct daemon *d)
{
    struct router *rt = d->state;
    for (int i = 0; i < 2; i++) {
        bus_close(&rt->pull[i]);
        bus_close(&rt->push[i]);
    }
    bus_close(&rt->ctl);
    bus_unlink(d->cfg->router_ctls[d->instance - 1]);
    classify_free(&rt->classify);
    rules_free(&rt->rules);
    log_info("routed %lu, bad %lu, match limit hits %lu", rt->routed, rt->bad,
             rt->st.match_limit);
}

int main(int argc, char **argv)
{
    static const struct daemon_ops ops = {
        .name = "router",
        .check = router_check,
        .open = router_open,
        .step = router_step,
        .reload = router_on_hup,
        .close = router_close,
    };
    static struct router router;
    return daemon_main(argc, argv, &ops, &router);
}
