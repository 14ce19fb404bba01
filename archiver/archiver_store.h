/* archiver_store: the SQLite archive -- the only module that includes
 * sqlite3.h.  Schema: archiver_schema.sql (docs/schema.md).
 *
 * WAL, synchronous=FULL, every statement prepared once at open.  A short
 * busy timeout: when another process holds the database, or the disk is
 * full, a call fails (rolled back) with -1 and "store: reason" in err, and
 * the daemon tries again later -- it never waits long and never crashes.
 *
 * Times: every function that changes something takes `now_us` (µs since
 * the epoch) so tests control the clock.  Months are "YYYY-MM" of a
 * report's received time in the process's timezone (TZ set from the config).
 *
 * Reports come back as cJSON objects shaped as the query protocol wants
 * them (common/proto.h): id, member, title, body, ref, submitted_at,
 * received_at, source, committee, routed_committee, state, outcome, note,
 * lease_until, lease_who, topics [{topic, category, score, hits}], extra
 * fields, and for store_show also history [{at, event, who, ...detail}].
 *
 * Ownership: store_open returns a store freed by store_close(&s); returned
 * cJSON objects belong to the caller (cJSON_Delete).
 */
#ifndef MINYI_ARCHIVER_STORE_H
#define MINYI_ARCHIVER_STORE_H
#include <stddef.h>
#include <stdint.h>

struct cJSON;
struct report;
struct store;

/* Results of store_put, and of the queue changes. */
enum store_rc {
    STORE_ERROR = -1,             /* err says why; the transaction must roll back */
    STORE_OK = 0,                 /* stored / changed */
    STORE_ALREADY = 1,            /* this id is in the archive already */
    STORE_DUPLICATE = 2,          /* a copy of another report (same member+ref or content) */
    STORE_NOT_FOUND = 3,          /* no such report */
    STORE_CONFLICT = 4,           /* not in a state that allows it (err says why) */
    STORE_FORBIDDEN = 5,          /* leased to someone else, or (must_hold) not to who */
};

/* Open (creating and migrating) the archive at path.  0 and *out, or -1. */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* Close; sets *s = NULL.  An open transaction is rolled back.  NULL-safe. */
void store_close(struct store **s);

/* ---- damage ---- */

/* Run PRAGMA quick_check (full: integrity_check), at most 20 problems.
 * Returns 0 if the archive is sound, 1 if damaged (out: the problems, "; "
 * between them; the store is then marked damaged), -1 if the check could
 * not run (out: why, e.g. locked). */
int store_check(struct store *s, int full, char *out, size_t outlen);
/* Why the archive is damaged -- a check failed, or SQLite answered
 * SQLITE_CORRUPT or SQLITE_NOTADB to any statement since open -- or NULL
 * when it is not known to be (borrowed, valid until store_close).  The
 * archiver stops writing once it is not NULL. */
const char *store_damaged(const struct store *s);

/* Which archive this is (a random id made when it was created; borrowed)
 * and how many transactions it has committed: a restored older copy has
 * the same generation and fewer commits, another archive another
 * generation. */
void store_epoch(const struct store *s, const char **generation, int64_t *commits);

/* ---- storing, in batches ---- */

/* BEGIN IMMEDIATE.  0 / -1 (locked, I/O error). */
int store_begin(struct store *s, char *err, size_t errlen);
/* COMMIT (counted in meta: store_epoch).  0, or -1 after rolling back
 * (nothing of the batch is kept). */
int store_commit(struct store *s, char *err, size_t errlen);
/* ROLLBACK (no-op outside a transaction). */
void store_rollback(struct store *s);

/* Insert r (id, received_us, received_at, committee, tags set) inside the
 * open transaction, once: STORE_OK, STORE_ALREADY (same id),
 * STORE_DUPLICATE with the first report's id in dup_of (same member and
 * ref; or, without ref, same member, title and body received within
 * window_us before r), or STORE_ERROR.  event: "routed" or "imported",
 * logged at now_us (so routed - received is the pipeline's latency); an
 * outcome (imported history) stores the report closed. */
