/* collector_spool: the collector's durable spool, a log of segment files.
 *
 * STATE/spool/NNNNNNNN.seg holds records appended in id order, each
 *   [u32 magic][u32 payload length][u32 crc32 of payload] payload
 * where the payload is a fixed little-endian part (version, source, lengths,
 * the id, the duplicate keys, the drop file's dev and ino) followed by the
 * drop file's relative path and the report's wire JSON.
 * STATE/spool/NNNNNNNN.ack lists, one "ID CRC\n" line each (CRC: the id's
 * CRC-32 in hex, so a damaged line is a resend, never another id), the
 * records of that segment the archive confirmed; a segment that is sealed (no longer
 * appended to) and fully confirmed is deleted.
 *
 * Group commit: spool_append frames a record into a buffer, spool_sync
 * writes the buffer (one write(2) a group) and makes every record appended
 * since the last sync durable with one fdatasync.  Until then a record is
 * invisible to spool_next_pending, so nothing is forwarded that a crash
 * could still lose.
 *
 * Damage: a record that is not intact is skipped and the reader goes on at
 * the next intact one; the bytes go to STATE/spool/corrupt/ (see
 * collector_spool_damage.c).  Only an incomplete record at the end of the
 * newest segment is a torn write, cut away.
 *
 * Memory stays bounded whatever the backlog: per segment a few counters; the
 * confirmed ids only of the segment the read cursor is in.
 *
 * What does not live here: the report schema (ids and JSON are opaque
 * strings to the spool), duplicate detection, the forwarding window.
 *
 * Ownership: spool_open returns a spool freed by spool_close(&sp).  Functions
 * return 0 / -1 with "spool: reason" in err and errno set (ENOSPC, EDQUOT:
 * the disk is full -- the caller answers busy).
 */
#ifndef MINYI_COLLECTOR_SPOOL_H
#define MINYI_COLLECTOR_SPOOL_H
#include <stddef.h>
#include <stdint.h>

#define SPOOL_ID_MAX 31                    /* bytes of an id, sortable text */
#define SPOOL_SEGMENT_BYTES (8u << 20)     /* roll over to a new segment here */

struct spool;

/* One record.  For spool_append the caller fills everything but seg/off
 * (set by the call); from spool_next_pending / spool_read / the open scan,
 * rel and data point into the spool's buffer, valid until the next call
 * that reads the spool. */
struct spool_rec {
    char id[SPOOL_ID_MAX + 1];    /* strictly increasing within the spool */
    int source;                   /* the caller's enum report_source */
    uint64_t content_key;         /* duplicate keys, for rebuilding the index */
    uint64_t ref_key;
    const char *rel;              /* drop file relative path, "" for sockets */
    uint64_t dev, ino;            /* drop file identity, 0 for sockets */
    const char *data;             /* the report's wire JSON, NUL-terminated */
    size_t len;                   /* strlen(data) */
    uint32_t seg;                 /* where it is: segment number ... */
    uint64_t off;                 /* ... and byte offset of its header */
};

/* Called by spool_open for every intact record found (pending or not), in
 * order; `pending` is 1 if the archive has not confirmed it yet. */
typedef void (*spool_scan_fn)(void *arg, const struct spool_rec *rec, int pending);

/* Called before a sealed, fully confirmed segment is deleted, so that what
 * only its records still hold (the collector: their duplicate keys) can be
 * made durable elsewhere first.  0 lets the deletion go ahead; -1 keeps the
 * segment (it is tried again at the next open). */
typedef int (*spool_guard_fn)(void *arg);

/* Called with each id of a damaged record the archive had not confirmed
 * (a report lost): at open for every note in corrupt/, and whenever damage
 * is found; refiled is the id of the copy filed again since (see
 * spool_refiled), else NULL.  The same id may come more than once. */
typedef void (*spool_lost_fn)(void *arg, const char *id, const char *refiled);

struct spool_hooks {
    spool_scan_fn scan;           /* may be NULL */
    spool_guard_fn guard;         /* may be NULL */
    spool_lost_fn lost;           /* may be NULL */
    void *arg;                    /* passed to each */
};

/* Open (creating if needed) the spool in dir and recover it: skip damaged
 * records and cut a torn tail (both copied to corrupt/, logged), delete fully confirmed segments and stray .ack files,
 * start a fresh active segment.  seg_bytes: roll-over size (0: default).
 * scan may be NULL.  Returns 0 and *out, or -1 with err. */
int spool_open(const char *dir, size_t seg_bytes, spool_scan_fn scan, void *arg,
               struct spool **out, char *err, size_t errlen);
/* spool_open with a guard as well (hooks may be NULL; copied). */
int spool_open_hooks(const char *dir, size_t seg_bytes, const struct spool_hooks *hooks,
                     struct spool **out, char *err, size_t errlen);
