/* collector_dedup: which reports the collector has already accepted, by
 * duplicate key (SPEC.md: the same member and ref is one report forever;
 * the same member, title and body within dedup_days is one report).
 *
 * An open-addressing hash table in memory (16 bytes a slot: the key tagged
 * with its kind, and the first report's id as µs -- an id is its received
 * time, see report_stamp, so it also dates the key), backed by an
 * append-only journal of fixed 24-byte records (key, id µs, kind, check).
 *
 * Group commit with the spool: dedup_add puts a key in the table and in a
 * journal buffer; after the spool's sync succeeded the collector calls
 * dedup_commit, after it failed dedup_rollback.  The journal is written and
 * fdatasync'd (dedup_flush) only before a spool segment is deleted, or when
 * many keys wait: until then the spool records carry their keys, which the
 * collector adds again at start-up, so a crash in between costs nothing and
 * an acknowledgement waits for one fdatasync, the spool's.
 *
 * Not here: computing keys (report_content_key / report_ref_key), the spool.
 * Ownership: dedup_open returns a table freed by dedup_close(&d).
 */
#ifndef MINYI_COLLECTOR_DEDUP_H
#define MINYI_COLLECTOR_DEDUP_H
#include <stddef.h>
#include <stdint.h>

enum dedup_kind { DEDUP_CONTENT = 0, DEDUP_REF = 1 };

struct dedup;

/* Load the journal at path (missing: empty), drop content keys older than
 * `days` before now_us and torn records, and compact it (new file, fsync,
 * rename).  Returns 0 and *out, or -1 with "dedup: PATH: reason" in err. */
int dedup_open(const char *path, int days, int64_t now_us, struct dedup **out,
               char *err, size_t errlen);
/* Free the table and close the journal (unflushed keys are lost); sets
 * *d = NULL.  NULL-safe. */
void dedup_close(struct dedup **d);

/* 1 and *id_us (the first report's id) if key of this kind is known and,
 * for content keys, not older than the window at now_us; else 0. */
int dedup_find(const struct dedup *d, enum dedup_kind kind, uint64_t key,
               int64_t now_us, int64_t *id_us);
/* Remember key -> id_us (replacing an expired content key), in memory at
 * once, in the journal at the next dedup_flush.  key 0 is ignored. */
void dedup_add(struct dedup *d, enum dedup_kind kind, uint64_t key, int64_t id_us);
/* The keys added since the last commit are backed by a synced spool record:
 * a rollback no longer forgets them (the next dedup_flush writes them). */
void dedup_commit(struct dedup *d);
/* Commit every key added so far and write all unwritten ones to the journal
 * with one fdatasync.  Returns 0, or -1 with err: the keys stay in memory
 * and are written again at the next flush. */
int dedup_flush(struct dedup *d, char *err, size_t errlen);
/* Forget the keys added since the last commit or flush (their reports were
 * not spooled after all). */
void dedup_rollback(struct dedup *d);
/* Keys committed or added but not yet written to the journal. */
size_t dedup_unflushed(const struct dedup *d);

/* Keys in the table (expired content keys may still be counted). */
size_t dedup_count(const struct dedup *d);
/* The greatest id µs ever added or loaded, 0 if none: the collector never
 * hands out an id at or below it, even when the clock went back. */
int64_t dedup_max_id_us(const struct dedup *d);

#endif
