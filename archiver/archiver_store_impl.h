/* archiver_store_impl.h: private to the store module -- archiver_store.c
 * (open, batches, audit counts) and archiver_store_queue.c (queues, show,
 * history).  Nobody else includes it: the contract is archiver_store.h.
 */
#ifndef MINYI_ARCHIVER_STORE_IMPL_H
#define MINYI_ARCHIVER_STORE_IMPL_H
#include "archiver_store.h"
#include <sqlite3.h>

/* Every statement the store runs, prepared once at open. */
enum st {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_HAS_ID, ST_BY_REF, ST_BY_CONTENT, ST_INSERT, ST_INSERT_EVENT,
    ST_PULL_PICK, ST_LEASE, ST_QUEUE_LIST, ST_QUEUE_AFTER, ST_RECEIVED, ST_QUEUE_COUNTS,
    ST_GET, ST_EVENTS, ST_STATE, ST_CLOSE, ST_RELEASE, ST_REASSIGN,
    ST_HISTORY, ST_STATUS, ST_TOTAL, ST_BUMP,
    ST_BY_MEMBER, ST_BY_COMMITTEE, ST_BY_TOPIC, ST_BY_MONTH, ST_BY_OUTCOME, ST_BY_MONTH_MEMBER,
    ST_BY_MONTH_MEMBER_UP,
    ST_COUNT
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    int in_tx;
    char damaged[256];            /* "" or why the archive is damaged */
    char generation[40];          /* meta: which archive this is */
    int64_t commits;              /* meta: transactions committed so far */
};

/* "store: WHAT: sqlite's message" into err; notes SQLITE_CORRUPT and
 * SQLITE_NOTADB in s->damaged (store_damaged). */
void store_err(struct store *s, char *err, size_t errlen, const char *what);
/* Reset and clear bindings of statement i, and return it. */
sqlite3_stmt *store_stmt(struct store *s, enum st i);
/* Bind a string or NULL. */
void store_bind_text(sqlite3_stmt *q, int i, const char *v);
/* Bind a string or NULL without a copy: v must stay valid until the
 * statement's bindings are cleared (store_stmt does at its next use). */
void store_bind_static(sqlite3_stmt *q, int i, const char *v);
/* A column as a string ("" for NULL is NOT done: NULL stays NULL). */
const char *store_col(sqlite3_stmt *q, int i);
/* Run a statement to completion.  0 / -1 with err. */
int store_exec(struct store *s, enum st i, char *err, size_t errlen, const char *what);
/* Append a history event inside a transaction.  0 / -1. */
int store_event(struct store *s, const char *id, int64_t at_us, const char *event,
                const char *who, const char *detail, char *err, size_t errlen);
/* The report object of the row ST_GET or ST_QUEUE_LIST is on (topics included),
 * with history when with_history. */
struct cJSON *store_row_json(struct store *s, sqlite3_stmt *row, int with_history);
/* RFC 3339 (ms, local zone) of us into out (40 bytes). */
void store_time(int64_t us, char out[40]);

#endif