/* Close files and free; sets *sp = NULL.  Unsynced appends are dropped
 * (truncated) as if spool_sync had failed.  NULL-safe. */
void spool_close(struct spool **sp);

/* Append one record to the active segment, unsynced and usually not yet
 * written (a megabyte of them is written at once); sets rec->seg and
 * rec->off.  rec->id must sort after every id already appended.  Returns 0,
 * or -1 with err: then every record appended since the last successful
 * spool_sync is discarded and must be answered as failed.  Most write
 * errors show at spool_sync, with the same effect. */
int spool_append(struct spool *sp, struct spool_rec *rec, char *err, size_t errlen);
/* Call fn(arg, rec, 1) for every durable record the archive has not
 * confirmed, in order, reading the segments from disk (for rare uses: the
 * collector rebuilding its duplicate index).  Damaged bytes are passed
 * over.  Returns 0 / -1 with err (a read error). */
int spool_walk_pending(struct spool *sp, spool_scan_fn fn, void *arg, char *err,
                       size_t errlen);
/* Make every record appended since the last sync durable (one fdatasync),
 * then roll over to a new segment if the active one is full.  Returns 0, or
 * -1 with err: every record appended since the last sync is discarded. */
int spool_sync(struct spool *sp, char *err, size_t errlen);
/* Records appended but not yet synced. */
size_t spool_unsynced(const struct spool *sp);

/* The next durable, unconfirmed record after the read cursor.  Returns 1 and
 * *rec (buffers borrowed), 0 when there is none now, -1 with err on a read
 * error (the cursor skips the rest of that segment; logged). */
int spool_next_pending(struct spool *sp, struct spool_rec *rec, char *err,
                       size_t errlen);
/* Read the record at (seg, off) again, e.g. to resend it.  Returns 0 and
 * *rec (buffers borrowed), or -1 with err (the segment is gone or torn). */
int spool_read(struct spool *sp, uint32_t seg, uint64_t off, struct spool_rec *rec,
               char *err, size_t errlen);
/* The archive committed record `id` of segment `seg`: note it for the .ack
 * file (buffered until spool_flush_acks, never synced: a lost line only
 * causes a resend) and delete the segment once sealed and fully confirmed.
 * Call at most once per record and run; an unknown segment is ignored.
 * Returns 0 / -1 with err. */
int spool_confirm(struct spool *sp, uint32_t seg, const char *id, char *err,
                  size_t errlen);
/* Write the confirmations noted since the last call (one write(2)); also
 * done when another segment is confirmed, before its .ack is read, and at
 * close.  Returns 0 / -1 with err (the lines are lost: resends). */
int spool_flush_acks(struct spool *sp, char *err, size_t errlen);

/* Report lost_id, lost in damage, was filed again as new_id (synced):
 * note it in corrupt/refiled (synced), so that later copies are answered
 * as duplicates of new_id after a restart too.  0 / -1 with err. */
int spool_refiled(struct spool *sp, const char *lost_id, const char *new_id, char *err,
                  size_t errlen);

/* Durable records not yet confirmed. */
uint64_t spool_pending(const struct spool *sp);
/* The greatest id ever appended or found on disk, "" if none (borrowed). */
const char *spool_last_id(const struct spool *sp);
/* Number of segment files (for status and tests). */
size_t spool_segments(const struct spool *sp);

/* How long each group's sync (its write and fdatasync) took, since start:
 * hist[i] counts syncs of i to i + 1 quarter milliseconds, the last bucket
 * everything longer.  For status: the disk's share of a member's wait. */
#define SPOOL_SYNC_BUCKETS 128
#define SPOOL_SYNC_BUCKET_US 250
struct spool_sync_stats {
    uint64_t count;
    uint64_t max_us;
    uint64_t sum_us;              /* all syncs together (metrics' _sum) */
    uint32_t hist[SPOOL_SYNC_BUCKETS];
};
/* Borrowed; valid until spool_close. */
const struct spool_sync_stats *spool_sync_stats(const struct spool *sp);
/* The q-quantile (0 < q <= 1) of the syncs in µs: the upper edge of the
 * bucket holding the ceil(q * count)-th shortest, but never more than the
 * longest sync (which is also the answer in the last, open bucket); 0 when
 * there were none. */
uint64_t spool_sync_pct(const struct spool_sync_stats *st, double q);

/* Damage found in segments since open (collector_spool_damage.c): ranges
 * of bytes that were not intact records, copied to STATE/spool/corrupt/;
 * their size; and the records in them the archive had not confirmed (ids
 * legible in the bytes, or one when none is), i.e. reports lost. */
struct spool_damage {
    uint64_t ranges, bytes, records;
};
/* Borrowed; valid until spool_close. */
const struct spool_damage *spool_damage(const struct spool *sp);

/* CRC-32 (IEEE 802.3) of buf, as the spool's record headers use it. */
uint32_t spool_crc32(const void *buf, size_t len);

#endif
