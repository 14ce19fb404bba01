/* collector.c: minyi-collector -- takes members' reports in (submit socket,
 * drop folder), keeps each in its spool until the archive confirms it, and
 * passes them on to the router.
 *
 * Sockets:  ROUTER binds ep.submit         members' requests (REQ or DEALER)
 *           PUSH   binds ep.route          reports to the routers
 *           PUSH   binds ep.route_large    the same, over 8 KB (config.h: lanes)
 *           PULL   binds ep.confirm        the archiver's confirmations
 *           ROUTER binds ep.collector_ctl  {"cmd": "status"}
 * Files:    STATE/spool/   the spool (collector_spool.h)
 *           STATE/dedup.log  duplicate keys since the last merge (collector_dedup.h)
 *           STATE/dedup.idx  all older duplicate keys (collector_dedup_index.h)
 *           STATE/drop/    the drop folder (collector_drop.h)
 *
 * One turn of the loop: wait for anything, take confirmations, take
 * requests and drop files into one group, commit the group (one fsync) and
 * answer it, send spooled reports on.  See collector.h for the parts.
 */
#include "collector.h"
#include "collector_dedup.h"
#include "collector_drop.h"
#include "collector_flight.h"
#include "collector_spool.h"
#include "collector_epoch.h"
#include "config.h"
#include "access.h"
#include "daemon.h"
#include "log.h"
#include "report.h"
#include "roster.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLLECTOR_GROUP_MAX 256       /* requests or files per group commit */
#define COLLECTOR_SUBMIT_HWM 32       /* requests queued per member connection */
#define COLLECTOR_RESCAN_MAX 1024     /* files per full walk of the folder */
#define COLLECTOR_BLOCKED_MS 10       /* retry sending this soon when blocked */

/* A record's duplicate keys into the index (unless known): at start for
 * every record in the spool, after an archive restore for the unconfirmed
 * ones (they will be archived, so a duplicate answer naming them is true). */
static void collector_rekey(void *arg, const struct spool_rec *rec, int pending)
{
    struct collector *c = arg;
    int64_t us = report_id_to_us(rec->id), first, now = daemon_now_us();
    (void)pending;
    if (rec->ref_key && !dedup_find(c->dedup, DEDUP_REF, rec->ref_key, now, &first))
        dedup_add(c->dedup, DEDUP_REF, rec->ref_key, us);
    if (!dedup_find(c->dedup, DEDUP_CONTENT, rec->content_key, now, &first))
        dedup_add(c->dedup, DEDUP_CONTENT, rec->content_key, us);
}

/* Spool start-up scan: keys back into the duplicate table, drop files of
 * pending records held, the last id remembered. */
static void collector_scan(void *arg, const struct spool_rec *rec, int pending)
{
    struct collector *c = arg;
    int64_t us = report_id_to_us(rec->id);
    collector_rekey(c, rec, pending);
    dedup_commit(c->dedup);       /* a synced record: a merge may take them */
    if (pending && rec->rel && *rec->rel)
        flight_hold(c->flight, rec->rel);
    if (us > c->last_us)
        c->last_us = us;
}

/* Spool hook: a report lost in damage (its id from the damaged bytes),
 * and the copy filed again since, if any. */
static void collector_lost(void *arg, const char *id, const char *refiled)
{
    struct collector *c = arg;
    int64_t us = report_id_to_us(id), again = refiled ? report_id_to_us(refiled) : 0;
    struct collector_lost *l = us < 0 ? NULL : collector_lost_find(c, us);
    if (l && again > 0)
        l->repl_us = again;
    if (us < 0 || l)
        return;
    if (c->nlost == c->caplost) {
        c->caplost = c->caplost ? 2 * c->caplost : 16;
        c->lost = xrealloc(c->lost, c->caplost * sizeof *c->lost);
    }
    c->lost[c->nlost++] = (struct collector_lost){us, again > 0 ? again : 0};
}

struct collector_lost *collector_lost_find(struct collector *c, int64_t id_us)
{
    for (size_t i = 0; i < c->nlost; i++)
        if (c->lost[i].id_us == id_us)
            return &c->lost[i];
    return NULL;
}

/* Spool guard: a segment about to be deleted takes the only durable copy of
 * its records' duplicate keys along unless the journal has them by now. */
static int collector_guard(void *arg)
{
    struct collector *c = arg;
    char err[256];
    if (dedup_flush(c->dedup, err, sizeof err) < 0) {
        log_warn("%s", err);
        return -1;
    }
    return 0;
}

