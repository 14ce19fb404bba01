/* archiver.c: minyi-archiver -- the only writer of the SQLite archive.
 *
 * Sockets:  PULL   binds ep.archive    routed reports from the routers
 *           PULL   binds ep.archive_large  the same, over 8 KB (config.h: lanes)
 *           PUSH   connects ep.confirm confirmations to the collector
 *           ROUTER binds ep.query      the minyi command (archiver_query.c)
 *
 * A routed report is an archive message (proto_archive_decode): the report
 * as the collector sent it, the committee, the router's tags as JSON text,
 * which is stored as it is, and the best tag's topic and category, so that
 * the archive need not read them out of the tags.  One that does not decode
 * is logged, counted and dropped; one of a protocol version not spoken here
 * is logged once (proto_refused).  Either way the collector still holds it
 * and sends it again, so a rolling upgrade loses nothing.
 *
 * Reports are stored in batches: up to limits.batch_max waiting messages
 * (or ARCHIVER_BATCH_BYTES of them, so that memory stays bounded whatever
 * the reports' size),
 * one transaction, and only after COMMIT returned one confirmation naming
 * every id of the batch (stored, already there, or a duplicate dropped).
 * When the commit fails -- the database locked by another process, the
 * disk full -- the batch is kept in memory and tried again after a back-off
 * (0.2 s doubling to 5 s); meanwhile nothing more is read, so the pressure
 * goes back to the collector's spool on disk, and queries are still served.
 *
 * A damaged archive (PRAGMA quick_check at start, minyi check, or
 * SQLITE_CORRUPT / SQLITE_NOTADB from any statement) stops all writing for
 * good: nothing more is read from the routers or confirmed, so the
 * collector keeps every report; status shows the damage.
 */
#include "archiver_query.h"
#include "archiver_store.h"
#include "archiver_supervise.h"
#include "archiver_upstream.h"
#include "archiver_upkeep.h"
#include "bus.h"
#include "config.h"
#include "access.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "report.h"
#include "roster.h"
#include "rules.h"
#include "xmalloc.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ARCHIVER_QUERY_MAX (4L << 20)     /* an import batch (the CLI sends <= 1 MB) */
#define ARCHIVER_BATCH_BYTES (8L << 20)   /* a batch's messages, at most */
#define ARCHIVER_BACKOFF_MIN 200
#define ARCHIVER_BACKOFF_MAX 5000

struct archiver {
    struct store *store;
    struct roster *roster;
    struct rules *rules;
    struct bus_sock *pull[2], *confirm, *query;   /* pull[1]: the large lane */
    int first_lane;               /* read first for the next batch (alternates) */
    struct proto_archive *batch;         /* decoded, not yet committed */
    size_t nbatch;
    size_t batch_bytes;           /* their messages' size */
    int64_t retry_ms;             /* 0: not backing off */
    int backoff_ms;
    int damage_said;              /* the archive's damage has been logged */
    struct archiver_stats st;
    struct supervise *sv;         /* deadlines, overdue, notify */
    struct upstream *up;          /* forwarding to the next level, or NULL */
    struct upkeep upkeep;         /* backups and retention */
};

static int archiver_load(const struct config *cfg, struct roster **ro, struct rules **ru,
                         char *err, size_t errlen)
{
    struct rules_errors errs = {0};
    if (roster_load(cfg->members_path, ro, err, errlen) < 0)
        return -1;
    if (rules_load(cfg->rules_path, ru, &errs) < 0) {
        snprintf(err, errlen, "%s", errs.n ? errs.v[0] : "cannot load the rules");
        rules_errors_clear(&errs);
        roster_free(ro);
        return -1;
    }
    return 0;
}

static int archiver_check(struct daemon *d, char *err, size_t errlen)
{
    struct roster *ro;
    struct rules *ru;
    if (archiver_load(d->cfg, &ro, &ru, err, errlen) < 0)
        return -1;
    roster_free(&ro);
    rules_free(&ru);
    return 0;
}

static void archiver_close(struct daemon *d);
static void archiver_hello(struct archiver *a);

/* PRAGMA quick_check at start, timed: a damaged archive is found before
 * anything is written to it (and then nothing is: archiver_step). */
static void archiver_quick_check(struct archiver *a)
{
    char out[1024];
    int64_t t0 = daemon_mono_ms();
    int rc = store_check(a->store, 0, out, sizeof out);
    long long ms = (long long)(daemon_mono_ms() - t0);
    if (rc == 0)
        log_info("archive: quick_check ok in %lld ms", ms);
    else if (rc < 0)
        log_warn("archive: quick_check could not run (%s) after %lld ms", out, ms);
}

/* The archive is damaged: say so once, loudly; the caller writes nothing
 * more, so every report stays unconfirmed in the collector's spool. */
