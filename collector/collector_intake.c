/* collector_intake.c: taking reports in, from the submit socket and the drop
 * folder, in groups that share one fsync (group commit).
 *
 * For each report: parse strictly (socket) or take the drop module's parse,
 * check the roster, look for a duplicate (socket reports only: a drop file
 * always goes to the archive, whose own check drops a copy and confirms it,
 * so the file leaves the folder by the same path as any other), give it an
 * id that sorts after every earlier one, append it to the spool.  Then
 * intake_commit syncs the spool once and answers the whole group.  A socket
 * request is never answered ok before that sync; a failed sync answers busy
 * and forgets the group (drop files are read again at the next rescan).
 * The "accepted" log lines wait for the sync too: a report answered busy
 * was never accepted, and the log never says it was.
 */
#include "collector.h"
#include "access.h"
#include "collector_dedup.h"
#include "collector_drop.h"
#include "collector_flight.h"
#include "collector_spool.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "report.h"
#include "roster.h"
#include "xmalloc.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTAKE_FLUSH_KEYS 8192     /* write the duplicate journal at this many keys */

static void intake_fail_group(struct collector *c, const char *why);

/* One more report refused, counted in all and by its reason. */
static void collector_count_rejected(struct collector_stats *st, enum report_reason reason)
{
    st->rejected++;
    st->rejected_by[(unsigned)reason < COLLECTOR_REASONS ? reason : REPORT_INTERNAL]++;
}

/* The next id's time: now, but always after the last one handed out. */
static int64_t intake_next_us(struct collector *c)
{
    int64_t us = daemon_now_us();
    if (us <= c->last_us)
        us = c->last_us + 1;
    c->last_us = us;
    return us;
}

static void id_of_us(int64_t us, char *id, size_t len)
{
    struct report tmp = {0};
    report_stamp(&tmp, us);
    xstrlcpy(id, tmp.id, len);
}

/* A report's duplicate keys, each computed once (the content key hashes
 * the whole body). */
struct intake_keys {
    uint64_t content, ref;
};

static struct intake_keys intake_keys_of(const struct report *r)
{
    return (struct intake_keys){report_content_key(r), report_ref_key(r)};
}

/* Look for an earlier report with the same keys (socket reports). 1 and
 * its id, or 0.  An earlier report lost in spool damage does not count
 * (the archive never got it): 0 with *lost set (1 + its c->lost index),
 * unless it was filed again since -- then that copy is the earlier one. */
static int intake_duplicate(struct collector *c, const struct intake_keys *k, char *id,
                            size_t len, size_t *lost)
{
    int64_t now = daemon_now_us(), first;
    *lost = 0;
    if (k->ref ? !dedup_find(c->dedup, DEDUP_REF, k->ref, now, &first)
               : !dedup_find(c->dedup, DEDUP_CONTENT, k->content, now, &first))
        return 0;
    struct collector_lost *l = collector_lost_find(c, first);
    if (l && !l->repl_us) {
        *lost = (size_t)(l - c->lost) + 1;
        return 0;
    }
    id_of_us(l ? l->repl_us : first, id, len);
    return 1;
}

/* Stamp r, append it to the spool and remember its keys k.  0, or -1 with
 * err (busy: the disk is full or failing). */