/* tags: the router's frames, or NULL to store r's own tags. */
struct store_tags {
    const char *json;             /* the tags, a JSON array stored as it is
                                     ('[]' when it is not valid JSON) */
    const char *topic, *category; /* the best tag's, or NULL: read from json */
};
int store_put(struct store *s, const struct report *r, const struct store_tags *tags,
              const char *event,
              const char *outcome, int64_t window_us, int64_t now_us, char *dup_of,
              size_t duplen, char *err, size_t errlen);

/* ---- committee queues ---- */

/* Lease up to limit reports of committee to who for lease_s seconds: the
 * oldest open ones, and leased ones whose lease ended.  Returns an array
 * (maybe empty), or NULL on error. */
struct cJSON *store_pull(struct store *s, const char *committee, int limit, int lease_s,
                         const char *who, int64_t now_us, char *err, size_t errlen);
/* One page of the committee's open and leased reports, oldest first (by
 * received time, then id), without leasing: at most limit (<= 0: 100), and
 * no more once they hold max_bytes (at least one), after report `after`
 * (NULL: from the start).  {"reports": [...], "more": true when the queue
 * goes on, and on the first page its counts "open", "leased",
 * "oldest_age_s"}.  Memory is one page whatever the queue's length.  NULL
 * on error or when `after` is no report (err says which). */
struct cJSON *store_queue(struct store *s, const char *committee, int limit,
                          const char *after, size_t max_bytes, int64_t now_us, char *err,
                          size_t errlen);
/* Who changes a report.  Nobody may change a report leased to someone else
 * whose lease has not ended; with must_hold (a clerk) who must also hold
 * the report's lease (ended or not, as long as nobody took it since).
 * Refusals are STORE_FORBIDDEN with err naming the holder. */
struct store_actor {
    const char *who;              /* the principal's name, kept in the history */
    int must_hold;
};
/* Close report id with outcome and note (from open or leased). */
int store_ack(struct store *s, const char *id, const char *outcome, const char *note,
              const struct store_actor *by, int64_t now_us, char *err, size_t errlen);
/* Give a lease back: leased -> open. */
int store_release(struct store *s, const char *id, const struct store_actor *by,
                  int64_t now_us, char *err, size_t errlen);
/* Move an open or leased report to committee's queue as open; history keeps
 * {"from", "to"} (a routing correction). */
int store_reassign(struct store *s, const char *id, const char *committee,
                   const struct store_actor *by, int64_t now_us, char *err, size_t errlen);
/* The whole record with history, or NULL (not found or error: err). */
struct cJSON *store_show(struct store *s, const char *id, char *err, size_t errlen);
/* Closed or reassigned reports after since_id (NULL: from the start), in id
 * order, at most limit: [{id, title, body, committee, routed_committee,
 * topics}].  NULL on error. */
struct cJSON *store_history(struct store *s, const char *since_id, int limit, char *err,
                            size_t errlen);
/* {"total": N, "queues": {COMMITTEE: {"open", "leased"}}}, or NULL. */
struct cJSON *store_status(struct store *s, char *err, size_t errlen);

/* ---- audit queries: grouped counts over months from..to ("YYYY-MM",
 * inclusive), one callback per group ---- */

enum store_agg {
    STORE_BY_MEMBER,      /* key member;  n: count, adopted, forwarded, filed, declined */
    STORE_BY_COMMITTEE,   /* key committee; n: count, open, leased, closed */
    STORE_BY_TOPIC,       /* key topic, key2 category; n: count (every tag) */
    STORE_BY_MONTH,       /* key month;   n: count */
    STORE_BY_OUTCOME,     /* key outcome ("open", "leased" while not closed); n: count */
    STORE_BY_MONTH_MEMBER,/* key month, key2 member; n: count, adopted, forwarded, filed,
                             declined -- one pass gives months, quarters, years, trend */
    STORE_BY_MONTH_MEMBER_UPSTREAM, /* key month, key2 member; n: forwarded reports
                             adopted by the next level, adopted by the one above it */
};
#define STORE_AGG_MAXN 5
typedef void (*store_row_fn)(void *arg, const char *key, const char *key2,
                             const long long *n, int nn);