/* Rename STATE/dedup.log and dedup.idx to *.replaced (back: the other way). */
static void collector_dedup_aside(struct collector *c, int back)
{
    static const char *const names[] = {"dedup.log", "dedup.idx"};
    for (int i = 0; i < 2; i++) {
        char *path = config_state_path(c->cfg, names[i]);
        char *aside = xasprintf("%s.replaced", path);
        if (rename(back ? aside : path, back ? path : aside) < 0 && errno != ENOENT)
            log_error("%s: cannot move it %s: %s", path, back ? "back" : "aside",
                      strerror(errno));
        free(aside);
        free(path);
    }
}

/* Move the duplicate index aside and start an empty one; if that cannot be
 * opened, keep the old one (logged).  0 / -1 with err. */
static int collector_dedup_reset(struct collector *c, char *err, size_t errlen)
{
    struct dedup *fresh = NULL;
    collector_dedup_aside(c, 0);
    char *path = config_state_path(c->cfg, "dedup.log");
    int rc = dedup_open(path, c->cfg->limits.dedup_days, daemon_now_us(), &fresh, err, errlen);
    free(path);
    if (rc < 0) {
        collector_dedup_aside(c, 1);
        return -1;
    }
    dedup_close(&c->dedup);
    c->dedup = fresh;
    if (spool_walk_pending(c->spool, collector_rekey, c, err, errlen) < 0)
        log_error("%s: some reports still in the spool are not in the new duplicate "
                  "index (a copy sent again gets a new id; the archive keeps one)", err);
    dedup_commit(c->dedup);       /* their records are synced */
    return 0;
}

void collector_archive_seen(struct collector *c, const char *gen, int64_t commits)
{
    char was[128], err[512];
    if (!c->epoch || epoch_note(c->epoch, gen, commits, was, sizeof was) == 0)
        return;
    log_error("the archive was replaced: it is %s after %lld commits, the collector had "
              "seen %s (a restore from an older copy?); its duplicate index may name "
              "reports this archive lacks, so it is set aside (dedup.log.replaced): "
              "reports sent again are taken as new, and the archive keeps each once",
              gen, (long long)commits, was);
    if (collector_dedup_reset(c, err, sizeof err) < 0)
        log_error("%s: cannot start an empty duplicate index; keeping the old one, whose "
                  "duplicate answers may name reports the archive lacks", err);
}

static int collector_open_files(struct collector *c, char *err, size_t errlen)
{
    const struct config *cfg = c->cfg;
    char *path = config_state_path(cfg, "archive.epoch");
    int rc = epoch_open(path, &c->epoch, err, errlen);
    free(path);
    if (rc < 0)
        return -1;
    path = config_state_path(cfg, "dedup.log");
    rc = dedup_open(path, cfg->limits.dedup_days, daemon_now_us(), &c->dedup, err, errlen);
    free(path);
    if (rc < 0)
        return -1;
    c->flight = flight_new();
    c->last_us = dedup_max_id_us(c->dedup);
    path = config_state_path(cfg, "spool");
    struct spool_hooks hooks = {.scan = collector_scan, .guard = collector_guard,
                                .lost = collector_lost, .arg = c};
    rc = spool_open_hooks(path, 0, &hooks, &c->spool, err, errlen);
    free(path);
    if (rc < 0)
        return -1;
    if (dedup_flush(c->dedup, err, errlen) < 0)
        log_warn("%s", err);
    path = config_state_path(cfg, "drop");
    rc = drop_open(path, cfg->limits.max_report_bytes, &c->drop, err, errlen);
    free(path);
    return rc;
}

static int collector_open_sockets(struct daemon *d, char *err, size_t errlen)
{
    struct collector *c = d->state;
    const struct config *cfg = d->cfg;
    struct bus_opts pipe = {.hwm = cfg->limits.hwm, .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                            .zap_domain = DAEMON_ZAP_PIPE};
    struct bus_opts large = {.hwm = config_large_hwm(cfg), .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                             .zap_domain = DAEMON_ZAP_PIPE};
    /* twice the report limit: a bit over it is answered too_large, far over
     * it (a hostile client) is cut off by ZeroMQ before it costs memory.  A
     * connection has at most COLLECTOR_SUBMIT_HWM requests queued here (2 MB
     * of the largest reports, 4 MB of the largest messages ZeroMQ lets in);
     * more wait on the member's side. */
    struct bus_opts submit = {.hwm = cfg->limits.hwm, .rcvhwm = COLLECTOR_SUBMIT_HWM,
                              .maxmsgsize = (long)cfg->limits.max_report_bytes * 2 + 4096,
                              .shared = 1};
    struct bus_opts ctl = {.maxmsgsize = CONFIG_CTL_MSG_MAX, .rcvhwm = CONFIG_CTL_HWM,
                           .shared = 1};
    c->submit = bus_open(d->bus, BUS_ROUTER, cfg->ep.submit, 1, &submit, err, errlen);
    if (c->submit)
        c->route = bus_open(d->bus, BUS_PUSH, cfg->ep.route, 1, &pipe, err, errlen);
    if (c->route)
        c->route_large = bus_open(d->bus, BUS_PUSH, cfg->ep.route_large, 1, &large, err, errlen);
    if (c->route_large)
        c->confirm = bus_open(d->bus, BUS_PULL, cfg->ep.confirm, 1, &pipe, err, errlen);
    if (c->confirm)
        c->ctl = bus_open(d->bus, BUS_ROUTER, cfg->ep.collector_ctl, 1, &ctl, err, errlen);
    return c->ctl ? 0 : -1;
}