static void archiver_damaged(struct archiver *a)
{
    if (a->damage_said)
        return;
    a->damage_said = 1;
    log_error("archive: DAMAGED: %s -- writing stopped, nothing is confirmed (the "
              "collector keeps every report in its spool); run `minyi check`, then "
              "restore the archive (README: Recovering the archive) and restart",
              store_damaged(a->store));
}

/* A missing or empty archive.db is created only where no archive was
 * before: if the collector has been confirmed by one here (it keeps which
 * in STATE/archive.epoch, see collector_epoch.h), an empty new archive
 * would silently stand in for the lost one.  0 to go on, -1 with what to
 * do in err. */
static int archiver_refuse_new(const struct config *cfg, char *err, size_t errlen)
{
    char *db = config_state_path(cfg, "archive.db");
    char *ep = config_state_path(cfg, "archive.epoch");
    char seen[128] = "";
    struct stat st;
    int gone = stat(db, &st) < 0 ? (errno == ENOENT ? 1 : 0) : st.st_size == 0 ? 2 : 0;
    FILE *f = gone ? fopen(ep, "re") : NULL;
    if (f) {
        if (!fgets(seen, sizeof seen, f))
            seen[0] = '\0';
        fclose(f);
    }
    char gen[40];
    long long commits = 0;
    int refuse = gone && sscanf(seen, "%39s %lld", gen, &commits) >= 1;
    if (refuse)
        snprintf(err, errlen, "%s is %s, but the collector was confirmed by an archive here "
                 "(generation %s after %lld commits, says %s): restore the archive from a "
                 "backup (README: Recovering the archive); to start a new, empty archive "
                 "on purpose, remove %s first", db, gone == 1 ? "missing" : "empty", gen,
                 commits, ep, ep);
    free(db);
    free(ep);
    return refuse ? -1 : 0;
}

static int archiver_open(struct daemon *d, char *err, size_t errlen)
{
    struct archiver *a = d->state;
    const struct config *cfg = d->cfg;
    struct bus_opts pipe = {.hwm = cfg->limits.hwm, .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                            .zap_domain = DAEMON_ZAP_PIPE};
    struct bus_opts large = {.hwm = config_large_hwm(cfg), .maxmsgsize = CONFIG_PIPE_MSG_MAX,
                             .zap_domain = DAEMON_ZAP_PIPE};
    struct bus_opts query = {.maxmsgsize = ARCHIVER_QUERY_MAX, .rcvhwm = CONFIG_CTL_HWM,
                             .shared = 1};
    if (archiver_refuse_new(cfg, err, errlen) < 0)
        return -1;
    char *path = config_state_path(cfg, "archive.db");
    int rc = store_open(path, &a->store, err, errlen);
    if (rc == 0 && !(a->up = upstream_start(cfg, path, err, errlen)) && err[0])
        rc = -1;
    free(path);
    a->batch = xcalloc((size_t)cfg->limits.batch_max + 1, sizeof *a->batch);
    a->sv = supervise_new();
    if (rc < 0 || archiver_load(cfg, &a->roster, &a->rules, err, errlen) < 0)
        goto fail;
    archiver_quick_check(a);
    if (!(a->pull[0] = bus_open(d->bus, BUS_PULL, cfg->ep.archive, 1, &pipe, err, errlen)) ||
        !(a->pull[1] = bus_open(d->bus, BUS_PULL, cfg->ep.archive_large, 1, &large, err,
                                errlen)) ||
        !(a->confirm = bus_open(d->bus, BUS_PUSH, cfg->ep.confirm, 0, &pipe, err, errlen)) ||
        !(a->query = bus_open(d->bus, BUS_ROUTER, cfg->ep.query, 1, &query, err, errlen)))
        goto fail;
    archiver_hello(a);
    return 0;
fail:
    archiver_close(d);
    return -1;
}

static void archiver_reload(struct daemon *d)
{
    struct archiver *a = d->state;
    struct roster *ro;
    struct rules *ru;
    char err[512];
    if (archiver_load(d->cfg, &ro, &ru, err, sizeof err) < 0) {
        log_error("reload: %s; keeping the old roster and committees", err);
        return;
    }
    roster_free(&a->roster);
    rules_free(&a->rules);
    a->roster = ro;
    a->rules = ru;
    log_info("reload: %zu members, %zu committees", ro->n, ru->ncommittees);
}

/* Read waiting reports of one lane into the batch (up to batch_max, and
 * about ARCHIVER_BATCH_BYTES). */
