/* archiver_upstream.c: delivers the upstream spool to the next level and
 * reads the outcomes back, in a thread of its own.  See
 * archiver_upstream.h. */
#include "archiver_upstream.h"
#include "archiver_store.h"
#include "bus.h"
#include "config.h"
#include "daemon.h"
#include "keys.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UPSTREAM_BATCH 16
#define UPSTREAM_CALL_MS 2000         /* one delivery or question, at most */
#define UPSTREAM_IDLE_MS 100
#define UPSTREAM_BACKOFF_MAX_MS 60000

struct upstream {
    const struct config *cfg;
    struct bus_curve curve;       /* this level's key pair, the next level's server key */
    int curve_on;                 /* tcp:// link with CURVE */
    char *db_path;
    pthread_t thread;
    atomic_int stop;
    atomic_ulong delivered, failed, outcomes;
};

/* The report as the next level receives it (caller frees). */
static char *up_report_json(const struct config *cfg, const struct store_upstream *u)
{
    cJSON *o = cJSON_CreateObject(), *origin = cJSON_CreateObject();
    char ref[192];
    snprintf(ref, sizeof ref, "%.100s:%.63s", cfg->upstream.org, u->id);
    cJSON_AddStringToObject(o, "member", cfg->upstream.member);
    cJSON_AddStringToObject(o, "title", u->title);
    cJSON_AddStringToObject(o, "body", u->body);
    cJSON_AddStringToObject(o, "ref", ref);
    cJSON_AddStringToObject(origin, "org", cfg->upstream.org);
    cJSON_AddStringToObject(origin, "id", u->id);
    cJSON_AddStringToObject(origin, "member", u->member);
    cJSON_AddStringToObject(origin, "committee", u->committee);
    if (u->note && *u->note)
        cJSON_AddStringToObject(origin, "note", u->note);
    cJSON_AddItemToObject(o, "origin", origin);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int64_t up_backoff_us(const struct config *cfg, int tries)
{
    int64_t ms = cfg->upstream.resend_ms;
    for (int i = 0; i < tries && ms < UPSTREAM_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return (ms < UPSTREAM_BACKOFF_MAX_MS ? ms : UPSTREAM_BACKOFF_MAX_MS) * 1000;
}

/* The next level took rows[i] as took[i] ("": not taken) for each i < n:
 * record them all in one transaction (a failure to record is sent again
 * later, and answered with the same ids).  The number recorded. */
static int up_record_took(struct upstream *u, struct store *st, const struct store_upstream *rows,
                          char (*took)[64], int n)
{
    const struct config *cfg = u->cfg;
    struct store_upstream_took t[UPSTREAM_BATCH];
    char detail[UPSTREAM_BATCH][512], err[512];
    int k = 0;
    int64_t now = daemon_now_us();
    for (int i = 0; i < n; i++) {
        if (!took[i][0])
            continue;
        snprintf(detail[k], sizeof detail[k], "{\"upstream_id\":\"%.63s\",\"to\":\"%.300s\"}",
                 took[i], cfg->upstream.endpoint);
        t[k] = (struct store_upstream_took){rows[i].id, took[i], detail[k]};
        k++;
    }
    if (k && store_upstream_sent(st, t, k, now + cfg->upstream.poll_seconds * 1000000LL, now, err,
                                 sizeof err) < 0) {
        for (int i = 0; i < k; i++)
            log_warn("%s: upstream took it as %s, but the archive could not record it: %s; "
                     "sending again (the next level answers the same id)", t[i].id,
                     t[i].upstream_id, err);
        return 0;
    }
    for (int i = 0; i < k; i++)
        log_info("%s: forwarded upstream as %s", t[i].id, t[i].upstream_id);
    return k;
}

/* The next level did not take row (why): try again after the backoff. */
static void up_not_taken(struct upstream *u, struct store *st, const struct store_upstream *row,
                         const char *why)
{
    char err[512];
    atomic_fetch_add(&u->failed, 1);
    if (row->tries < 3 || row->tries % 10 == 0)
        log_warn("%s: upstream did not take it (try %d): %s", row->id, row->tries + 1, why);
    if (store_upstream_retry(st, row->id, why, daemon_now_us() + up_backoff_us(u->cfg, row->tries),
                             err, sizeof err) < 0)
        log_warn("%s: upstream: %s", row->id, err);
}

/* The next level's answer about row: its id there into took ("" when it
 * did not take it: tried again later). */
static void up_answer(struct upstream *u, struct store *st, const struct store_upstream *row,
                      const char *buf, size_t len, char took[64])
{
    struct proto_reply r = {0};
    struct proto_error perr;
    char why[256];
    int rc = proto_reply_decode(buf, len, &r, &perr);
    const char *upid = rc == 0 && r.ok ? cJSON_GetStringValue(cJSON_GetObjectItem(r.tree, "id"))
                                       : NULL;
    if (upid)
        snprintf(took, 64, "%.63s", upid);
    else if (rc < 0)
        up_not_taken(u, st, row, perr.detail[0] ? perr.detail : "an answer that does not decode");
    else {
        snprintf(why, sizeof why, "%.64s: %.160s", r.error ? r.error : "?",
                 r.detail ? r.detail : "");
        up_not_taken(u, st, row, why);
    }
    proto_reply_clear(&r);
}

/* ---- the link: a window of reports in flight ---- */

/* One DEALER socket to upstream.endpoint, kept open between rounds.  Each
 * round sends up to UPSTREAM_BATCH reports at once, each tagged with the
 * round and its place in it (the collector answers a tag with the tag, in
 * any order), and waits up to UPSTREAM_CALL_MS for the answers.  A report
 * without one is tried again later like a refused one, and the socket is
 * closed so that nothing queued for a silent peer goes out late; a late
 * answer to an old round is dropped by its tag.  The next level stores a
 * report sent twice once (its ref), so a window keeps exactly-once. */
struct up_link {
    struct bus_sock *s;           /* NULL: opened at the next round */
    uint32_t round;
};

struct up_tag {
    uint32_t round, index;
};

/* Send rows[0..n) tagged; sent[i] set for each in flight (one that cannot
 * go out is tried again later).  The number in flight. */
static int up_send(struct upstream *u, struct store *st, struct up_link *l,
                   struct store_upstream *rows, int n, int *sent)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        struct up_tag tag = {l->round, (uint32_t)i};
        char *json = up_report_json(u->cfg, &rows[i]), why[128];
        sent[i] = bus_send_more(l->s, &tag, sizeof tag) == 0 && bus_send_more(l->s, "", 0) == 0 &&
                  bus_send(l->s, json, strlen(json), 1) == 0;
        free(json);
        if (sent[i]) {
            k++;
        } else {
            snprintf(why, sizeof why, "cannot send: %s", strerror(errno));
            up_not_taken(u, st, &rows[i], why);
        }
    }
    return k;
}

