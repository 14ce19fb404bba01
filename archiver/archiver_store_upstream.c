/* archiver_store_upstream.c: the SQL of the upstream spool (报送) -- which
 * forwarded reports are due for delivery or for an outcome poll, and the
 * records of each step (upstream id, outcome), each with its history
 * event.  Rows are made by the archive's trigger when a report is closed
 * as forwarded (archiver_schema.sql).  See archiver_store.h. */
#include "archiver_store_impl.h"
#include "xmalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *store_dup(const char *s)
{
    return xstrdup(s ? s : "");
}

int store_upstream_due(struct store *s, const char *state, int64_t now_us,
                       struct store_upstream *out, int max, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT u.report_id, u.upstream_id, u.tries, r.member, r.title, r.body, r.committee, "
        "  r.note, u.outcome FROM upstream u JOIN reports r ON r.id = u.report_id "
        "WHERE u.state = ?1 AND u.next_us <= ?2 ORDER BY u.next_us LIMIT ?3";
    sqlite3_stmt *q = NULL;
    int n = 0, rc = SQLITE_DONE;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        store_err(s, err, errlen, "upstream");
        sqlite3_finalize(q);
        return -1;
    }
    store_bind_text(q, 1, state);
    sqlite3_bind_int64(q, 2, now_us);
    sqlite3_bind_int(q, 3, max);
    while (n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_upstream *u = &out[n++];
        memset(u, 0, sizeof *u);
        snprintf(u->id, sizeof u->id, "%.63s", store_col(q, 0));
        snprintf(u->upstream_id, sizeof u->upstream_id, "%.63s",
                 store_col(q, 1) ? store_col(q, 1) : "");
        u->tries = sqlite3_column_int(q, 2);
        snprintf(u->member, sizeof u->member, "%.63s", store_col(q, 3));
        u->title = store_dup(store_col(q, 4));
        u->body = store_dup(store_col(q, 5));
        snprintf(u->committee, sizeof u->committee, "%.63s", store_col(q, 6));
        u->note = store_dup(store_col(q, 7));
        snprintf(u->outcome, sizeof u->outcome, "%.15s", store_col(q, 8) ? store_col(q, 8) : "");
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_err(s, err, errlen, "upstream");
        n = -1;
    }
    sqlite3_finalize(q);
    return n;
}

void store_upstream_clear(struct store_upstream *u)
{
    free(u->title);
    free(u->body);
    free(u->note);
    u->title = u->body = u->note = NULL;
}

/* One UPDATE of a row plus, when event, a history event, inside the
 * caller's transaction.  0 / -1 with err. */
static int up_apply(struct store *s, const char *sql, const char *id, const char *a,
                    const char *b, int64_t n1, int64_t n2, const char *event,
                    const char *detail, int64_t now_us, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        goto fail;
    store_bind_text(q, 1, id);
    store_bind_text(q, 2, a);
    store_bind_text(q, 3, b);
    sqlite3_bind_int64(q, 4, n1);
    sqlite3_bind_int64(q, 5, n2);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    return event ? store_event(s, id, now_us, event, NULL, detail, err, errlen) : 0;
fail:
    store_err(s, err, errlen, "upstream");
    sqlite3_finalize(q);
    return -1;
}

/* up_apply in a transaction of its own. */
static int up_change(struct store *s, const char *sql, const char *id, const char *a,
                     const char *b, int64_t n1, int64_t n2, const char *event,
                     const char *detail, int64_t now_us, char *err, size_t errlen)
{
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (up_apply(s, sql, id, a, b, n1, n2, event, detail, now_us, err, errlen) < 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s, err, errlen);
}

int store_upstream_sent(struct store *s, const struct store_upstream_took *took, int n,
                        int64_t next_us, int64_t now_us, char *err, size_t errlen)
{
    static const char sql[] =
        "UPDATE upstream SET state = 'sent', upstream_id = ?2, error = ?3, "
        "tries = tries + 1, sent_us = ?4, next_us = ?5 WHERE report_id = ?1 "
        "AND state = 'pending'";
    if (store_begin(s, err, errlen) < 0)
        return -1;
    for (int i = 0; i < n; i++)
        if (up_apply(s, sql, took[i].id, took[i].upstream_id, NULL, now_us, next_us, "upstream",
                     took[i].detail, now_us, err, errlen) < 0) {
            store_rollback(s);
            return -1;
        }
    return store_commit(s, err, errlen);
}

int store_upstream_retry(struct store *s, const char *id, const char *why, int64_t next_us,
                         char *err, size_t errlen)
{
    return up_change(s, "UPDATE upstream SET error = ?2, tries = tries + 1, next_us = ?5 "
                        "WHERE report_id = ?1",
                     id, why, NULL, 0, next_us, NULL, NULL, 0, err, errlen);
}

int store_upstream_outcome(struct store *s, const struct store_upstream_result *r,
                           int64_t now_us, char *err, size_t errlen)
{
    static const char sql[] =
        "UPDATE upstream SET state = CASE WHEN ?6 THEN 'closed' ELSE state END, "
        "outcome = ?2, note = ?3, outcome_us = ?4, next_us = ?5, outcome2 = ?7 "
        "WHERE report_id = ?1";
    sqlite3_stmt *q = NULL;
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        goto fail;
    store_bind_text(q, 1, r->id);
    store_bind_text(q, 2, r->outcome);
    store_bind_text(q, 3, r->note);
    sqlite3_bind_int64(q, 4, now_us);
    sqlite3_bind_int64(q, 5, r->next_us);
    sqlite3_bind_int(q, 6, r->final);
    store_bind_text(q, 7, r->outcome2);
    if (sqlite3_step(q) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(q);
    if (store_event(s, r->id, now_us, "upstream_outcome", NULL, r->detail, err, errlen) < 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s, err, errlen);
fail:
    store_err(s, err, errlen, "upstream");
    sqlite3_finalize(q);
    store_rollback(s);
    return -1;
}

int store_upstream_later(struct store *s, const char *id, int64_t next_us, char *err,
                         size_t errlen)
{
    return up_change(s, "UPDATE upstream SET next_us = ?5 WHERE report_id = ?1",
                     id, NULL, NULL, 0, next_us, NULL, NULL, 0, err, errlen);
}

int store_upstream_of(struct store *s, const char *id, char state[16], char upstream_id[64],
                      char outcome[16], char outcome2[16])
{
    static const char sql[] = "SELECT state, upstream_id, outcome, outcome2 FROM upstream "
                              "WHERE report_id = ?1";
    sqlite3_stmt *q = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return -1;
    }
    store_bind_text(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        found = 1;
        snprintf(state, 16, "%.15s", store_col(q, 0));
        snprintf(upstream_id, 64, "%.63s", store_col(q, 1) ? store_col(q, 1) : "");
        snprintf(outcome, 16, "%.15s", store_col(q, 2) ? store_col(q, 2) : "");
        snprintf(outcome2, 16, "%.15s", store_col(q, 3) ? store_col(q, 3) : "");
    }
    sqlite3_finalize(q);
    return found;
}

int store_upstream_counts(struct store *s, long counts[3])
{
    static const char sql[] = "SELECT total(state = 'pending'), total(state = 'sent'), "
                              "total(state = 'closed') FROM upstream";
    sqlite3_stmt *q = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        for (int i = 0; i < 3; i++)
            counts[i] = (long)sqlite3_column_double(q, i);
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc;
}
