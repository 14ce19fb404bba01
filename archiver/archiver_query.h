/* archiver_query: the archiver's query protocol (common/proto.h) -- one
 * JSON request in, one JSON reply out, for the minyi command: pull, queue,
 * ack, release, reassign, show, audit, import, history, status, check,
 * overdue, mine.
 * While the archive is damaged (store_damaged) the commands that write are
 * refused with internal; the others are tried.
 *
 * Every reply is {"v", "ok": true, ...} or {"v", "ok": false, "error": CODE,
 * "detail": TEXT} with CODE bad_request (malformed request, unknown
 * command or field value), not_found, conflict, busy (the archive is
 * locked or failing now; try again) or internal.  Nothing a client sends
 * can crash the daemon: every field is checked before use.
 *
 * Ownership: the context's pointers are borrowed from the daemon; the
 * returned string belongs to the caller (free).
 */
#ifndef MINYI_ARCHIVER_QUERY_H
#define MINYI_ARCHIVER_QUERY_H
#include "proto.h"
#include <stddef.h>

struct config;
struct roster;
struct rules;
struct store;
struct supervise;
struct upstream;

/* Batch sizes by powers of two: bucket i counts batches of at most 2^i
 * reports (the last one, everything larger). */
#define ARCHIVER_BATCH_BUCKETS 13

/* The daemon's counters, shown by status. */
struct archiver_stats {
    unsigned long stored, already, duplicates, batches, failed_batches, bad;
    unsigned long large;          /* messages received on the large lane */
    unsigned long batch_reports;  /* reports in committed batches, all told */
    unsigned long batch_hist[ARCHIVER_BATCH_BUCKETS];
    unsigned long backups;        /* online copies made (minyi backup) */
    unsigned long retained;       /* closed reports exported and deleted (retention) */
    struct proto_peers peers;     /* messages of other protocol versions */
};

struct query_ctx {
    struct store *store;
    const struct config *cfg;
    const struct roster *roster;
    const struct rules *rules;    /* committees (and categories) of the rules file */
    const struct archiver_stats *stats;
    struct daemon *daemon;        /* who may do what (daemon_allow) */
    const struct bus_msg *msg;    /* the request being answered (its sender) */
    const struct access_principal *principal;   /* its sender, NULL: nobody */
    const struct access_principal *acting;      /* who it acts as once allowed: the
                                                   sender, or the person a gateway names */
    const struct supervise *sv;   /* overdue counts as of the last check */
    const struct upstream *up;    /* the upstream sender's counters, or NULL */
};

/* The reply to one decoded request (proto_request_decode).  Never NULL;
 * the caller frees it. */
char *query_answer(struct query_ctx *q, const struct proto_request *req);

struct cJSON;
/* archiver_import.c: store historical reports (each with its own
 * received_at; optional id, committee, topics, outcome) in one
 * transaction.  Idempotent: a report without id gets one derived from its
 * received time and content, and duplicates are skipped.  Returns
 * {"imported", "duplicates", "errors": [{"index", "error", "detail"}]},
 * or NULL with err when the archive cannot be written now. */
struct cJSON *import_batch(struct query_ctx *q, const struct cJSON *reports, char *err,
                           size_t errlen);

#endif