/* One answer off the link: the row it answers (its index), -1 for an old
 * round's or a malformed one.  *body, *len: the reply. */
static int up_tagged(const struct up_link *l, const struct bus_msg *m, int n, const char **body,
                     size_t *len)
{
    struct up_tag tag;
    if (m->nkept != 3 || m->frame[0].size != sizeof tag || m->frame[1].size != 0)
        return -1;
    memcpy(&tag, m->frame[0].data, sizeof tag);
    if (tag.round != l->round || tag.index >= (uint32_t)n)
        return -1;
    *body = m->frame[2].data;
    *len = m->frame[2].size;
    return (int)tag.index;
}

/* Wait for the answers to this round's left requests (into took). */
static void up_collect(struct upstream *u, struct store *st, struct up_link *l,
                       struct store_upstream *rows, int n, int *sent, int left, char (*took)[64])
{
    int64_t deadline = daemon_mono_ms() + UPSTREAM_CALL_MS, wait;
    while (left > 0 && !atomic_load(&u->stop) && (wait = deadline - daemon_mono_ms()) > 0) {
        struct bus_poll item = {.sock = l->s, .fd = -1};
        struct bus_msg m;
        if (bus_poll(&item, 1, (long)wait) <= 0)
            continue;
        while (left > 0 && bus_recv(l->s, &m, 1) == 0) {
            const char *body;
            size_t len;
            int i = up_tagged(l, &m, n, &body, &len);
            if (i >= 0 && sent[i]) {
                sent[i] = 0;
                left--;
                up_answer(u, st, &rows[i], body, len, took[i]);
            }
            bus_msg_clear(&m);
        }
    }
}