static void archiver_read(struct archiver *a, const struct config *cfg, int lane)
{
    struct bus_msg m = {0};
    while (a->nbatch < (size_t)cfg->limits.batch_max && a->batch_bytes < ARCHIVER_BATCH_BYTES &&
           bus_recv(a->pull[lane], &m, 1) == 0) {
        a->st.large += lane;
        struct proto_archive x;
        struct proto_error err;
        int rc = proto_archive_decode(&m, &x, &err);
        a->batch_bytes += x.bytes;
        if (rc < 0) {
            if (err.reason == PROTO_BAD_VERSION)
                proto_refused(&a->st.peers, PROTO_CH_ARCHIVE, &err);
            else
                log_warn("%s: cannot decode a routed report (%s), dropped",
                         x.r && x.r->id[0] ? x.r->id : "-", err.detail);
            a->st.bad++;
            proto_archive_clear(&x);
        } else {
            a->batch[a->nbatch++] = x;
        }
        bus_msg_clear(&m);
    }
}

/* Store every report of the batch in one transaction.  0 after COMMIT,
 * -1 (rolled back) with err. */
static int archiver_store_batch(struct archiver *a, const struct config *cfg,
                                unsigned long counts[3], char *err, size_t errlen)
{
    int64_t window = (int64_t)cfg->limits.dedup_days * 86400 * 1000000;
    int64_t now = daemon_now_us();
    if (store_begin(a->store, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < a->nbatch; i++) {
        char dup[64];
        struct proto_archive *x = &a->batch[i];
        struct store_tags tags = {x->tags, x->topic, x->category};
        int rc = store_put(a->store, x->r, &tags, "routed", NULL,
                           window, now, dup, sizeof dup, err, errlen);
        if (rc == STORE_ERROR) {
            store_rollback(a->store);
            return -1;
        }
        counts[rc == STORE_OK ? 0 : rc == STORE_ALREADY ? 1 : 2]++;
        if (rc == STORE_DUPLICATE)
            log_info("%s: duplicate of %s, dropped", a->batch[i].r->id, dup);
    }
    return store_commit(a->store, err, errlen);
}

/* Which archive this is (store_epoch), for every confirmation: the
 * collector sees from it that the archive was replaced or restored. */
static struct proto_epoch archiver_epoch(struct archiver *a)
{
    struct proto_epoch e;
    int64_t commits;
    store_epoch(a->store, &e.generation, &commits);
    e.commits = (long long)commits;
    return e;
}

/* At start, an empty confirmation: the collector learns at once which
 * archive it now feeds, before its duplicate index answers anyone. */
static void archiver_hello(struct archiver *a)
{
    struct proto_epoch e = archiver_epoch(a);
    if (proto_confirm_send(a->confirm, NULL, 0, &e) < 0)
        log_warn("cannot tell the collector which archive this is now (%s)", strerror(errno));
}

/* Committed: log, confirm every id to the collector, empty the batch. */
static void archiver_confirm(struct archiver *a)
{
    struct proto_epoch epoch = archiver_epoch(a);
    const char **ids = xcalloc(a->nbatch, sizeof *ids);
    for (size_t i = 0; i < a->nbatch; i++) {
        struct report *r = a->batch[i].r;
        char month[8];
        ids[i] = r->id;
        store_month(r->received_us, month);
        log_info("%s: archived (committee %s, month %s)", r->id, r->committee, month);
    }
    if (proto_confirm_send(a->confirm, ids, a->nbatch, &epoch) < 0)
        log_warn("cannot confirm %zu reports to the collector now (%s); it will resend",
                 a->nbatch, strerror(errno));
    free(ids);
    for (size_t i = 0; i < a->nbatch; i++)
        proto_archive_clear(&a->batch[i]);
    a->nbatch = 0;
    a->batch_bytes = 0;
}

/* A committed batch of n reports, for status's batch size histogram. */
static void archiver_count_batch(struct archiver_stats *st, size_t n)
{
    int i = 0;
    while (i < ARCHIVER_BATCH_BUCKETS - 1 && n > ((size_t)1 << i))
        i++;
    st->batch_hist[i]++;
    st->batch_reports += n;
}

static void archiver_flush(struct archiver *a, const struct config *cfg)
{
    unsigned long counts[3] = {0};
    char err[512];
    if (archiver_store_batch(a, cfg, counts, err, sizeof err) < 0) {
        a->st.failed_batches++;
        if (!a->retry_ms)
            log_error("%s: %zu reports wait, nothing confirmed", err, a->nbatch);
        a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : ARCHIVER_BACKOFF_MIN;
        if (a->backoff_ms > ARCHIVER_BACKOFF_MAX)
            a->backoff_ms = ARCHIVER_BACKOFF_MAX;
        a->retry_ms = daemon_mono_ms() + a->backoff_ms;
        return;
    }
    if (a->retry_ms)
        log_info("archive writable again after %lu failed tries", a->st.failed_batches);
    a->retry_ms = 0;
    a->backoff_ms = 0;
    a->st.batches++;
    archiver_count_batch(&a->st, a->nbatch);
    a->st.stored += counts[0];
    a->st.already += counts[1];
    a->st.duplicates += counts[2];
    archiver_confirm(a);
}

static void archiver_queries(struct daemon *d)
{
    struct archiver *a = d->state;
    struct query_ctx q = {a->store, d->cfg, a->roster, a->rules, &a->st, d, NULL, NULL, NULL,
                          a->sv, a->up};
    struct bus_msg m = {0};
    for (int i = 0; i < 64 && bus_recv(a->query, &m, 1) == 0; i++) {
        struct proto_request req;
        struct proto_error err;
        char *reply;
        if (proto_request_decode_msg(&m, &req, &err) < 0) {
            if (err.reason == PROTO_BAD_VERSION)
                proto_refused(&a->st.peers, PROTO_CH_QUERY, &err);
            reply = proto_reply_refusal(&err);
        } else if (req.cmd == PROTO_CMD_BACKUP) {
            /* the upkeep's: it takes m over and answers when the copy ends */
            upkeep_backup_request(&a->upkeep, a->store, a->query, &m, req.path);
            proto_request_clear(&req);
            bus_msg_clear(&m);    /* a no-op when the upkeep took it */
            continue;
        } else {
            q.msg = &m;
            q.principal = access_of_msg(d->access, &m);
            q.acting = NULL;
            reply = query_answer(&q, &req);
            proto_request_clear(&req);
        }
        if (proto_reply_send(a->query, &m, reply) < 0)
            log_warn("query: cannot answer a client: %s", strerror(errno));
        free(reply);
        bus_msg_clear(&m);
    }
}

static void archiver_step(struct daemon *d, long timeout_ms)
{
    struct archiver *a = d->state;
    int64_t now = daemon_mono_ms();
    int waiting = a->retry_ms && now < a->retry_ms;
    if (waiting && a->retry_ms - now < timeout_ms)
        timeout_ms = (long)(a->retry_ms - now);
    struct bus_poll items[3] = {{.sock = a->query, .fd = -1},
                                {.sock = a->pull[0], .fd = -1},
                                {.sock = a->pull[1], .fd = -1}};
    int only_queries = waiting || a->nbatch || store_damaged(a->store);
    if (upkeep_busy(&a->upkeep))
        timeout_ms = 0;           /* a backup goes on at every turn */
    int n = bus_poll(items, only_queries ? 1 : 3, a->nbatch && !waiting && !store_damaged(a->store)
                                                  ? 0 : timeout_ms);
    if (n > 0 && items[0].readable)
        archiver_queries(d);
    if (store_damaged(a->store)) {
        upkeep_cancel(&a->upkeep, a->query, "the archive is damaged");
        archiver_damaged(a);
        return;
    }
    upkeep_step(&a->upkeep, a->store, a->query, d->cfg);
    a->st.backups = a->upkeep.backups;
    a->st.retained = a->upkeep.retained;
    if (a->retry_ms && daemon_mono_ms() < a->retry_ms)
        return;
    if (!a->nbatch)
        supervise_tick(a->sv, a->store, d->cfg, a->rules, daemon_now_us());
    /* the lanes take turns at being read first, so neither waits forever
     * behind a full batch of the other */
    archiver_read(a, d->cfg, a->first_lane);
    archiver_read(a, d->cfg, !a->first_lane);
    a->first_lane = !a->first_lane;
    if (a->nbatch)
        archiver_flush(a, d->cfg);
}

static void archiver_close(struct daemon *d)
{
    struct archiver *a = d->state;
    for (size_t i = 0; i < a->nbatch; i++)
        proto_archive_clear(&a->batch[i]);
    free(a->batch);
    a->batch = NULL;
    a->nbatch = 0;
    a->batch_bytes = 0;
    bus_close(&a->pull[0]);
    bus_close(&a->pull[1]);
    bus_close(&a->confirm);
    upkeep_close(&a->upkeep, a->query);
    bus_close(&a->query);
    supervise_free(&a->sv);
    upstream_stop(&a->up);
    store_close(&a->store);
    roster_free(&a->roster);
    rules_free(&a->rules);
    log_info("stored %lu, already %lu, duplicates %lu, batches %lu, failed %lu",
             a->st.stored, a->st.already, a->st.duplicates, a->st.batches,
             a->st.failed_batches);
}

int main(int argc, char **argv)
{
    static const struct daemon_ops ops = {
        .name = "archiver",
        .check = archiver_check,
        .open = archiver_open,
        .step = archiver_step,
        .reload = archiver_reload,
        .close = archiver_close,
    };
    static struct archiver archiver;
    return daemon_main(argc, argv, &ops, &archiver);
}
