/* archiver_upkeep: what the archiver does besides storing reports and
 * answering queries -- `minyi backup` (an online copy, made a few pages at
 * a time between batches, answered when it is complete) and retention
 * (closed reports older than retention.closed_days exported to JSON Lines,
 * then deleted, a thousand at a time).  The SQL lives in the store
 * (archiver_store_upkeep.c). */
#ifndef MINYI_ARCHIVER_UPKEEP_H
#define MINYI_ARCHIVER_UPKEEP_H
#include "bus.h"
#include <stdint.h>

struct config;
struct store;
struct store_backup;

struct upkeep {
    struct store_backup *backup;  /* a copy being made, or NULL */
    struct bus_msg req;           /* its request, answered when it ends */
    char *path;                   /* where it goes */
    int64_t started_ms;
    int64_t next_retention_ms;    /* 0: at the first step */
    unsigned long backups, retained;   /* copies made; reports exported and deleted */
};

/* A backup request {"cmd": "backup", "path": ABSOLUTE}: starts the copy and
 * takes *m over (it is answered when the copy ends), or answers at once
 * (busy: a copy is being made already; bad_request; internal) and leaves
 * *m to the caller. */
void upkeep_backup_request(struct upkeep *u, struct store *s, struct bus_sock *sock,
                           struct bus_msg *m, const char *path);
/* 1 while a copy is being made (the daemon should not sleep in poll). */
int upkeep_busy(const struct upkeep *u);
/* One turn: copy some pages and answer a finished copy; apply retention
 * when it is due (at the first turn, then hourly). */
void upkeep_step(struct upkeep *u, struct store *s, struct bus_sock *sock,
                 const struct config *cfg);
/* Abandon a copy in progress, if any: its client is answered internal with
 * why ("the archive is damaged"). */
void upkeep_cancel(struct upkeep *u, struct bus_sock *sock, const char *why);
/* Abandon a copy in progress (its client is told) and free everything. */
void upkeep_close(struct upkeep *u, struct bus_sock *sock);

#endif
