/* collector_forward.c: from the spool to the router, and the archive's
 * confirmations back.
 *
 * The window (collector_flight) holds at most limits.inflight_max reports
 * sent but not confirmed.  A report over 8 KB goes on the large lane
 * (config.h), whose queue is bounded in bytes.  Sending never blocks: at the router's high-water
 * mark (or with no router at all) the report stays due and is tried again
 * at the next turn, so the collector keeps answering members meanwhile.  A
 * report not confirmed within limits.resend_ms is sent again (backing off);
 * the archive stores an id once, so a copy costs only work.
 *
 * A confirmation {"v":1,"confirm":[ID...]} arrives only after the archive's
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
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Send one record on its lane; 0, or -1 when that lane takes no more now
 * (then nothing more is sent this turn: the spool's order is kept). */
static int forward_send(struct collector *c, const struct spool_rec *rec)
{
    struct bus_sock *lane = config_lane_large(rec->len) ? c->route_large : c->route;
    if (bus_send(lane, rec->data, rec->len, 1) == 0)
        return 0;
    if (errno != EAGAIN && errno != EINTR)
        log_warn("%s: cannot send to the router: %s", rec->id, strerror(errno));
    c->route_blocked = 1;
    return -1;
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

void forward_run(struct collector *c)
{
    int64_t now = daemon_mono_ms();
    char err[256];
    c->route_blocked = 0;
    forward_resend(c, now);
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
    size_t len = 0;
    const char *body = bus_msg_body(m, &len);
    cJSON *o = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "confirm"), *id;
    if (!cJSON_IsArray(ids)) {
        log_warn("-: malformed confirmation (%zu bytes), ignored", len);
        cJSON_Delete(o);
        return;
    }
    cJSON_ArrayForEach(id, ids)
        if (cJSON_IsString(id))
            forward_done(c, id->valuestring);
    cJSON_Delete(o);
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
