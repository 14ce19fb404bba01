/* collector_dedup_index: the disk tier of the collector's duplicate keys --
 * one immutable file of (tag, id µs) records sorted by tag, found through a
 * sparse index in memory (each page's first tag: 8 bytes per 255 keys) and
 * one pread of a 4 KiB page, and replaced as a whole by a merge.
 *
 * File (little-endian), pages of 4096 bytes:
 *   page 0   header: "MINYIDX1", u32 version (1), u32 page size (4096),
 *            u64 records, i64 greatest id µs ever added, u64 check; zeroes
 *   page k   up to 255 records (u64 tag, i64 id µs), rising strictly by tag
 *            across the file; at byte 4080 u32 records in the page, u32 zero,
 *            u64 check of the page's bytes and k.  Every page but the last
 *            is full, the file is exactly 1 + ceil(records / 255) pages.
 * A tag is a key with its lowest bit replaced by its kind, 1 for a ref key
 * (kept forever), 0 for a content key (dropped by a merge once older than
 * the cut-off); 0 is never a tag.
 *
 * A file that fails any of these checks is refused, never repaired: it is
 * written once (PATH.tmp, fdatasync, rename, fsync of the folder), so damage
 * means the disk or a person changed it, and what it held is nowhere else.
 *
 * Not here: the memory tier, the journal, when to merge (collector_dedup.c).
 * Ownership: dedup_index_open returns an index freed by dedup_index_close.
 */
#ifndef MINYI_COLLECTOR_DEDUP_INDEX_H
#define MINYI_COLLECTOR_DEDUP_INDEX_H
#include <stddef.h>
#include <stdint.h>

struct dedup_ent {
    uint64_t tag;
    int64_t id_us;
};

struct dedup_index;

/* Open the index file at path (missing: an empty index), delete a PATH.tmp
 * left by an interrupted merge, check every page and keep the first tag of
 * each.  Returns 0 and *out, or -1 with "dedup: PATH: reason" in err (a
 * damaged or truncated file says so and how to start without it). */
int dedup_index_open(const char *path, struct dedup_index **out, char *err,
                     size_t errlen);
/* Close the file and free the index; sets *ix = NULL.  NULL-safe. */
void dedup_index_close(struct dedup_index **ix);

/* 1 and *id_us if tag is in the file, else 0; the last answer is kept, as
 * an add looks again for the tag just looked for.  A page that cannot be
 * read or is damaged is logged and counts as not found. */
int dedup_index_find(struct dedup_index *ix, uint64_t tag, int64_t *id_us);
/* Write a new file holding the current records and ents[0..n) (sorted by
 * tag, no tag twice), without content records older than cutoff_us; on a
 * tag in both, a ref keeps the smaller id (the first), a content key the
 * larger (it replaced an expired one).  Sync it, rename it over the old one,
 * sync the folder, and use it from now on; max_id goes into the header.
 * Returns 0, or -1 with err, the old file still in use and unchanged. */
int dedup_index_merge(struct dedup_index *ix, const struct dedup_ent *ents, size_t n,
                      int64_t cutoff_us, int64_t max_id, char *err, size_t errlen);

/* fsync the folder holding path, so a rename in it is durable.  0 / -1
 * (errno). */
int dedup_index_sync_dir(const char *path);

/* Records in the file. */
uint64_t dedup_index_count(const struct dedup_index *ix);
/* The greatest id µs recorded by a merge, 0 if none. */
int64_t dedup_index_max_id(const struct dedup_index *ix);

#endif