static void collector_close(struct daemon *d);

static int collector_open(struct daemon *d, char *err, size_t errlen)
{
    struct collector *c = d->state;
    c->cfg = d->cfg;
    c->daemon = d;
    if (roster_load(d->cfg->members_path, &c->roster, err, errlen) < 0 ||
        collector_open_files(c, err, errlen) < 0 ||
        collector_open_sockets(d, err, errlen) < 0) {
        collector_close(d);
        return -1;
    }
    int64_t spooled = report_id_to_us(spool_last_id(c->spool));
    if (spooled > c->last_us)
        c->last_us = spooled;
    log_info("spool: %llu reports wait for the archive, %zu drop files held",
             (unsigned long long)spool_pending(c->spool), flight_nheld(c->flight));
    return 0;
}

static int collector_check(struct daemon *d, char *err, size_t errlen)
{
    struct roster *r;
    if (roster_load(d->cfg->members_path, &r, err, errlen) < 0)
        return -1;
    roster_free(&r);
    return 0;
}

static void collector_reload(struct daemon *d)
{
    struct collector *c = d->state;
    struct roster *r;
    char err[512];
    if (roster_load(d->cfg->members_path, &r, err, sizeof err) < 0) {
        log_error("reload: %s; keeping the old roster", err);
        return;
    }
    roster_free(&c->roster);
    c->roster = r;
    log_info("reload: %s: %zu members", d->cfg->members_path, r->n);
}

/* "sync": {count, p50_ms, p99_ms, max_ms, hist_250us: [...]}: the spool's
 * group syncs (minyi status shows the scalars; make bench reads the
 * histogram). */
static void collector_status_sync(cJSON *o, const struct spool_sync_stats *st)
{
    cJSON *s = cJSON_AddObjectToObject(o, "sync");
    cJSON_AddNumberToObject(s, "count", (double)st->count);
    cJSON_AddNumberToObject(s, "p50_ms", spool_sync_pct(st, 0.5) / 1000.0);
    cJSON_AddNumberToObject(s, "p99_ms", spool_sync_pct(st, 0.99) / 1000.0);
    cJSON_AddNumberToObject(s, "max_ms", (double)st->max_us / 1000.0);
    cJSON_AddNumberToObject(s, "sum_ms", (double)st->sum_us / 1000.0);
    cJSON *h = cJSON_AddArrayToObject(s, "hist_250us");
    int last = SPOOL_SYNC_BUCKETS;
    while (last > 0 && st->hist[last - 1] == 0)
        last--;
    for (int i = 0; i < last; i++)
        cJSON_AddItemToArray(h, cJSON_CreateNumber(st->hist[i]));
}

static char *collector_status(const struct collector *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "daemon", "collector");
    cJSON_AddNumberToObject(o, "accepted", (double)c->st.accepted);
    cJSON_AddNumberToObject(o, "duplicates", (double)c->st.duplicates);
    cJSON_AddNumberToObject(o, "rejected", (double)c->st.rejected);
    cJSON_AddNumberToObject(o, "busy", (double)c->st.busy);
    cJSON_AddNumberToObject(o, "forwarded", (double)c->st.forwarded);
    cJSON_AddNumberToObject(o, "sent_large", (double)c->st.sent_large);
    cJSON_AddNumberToObject(o, "resent", (double)c->st.resent);
    cJSON_AddNumberToObject(o, "confirmed", (double)c->st.confirmed);
    cJSON_AddNumberToObject(o, "spooled", (double)spool_pending(c->spool));
    cJSON_AddNumberToObject(o, "inflight", (double)flight_count(c->flight));
    cJSON_AddNumberToObject(o, "segments", (double)spool_segments(c->spool));
    cJSON_AddNumberToObject(o, "proto_refused", (double)c->peers.refused);
    cJSON_AddNumberToObject(o, "forbidden", (double)access_forbidden(c->daemon->access));
    collector_status_sync(o, spool_sync_stats(c->spool));
    const struct spool_damage *dmg = spool_damage(c->spool);
    cJSON *d = cJSON_AddObjectToObject(o, "corrupt");   /* see spool/corrupt/ */
    cJSON_AddNumberToObject(d, "ranges", (double)dmg->ranges);
    cJSON_AddNumberToObject(d, "bytes", (double)dmg->bytes);
    cJSON_AddNumberToObject(d, "records_lost", (double)dmg->records);
    cJSON *by = cJSON_AddObjectToObject(o, "rejected_by");
    for (int i = 1; i < COLLECTOR_REASONS; i++)
        if (c->st.rejected_by[i])
            cJSON_AddNumberToObject(by, report_reason_name((enum report_reason)i),
                                    (double)c->st.rejected_by[i]);
    return proto_reply_ok(o);
}

