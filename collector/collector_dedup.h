/* collector_dedup: which reports the collector has already accepted, by
 * duplicate key (SPEC.md: the same member and ref is one report forever;
 * the same member, title and body within dedup_days is one report).
 *
 * A key is stored with the first report's id as µs (an id is its received
 * time, see report_stamp, so it also dates the key), in two tiers:
 *   memory  the keys added since the last merge, at most DEDUP_RESIDENT_MAX,
 *           in a fixed open-addressing table (4 MiB, never doubled), backed
 *           by an append-only journal of 24-byte records (key, id µs, kind,
 *           check) at PATH;
 *   disk    every older key in an immutable sorted file beside the journal
 *           (PATH with ".log" replaced by ".idx", see
 *           collector_dedup_index.h), one pread of a page per lookup.
 * So memory stays bounded however many reports were ever accepted.
 *
 * Group commit with the spool: dedup_add puts a key in the table and in a
 * journal buffer; after the spool's sync succeeded the collector calls
 * dedup_commit, after it failed dedup_rollback.  The journal is written and
 * fdatasync'd (dedup_flush) only before a spool segment is deleted, or when
 * many keys wait: until then the spool records carry their keys, which the
 * collector adds again at start-up, so a crash in between costs nothing and
 * an acknowledgement waits for one fdatasync, the spool's.
 *
 * When the table is full, dedup_add merges its committed keys into a new
 * index file (PATH.idx.tmp, fdatasync, rename, fsync of the folder) and only
 * then empties the journal; uncommitted keys stay in memory.  A crash before
 * the rename leaves the old index and the whole journal (plus the spool);
 * after it, the new index holds every key the journal still lists twice,
 * which costs nothing.  A damaged index is refused at open (see there).
 *
 * Not here: computing keys (report_content_key / report_ref_key), the spool.
 * Ownership: dedup_open returns a table freed by dedup_close(&d).
 */
#ifndef MINYI_COLLECTOR_DEDUP_H
#define MINYI_COLLECTOR_DEDUP_H
#include <stddef.h>
#include <stdint.h>

enum dedup_kind { DEDUP_CONTENT = 0, DEDUP_REF = 1 };

/* Keys kept in memory before a merge into the index file (3/4 of the
 * table's 2^18 slots). */
#define DEDUP_RESIDENT_MAX 196608

struct dedup;

/* Open the index beside path (missing: empty; damaged: refused, with what
 * to do in err), load the journal at path (missing: empty) into memory,
 * dropping content keys older than `days` before now_us and torn records,
 * and compact it (new file, fsync, rename).  Returns 0 and *out, or -1 with
 * "dedup: PATH: reason" in err. */
int dedup_open(const char *path, int days, int64_t now_us, struct dedup **out,
               char *err, size_t errlen);
/* Free the table, close the journal and the index (unflushed keys are
 * lost); sets *d = NULL.  NULL-safe. */
void dedup_close(struct dedup **d);

/* 1 and *id_us (the first report's id) if key of this kind is known and,
 * for content keys, not older than the window at now_us; else 0. */
int dedup_find(const struct dedup *d, enum dedup_kind kind, uint64_t key,
               int64_t now_us, int64_t *id_us);
/* Remember key -> id_us, in memory at once, in the journal at the next
 * dedup_flush, unless the key is known and live at id_us (the first id
 * stays; an expired content key is replaced).  key 0 is ignored.  May merge
 * the memory tier into the index first; a failed merge is logged and the
 * table grows instead (retried later). */
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

/* Keys known: in memory plus in the index (a key in both, left by a crash
 * between a merge and the journal's reset, counts twice; expired content
 * keys may still count). */
size_t dedup_count(const struct dedup *d);
/* Keys in memory: at most DEDUP_RESIDENT_MAX unless a merge failed. */
size_t dedup_resident(const struct dedup *d);
/* For tests: merge at max resident keys instead (1..DEDUP_RESIDENT_MAX). */
void dedup_set_resident_max(struct dedup *d, size_t max);
/* The greatest id µs ever added or loaded, 0 if none: the collector never
 * hands out an id at or below it, even when the clock went back. */
int64_t dedup_max_id_us(const struct dedup *d);

#endif
