/* archiver_store_queue.c: the committee queues in the archive -- pull with
 * leases, queue listings, ack, release, reassign -- and reading whole
 * records (show) and the handled history (for rules learn).  Each change
 * is one transaction with its history event.  See archiver_store.h.
 */
#include "archiver_store_impl.h"
#include "report.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading records ---- */

static void add_text(cJSON *o, const char *key, sqlite3_stmt *q, int col)
{
    const char *v = store_col(q, col);
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* The tags stored in column col of q (a JSON array), or [] when absent. */
static cJSON *store_topics_json(sqlite3_stmt *q, int col)
{
    const char *v = store_col(q, col);
    cJSON *a = v ? cJSON_Parse(v) : NULL;
    if (cJSON_IsArray(a))
        return a;
    cJSON_Delete(a);
    return cJSON_CreateArray();
}

/* [{at, event, who, ...detail}] of report id. */
static cJSON *store_events_json(struct store *s, const char *id)
{
    cJSON *a = cJSON_CreateArray();
    sqlite3_stmt *q = store_stmt(s, ST_EVENTS);
    store_bind_text(q, 1, id);
    while (sqlite3_step(q) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject(), *d, *f;
        char at[40];
        store_time(sqlite3_column_int64(q, 0), at);
        cJSON_AddStringToObject(e, "at", at);
        add_text(e, "event", q, 1);
        add_text(e, "who", q, 2);
        const char *detail = store_col(q, 3);
        if (detail && (d = cJSON_Parse(detail)) != NULL) {
            while ((f = d->child) != NULL) {
                cJSON_DetachItemViaPointer(d, f);
                if (cJSON_GetObjectItemCaseSensitive(e, f->string))
                    cJSON_Delete(f);
                else
                    cJSON_AddItemToObject(e, f->string, f);
            }
            cJSON_Delete(d);
        }
        cJSON_AddItemToArray(a, e);
    }
    sqlite3_reset(q);
    return a;
}

cJSON *store_row_json(struct store *s, sqlite3_stmt *q, int with_history)
{
    static const char *const cols[] = {"id", "member", "title", "body", "ref",
                                       "submitted_at", "received_at", "source", "committee",
                                       "routed_committee", "state", "outcome", "note"};
    cJSON *o = cJSON_CreateObject();
    const char *extra = store_col(q, 15);
    cJSON *x = extra ? cJSON_Parse(extra) : NULL, *f;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        add_text(o, cols[i], q, (int)i);
    if (sqlite3_column_type(q, 13) != SQLITE_NULL) {
        char at[40];
        store_time(sqlite3_column_int64(q, 13), at);
        cJSON_AddStringToObject(o, "lease_until", at);
    } else {
        cJSON_AddNullToObject(o, "lease_until");
    }
    add_text(o, "lease_who", q, 14);
    while (x && (f = x->child) != NULL) {     /* the member's own extra fields */
        cJSON_DetachItemViaPointer(x, f);
        /* never shadow a field minyi writes (archives from before the
         * submit check, imports) */
        if (report_field_reserved(f->string) || cJSON_GetObjectItemCaseSensitive(o, f->string))
            cJSON_Delete(f);
        else
            cJSON_AddItemToObject(o, f->string, f);
    }
    cJSON_Delete(x);
    cJSON_AddItemToObject(o, "topics", store_topics_json(q, 16));
    if (with_history) {
        char *id = xstrdup(store_col(q, 0));
        cJSON_AddItemToObject(o, "history", store_events_json(s, id));
        free(id);
    }
    return o;
}

/* The record id (NULL if absent or on error; *found says which). */
static cJSON *store_get(struct store *s, const char *id, int with_history, int *found)
{
    sqlite3_stmt *q = store_stmt(s, ST_GET);
    store_bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    cJSON *o = NULL;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        /* ST_GET stays on its row while topics and history are read */
        o = store_row_json(s, q, with_history);
    }
    sqlite3_reset(q);
    return o;
}

cJSON *store_show(struct store *s, const char *id, char *err, size_t errlen)
{
    int found;
    cJSON *o = store_get(s, id, 1, &found);
    if (!o)
        snprintf(err, errlen, found ? "store: cannot read %s" : "no report %s", id);
    return o;
}

/* ---- the queues ---- */

