/* collector_spool_impl.h: private to collector_spool.c (writing, the
 * cursor, confirmations) and collector_spool_disk.c (files, reading,
 * recovery).  Nobody else includes it: the contract is collector_spool.h.
 *
 * Invariants:
 *   - segs[] is sorted by seq; the last entry is the active segment, the
 *     only one appended to; all others are sealed.
 *   - Bytes of the active segment past `synced` are not yet durable: nobody
 *     reads them, and a failed write or sync truncates them away.  The last
 *     `wlen` of them are not even written yet: they wait in wbuf, so that a
 *     group costs one write(2) (or one a megabyte), not one per record.
 *   - An id is listed in a .ack file only after the archive committed it.
 */
#ifndef MINYI_COLLECTOR_SPOOL_IMPL_H
#define MINYI_COLLECTOR_SPOOL_IMPL_H
#include "collector_spool.h"
#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAGIC 0x4c505353u            /* "SSPL" little-endian */
#define SPOOL_HDR 12u                      /* magic, length, crc */
#define SPOOL_FIXED 72u                    /* fixed payload part, below */
#define SPOOL_VERSION 1u
#define SPOOL_PAYLOAD_MAX (16u << 20)      /* anything larger is garbage */
#define SPOOL_CHUNK (256u << 10)           /* read-ahead */
#define SPOOL_WBUF_MAX (1u << 20)          /* write a group's records out at this size */

/* Payload: u8 version, u8 source, u16 rel_len, u32 data_len, char id[32],
 * u64 content_key, ref_key, dev, ino; then rel, NUL, data, NUL.  All
 * integers little-endian. */

struct spool_seg {
    uint32_t seq;
    uint32_t count;               /* records in the file */
    uint32_t acked;               /* of those, confirmed */
    uint64_t size;                /* bytes (durable ones, for the active) */
};

struct spool_acks {               /* confirmed ids of one segment, sorted */
    char (*id)[SPOOL_ID_MAX + 1];
    size_t n, cap;
};

struct spool_buf {                /* read-ahead window over one segment */
    int fd;
    uint32_t seq;
    uint64_t start;
    size_t len, cap;
    char *p;
};

struct spool_skip {               /* bytes [off, end) of segment seq */
    uint32_t seq;
    uint64_t off, end;
};

struct reaper;

struct spool {
    char *dir;
    struct spool_hooks hooks;
    size_t seg_bytes;
    struct spool_seg *segs;
    size_t nsegs, cap;
    uint32_t next_seq;            /* number of the next segment file */
    int fd;                       /* active segment, O_APPEND */
    uint64_t synced;              /* durable size of the active segment */
    uint32_t synced_count;        /* its record count at the last sync */
    size_t unsynced;              /* records appended since */
    int broken;                   /* roll-back failed: roll before appending */
    uint64_t pending;             /* durable and unconfirmed */
    uint32_t cur_seq;             /* read cursor */
    uint64_t cur_off;
    struct spool_acks cur_acks;
    uint32_t cur_acks_seq;        /* 0: none loaded */
    int ack_fd;                   /* cached .ack file for confirmations */
    uint32_t ack_seq;
    char *abuf;                   /* its lines not yet written */
    size_t alen, acap;
    struct spool_buf rd;
    char *wbuf;                   /* framed records not yet written */
    size_t wlen, wcap;
    char last_id[SPOOL_ID_MAX + 1];
    struct reaper *reaper;        /* unlinks dead segments off the loop, or NULL */
    struct spool_sync_stats sync_stats;
    struct spool_damage damage;
    struct spool_skip *skips;     /* damaged ranges already quarantined */
    size_t nskips;
};

static inline void spool_put32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
}

static inline void spool_put64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}

