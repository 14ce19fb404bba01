/* collector.h: the state of minyi-collector, shared by its three parts:
 *
 *   collector.c          the daemon: sockets, the loop, status, start-up
 *   collector_intake.c   taking reports in (submit socket, drop folder):
 *                        validate, give an id, spool, group commit, reply
 *   collector_forward.c  sending spooled reports to the router, resending
 *                        what the archive has not confirmed, confirmations
 *
 * The promise: a report is answered ok (or its drop file kept for removal)
 * only after the spool's fsync; a drop file is removed and a spool record
 * marked done only after the archive confirmed that its transaction
 * committed.  Between the two, the spool holds the report through any crash.
 *
 * Ownership: everything in struct collector is owned by it and released by
 * the daemon's close.
 */
#ifndef MINYI_COLLECTOR_H
#define MINYI_COLLECTOR_H
#include "bus.h"
#include "log.h"
#include "proto.h"
#include <stddef.h>
#include <stdint.h>

struct config;
struct roster;
struct spool;
struct dedup;
struct drop;
struct flight;
struct epoch;

/* A socket request waiting for the group commit to be answered. */
struct intake_wait {
    struct bus_msg req;           /* owns the envelope until answered */
    char id[32];                  /* the id to answer with */
    int duplicate;                /* 1: answered as a duplicate of id */
    int error;                    /* enum report_reason, 0 when accepted */
    size_t lost;                  /* 1 + index in c->lost: it files a lost report again */
    char detail[256];
};

/* rejected_by is indexed by enum report_reason (room for reasons to come). */
#define COLLECTOR_REASONS 16

struct collector_stats {
    unsigned long accepted, duplicates, rejected, busy, forwarded, resent, confirmed;
    unsigned long sent_large;     /* sends (and resends) on the large lane */
    unsigned long rejected_by[COLLECTOR_REASONS];
};

/* A report lost in spool damage (collector_spool_damage.c) whose keys the
 * duplicate index still names: sent again, it is taken as new (repl_us:
 * its replacement, which later copies are answered as duplicates of). */
struct collector_lost {
    int64_t id_us, repl_us;
};

struct collector {
    const struct config *cfg;
    struct daemon *daemon;        /* its skeleton: who may do what (daemon_allow) */
    struct roster *roster;
    struct spool *spool;
    struct dedup *dedup;
    struct drop *drop;
    struct flight *flight;
    struct epoch *epoch;          /* the archive last seen (collector_epoch.h) */
    struct bus_sock *submit, *route, *route_large, *confirm, *ctl;
    struct intake_wait *wait;     /* socket requests of the current group */
    size_t nwait, capwait;
    char **group_rels;            /* drop files spooled in the current group */
    size_t ngroup_rels, capgroup_rels;
    char **group_said;            /* its "accepted" log lines, written once synced */
    size_t ngroup_said, capgroup_said;
    int64_t last_us;              /* the last id handed out, in µs */
    int64_t next_rescan_ms;
    int route_blocked;            /* a lane to the routers takes no more now */
    int blocked_lane;             /* which: 1 the large one */
    int64_t blocked_since_ms;     /* blocked, nothing sent, since (0: moving) */
    int blocked_warned;           /* and said so */
    struct log_repeat spool_errors;   /* the disk full: logged once, then summarised */
    struct collector_lost *lost;  /* reports lost in spool damage (few) */
    size_t nlost, caplost;
    struct collector_stats st;
    struct proto_peers peers;     /* messages of other protocol versions */
};

/* ---- collector_intake.c ---- */

/* Take up to max requests from the submit socket into the current group. */
void intake_socket(struct collector *c, size_t max);
/* Take up to max drop files (full: walk the whole folder) into the group;
 * returns how many were read (accepted or rejected). */
int intake_drop(struct collector *c, int full, size_t max);
/* End the group: one fsync for every report appended, then answer every
 * waiting request (ok, duplicate, or busy if the sync failed). */
void intake_commit(struct collector *c);
/* Free what the group holds (at close, after intake_commit). */
void intake_free(struct collector *c);

/* ---- collector.c ---- */

/* A confirmation named the archive: generation gen after `commits`
 * transactions.  If it is not the archive last seen (replaced, or restored
 * from an older copy), log it and set the duplicate index aside, so that no
 * duplicate answer names a report the archive may not hold. */
void collector_archive_seen(struct collector *c, const char *gen, int64_t commits);

/* The entry of c->lost for a report id (µs), or NULL. */
struct collector_lost *collector_lost_find(struct collector *c, int64_t id_us);

/* ---- collector_forward.c ---- */

/* Send spooled reports on while the window has room, then resend what is
 * due.  Sets c->route_blocked when the router stops taking them. */
void forward_run(struct collector *c);
/* Handle every confirmation message waiting on the confirm socket. */
void forward_confirms(struct collector *c);

#endif
