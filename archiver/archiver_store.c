/* archiver_store.c: opening the archive, storing batches of reports once,
 * and the grouped counts of the audit.  Queues, show and history live in
 * archiver_store_queue.c.  See archiver_store.h for the contract.
 */
#include "archiver_store_impl.h"
#include "archiver_schema.h"
#include "report.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_SCHEMA_VERSION 2

/* Version 1 kept the tags in a table of their own, one row per tag; version
 * 2 keeps them with the report (one row instead of dozens per report). */
static const char store_migrate_1[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE reports ADD COLUMN topic TEXT;"
    "ALTER TABLE reports ADD COLUMN category TEXT;"
    "ALTER TABLE reports ADD COLUMN topics TEXT;"
    "UPDATE reports SET topic = t.topic, category = t.category FROM topics t "
    "  WHERE t.report_id = reports.id AND t.rank = 0;"
    "UPDATE reports SET topics = (SELECT json_group_array(json_object('topic', topic, "
    "  'category', category, 'score', score, 'hits', json(coalesce(hits, '[]')))) "
    "  FROM (SELECT * FROM topics t WHERE t.report_id = reports.id ORDER BY rank));"
    "DROP TABLE topics;"
    "DROP INDEX IF EXISTS reports_month;"
    "PRAGMA user_version = 2;"
    "COMMIT;";
#define STORE_BUSY_MS 100
/* A new archive gets 32 KB pages: a report with its tags (~5 KB, up to
 * ~20 KB for long ones) fits in one page instead of spilling to overflow
 * pages, and the WAL is written with few system calls.  Against 16 KB
 * pages the archiver spent ~8% less CPU a report (38.8 against 42.3 µs,
 * mean of 7 alternating runs) and a month's audit of a million reports
 * took 187 instead of 224 ms; 64 KB pages were no better than 32.  (An
 * existing archive keeps its page size: changing it means rewriting the
 * whole file.) */
#define STORE_NEW_PAGE_SIZE "32768"
/* Cache: a batch's dirty pages (its rows and every index leaf they touch)
 * stay in memory until COMMIT instead of spilling to the WAL mid-batch. */
#define STORE_CACHE_KB "20000"
/* Checkpoint every 16 MB of WAL, whatever the archive's page size (500
 * pages of 32 KB; an older archive's 4 or 16 KB pages count up to the
 * same).  Every 64 MB copied an index page back less often but made each
 * checkpoint's fsync flush 64 MB, and the collector's fdatasync waited
 * behind it on the same disk: submit-ack p99 at half rate 12.5 ms instead
 * of 8.7 ms, for no throughput `make bench` could tell apart. */
#define STORE_CHECKPOINT_BYTES (16 << 20)
#define REPORT_COLS "id, member, title, body, ref, submitted_at, received_at, source, " \
                    "committee, routed_committee, state, outcome, note, lease_until_us, " \
                    "lease_owner, extra, topics"
#define MONTHS "month BETWEEN ?1 AND ?2"
/* A string of the tags (?17), NULL when they are not valid JSON. */
#define TAG(path) "CASE WHEN json_valid(?17) THEN json_extract(?17, '" path "') END"

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_HAS_ID] = "SELECT 1 FROM reports WHERE id = ?1",
    [ST_BY_REF] = "SELECT id FROM reports WHERE member = ?1 AND ref = ?2",
    [ST_BY_CONTENT] = "SELECT id FROM reports WHERE content_key = ?1 AND member = ?2 "
                      "AND title = ?3 AND body = ?4 AND received_us >= ?5 LIMIT 1",
    /* OR IGNORE: a resend (same id) or a second report with the same member
     * and ref is skipped and no change counted; store_put then asks why. */
    [ST_INSERT] = "INSERT OR IGNORE INTO reports(id, member, title, body, ref, submitted_at, "
                  "received_at, received_us, month, source, committee, routed_committee, "
                  "state, outcome, closed_us, content_key, extra, topic, category, topics) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13, ?14, "
                  "?15, ?16, coalesce(?18, " TAG("$[0].topic") "), "
                  "coalesce(?19, " TAG("$[0].category") "), "
                  "CASE WHEN json_valid(?17) THEN ?17 ELSE '[]' END)",
    [ST_INSERT_EVENT] = "INSERT INTO history(report_id, at_us, event, who, detail) "
                        "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_PULL_PICK] = "SELECT id FROM reports WHERE committee = ?1 AND state <> 'closed' "
                     "AND (state = 'open' OR lease_until_us <= ?2) "
                     "ORDER BY received_us LIMIT ?3",
    [ST_LEASE] = "UPDATE reports SET state = 'leased', lease_until_us = ?2, "
                 "lease_owner = ?3 WHERE id = ?1",
    [ST_QUEUE_LIST] = "SELECT " REPORT_COLS " FROM reports WHERE committee = ?1 "
                      "AND state <> 'closed' ORDER BY received_us, id LIMIT ?2",
    /* the next page: after report ?4, received at ?3 (ties broken by id) */
    [ST_QUEUE_AFTER] = "SELECT " REPORT_COLS " FROM reports WHERE committee = ?1 "
                       "AND state <> 'closed' AND received_us >= ?3 "
                       "AND (received_us > ?3 OR id > ?4) ORDER BY received_us, id LIMIT ?2",
    [ST_RECEIVED] = "SELECT received_us FROM reports WHERE id = ?1",
    [ST_QUEUE_COUNTS] = "SELECT total(state = 'open'), total(state = 'leased'), "
                        "min(received_us) FROM reports WHERE committee = ?1 "
                        "AND state <> 'closed'",
    [ST_GET] = "SELECT " REPORT_COLS " FROM reports WHERE id = ?1",
    [ST_EVENTS] = "SELECT at_us, event, who, detail FROM history WHERE report_id = ?1 "
                  "ORDER BY at_us, rowid",
    [ST_STATE] = "SELECT state, committee, lease_until_us, lease_owner FROM reports "
                 "WHERE id = ?1",
    [ST_CLOSE] = "UPDATE reports SET state = 'closed', outcome = ?2, note = ?3, "
                 "closed_us = ?4, lease_until_us = NULL, lease_owner = NULL WHERE id = ?1",
    [ST_RELEASE] = "UPDATE reports SET state = 'open', lease_until_us = NULL, "
                   "lease_owner = NULL WHERE id = ?1",
    [ST_REASSIGN] = "UPDATE reports SET committee = ?2, state = 'open', "
                    "lease_until_us = NULL, lease_owner = NULL WHERE id = ?1",
    [ST_HISTORY] = "SELECT id, title, body, committee, routed_committee, topics FROM reports "
                   "WHERE id > ?1 AND (state = 'closed' OR committee <> routed_committee) "
                   "ORDER BY id LIMIT ?2",
    [ST_STATUS] = "SELECT committee, total(state = 'open'), total(state = 'leased'), "
                  "min(received_us) "
                  "FROM reports WHERE state <> 'closed' GROUP BY committee",
    [ST_TOTAL] = "SELECT count(*) FROM reports",
    [ST_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'commits'",
    [ST_BY_MEMBER] = "SELECT member, NULL, count(*), total(outcome = 'adopted'), "
                     "total(outcome = 'forwarded'), total(outcome = 'filed'), "
                     "total(outcome = 'declined') FROM reports WHERE " MONTHS
                     " GROUP BY member",
    [ST_BY_COMMITTEE] = "SELECT committee, NULL, count(*), total(state = 'open'), "
                        "total(state = 'leased'), total(state = 'closed') FROM reports "
                        "WHERE " MONTHS " GROUP BY committee",
    [ST_BY_TOPIC] = "SELECT topic, category, count(*) FROM reports WHERE " MONTHS
                    " AND topic IS NOT NULL GROUP BY topic, category "
                    "ORDER BY count(*) DESC, topic",
    [ST_BY_MONTH] = "SELECT month, NULL, count(*) FROM reports WHERE " MONTHS
                    " GROUP BY month",
    [ST_BY_OUTCOME] = "SELECT coalesce(outcome, state), NULL, count(*) FROM reports WHERE "
                      MONTHS " GROUP BY 1",
    [ST_BY_MONTH_MEMBER] = "SELECT month, member, count(*), total(outcome = 'adopted'), "
                           "total(outcome = 'forwarded'), total(outcome = 'filed'), "
                           "total(outcome = 'declined') FROM reports WHERE " MONTHS
                           " GROUP BY month, member",
    /* the upstream spool is small (forwarded reports only): read it whole */
    [ST_BY_MONTH_MEMBER_UP] = "SELECT r.month, r.member, total(u.outcome = 'adopted'), "
                              "total(u.outcome2 = 'adopted') FROM upstream u "
                              "JOIN reports r ON r.id = u.report_id "
                              "WHERE r.month BETWEEN ?1 AND ?2 AND "
                              "(u.outcome = 'adopted' OR u.outcome2 = 'adopted') "
                              "GROUP BY r.month, r.member",
};