static inline uint32_t spool_get32(const char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

static inline uint64_t spool_get64(const char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | (unsigned char)p[i];
    return v;
}


/* "spool: WHAT: strerror(errno)" into err; errno is kept. */
void spool_err(char *err, size_t errlen, const char *what);
/* DIR/NNNNNNNN.EXT (caller frees). */
char *spool_path(const struct spool *sp, uint32_t seq, const char *ext);
/* fsync a directory so a created file's name is durable. 0 / -1 (errno). */
int spool_fsync_dir(const char *dir);
/* The segment numbered seq, or NULL (pointer valid until segs[] changes). */
struct spool_seg *spool_seg_find(struct spool *sp, uint32_t seq);
/* The active segment (there always is one after spool_open). */
struct spool_seg *spool_active(struct spool *sp);
/* Add a segment at the end of segs[]. */
void spool_seg_push(struct spool *sp, uint32_t seq, uint32_t count, uint32_t acked,
                    uint64_t size);
/* Delete a sealed, fully confirmed segment's files and entry. */
void spool_seg_delete(struct spool *sp, struct spool_seg *s);
/* The same once the guard agrees (not asked for an empty segment); 1 if
 * deleted, 0 if kept. */
int spool_seg_retire(struct spool *sp, struct spool_seg *s);
/* Drop the read-ahead buffer (and its file if seq is 0 or its segment). */
void spool_rd_forget(struct spool *sp, uint32_t seq);

/* Write the buffered confirmation lines to the cached .ack file.  0 / -1
 * (errno; the lines are dropped: they only save resends). */
int spool_acks_write(struct spool *sp);
/* Load the sorted confirmed ids of segment seq into a. 0 / -1 (errno). */
int spool_acks_load(struct spool *sp, uint32_t seq, struct spool_acks *a);
/* 1 if id is in a. */
int spool_acks_has(const struct spool_acks *a, const char *id);
void spool_acks_free(struct spool_acks *a);

/* Read the record at (seq, off), not past limit: 0 and rec (borrowed
 * buffers), 1 if the bytes there are not an intact record, -1 read error. */
int spool_read_at(struct spool *sp, uint32_t seq, uint64_t off, uint64_t limit,
                  struct spool_rec *rec);
/* Make bytes [off, off+n) of segment seq, not past limit, available.
 * Returns a pointer into the read buffer (valid until the next read), or
 * NULL: errno 0 if the file ends first, else the read error. */
const char *spool_fetch(struct spool *sp, uint32_t seq, uint64_t off, size_t n,
                        uint64_t limit);
/* Decode a payload into rec (pointers into p): 0, or -1 if not one of ours. */
int spool_decode(const char *p, size_t n, struct spool_rec *rec);
/* Bytes a record takes in its segment file, header included. */
size_t spool_rec_size(const struct spool_rec *rec);

/* ---- collector_spool_damage.c ---- */

/* The offset of the first intact record after off and before limit in
 * segment seq, or limit if none: 0 and *next, -1 on a read error. */
int spool_resync(struct spool *sp, uint32_t seq, uint64_t off, uint64_t limit,
                 uint64_t *next);
/* Bytes [off, end) should be one record whose header (magic or length) was
 * damaged: if the header's checksum matches the payload, rewrite the header
 * (logged) and return 0 with rec; 1 if they are not; -1 on an I/O error. */
int spool_repair(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end,
                 struct spool_rec *rec);
/* Read every note in corrupt/ and hand the ids of its unconfirmed records
 * to the lost hook (at open: reports lost in damage found before). */
void spool_notes_load(struct spool *sp);
/* If bytes at (seq, off) were quarantined since open, the end of them
 * (where reading goes on), else 0. */
uint64_t spool_skip_known(const struct spool *sp, uint32_t seq, uint64_t off);
/* Copy bytes [off, end) of segment seq to corrupt/ with a note of the ids
 * legible in them (marked archived when in acks, which may be NULL), log
 * it (torn: an interrupted append at the end of the newest segment) and
 * count it in the spool's damage figures.  0, or -1 if the copy could not
 * be made (disk full): the caller keeps the segment, bytes and all. */
int spool_quarantine(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end,
                     const struct spool_acks *acks, int torn);

/* Seal the active segment and start a new one. 0 / -1 with err. */
int spool_roll(struct spool *sp, char *err, size_t errlen);
/* Truncate away everything appended since the last sync. */
void spool_rollback(struct spool *sp);

#endif