/* Deliver rows[0..n) over the link; the number the next level took. */
static int up_deliver(struct upstream *u, struct store *st, struct bus *b, struct up_link *l,
                      struct store_upstream *rows, int n)
{
    int sent[UPSTREAM_BATCH], left;
    char err[512], took[UPSTREAM_BATCH][64] = {{0}};
    struct bus_opts opts = {.linger_ms = 0};
    if (!l->s && !(l->s = bus_open(b, BUS_DEALER, u->cfg->upstream.endpoint, 0, &opts, err,
                                   sizeof err))) {
        for (int i = 0; i < n; i++)
            up_not_taken(u, st, &rows[i], err);
        return 0;
    }
    l->round++;
    left = up_send(u, st, l, rows, n, sent);
    up_collect(u, st, l, rows, n, sent, left, took);
    int silent = 0;
    for (int i = 0; i < n; i++)
        if (sent[i]) {
            silent = 1;
            up_not_taken(u, st, &rows[i], "no answer in time");
        }
    if (silent || left < n)
        bus_close(&l->s);
    return up_record_took(u, st, rows, took, n);
}

/* The outcome the level above recorded for a report the next level
 * forwarded: the last "upstream_outcome" event of its history, or NULL. */
static const char *up_further(const cJSON *rep)
{
    const cJSON *e;
    const char *found = NULL;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(rep, "history")) {
        const char *ev = cJSON_GetStringValue(cJSON_GetObjectItem(e, "event"));
        if (ev && !strcmp(ev, "upstream_outcome"))
            found = cJSON_GetStringValue(cJSON_GetObjectItem(e, "outcome"));
    }
    return found;
}

/* Record what the next level did: final unless it forwarded the report and
 * the level above has not decided yet (then asked again later). */
static void up_record(struct upstream *u, struct store *st, const struct store_upstream *row,
                      const cJSON *rep, const char *outcome, int64_t now)
{
    char err[512];
    const char *note = cJSON_GetStringValue(cJSON_GetObjectItem(rep, "note"));
    const char *further = !strcmp(outcome, "forwarded") ? up_further(rep) : NULL;
    struct store_upstream_result r = {
        .id = row->id, .outcome = outcome, .note = note, .outcome2 = further,
        .final = strcmp(outcome, "forwarded") != 0 || further != NULL,
        .next_us = now + u->cfg->upstream.poll_seconds * 1000000LL};
    if (!r.final && !strcmp(row->outcome, outcome)) {   /* nothing new */
        if (store_upstream_later(st, row->id, r.next_us, err, sizeof err) < 0)
            log_warn("%s: upstream: %s", row->id, err);
        return;
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "upstream_id", row->upstream_id);
    cJSON_AddStringToObject(d, "outcome", further ? further : outcome);
    cJSON_AddNumberToObject(d, "level", further ? 2 : 1);
    if (note && !further)
        cJSON_AddStringToObject(d, "note", note);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    r.detail = detail;
    if (store_upstream_outcome(st, &r, now, err, sizeof err) == 0) {
        atomic_fetch_add(&u->outcomes, 1);
        log_info("%s: upstream %s: %s%s%s", row->id, row->upstream_id, outcome,
                 further ? ", further up: " : "", further ? further : "");
    } else {
        log_warn("%s: upstream outcome: %s", row->id, err);
    }
    free(detail);
}

/* Ask the next level about one report it took. */
static void up_poll_one(struct upstream *u, struct store *st, struct bus *b,
                        struct store_upstream *row)
{
    const struct config *cfg = u->cfg;
    struct proto_request q = {.cmd = PROTO_CMD_SHOW, .id = row->upstream_id, .who = "upstream"};
    struct proto_reply r = {0};
    struct proto_error perr;
    char err[512];
    int64_t now = daemon_now_us();
    const cJSON *rep = NULL;
    if (proto_call(b, cfg->upstream.query, &q, UPSTREAM_CALL_MS, &r, &perr) == 0 && r.ok)
        rep = cJSON_GetObjectItem(r.tree, "report");
    const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(rep, "state"));
    const char *outcome = cJSON_GetStringValue(cJSON_GetObjectItem(rep, "outcome"));
    if (state && !strcmp(state, "closed") && outcome)
        up_record(u, st, row, rep, outcome, now);
    else if (store_upstream_later(st, row->id, now + cfg->upstream.poll_seconds * 1000000LL,
                                  err, sizeof err) < 0)
        log_warn("%s: upstream: %s", row->id, err);
    proto_reply_clear(&r);
}

/* One round over the rows due in state ("pending": deliver them at once
 * over the link; "sent": ask about each); the number handled. */