/* The answer to one ctl request (caller frees). */
static char *collector_answer(struct collector *c, const struct bus_msg *m)
{
    struct proto_request q;
    struct proto_error err;
    char *s;
    if (proto_request_decode_msg(m, &q, &err) < 0) {
        if (err.reason == PROTO_BAD_VERSION)
            proto_refused(&c->peers, PROTO_CH_CTL, &err);
        return proto_reply_refusal(&err);
    }
    char why[256];
    if (daemon_allow(c->daemon, m, ACCESS_STATUS, NULL, NULL, why, sizeof why) < 0)
        s = proto_reply_error("forbidden", "%s", why);
    else if (q.cmd == PROTO_CMD_STATUS)
        s = collector_status(c);
    else
        s = proto_reply_error("bad_request", "the collector answers \"status\", not \"%s\"",
                              proto_cmd_name(q.cmd));
    proto_request_clear(&q);
    return s;
}

static void collector_ctl(struct collector *c)
{
    struct bus_msg m = {0};
    while (bus_recv(c->ctl, &m, 1) == 0) {
        char *s = collector_answer(c, &m);
        if (proto_reply_send(c->ctl, &m, s) < 0)
            log_warn("ctl: cannot answer a client: %s", strerror(errno));
        free(s);
        bus_msg_clear(&m);
    }
}

static void collector_step(struct daemon *d, long timeout_ms)
{
    struct collector *c = d->state;
    struct bus_poll items[4] = {
        {.sock = c->confirm, .fd = -1}, {.sock = c->submit, .fd = -1},
        {.sock = c->ctl, .fd = -1},     {.sock = NULL, .fd = drop_fd(c->drop)},
    };
    int64_t now = daemon_mono_ms();
    long wait = timeout_ms;
    if (c->route_blocked && wait > COLLECTOR_BLOCKED_MS)
        wait = COLLECTOR_BLOCKED_MS;
    if (c->next_rescan_ms - now < wait)
        wait = c->next_rescan_ms > now ? (long)(c->next_rescan_ms - now) : 0;
    int n = bus_poll(items, items[3].fd >= 0 ? 4 : 3, wait);
    now = daemon_mono_ms();
    /* Members first: their group is taken in, synced and answered before
     * the archive's confirmations and the forwarding are dealt with, so an
     * acknowledgement never waits behind them. */
    if (n > 0 && items[1].readable)
        intake_socket(c, COLLECTOR_GROUP_MAX);
    if (n > 0 && items[3].readable)
        intake_drop(c, 0, COLLECTOR_GROUP_MAX);
    if (now >= c->next_rescan_ms) {
        /* at once again while a walk finds more files than it takes */
        int more = intake_drop(c, 1, COLLECTOR_RESCAN_MAX) >= COLLECTOR_RESCAN_MAX;
        c->next_rescan_ms = now + (more ? 0 : c->cfg->limits.rescan_ms);
    }
    intake_commit(c);
    if (n > 0 && items[0].readable)
        forward_confirms(c);
    forward_run(c);
    if (n > 0 && items[2].readable)
        collector_ctl(c);
}

static void collector_close(struct daemon *d)
{
    struct collector *c = d->state;
    char err[256];
    if (c->spool)
        intake_commit(c);
    intake_free(c);
    bus_close(&c->submit);
    bus_close(&c->route);
    bus_close(&c->route_large);
    bus_close(&c->confirm);
    bus_close(&c->ctl);
    bus_unlink(d->cfg->ep.collector_ctl);
    if (c->dedup && dedup_flush(c->dedup, err, sizeof err) < 0)
        log_warn("%s", err);
    spool_close(&c->spool);
    dedup_close(&c->dedup);
    epoch_close(&c->epoch);
    drop_close(&c->drop);
    flight_free(&c->flight);
    free(c->lost);
    c->lost = NULL;
    roster_free(&c->roster);
    log_info("accepted %lu, duplicates %lu, rejected %lu, busy %lu, confirmed %lu",
             c->st.accepted, c->st.duplicates, c->st.rejected, c->st.busy,
             c->st.confirmed);
}

int main(int argc, char **argv)
{
    static const struct daemon_ops ops = {
        .name = "collector",
        .check = collector_check,
        .open = collector_open,
        .step = collector_step,
        .reload = collector_reload,
        .close = collector_close,
    };
    static struct collector collector;
    return daemon_main(argc, argv, &ops, &collector);
}