/* ---- helpers shared with archiver_store_queue.c ---- */

void store_err(struct store *s, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "store: %s: %s", what, s && s->db ? sqlite3_errmsg(s->db)
                                                           : "cannot open");
    int code = s && s->db ? sqlite3_errcode(s->db) & 0xff : SQLITE_OK;
    if ((code == SQLITE_CORRUPT || code == SQLITE_NOTADB) && !s->damaged[0])
        snprintf(s->damaged, sizeof s->damaged, "%s", sqlite3_errmsg(s->db));
}

sqlite3_stmt *store_stmt(struct store *s, enum st i)
{
    sqlite3_reset(s->st[i]);
    sqlite3_clear_bindings(s->st[i]);
    return s->st[i];
}

void store_bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

void store_bind_static(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

const char *store_col(sqlite3_stmt *q, int i)
{
    return (const char *)sqlite3_column_text(q, i);
}

int store_exec(struct store *s, enum st i, char *err, size_t errlen, const char *what)
{
    int rc = sqlite3_step(s->st[i]);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s->st[i]);
        return 0;
    }
    store_err(s, err, errlen, what);   /* before the reset, which keeps no message */
    sqlite3_reset(s->st[i]);
    return -1;
}

int store_event(struct store *s, const char *id, int64_t at_us, const char *event,
                const char *who, const char *detail, char *err, size_t errlen)
{
    sqlite3_stmt *q = store_stmt(s, ST_INSERT_EVENT);
    store_bind_text(q, 1, id);
    sqlite3_bind_int64(q, 2, at_us);
    store_bind_text(q, 3, event);
    store_bind_text(q, 4, who);
    store_bind_text(q, 5, detail);
    return store_exec(s, ST_INSERT_EVENT, err, errlen, "history");
}

