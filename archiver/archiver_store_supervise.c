/* archiver_store_supervise.c: the SQL of supervision (督办) -- reports still
 * open before a cut-off, whether and when each was taken up, the notices
 * table (first seen overdue, the notify command's runs) and the closing
 * times the audit's supervision section reads -- and of feedback (反馈):
 * a member's own reports.  The deadlines themselves
 * (which report is overdue, by how many days) are archiver_supervise.c's.
 * These statements run a few times a minute at most, so each is prepared
 * when used rather than at open.  See archiver_store.h.
 */
#include "archiver_store_impl.h"
#include <stdio.h>
#include <string.h>

/* Prepare sql; NULL with err. */
static sqlite3_stmt *sv_prepare(struct store *s, const char *sql, char *err, size_t errlen,
                                const char *what)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        store_err(s, err, errlen, what);
        sqlite3_finalize(q);
        return NULL;
    }
    return q;
}

/* Finish q: 0 when it ran to the end (rc SQLITE_DONE), else -1 with err. */
static int sv_finish(struct store *s, sqlite3_stmt *q, int rc, char *err, size_t errlen,
                     const char *what)
{
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        store_err(s, err, errlen, what);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Overdue, in SQL: not closed, and received before the close cut-off, or
 * before the take-up cut-off and never leased.  Both ranges run on the
 * reports_queue index (committee, received_us; state <> 'closed'). */
#define SV_OVERDUE                                                                      \
    "committee = ?1 AND state <> 'closed' AND received_us < max(?2, ?3) "              \
    "AND (received_us < ?2 OR NOT EXISTS (SELECT 1 FROM history h "                    \
    "WHERE h.report_id = r.id AND h.event = 'leased'))"

/* Bind SV_OVERDUE's parameters ?1 committee, ?2 the close cut-off, ?3 the
 * take-up cut-off: the one place that knows their order. */
static void sv_bind_overdue(sqlite3_stmt *q, const char *committee, int64_t close_before_us,
                            int64_t take_before_us)
{
    store_bind_text(q, 1, committee);
    sqlite3_bind_int64(q, 2, close_before_us);
    sqlite3_bind_int64(q, 3, take_before_us);
}

int store_overdue(struct store *s, const char *committee, int64_t close_before_us,
                  int64_t take_before_us, int unnoticed, int limit, store_open_fn fn,
                  void *arg, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT id, member, title, committee, state, received_us, "
        "  (SELECT min(at_us) FROM history h WHERE h.report_id = r.id "
        "     AND h.event = 'leased'), "
        "  EXISTS (SELECT 1 FROM notices n WHERE n.report_id = r.id) AS noticed "
        "FROM reports r WHERE " SV_OVERDUE " AND (?4 = 0 OR NOT noticed) "
        "ORDER BY received_us LIMIT ?5";
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, "overdue");
    int rc;
    if (!q)
        return -1;
    sv_bind_overdue(q, committee, close_before_us, take_before_us);
    sqlite3_bind_int(q, 4, unnoticed);
    sqlite3_bind_int(q, 5, limit);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_open_row r = {
            .id = store_col(q, 0), .member = store_col(q, 1), .title = store_col(q, 2),
            .committee = store_col(q, 3), .state = store_col(q, 4),
            .received_us = sqlite3_column_int64(q, 5),
            .taken_us = sqlite3_column_int64(q, 6), .noticed = sqlite3_column_int(q, 7)};
        if (fn(arg, &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    return sv_finish(s, q, rc, err, errlen, "overdue");
}

long store_overdue_count(struct store *s, const char *committee, int64_t close_before_us,
                         int64_t take_before_us, char *err, size_t errlen)
{
    static const char sql[] = "SELECT count(*) FROM reports r WHERE " SV_OVERDUE;
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, "overdue count");
    long n = -1;
    int rc;
    if (!q)
        return -1;
    sv_bind_overdue(q, committee, close_before_us, take_before_us);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(q, 0);
    return sv_finish(s, q, rc, err, errlen, "overdue count") < 0 ? -1 : n;
}

int64_t store_taken_us(struct store *s, const char *id)
{
    static const char sql[] = "SELECT min(at_us) FROM history WHERE report_id = ?1 "
                              "AND event = 'leased'";
    char err[256];
    sqlite3_stmt *q = sv_prepare(s, sql, err, sizeof err, "taken");
    int64_t at = -1;
    if (!q)
        return -1;
    store_bind_text(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW)
        at = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return at;
}

/* Run one change statement with (id, kind/error text, two numbers). */
static int sv_change(struct store *s, const char *sql, const char *id, const char *text,
                     int64_t a, int64_t b, char *err, size_t errlen, const char *what)
{
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, what);
    if (!q)
        return -1;
    store_bind_text(q, 1, id);
    store_bind_text(q, 2, text);
    sqlite3_bind_int64(q, 3, a);
    if (b)
        sqlite3_bind_int64(q, 4, b);
    else
        sqlite3_bind_null(q, 4);
    return sv_finish(s, q, sqlite3_step(q), err, errlen, what);
}