static int up_round(struct upstream *u, struct store *st, struct bus *b, struct up_link *l,
                    const char *state)
{
    struct store_upstream rows[UPSTREAM_BATCH];
    char err[512];
    int n = store_upstream_due(st, state, daemon_now_us(), rows, UPSTREAM_BATCH, err,
                               sizeof err);
    if (n < 0)
        log_warn("upstream: %s", err);
    if (n > 0 && state[0] == 'p')
        atomic_fetch_add(&u->delivered, (unsigned long)up_deliver(u, st, b, l, rows, n));
    for (int i = 0; i < n; i++) {
        if (state[0] == 's' && !atomic_load(&u->stop))
            up_poll_one(u, st, b, &rows[i]);
        store_upstream_clear(&rows[i]);
    }
    return n;
}

static void *up_main(void *arg)
{
    struct upstream *u = arg;
    struct store *st = NULL;
    char err[512];
    if (store_open(u->db_path, &st, err, sizeof err) < 0) {
        log_error("upstream: %s; nothing is forwarded until the archiver restarts", err);
        return NULL;
    }
    struct bus *b = bus_new();
    struct up_link link = {0};
    if (u->curve_on)              /* every tcp:// socket of this thread's bus goes up */
        bus_set_curve(b, &u->curve, NULL);
    while (!atomic_load(&u->stop)) {
        int busy = up_round(u, st, b, &link, "pending");
        if (u->cfg->upstream.query)
            busy += up_round(u, st, b, &link, "sent");
        if (!busy) {
            struct timespec ts = {0, UPSTREAM_IDLE_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    bus_close(&link.s);
    bus_destroy(&b);
    store_close(&st);
    return NULL;
}

/* The link's CURVE keys from cfg->upstream (none for ipc:// or an insecure
 * link).  0, or -1 with "upstream.key: FILE: why" (or server_key). */
static int up_keys(const struct config *cfg, struct upstream *u, char *err, size_t errlen)
{
    char why[600];
    if (!cfg->upstream.key || cfg->upstream.insecure)
        return 0;
    if (keys_read(cfg->upstream.key, &u->curve, 1, why, sizeof why) < 0) {
        snprintf(err, errlen, "upstream.key: %s", why);
        return -1;
    }
    if (cfg->upstream.server_public_key) {
        snprintf(u->curve.server_key, sizeof u->curve.server_key, "%s",
                 cfg->upstream.server_public_key);
    } else {
        struct bus_curve server = {0};
        if (keys_read(cfg->upstream.server_key, &server, 0, why, sizeof why) < 0) {
            snprintf(err, errlen, "upstream.server_key: %s", why);
            return -1;
        }
        memcpy(u->curve.server_key, server.public_key, sizeof u->curve.server_key);
    }
    u->curve_on = 1;
    return 0;
}

struct upstream *upstream_start(const struct config *cfg, const char *db_path, char *err,
                                size_t errlen)
{
    err[0] = '\0';
    if (!cfg->upstream.endpoint)
        return NULL;
    struct upstream *u = xcalloc(1, sizeof *u);
    u->cfg = cfg;
    if (up_keys(cfg, u, err, errlen) < 0) {
        free(u);
        return NULL;
    }
    u->db_path = xstrdup(db_path);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals are the main thread's */
    int rc = pthread_create(&u->thread, NULL, up_main, u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "upstream: cannot start its thread: %s", strerror(rc));
        free(u->db_path);
        free(u);
        return NULL;
    }
    log_info("upstream: forwarding to %s as member %s%s%s", cfg->upstream.endpoint,
             cfg->upstream.member, u->curve_on ? ", CURVE with the key in " : "",
             u->curve_on ? cfg->upstream.key : "");
    return u;
}

void upstream_stop(struct upstream **up)
{
    struct upstream *u = up ? *up : NULL;
    if (!u)
        return;
    atomic_store(&u->stop, 1);
    pthread_join(u->thread, NULL);
    free(u->db_path);
    free(u);
    *up = NULL;
}

void upstream_status(const struct upstream *u, cJSON *o)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "endpoint", u->cfg->upstream.endpoint);
    cJSON_AddNumberToObject(s, "delivered", (double)atomic_load(&u->delivered));
    cJSON_AddNumberToObject(s, "failed", (double)atomic_load(&u->failed));
    cJSON_AddNumberToObject(s, "outcomes", (double)atomic_load(&u->outcomes));
    cJSON_AddItemToObject(o, "upstream", s);
}
