/* collector_flight: the reports the collector has sent on but the archive
 * has not confirmed yet (the forwarding window), and the drop files whose
 * reports are spooled but not confirmed (so the drop folder never reads
 * them twice).
 *
 * The window: a hash by id, and a list ordered by when each entry is due to
 * be (re)sent.  An entry added unsent is due at once; a sent one after the
 * resend interval, doubled at every resend up to 4 times the interval, so
 * a slow archive is not flooded with copies.
 *
 * The held files: a set of relative drop paths, one per spooled drop record
 * that is not yet confirmed -- rebuilt from the spool at start-up.
 *
 * Not here: the spool itself (entries point into it by segment and offset),
 * the bus.  Ownership: flight_new returns a table freed by flight_free(&f);
 * entries are owned by the table and valid until flight_remove.
 */
#ifndef MINYI_COLLECTOR_FLIGHT_H
#define MINYI_COLLECTOR_FLIGHT_H
#include "htable.h"
#include <stddef.h>
#include <stdint.h>

struct flight_entry {
    char id[32];
    uint32_t seg;                 /* where the record is in the spool */
    uint64_t off;
    char *rel;                    /* drop file, NULL for socket reports */
    uint64_t dev, ino;
    int64_t due_ms;               /* monotonic time of the next send */
    int sends;                    /* 0: never sent */
    struct flight_entry *prev, *next;   /* due list */
    struct htable_node hnode;           /* in the table by id */
};

struct flight;

/* An empty table; never NULL. */
struct flight *flight_new(void);
/* Free every entry and held name; sets *f = NULL. NULL-safe. */
void flight_free(struct flight **f);

/* Add an unsent entry (due at now_ms); id, seg, off, rel ("" or NULL for
 * none), dev, ino are copied.  The id must not be in the table. */
struct flight_entry *flight_add(struct flight *f, const char *id, uint32_t seg,
                                uint64_t off, const char *rel, uint64_t dev,
                                uint64_t ino, int64_t now_ms);
/* The entry with this id, or NULL. */
struct flight_entry *flight_find(const struct flight *f, const char *id);
/* Remove and free e. */
void flight_remove(struct flight *f, struct flight_entry *e);
/* The entry due first if it is due at now_ms, else NULL. */
struct flight_entry *flight_due(const struct flight *f, int64_t now_ms);
/* e was just sent: count it and make it due again after resend_ms (doubled
 * per earlier send, at most 4 times). */
void flight_sent(struct flight *f, struct flight_entry *e, int64_t now_ms,
                 int resend_ms);
/* Entries in the window. */
size_t flight_count(const struct flight *f);

/* Hold the drop file rel (a report of it is spooled, not confirmed). */
void flight_hold(struct flight *f, const char *rel);
/* Release one hold of rel (no-op if not held). */
void flight_release(struct flight *f, const char *rel);
/* 1 if rel is held. */
int flight_held(const struct flight *f, const char *rel);
/* Number of held files. */
size_t flight_nheld(const struct flight *f);

#endif