void store_time(int64_t us, char out[40])
{
    struct report r = {0};
    report_stamp(&r, us);
    memcpy(out, r.received_at, 40);
}

void store_month(int64_t us, char out[8])
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(out, 8, "%Y-%m", &tm);
}

/* ---- open and close ---- */

/* The integer a pragma reads back ("PRAGMA page_size"), or def. */
static int store_pragma_int(sqlite3 *db, const char *pragma, int def)
{
    sqlite3_stmt *q;
    int v = def;
    if (sqlite3_prepare_v2(db, pragma, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* Bring an older archive to STORE_SCHEMA_VERSION.  0, or -1 with *msg. */
static int store_migrate(sqlite3 *db, char **msg)
{
    int version = store_pragma_int(db, "PRAGMA user_version", 0);
    if (version > STORE_SCHEMA_VERSION) {
        *msg = sqlite3_mprintf("the archive has schema version %d, newer than this "
                               "minyi (%d)", version, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (version == 1 && sqlite3_exec(db, store_migrate_1, NULL, NULL, msg) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* The archive's generation and commit count (meta) into s. */
static void store_read_meta(struct store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM meta", -1, &q, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        if (k && !strcmp(k, "generation"))
            snprintf(s->generation, sizeof s->generation, "%s",
                     (const char *)sqlite3_column_text(q, 1));
        else if (k && !strcmp(k, "commits"))
            s->commits = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
}

static int store_setup(struct store *s, char *err, size_t errlen)
{
    char *msg = NULL;
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    if (sqlite3_exec(s->db, "PRAGMA page_size=" STORE_NEW_PAGE_SIZE "; "
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-" STORE_CACHE_KB ";",
                     NULL, NULL, &msg) != SQLITE_OK ||
        store_migrate(s->db, &msg) < 0 ||
        sqlite3_exec(s->db, archiver_schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "store: schema: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
    sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
    int page = store_pragma_int(s->db, "PRAGMA page_size", 4096);
    sqlite3_wal_autocheckpoint(s->db, STORE_CHECKPOINT_BYTES / (page > 0 ? page : 4096));
    store_read_meta(s);
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "store: prepare %d: %s", i, sqlite3_errmsg(s->db));
            return -1;
        }
    return 0;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
    struct store *s = xcalloc(1, sizeof *s);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "store: %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "cannot open");
        store_close(&s);
        return -1;
    }
    if (store_setup(s, err, errlen) < 0) {
        store_close(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(struct store **sp)
{
    struct store *s = *sp;
    if (!s)
        return;
    store_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    *sp = NULL;
}

/* ---- damage ---- */

int store_check(struct store *s, int full, char *out, size_t outlen)
{
    sqlite3_stmt *q;
    const char *sql = full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)";
    int rc, bad = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        store_err(s, out, outlen, full ? "integrity_check" : "quick_check");
        return s->damaged[0] ? 1 : -1;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(q, 0);
        if (!line || !strcmp(line, "ok"))
            continue;
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, "%s%s", n ? "; " : "", line);
        bad = 1;
    }
    if (rc != SQLITE_DONE && !bad) {
        store_err(s, out, outlen, full ? "integrity_check" : "quick_check");
        bad = s->damaged[0] ? 1 : -1;
    }
    sqlite3_finalize(q);
    if (bad > 0 && !s->damaged[0])
        snprintf(s->damaged, sizeof s->damaged, "%s", out);
    return bad;
}

const char *store_damaged(const struct store *s)
{
    return s->damaged[0] ? s->damaged : NULL;
}

/* ---- batches ---- */

int store_begin(struct store *s, char *err, size_t errlen)
{
    if (store_exec(s, ST_BEGIN, err, errlen, "begin") < 0)
        return -1;
    s->in_tx = 1;
    return 0;
}

int store_commit(struct store *s, char *err, size_t errlen)
{
    if (store_exec(s, ST_BUMP, err, errlen, "meta") < 0 ||
        store_exec(s, ST_COMMIT, err, errlen, "commit") < 0) {
        store_rollback(s);
        return -1;
    }
    s->in_tx = 0;
    s->commits++;
    return 0;
}

void store_epoch(const struct store *s, const char **generation, int64_t *commits)
{
    *generation = s->generation;
    *commits = s->commits;
}

void store_rollback(struct store *s)
{
    if (s->in_tx || !sqlite3_get_autocommit(s->db)) {
        sqlite3_reset(s->st[ST_ROLLBACK]);
        sqlite3_step(s->st[ST_ROLLBACK]);
        sqlite3_reset(s->st[ST_ROLLBACK]);
    }
    s->in_tx = 0;
}

/* 1 if a report with r's id is stored, 0 if not, -1 on error. */
static int store_has_id(struct store *s, const struct report *r)
{
    sqlite3_stmt *q = store_stmt(s, ST_HAS_ID);
    store_bind_text(q, 1, r->id);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The id of an earlier report r duplicates, into dup_of: by member and ref
 * when r has a ref, else by content (key: report_content_key of r) within
 * window_us.  1 found, 0 not, -1 error. */
static int store_find_dup(struct store *s, const struct report *r, int64_t key,
                          int64_t window_us, char *dup_of, size_t duplen)
{
    sqlite3_stmt *q;
    if (r->ref) {
        q = store_stmt(s, ST_BY_REF);
        store_bind_text(q, 1, r->member);
        store_bind_text(q, 2, r->ref);
    } else {
        q = store_stmt(s, ST_BY_CONTENT);
        sqlite3_bind_int64(q, 1, key);
        store_bind_text(q, 2, r->member);
        store_bind_static(q, 3, r->title);
        store_bind_static(q, 4, r->body);
        sqlite3_bind_int64(q, 5, r->received_us - window_us);
    }
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        snprintf(dup_of, duplen, "%s", store_col(q, 0));
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);             /* title and body were borrowed */
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Why r was not stored (INSERT OR IGNORE changed nothing, or a content
 * copy was found in dup_of): STORE_ALREADY when its id is there, else
 * STORE_DUPLICATE with dup_of set, else STORE_ERROR. */
static int store_why_not(struct store *s, const struct report *r, int64_t key,
                         int64_t window_us, int found, char *dup_of, size_t duplen,
                         char *err, size_t errlen)
{
    int rc = store_has_id(s, r);
    if (rc == 1)
        return STORE_ALREADY;
    if (rc == 0 && !found)
        found = store_find_dup(s, r, key, window_us, dup_of, duplen);
    if (rc == 0 && found == 1)
        return STORE_DUPLICATE;
    if (rc < 0 || found < 0)
        store_err(s, err, errlen, "lookup");
    else
        snprintf(err, errlen, "store: insert of %s ignored (a missing field?)", r->id);
    return STORE_ERROR;
}

/* INSERT OR IGNORE r: 1 stored, 0 ignored (its id or its member and ref are
 * there), -1 error.  The long texts are bound without a copy. */
static int store_insert(struct store *s, const struct report *r,
                        const struct store_tags *tags, const char *outcome, int64_t key,
                        char *err, size_t errlen)
{
    static const char *const sources[] = {"socket", "drop", "import"};
    char month[8];
    store_month(r->received_us, month);
    char *extra = r->extra ? cJSON_PrintUnformatted(r->extra) : NULL;
    char *own = tags ? NULL : report_encode_tags(r);    /* r's own tags */
    sqlite3_stmt *q = store_stmt(s, ST_INSERT);
    store_bind_static(q, 1, r->id);
    store_bind_static(q, 2, r->member);
    store_bind_static(q, 3, r->title);
    store_bind_static(q, 4, r->body);
    store_bind_static(q, 5, r->ref);
    store_bind_static(q, 6, r->submitted_at);
    store_bind_static(q, 7, r->received_at);
    sqlite3_bind_int64(q, 8, r->received_us);
    store_bind_static(q, 9, month);
    store_bind_static(q, 10, sources[r->source <= REPORT_SOURCE_IMPORT ? r->source : 0]);
    store_bind_static(q, 11, r->committee ? r->committee : "");
    store_bind_static(q, 12, outcome ? "closed" : "open");
    store_bind_static(q, 13, outcome);
    if (outcome)
        sqlite3_bind_int64(q, 14, r->received_us);
    sqlite3_bind_int64(q, 15, key);
    store_bind_static(q, 16, extra);
    store_bind_static(q, 17, own ? own : tags->json);
    if (tags && tags->topic) {             /* the router named the best tag */
        store_bind_static(q, 18, tags->topic);
        store_bind_static(q, 19, tags->category);
    }
    int rc = store_exec(s, ST_INSERT, err, errlen, "insert");
    sqlite3_clear_bindings(q);             /* nothing borrowed outlives this call */
    free(extra);
    free(own);
    return rc < 0 ? -1 : sqlite3_changes(s->db) > 0;
}

/* The history event of a stored report: {"committee": C}, escaped by
 * cJSON (a committee id is [a-z0-9_-] when it comes through proto or the
 * rules, but the store does not rely on its callers for valid JSON). */
static int store_routed_event(struct store *s, const struct report *r, const char *event,
                              int64_t now_us, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "committee", r->committee ? r->committee : "");
    char *detail = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!detail)
        abort();                  /* cJSON fails only when memory does */
    int rc = store_event(s, r->id, now_us, event, NULL, detail, err, errlen);
    free(detail);
    return rc;
}

/* One statement for a new report: the INSERT decides, by the primary key and
 * reports_ref, whether r is already there or a copy by ref; only a report
 * without ref needs a lookup first (its content within the window). */
int store_put(struct store *s, const struct report *r, const struct store_tags *tags,
              const char *event,
              const char *outcome, int64_t window_us, int64_t now_us, char *dup_of,
              size_t duplen, char *err, size_t errlen)
{
    int64_t key = (int64_t)report_content_key_known(r);
    int found = r->ref ? 0 : store_find_dup(s, r, key, window_us, dup_of, duplen);
    if (found < 0) {
        store_err(s, err, errlen, "lookup");
        return STORE_ERROR;
    }
    int rc = found ? 0 : store_insert(s, r, tags, outcome, key, err, errlen);
    if (rc < 0)
        return STORE_ERROR;
    if (rc == 0)
        return store_why_not(s, r, key, window_us, found, dup_of, duplen, err, errlen);
    return store_routed_event(s, r, event, now_us, err, errlen) < 0 ? STORE_ERROR : STORE_OK;
}

/* ---- audit counts ---- */

int store_count(struct store *s, enum store_agg by, const char *from, const char *to,
                store_row_fn fn, void *arg, char *err, size_t errlen)
{
    static const enum st which[] = {ST_BY_MEMBER, ST_BY_COMMITTEE, ST_BY_TOPIC, ST_BY_MONTH,
                                    ST_BY_OUTCOME, ST_BY_MONTH_MEMBER,
                                    ST_BY_MONTH_MEMBER_UP};
    sqlite3_stmt *q = store_stmt(s, which[by]);
    store_bind_text(q, 1, from);
    store_bind_text(q, 2, to);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        long long n[STORE_AGG_MAXN] = {0};
        int nn = sqlite3_column_count(q) - 2;
        for (int i = 0; i < nn && i < STORE_AGG_MAXN; i++)
            n[i] = sqlite3_column_int64(q, i + 2);
        const char *key = store_col(q, 0), *key2 = store_col(q, 1);
        fn(arg, key ? key : "", key2, n, nn);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        store_err(s, err, errlen, "count");
        return -1;
    }
    return 0;
}
