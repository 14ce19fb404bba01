/* collector_forward.c: from the spool to the router, and the archive's
 * confirmations back.
 *
 * The window (collector_flight) holds at most limits.inflight_max reports
 * sent but not confirmed.  A report over 8 KB goes on the large lane
 * (config.h), whose queue is bounded in bytes.  Sending never blocks: at a
 * lane's high-water mark (or with no router at all) the report stays due
 * and is tried again at the next turn, so the collector keeps answering
 * members meanwhile; a lane that takes nothing for longer than the resend
 * interval is logged.  A report not confirmed within limits.resend_ms is
 * sent again (backing off); the archive stores an id once, so a copy costs
 * only work.
 *
 * A confirmation (proto_confirm_decode) arrives only after the archive's
 * transaction committed.  For each id in the window: remove its drop file
 * (if it is still the same file), then mark the spool record done.  In that
 * order: a crash between the two resends a report whose file is gone, which
 * is harmless; the other order could leave a file to be read again.
 */
#include "collector.h"
#include "collector_drop.h"
#include "collector_flight.h"
#include "collector_spool.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Send one record on its lane; 0, or -1 when that lane takes no more now
 * (then nothing more is sent this turn, on either lane: when one lane is
 * full the routers or the archive are behind, and the rest can wait). */
static int forward_send(struct collector *c, const struct spool_rec *rec)
{
    int large = config_lane_large(rec->len);
    if (proto_route_send(large ? c->route_large : c->route, rec->data, rec->len, 1) == 0) {
        c->st.sent_large += large;
        return 0;
    }
    if (errno != EAGAIN && errno != EINTR)
        log_warn("%s: cannot send to the router: %s", rec->id, strerror(errno));
    c->route_blocked = 1;
    c->blocked_lane = large;
    return -1;
}

/* Say so once when a lane has been full and taken nothing for longer than
 * the resend interval (a router down, or a lane's endpoint nobody listens
 * on), and again when reports move.  moved: this turn sent something. */
static void forward_watch(struct collector *c, int64_t now, int moved)
{
    if (!c->route_blocked || moved) {
        if (c->blocked_warned)
            log_info("the routers take reports again");
        c->blocked_since_ms = 0;
        c->blocked_warned = 0;
        return;
    }
    if (!c->blocked_since_ms)
        c->blocked_since_ms = now;
    if (!c->blocked_warned && now - c->blocked_since_ms > c->cfg->limits.resend_ms) {
        log_warn("the %s lane to the routers (%s) has taken nothing for %lld ms: "
                 "is a router running, and the archive keeping up?",
                 c->blocked_lane ? "large" : "ordinary",
                 c->blocked_lane ? c->cfg->ep.route_large : c->cfg->ep.route,
                 (long long)(now - c->blocked_since_ms));
        c->blocked_warned = 1;
    }
}

/* Resend what is due, oldest due first, until the router blocks. */
static void forward_resend(struct collector *c, int64_t now)
{
    struct flight_entry *e;
    char err[256];
    while (!c->route_blocked && (e = flight_due(c->flight, now)) != NULL) {
        struct spool_rec rec;
        if (spool_read(c->spool, e->seg, e->off, &rec, err, sizeof err) < 0) {
            log_error("%s: %s; it stays in the spool for the next start", e->id, err);
            flight_remove(c->flight, e);
            continue;
        }
        if (forward_send(c, &rec) < 0)
            return;
        if (e->sends) {
            c->st.resent++;
            log_info("%s: sent again (no confirmation yet, send %d)", e->id, e->sends + 1);
        } else {
            c->st.forwarded++;
        }
        flight_sent(c->flight, e, now, c->cfg->limits.resend_ms);
    }
}

/* Send reports newly spooled while the window has room. */
static void forward_new(struct collector *c, int64_t now)
{
    char err[256];
    while (!c->route_blocked &&
           flight_count(c->flight) < (size_t)c->cfg->limits.inflight_max) {
        struct spool_rec rec;
        int rc = spool_next_pending(c->spool, &rec, err, sizeof err);
        if (rc < 0) {
            log_error("%s", err);
            continue;
        }
        if (rc == 0)
            break;
        struct flight_entry *e = flight_add(c->flight, rec.id, rec.seg, rec.off, rec.rel,
                                            rec.dev, rec.ino, now);
        if (forward_send(c, &rec) < 0)
            break;                /* stays due: sent at the next turn */
        c->st.forwarded++;
        flight_sent(c->flight, e, now, c->cfg->limits.resend_ms);
    }
}

void forward_run(struct collector *c)
{
    int64_t now = daemon_mono_ms();
    unsigned long sent = c->st.forwarded + c->st.resent;
    c->route_blocked = 0;
    forward_resend(c, now);
    forward_new(c, now);
    forward_watch(c, now, c->st.forwarded + c->st.resent != sent);
}

/* The archive committed id: let the file go, then the spool record. */
static void forward_done(struct collector *c, const char *id)
{
    struct flight_entry *e = flight_find(c->flight, id);
    char err[256];
    if (!e)
        return;                   /* a copy's second confirmation */
    if (e->rel) {
        if (drop_remove(c->drop, e->rel, (dev_t)e->dev, (ino_t)e->ino) < 0)
            log_warn("%s: file %s could not be removed", id, e->rel);
        flight_release(c->flight, e->rel);
    }
    if (spool_confirm(c->spool, e->seg, id, err, sizeof err) < 0)
        log_warn("%s: %s (it will be sent again after a restart)", id, err);
    c->st.confirmed++;
    flight_remove(c->flight, e);
}

static void forward_confirm_msg(struct collector *c, const struct bus_msg *m)
{
    struct proto_confirm cf;
    struct proto_error err;
    if (proto_confirm_decode(m, &cf, &err) < 0) {
        if (err.reason == PROTO_BAD_VERSION)
            proto_refused(&c->peers, PROTO_CH_CONFIRM, &err);
        else
            log_warn("-: malformed confirmation: %s, ignored", err.detail);
        return;
    }
    for (size_t i = 0; i < cf.n; i++)
        forward_done(c, cf.ids[i]);
    if (cf.has_epoch)             /* after the ids: the archive holds those whichever it is */
        collector_archive_seen(c, cf.epoch.generation, (int64_t)cf.epoch.commits);
    proto_confirm_clear(&cf);
}

void forward_confirms(struct collector *c)
{
    struct bus_msg m = {0};
    char err[256];
    for (int i = 0; i < 1000 && bus_recv(c->confirm, &m, 1) == 0; i++) {
        forward_confirm_msg(c, &m);
        bus_msg_clear(&m);
    }
    if (spool_flush_acks(c->spool, err, sizeof err) < 0)
        log_warn("%s (those reports will be sent again after a restart)", err);
}