/* Run one grouped count; 0 / -1 with err. */
int store_count(struct store *s, enum store_agg by, const char *from, const char *to,
                store_row_fn fn, void *arg, char *err, size_t errlen);

/* ---- supervision (督办): archiver_store_supervise.c ---- */

/* An overdue report, as store_overdue passes it (strings borrowed for the
 * callback's duration). */
struct store_open_row {
    const char *id, *member, *title, *committee, *state;
    int64_t received_us;
    int64_t taken_us;             /* its first lease (taken up), 0: never */
    int noticed;                  /* 1: already recorded as overdue */
};
/* Return non-zero to stop the scan. */
typedef int (*store_open_fn)(void *arg, const struct store_open_row *r);
/* Call fn for at most limit of committee's overdue reports, oldest first:
 * not closed and received before close_before_us, or before take_before_us
 * and never leased; unnoticed: only those not yet recorded as overdue.
 * 0 / -1 with err. */
int store_overdue(struct store *s, const char *committee, int64_t close_before_us,
                  int64_t take_before_us, int unnoticed, int limit, store_open_fn fn,
                  void *arg, char *err, size_t errlen);
/* How many reports store_overdue would pass with no limit (counted on the
 * queue index, no row read): n >= 0, -1 with err. */
long store_overdue_count(struct store *s, const char *committee, int64_t close_before_us,
                         int64_t take_before_us, char *err, size_t errlen);
/* When report id was first leased (taken up): µs, 0 never, -1 on error. */
int64_t store_taken_us(struct store *s, const char *id);
/* Record that id first became overdue (kind "take_up" or "close", by days)
 * with an "overdue" history event, in one transaction; next_us: when to
 * run the notify command (0: no command).  1 recorded, 0 it was already,
 * -1 on error (err). */
int store_notice_add(struct store *s, const char *id, const char *kind, int days,
                     int64_t next_us, int64_t now_us, char *err, size_t errlen);
/* A notice whose notify command is due. */
struct store_notice {
    char id[64], committee[64], kind[16];
    int days, tries;
    int64_t first_us;
};
/* Up to max notices due at now_us into out, oldest due first.  Their
 * number, or -1 with err. */
int store_notice_due(struct store *s, int64_t now_us, struct store_notice *out, int max,
                     char *err, size_t errlen);
/* The notify run for id ended: error NULL (done; a "notified" history
 * event) or why it failed (run again at next_us).  0 / -1 with err. */
int store_notice_result(struct store *s, const char *id, const char *error, int64_t next_us,
                        int64_t now_us, char *err, size_t errlen);
typedef void (*store_closed_fn)(void *arg, const char *committee, int64_t received_us,
                                int64_t closed_us);
/* Call fn for every closed report received in months from..to.  0 / -1. */
int store_closed_in(struct store *s, const char *from, const char *to, store_closed_fn fn,
                    void *arg, char *err, size_t errlen);

/* ---- the upstream spool (报送): archiver_store_upstream.c ---- */

/* A forwarded report due for delivery or for an outcome poll. */
struct store_upstream {
    char id[64], upstream_id[64], member[64], committee[64];
    char outcome[16];             /* recorded so far ("": none) */
    int tries;
    char *title, *body, *note;    /* owned: store_upstream_clear */
};
/* Up to max rows in state ("pending": to deliver, "sent": to ask about)
 * whose next_us <= now_us, into out.  Their number, or -1 with err. */
int store_upstream_due(struct store *s, const char *state, int64_t now_us,
                       struct store_upstream *out, int max, char *err, size_t errlen);