static int intake_spool(struct collector *c, struct report *r, const struct intake_keys *k,
                        const struct drop_file *f, struct report_error *err)
{
    int64_t us = intake_next_us(c);
    report_stamp(r, us);
    r->content_key = k->content;         /* on the wire: the archiver reuses it */
    char *data = proto_route_encode(r);
    struct spool_rec rec = {0};
    xstrlcpy(rec.id, r->id, sizeof rec.id);
    rec.source = (int)r->source;
    rec.content_key = k->content;
    rec.ref_key = k->ref;
    rec.rel = f ? f->rel : "";
    rec.dev = f ? (uint64_t)f->dev : 0;
    rec.ino = f ? (uint64_t)f->ino : 0;
    rec.data = data;
    rec.len = strlen(data);
    char why[256];
    int rc = spool_append(c->spool, &rec, why, sizeof why);
    free(data);
    if (rc < 0) {
        c->spool_errors.what = "spool: write failed";
        log_repeat(&c->spool_errors, daemon_mono_ms(), "%s: not spooled: %s", r->id, why);
        err->reason = REPORT_BUSY;
        snprintf(err->detail, sizeof err->detail, "cannot write the spool: %s",
                 strerror(errno));
        /* the spool dropped the whole unsynced group: fail it now */
        intake_fail_group(c, "the collector cannot write its spool now; try again");
        return -1;
    }
    if (rec.ref_key)
        dedup_add(c->dedup, DEDUP_REF, rec.ref_key, us);
    int64_t first;
    if (!dedup_find(c->dedup, DEDUP_CONTENT, rec.content_key, us, &first))
        dedup_add(c->dedup, DEDUP_CONTENT, rec.content_key, us);
    return 0;
}

/* Keep an "accepted" line of the current group until its sync: it is
 * logged only if the report is durable (intake_said), else dropped. */