cJSON *store_pull(struct store *s, const char *committee, int limit, int lease_s,
                  const char *who, int64_t now_us, char *err, size_t errlen)
{
    if (store_begin(s, err, errlen) < 0)
        return NULL;
    cJSON *ids = cJSON_CreateArray(), *id;
    sqlite3_stmt *q = store_stmt(s, ST_PULL_PICK);
    store_bind_text(q, 1, committee);
    sqlite3_bind_int64(q, 2, now_us);
    sqlite3_bind_int(q, 3, limit > 0 ? limit : 10);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        cJSON_AddItemToArray(ids, cJSON_CreateString(store_col(q, 0)));
    sqlite3_reset(q);
    int bad = rc != SQLITE_DONE;
    int64_t until = now_us + (int64_t)lease_s * 1000000;
    char *detail = xasprintf("{\"lease_s\":%d}", lease_s);
    cJSON_ArrayForEach(id, ids) {
        if (bad)
            break;
        q = store_stmt(s, ST_LEASE);
        store_bind_text(q, 1, id->valuestring);
        sqlite3_bind_int64(q, 2, until);
        store_bind_text(q, 3, who);
        bad = store_exec(s, ST_LEASE, err, errlen, "lease") < 0 ||
              store_event(s, id->valuestring, now_us, "leased", who, detail, err, errlen) < 0;
    }
    free(detail);
    if (bad || store_commit(s, err, errlen) < 0) {
        if (rc != SQLITE_DONE)
            store_err(s, err, errlen, "pull");
        store_rollback(s);
        cJSON_Delete(ids);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    cJSON_ArrayForEach(id, ids) {
        int found;
        cJSON *o = store_get(s, id->valuestring, 0, &found);
        if (o)
            cJSON_AddItemToArray(out, o);
    }
    cJSON_Delete(ids);
    return out;
}

/* The bytes of the row q is on, roughly what its JSON takes. */
static size_t store_row_bytes(sqlite3_stmt *q)
{
    size_t n = 0;
    for (int i = 0, cols = sqlite3_column_count(q); i < cols; i++)
        n += (size_t)sqlite3_column_bytes(q, i) + 16;
    return n;
}

/* The queue's counts into o (the first page's reply).  0 / -1 with err. */
static int store_queue_counts(struct store *s, const char *committee, int64_t now_us,
                              cJSON *o, char *err, size_t errlen)
{
    sqlite3_stmt *q = store_stmt(s, ST_QUEUE_COUNTS);
    store_bind_text(q, 1, committee);
    if (sqlite3_step(q) != SQLITE_ROW) {
        store_err(s, err, errlen, "queue");
        sqlite3_reset(q);
        return -1;
    }
    cJSON_AddNumberToObject(o, "open", sqlite3_column_double(q, 0));
    cJSON_AddNumberToObject(o, "leased", sqlite3_column_double(q, 1));
    if (sqlite3_column_type(q, 2) != SQLITE_NULL)
        cJSON_AddNumberToObject(o, "oldest_age_s",
                                (double)((now_us - sqlite3_column_int64(q, 2)) / 1000000));
    else
        cJSON_AddNullToObject(o, "oldest_age_s");
    sqlite3_reset(q);
    return 0;
}

/* The listing statement, bound: from the start, or after report `after`
 * (by received time, then id).  NULL with err when `after` is unknown. */
static sqlite3_stmt *store_queue_from(struct store *s, const char *committee,
                                      const char *after, int limit, char *err,
                                      size_t errlen)
{
    int64_t at = 0;
    if (after) {
        sqlite3_stmt *r = store_stmt(s, ST_RECEIVED);
        store_bind_text(r, 1, after);
        int rc = sqlite3_step(r);
        if (rc == SQLITE_ROW)
            at = sqlite3_column_int64(r, 0);
        else if (rc == SQLITE_DONE)
            snprintf(err, errlen, "no report %s to list after", after);
        else
            store_err(s, err, errlen, "queue");
        sqlite3_reset(r);
        if (rc != SQLITE_ROW)
            return NULL;
    }
    sqlite3_stmt *q = store_stmt(s, after ? ST_QUEUE_AFTER : ST_QUEUE_LIST);
    store_bind_text(q, 1, committee);
    sqlite3_bind_int(q, 2, limit);
    if (after) {
        sqlite3_bind_int64(q, 3, at);
        store_bind_text(q, 4, after);
    }
    return q;
}

cJSON *store_queue(struct store *s, const char *committee, int limit, const char *after,
                   size_t max_bytes, int64_t now_us, char *err, size_t errlen)
{
    limit = limit > 0 ? limit : 100;
    sqlite3_stmt *q = store_queue_from(s, committee, after, limit + 1, err, errlen);
    if (!q)
        return NULL;
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "reports");
    size_t bytes = 0;
    int n = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < limit && (n == 0 || bytes < max_bytes)) {
        bytes += store_row_bytes(q);
        cJSON_AddItemToArray(list, store_row_json(s, q, 0));
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        store_err(s, err, errlen, "queue");
    sqlite3_reset(q);
    cJSON_AddBoolToObject(o, "more", rc == SQLITE_ROW);
    if ((rc != SQLITE_ROW && rc != SQLITE_DONE) ||
        (!after && store_queue_counts(s, committee, now_us, o, err, errlen) < 0)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* What a change needs to know of a report. */
struct store_now {
    char state[16], committee[64], owner[128];
    int64_t until_us;             /* 0: no lease */
};

/* The state, committee and lease of id into *n. STORE_OK, _NOT_FOUND, or
 * _ERROR. */
static int store_state(struct store *s, const char *id, struct store_now *n, char *err,
                       size_t errlen)
{
    sqlite3_stmt *q = store_stmt(s, ST_STATE);
    store_bind_text(q, 1, id);
    int rc = sqlite3_step(q);
    memset(n, 0, sizeof *n);
    if (rc == SQLITE_ROW) {
        snprintf(n->state, sizeof n->state, "%s", store_col(q, 0));
        snprintf(n->committee, sizeof n->committee, "%s", store_col(q, 1));
        n->until_us = sqlite3_column_int64(q, 2);
        snprintf(n->owner, sizeof n->owner, "%s", store_col(q, 3) ? store_col(q, 3) : "");
    } else if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no report %s", id);
    } else {
        store_err(s, err, errlen, "state");
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

/* One change of one report in its own transaction: check its state with
 * allowed(), run the update statement bound by bind(), log the event. */
struct store_change {
    const char *id, *event;
    const struct store_actor *by;
    enum st update;
    char *detail;                 /* JSON object text or NULL */
    const char *outcome, *note, *committee;
    int64_t now_us;
};

/* The lease rule of struct store_actor. STORE_OK or STORE_FORBIDDEN. */
static int store_may(const struct store_change *c, const struct store_now *n, char *err,
                     size_t errlen)
{
    int leased = !strcmp(n->state, "leased");
    int mine = leased && !strcmp(n->owner, c->by->who);
    if (leased && !mine && n->until_us > c->now_us) {
        char at[40];
        store_time(n->until_us, at);
        snprintf(err, errlen, "report %s is leased to %s until %s", c->id, n->owner, at);
        return STORE_FORBIDDEN;
    }
    if (c->by->must_hold && !mine) {
        snprintf(err, errlen, "%s holds no lease on report %s (pull it first)", c->by->who,
                 c->id);
        return STORE_FORBIDDEN;
    }
    return STORE_OK;
}

static int store_apply(struct store *s, const struct store_change *c,
                       const struct store_now *n, char *err, size_t errlen)
{
    if (!strcmp(n->state, "closed")) {
        snprintf(err, errlen, "report %s is closed already", c->id);
        return STORE_CONFLICT;
    }
    if (c->update == ST_RELEASE && strcmp(n->state, "leased") != 0) {
        snprintf(err, errlen, "report %s is not leased", c->id);
        return STORE_CONFLICT;
    }
    if (c->update == ST_REASSIGN && !strcmp(n->committee, c->committee)) {
        snprintf(err, errlen, "report %s is in %s's queue already", c->id, c->committee);
        return STORE_CONFLICT;
    }
    int rc = store_may(c, n, err, errlen);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *q = store_stmt(s, c->update);
    store_bind_text(q, 1, c->id);
    if (c->update == ST_CLOSE) {
        store_bind_text(q, 2, c->outcome);
        store_bind_text(q, 3, c->note);
        sqlite3_bind_int64(q, 4, c->now_us);
    } else if (c->update == ST_REASSIGN) {
        store_bind_text(q, 2, c->committee);
    }
    if (store_exec(s, c->update, err, errlen, c->event) < 0 ||
        store_event(s, c->id, c->now_us, c->event, c->by->who, c->detail, err, errlen) < 0)
        return STORE_ERROR;
    return STORE_OK;
}

static int store_change(struct store *s, const struct store_change *c, char *err,
                        size_t errlen)
{
    struct store_now n;
    if (store_begin(s, err, errlen) < 0)
        return STORE_ERROR;
    int rc = store_state(s, c->id, &n, err, errlen);
    if (rc == STORE_OK)
        rc = store_apply(s, c, &n, err, errlen);
    if (rc == STORE_OK && store_commit(s, err, errlen) < 0)
        rc = STORE_ERROR;
    if (rc != STORE_OK)
        store_rollback(s);
    return rc;
}

static char *json_detail(const char *k1, const char *v1, const char *k2, const char *v2)
{
    cJSON *o = cJSON_CreateObject();
    if (v1)
        cJSON_AddStringToObject(o, k1, v1);
    if (k2 && v2)
        cJSON_AddStringToObject(o, k2, v2);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int store_ack(struct store *s, const char *id, const char *outcome, const char *note,
              const struct store_actor *by, int64_t now_us, char *err, size_t errlen)
{
    struct store_change c = {.id = id, .by = by, .event = "closed", .update = ST_CLOSE,
                             .outcome = outcome, .note = note, .now_us = now_us};
    c.detail = json_detail("outcome", outcome, "note", note);
    int rc = store_change(s, &c, err, errlen);
    free(c.detail);
    return rc;
}

int store_release(struct store *s, const char *id, const struct store_actor *by,
                  int64_t now_us, char *err, size_t errlen)
{
    struct store_change c = {.id = id, .by = by, .event = "released",
                             .update = ST_RELEASE, .now_us = now_us};
    return store_change(s, &c, err, errlen);
}

int store_reassign(struct store *s, const char *id, const char *committee,
                   const struct store_actor *by, int64_t now_us, char *err, size_t errlen)
{
    struct store_now n;
    struct store_change c = {.id = id, .by = by, .event = "reassigned",
                             .update = ST_REASSIGN, .committee = committee,
                             .now_us = now_us};
    int rc = store_state(s, id, &n, err, errlen);
    if (rc != STORE_OK)
        return rc;
    c.detail = json_detail("from", n.committee, "to", committee);
    rc = store_change(s, &c, err, errlen);
    free(c.detail);
    return rc;
}

/* ---- history and status ---- */

cJSON *store_history(struct store *s, const char *since_id, int limit, char *err,
                     size_t errlen)
{
    cJSON *a = cJSON_CreateArray();
    sqlite3_stmt *q = store_stmt(s, ST_HISTORY);
    store_bind_text(q, 1, since_id ? since_id : "");
    sqlite3_bind_int(q, 2, limit > 0 ? limit : 1000);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        add_text(o, "id", q, 0);
        add_text(o, "title", q, 1);
        add_text(o, "body", q, 2);
        add_text(o, "committee", q, 3);
        add_text(o, "routed_committee", q, 4);
        cJSON_AddItemToObject(o, "topics", store_topics_json(q, 5));
        cJSON_AddItemToArray(a, o);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        store_err(s, err, errlen, "history");
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *store_status(struct store *s, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject(), *queues = cJSON_AddObjectToObject(o, "queues");
    sqlite3_stmt *q = store_stmt(s, ST_STATUS);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *c = cJSON_AddObjectToObject(queues, store_col(q, 0));
        cJSON_AddNumberToObject(c, "open", sqlite3_column_double(q, 1));
        cJSON_AddNumberToObject(c, "leased", sqlite3_column_double(q, 2));
        cJSON_AddNumberToObject(c, "oldest_us", sqlite3_column_double(q, 3));
    }
    sqlite3_reset(q);
    q = store_stmt(s, ST_TOTAL);
    if (rc != SQLITE_DONE || sqlite3_step(q) != SQLITE_ROW) {
        store_err(s, err, errlen, "status");
        sqlite3_reset(q);
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "total", (double)sqlite3_column_int64(q, 0));
    sqlite3_reset(q);
    return o;
}