int store_notice_add(struct store *s, const char *id, const char *kind, int days,
                     int64_t next_us, int64_t now_us, char *err, size_t errlen)
{
    static const char sql[] = "INSERT OR IGNORE INTO notices(report_id, kind, days, "
                              "first_us, next_us) VALUES (?1, ?2, ?5, ?3, ?4)";
    char detail[96];
    sqlite3_stmt *q;
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (!(q = sv_prepare(s, sql, err, errlen, "notice")))
        goto fail;
    store_bind_text(q, 1, id);
    store_bind_text(q, 2, kind);
    sqlite3_bind_int64(q, 3, now_us);
    if (next_us)
        sqlite3_bind_int64(q, 4, next_us);
    sqlite3_bind_int(q, 5, days);
    if (sv_finish(s, q, sqlite3_step(q), err, errlen, "notice") < 0)
        goto fail;
    int added = sqlite3_changes(s->db) > 0;
    snprintf(detail, sizeof detail, "{\"deadline\":\"%s\",\"days\":%d}", kind, days);
    if (added && store_event(s, id, now_us, "overdue", NULL, detail, err, errlen) < 0)
        goto fail;
    if (store_commit(s, err, errlen) < 0)
        return -1;
    return added;
fail:
    store_rollback(s);
    return -1;
}

int store_notice_due(struct store *s, int64_t now_us, struct store_notice *out, int max,
                     char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT n.report_id, r.committee, n.kind, n.days, n.tries, n.first_us "
        "FROM notices n JOIN reports r ON r.id = n.report_id "
        "WHERE n.next_us IS NOT NULL AND n.next_us <= ?1 ORDER BY n.next_us LIMIT ?2";
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, "notices");
    int n = 0, rc = SQLITE_DONE;
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, now_us);
    sqlite3_bind_int(q, 2, max);
    while (n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_notice *e = &out[n++];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", store_col(q, 0));
        snprintf(e->committee, sizeof e->committee, "%s", store_col(q, 1));
        snprintf(e->kind, sizeof e->kind, "%s", store_col(q, 2));
        e->days = sqlite3_column_int(q, 3);
        e->tries = sqlite3_column_int(q, 4);
        e->first_us = sqlite3_column_int64(q, 5);
    }
    return sv_finish(s, q, rc, err, errlen, "notices") < 0 ? -1 : n;
}

int store_notice_result(struct store *s, const char *id, const char *error, int64_t next_us,
                        int64_t now_us, char *err, size_t errlen)
{
    if (error)
        return sv_change(s, "UPDATE notices SET tries = tries + 1, error = ?2, "
                            "next_us = ?4 WHERE report_id = ?1",
                         id, error, now_us, next_us, err, errlen, "notice");
    if (store_begin(s, err, errlen) < 0)
        return -1;
    if (sv_change(s, "UPDATE notices SET tries = tries + 1, error = ?2, done_us = ?3, "
                     "next_us = ?4 WHERE report_id = ?1", id, NULL, now_us, 0, err, errlen,
                  "notice") < 0 ||
        store_event(s, id, now_us, "notified", NULL, NULL, err, errlen) < 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s, err, errlen);
}

int store_closed_in(struct store *s, const char *from, const char *to, store_closed_fn fn,
                    void *arg, char *err, size_t errlen)
{
    static const char sql[] = "SELECT committee, received_us, closed_us FROM reports "
                              "WHERE month BETWEEN ?1 AND ?2 AND state = 'closed' "
                              "AND closed_us IS NOT NULL";
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, "closed");
    int rc;
    if (!q)
        return -1;
    store_bind_text(q, 1, from);
    store_bind_text(q, 2, to);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        fn(arg, store_col(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2));
    return sv_finish(s, q, rc, err, errlen, "closed");
}

int store_member_reports(struct store *s, const char *member, int limit, store_mine_fn fn,
                         void *arg, char *err, size_t errlen)
{
    static const char sql[] =
        "SELECT id, title, committee, state, outcome, note, received_us, closed_us "
        "FROM reports WHERE member = ?1 ORDER BY received_us DESC LIMIT ?2";
    sqlite3_stmt *q = sv_prepare(s, sql, err, errlen, "mine");
    int rc;
    if (!q)
        return -1;
    store_bind_text(q, 1, member);
    sqlite3_bind_int(q, 2, limit);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_mine_row r = {
            .id = store_col(q, 0), .title = store_col(q, 1), .committee = store_col(q, 2),
            .state = store_col(q, 3), .outcome = store_col(q, 4), .note = store_col(q, 5),
            .received_us = sqlite3_column_int64(q, 6), .closed_us = sqlite3_column_int64(q, 7)};
        fn(arg, &r);
    }
    return sv_finish(s, q, rc, err, errlen, "mine");
}