static void intake_say(struct collector *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void intake_say(struct collector *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (!line)
        return;
    if (c->ngroup_said == c->capgroup_said) {
        c->capgroup_said = c->capgroup_said ? 2 * c->capgroup_said : 64;
        c->group_said = xrealloc(c->group_said, c->capgroup_said * sizeof *c->group_said);
    }
    c->group_said[c->ngroup_said++] = line;
}

/* Write the group's kept lines (durable: 1) or drop them (0). */
static void intake_said(struct collector *c, int durable)
{
    for (size_t i = 0; i < c->ngroup_said; i++) {
        if (durable)
            log_info("%s", c->group_said[i]);
        free(c->group_said[i]);
    }
    c->ngroup_said = 0;
}

/* ---- the submit socket ---- */

static struct intake_wait *intake_wait_new(struct collector *c, struct bus_msg *m)
{
    if (c->nwait == c->capwait) {
        c->capwait = c->capwait ? 2 * c->capwait : 64;
        c->wait = xrealloc(c->wait, c->capwait * sizeof *c->wait);
    }
    struct intake_wait *w = &c->wait[c->nwait++];
    memset(w, 0, sizeof *w);
    w->req = *m;                  /* takes the frames */
    memset(m, 0, sizeof *m);
    return w;
}

/* Validate one request into w (w->error set on refusal). */
static void intake_request(struct collector *c, struct intake_wait *w)
{
    struct report *r = NULL;
    struct report_error err = {0};
    if (proto_submit_decode(&w->req, c->cfg->limits.max_report_bytes, &r, &err) == 0) {
        r->source = REPORT_SOURCE_SOCKET;
        struct intake_keys k = intake_keys_of(r);
        const struct access_principal *as;      /* a gateway: the member's own principal */
        if (daemon_allow_for(c->daemon, &w->req, NULL, ACCESS_SUBMIT, NULL, r->member,
                             err.detail, sizeof err.detail, &as) < 0) {
            err.reason = REPORT_FORBIDDEN;      /* logged and counted already */
        } else if (!roster_find(c->roster, r->member)) {
            err.reason = REPORT_UNKNOWN_MEMBER;
            snprintf(err.detail, sizeof err.detail, "member %.64s is not in the roster",
                     r->member);
        } else if (intake_duplicate(c, &k, w->id, sizeof w->id, &w->lost)) {
            w->duplicate = 1;
            c->st.duplicates++;
            log_info("%s: duplicate from %s over the socket", w->id, r->member);
        } else if (intake_spool(c, r, &k, NULL, &err) == 0) {
            xstrlcpy(w->id, r->id, sizeof w->id);
            intake_say(c, "%s: accepted from %s over the socket%s", r->id, r->member,
                       w->lost ? " (filed again: the first copy was lost in spool damage)"
                               : "");
        }
    }
    if (err.reason != REPORT_OK) {
        w->error = (int)err.reason;
        xstrlcpy(w->detail, err.detail, sizeof w->detail);
        if (err.reason == REPORT_BUSY)
            c->st.busy++;
        else
            collector_count_rejected(&c->st, err.reason);
        if (err.reason != REPORT_BUSY && err.reason != REPORT_FORBIDDEN)
            log_info("-: refused over the socket: %s: %s", report_reason_name(err.reason),
                     err.detail);
    }
    report_free(&r);
}

void intake_socket(struct collector *c, size_t max)
{
    struct bus_msg m = {0};
    for (size_t i = 0; i < max && bus_recv(c->submit, &m, 1) == 0; i++) {
        struct intake_wait *w = intake_wait_new(c, &m);
        intake_request(c, w);
    }
}

/* ---- the drop folder ---- */

static int intake_busy(void *arg, const char *rel)
{
    struct collector *c = arg;
    return flight_held(c->flight, rel);
}

/* A drop file's owner, if the principals file maps its account, must be
 * allowed to file as the report's member (a member account only as
 * itself); an account it does not map is let in by the drop group alone.
 * 0, or -1 with err (forbidden, counted). */
static int intake_drop_owner(struct collector *c, const struct drop_file *f,
                             const struct report *r, struct report_error *err)
{
    const struct access_principal *p = access_by_uid(c->daemon->access, f->uid);
    if (!p || access_may(p, ACCESS_SUBMIT, NULL, r->member, err->detail,
                         sizeof err->detail) == 0)
        return 0;
    err->reason = REPORT_FORBIDDEN;
    access_count_forbidden(c->daemon->access);
    return -1;
}

static void intake_take(void *arg, const struct drop_file *f, struct report *r,
                        const struct report_error *perr)
{
    struct collector *c = arg;
    struct report_error err = {0};
    if (perr)
        err = *perr;
    else if (intake_drop_owner(c, f, r, &err) < 0)
        ;                                   /* forbidden: counted, logged below */
    else if (!roster_find(c->roster, r->member)) {
        err.reason = REPORT_UNKNOWN_MEMBER;
        snprintf(err.detail, sizeof err.detail, "member %.64s is not in the roster",
                 r->member);
    }
    if (err.reason != REPORT_OK) {
        collector_count_rejected(&c->st, err.reason);
        drop_reject(c->drop, f, &err);     /* logs the file and the reason */
        report_free(&r);
        return;
    }
    r->source = REPORT_SOURCE_DROP;
    struct intake_keys k = intake_keys_of(r);
    if (intake_spool(c, r, &k, f, &err) == 0) {
        flight_hold(c->flight, f->rel);
        if (c->ngroup_rels == c->capgroup_rels) {
            c->capgroup_rels = c->capgroup_rels ? 2 * c->capgroup_rels : 64;
            c->group_rels = xrealloc(c->group_rels, c->capgroup_rels * sizeof *c->group_rels);
        }
        c->group_rels[c->ngroup_rels++] = xstrdup(f->rel);
        intake_say(c, "%s: accepted from %s, file %s", r->id, r->member, f->rel);
    } else {
        c->st.busy++;             /* the file stays; the next rescan retries */
    }
    report_free(&r);
}

int intake_drop(struct collector *c, int full, size_t max)
{
    int n = drop_scan(c->drop, full, max, intake_busy, intake_take, c);
    return n < 0 ? 0 : n;
}

/* ---- the group commit ---- */

static void intake_answer(struct collector *c, struct intake_wait *w)
{
    struct report_error err = {(enum report_reason)w->error, ""};
    xstrlcpy(err.detail, w->detail, sizeof err.detail);
    char *s = proto_submit_reply(w->id, w->duplicate, &err);
    if (proto_reply_send(c->submit, &w->req, s) < 0)
        log_warn("%s: cannot answer the client: %s", w->id[0] ? w->id : "-",
                 strerror(errno));
    free(s);
    bus_msg_clear(&w->req);
}

/* The spool lost every report appended since its last sync (a failed
 * write or sync): answer the group busy; its drop files are read again. */
static void intake_fail_group(struct collector *c, const char *why)
{
    dedup_rollback(c->dedup);
    intake_said(c, 0);
    for (size_t i = 0; i < c->nwait; i++) {
        struct intake_wait *w = &c->wait[i];
        if (w->error)
            continue;
        w->error = REPORT_BUSY;
        xstrlcpy(w->detail, why, sizeof w->detail);
        c->st.busy++;
    }
    for (size_t i = 0; i < c->ngroup_rels; i++) {
        flight_release(c->flight, c->group_rels[i]);
        free(c->group_rels[i]);
    }
    c->ngroup_rels = 0;
}

/* Write the duplicate journal when many keys wait for it (the archive is
 * slow or away, so no segment is deleted), after the answers went out. */
static void intake_flush_keys(struct collector *c)
{
    char why[256];
    if (dedup_unflushed(c->dedup) < INTAKE_FLUSH_KEYS)
        return;
    if (dedup_flush(c->dedup, why, sizeof why) < 0)
        log_warn("%s (the spool has the keys; they are added again at restart)", why);
}

/* The group is durable: a report lost in spool damage and filed again in
 * it is from now on the one later copies are duplicates of. */
static void intake_refiled(struct collector *c)
{
    char why[256], lost[32];
    for (size_t i = 0; i < c->nwait; i++) {
        struct intake_wait *w = &c->wait[i];
        if (!w->lost || w->error)
            continue;
        struct collector_lost *l = &c->lost[w->lost - 1];
        l->repl_us = report_id_to_us(w->id);
        id_of_us(l->id_us, lost, sizeof lost);
        if (spool_refiled(c->spool, lost, w->id, why, sizeof why) < 0)
            log_warn("%s: %s (after a restart a copy of it may be taken as new)", w->id, why);
    }
}

void intake_commit(struct collector *c)
{
    char why[256];
    size_t appended = spool_unsynced(c->spool);
    if (spool_sync(c->spool, why, sizeof why) < 0) {
        c->spool_errors.what = "spool: write failed";
        log_repeat(&c->spool_errors, daemon_mono_ms(),
                   "%s: answering busy to %zu requests, %zu files wait", why, c->nwait,
                   c->ngroup_rels);
        intake_fail_group(c, "the collector cannot write its spool now; try again");
    } else {
        dedup_commit(c->dedup);   /* the spool holds them now; see collector_guard */
        intake_said(c, 1);
        intake_refiled(c);
        if (appended)
            log_repeat_clear(&c->spool_errors, daemon_mono_ms());
    }
    c->st.accepted += c->ngroup_rels;
    for (size_t i = 0; i < c->nwait; i++) {
        if (!c->wait[i].error && !c->wait[i].duplicate)
            c->st.accepted++;
        intake_answer(c, &c->wait[i]);
    }
    c->nwait = 0;
    for (size_t i = 0; i < c->ngroup_rels; i++)
        free(c->group_rels[i]);
    c->ngroup_rels = 0;
    intake_flush_keys(c);
}

void intake_free(struct collector *c)
{
    for (size_t i = 0; i < c->nwait; i++)
        bus_msg_clear(&c->wait[i].req);
    free(c->wait);
    for (size_t i = 0; i < c->ngroup_rels; i++)
        free(c->group_rels[i]);
    free(c->group_rels);
    intake_said(c, 0);
    free(c->group_said);
    c->group_said = NULL;
    c->wait = NULL;
    c->group_rels = NULL;
    c->nwait = c->ngroup_rels = 0;
}