/* Free u's strings. */
void store_upstream_clear(struct store_upstream *u);
/* A report the next level acknowledged: its id there, and the detail
 * (JSON) of its "upstream" history event. */
struct store_upstream_took {
    const char *id, *upstream_id, *detail;
};
/* The next level acknowledged each of took[0..n): sent, an "upstream"
 * history event, outcome asked for from next_us; one transaction (one
 * sync for a whole window).  0, or -1 with err and none recorded. */
int store_upstream_sent(struct store *s, const struct store_upstream_took *took, int n,
                        int64_t next_us, int64_t now_us, char *err, size_t errlen);
/* A try failed (why): again at next_us.  0 / -1. */
int store_upstream_retry(struct store *s, const char *id, const char *why, int64_t next_us,
                         char *err, size_t errlen);
/* What the next level did with a report. */
struct store_upstream_result {
    const char *id, *outcome, *note;
    const char *outcome2;         /* it forwarded it: the level above's outcome, or NULL */
    const char *detail;           /* the "upstream_outcome" history event's (JSON) */
    int final;                    /* 1: nothing more to ask (state closed) */
    int64_t next_us;              /* not final: ask again then */
};
/* Record r with an "upstream_outcome" history event.  0 / -1. */
int store_upstream_outcome(struct store *s, const struct store_upstream_result *r,
                           int64_t now_us, char *err, size_t errlen);
/* Ask about id again at next_us.  0 / -1. */
int store_upstream_later(struct store *s, const char *id, int64_t next_us, char *err,
                         size_t errlen);
/* id's row: 1 and its state, upstream id, outcome and the outcome a level
 * further up ("" when none); 0 no row; -1 on error. */
int store_upstream_of(struct store *s, const char *id, char state[16], char upstream_id[64],
                      char outcome[16], char outcome2[16]);
/* Rows pending, sent, closed into counts.  0 / -1. */
int store_upstream_counts(struct store *s, long counts[3]);

/* ---- feedback (反馈): a member's own reports ---- */

struct store_mine_row {
    const char *id, *title, *committee, *state, *outcome, *note;   /* outcome, note: NULL */
    int64_t received_us, closed_us;                                 /* closed_us: 0 */
};
typedef void (*store_mine_fn)(void *arg, const struct store_mine_row *r);
/* Call fn for member's reports, newest first, at most limit (strings
 * borrowed for the call).  0 / -1 with err. */
int store_member_reports(struct store *s, const char *member, int limit, store_mine_fn fn,
                         void *arg, char *err, size_t errlen);

/* "YYYY-MM" of us in the process's timezone into out (8 bytes). */
void store_month(int64_t us, char out[8]);

/* ---- upkeep (archiver_store_upkeep.c) ---- */

/* An online copy of the archive at path, made in steps. */
struct store_backup;
/* Begin a copy into path.tmp (created anew; an old path.tmp is removed).
 * 0 and *out (end it with store_backup_finish), or -1 with err. */
int store_backup_start(struct store *s, const char *path, struct store_backup **out,
                       char *err, size_t errlen);
/* Copy up to `pages` more pages; *done and *total say how far it is.
 * Returns 0 (more to copy), 1 (complete, synced and renamed to path: the
 * archive as of this call), or -1 with err (the copy is abandoned). */
int store_backup_step(struct store_backup *b, int pages, long *done, long *total, char *err,
                      size_t errlen);
/* Release a copy, finished or not (an unfinished path.tmp is removed);
 * sets *b = NULL.  NULL-safe. */
void store_backup_finish(struct store_backup **b);

/* Up to limit closed reports closed before before_us, oldest first, each
 * the whole record of store_show (history included).  An array (maybe
 * empty; caller deletes), or NULL with err. */
struct cJSON *store_expired(struct store *s, int64_t before_us, int limit, char *err,
                            size_t errlen);
/* Delete a closed report and its history, inside the caller's transaction;
 * an open or leased report is never touched.  0 / -1 with err. */
int store_forget(struct store *s, const char *id, char *err, size_t errlen);

#endif
