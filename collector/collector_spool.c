/* collector_spool.c: the segment log behind the collector's promise that
 * an acknowledged report survives any crash (see collector_spool.h).
 *
 * Lives here: record framing, appending with group commit and roll-back on
 * a failed write or sync, segment roll-over, the pending cursor and
 * confirmations.  Files, reading and recovery: collector_spool_disk.c.
 * What a record means: the collector.  Duplicates: collector_dedup.
 */
#include "collector_spool_impl.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

uint32_t spool_crc32(const void *buf, size_t len)
{
    /* zlib's CRC-32 (the IEEE polynomial, as before), a table at a time */
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > 1u << 30 ? 1u << 30 : (uInt)len;
        crc = crc32(crc, buf, n);
        buf = (const unsigned char *)buf + n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* ---- writing ---- */

/* Open a new, empty active segment after the last one; the old active is
 * sealed (and deleted at once if nothing in it is pending). */
int spool_roll(struct spool *sp, char *err, size_t errlen)
{
    uint32_t seq = sp->next_seq++;     /* never retried: a failed try may leave it */
    char *path = spool_path(sp, seq, "seg");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    free(path);
    if (fd < 0 || spool_fsync_dir(sp->dir) < 0) {
        spool_err(err, errlen, "new segment");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = fd;
    sp->broken = 0;
    sp->synced = 0;
    sp->synced_count = 0;
    spool_seg_push(sp, seq, 0, 0, 0);
    struct spool_seg *old = sp->nsegs > 1 ? &sp->segs[sp->nsegs - 2] : NULL;
    if (old && old->acked >= old->count)
        spool_seg_retire(sp, old);
    return 0;
}

/* Forget everything appended since the last sync: truncate the active
 * segment back and make the truncation durable, so that a report answered
 * busy never comes back after a crash.  If even that fails the segment is
 * abandoned (sealed) at the next append. */
void spool_rollback(struct spool *sp)
{
    struct spool_seg *a = spool_active(sp);
    int e = errno;
    if (ftruncate(sp->fd, (off_t)sp->synced) < 0 || fdatasync(sp->fd) < 0) {
        log_error("spool: %08u.seg: cannot truncate back to %llu: %s", a->seq,
                  (unsigned long long)sp->synced, strerror(errno));
        sp->broken = 1;
    }
    a->size = sp->synced;
    a->count = sp->synced_count;
    sp->unsynced = 0;
    sp->wlen = 0;
    spool_rd_forget(sp, a->seq);
    errno = e;
}

/* Frame rec at the end of the write buffer; returns its size there. */
static size_t spool_frame(struct spool *sp, const struct spool_rec *rec)
{
    size_t rel_len = strlen(rec->rel ? rec->rel : "");
    size_t n = SPOOL_FIXED + rel_len + 1 + rec->len + 1;
    if (sp->wlen + SPOOL_HDR + n > sp->wcap) {
        sp->wcap = sp->wlen + SPOOL_HDR + n;
        if (sp->wcap < 2 * sp->wlen)
            sp->wcap = 2 * sp->wlen;
        sp->wbuf = xrealloc(sp->wbuf, sp->wcap);
    }
    char *h = sp->wbuf + sp->wlen, *p = h + SPOOL_HDR;
    memset(p, 0, SPOOL_FIXED);
    p[0] = (char)SPOOL_VERSION;
    p[1] = (char)rec->source;
    p[2] = (char)(rel_len & 0xff);
    p[3] = (char)(rel_len >> 8);
    spool_put32(p + 4, (uint32_t)rec->len);
    xstrlcpy(p + 8, rec->id, SPOOL_ID_MAX + 1);
    spool_put64(p + 40, rec->content_key);
    spool_put64(p + 48, rec->ref_key);
    spool_put64(p + 56, rec->dev);
    spool_put64(p + 64, rec->ino);
    memcpy(p + SPOOL_FIXED, rec->rel ? rec->rel : "", rel_len + 1);
    memcpy(p + SPOOL_FIXED + rel_len + 1, rec->data, rec->len);
    p[n - 1] = '\0';
    spool_put32(h, SPOOL_MAGIC);
    spool_put32(h + 4, (uint32_t)n);
    spool_put32(h + 8, spool_crc32(p, n));
    sp->wlen += SPOOL_HDR + n;
    return SPOOL_HDR + n;
}

/* Write out the framed records.  0, or -1 with err after rolling back. */
static int spool_write_buffered(struct spool *sp, char *err, size_t errlen)
{
    if (sp->wlen == 0)
        return 0;
    if (fileio_write_all(sp->fd, sp->wbuf, sp->wlen) < 0) {
        spool_err(err, errlen, "write");
        spool_rollback(sp);
        return -1;
    }
    sp->wlen = 0;
    return 0;
}

int spool_append(struct spool *sp, struct spool_rec *rec, char *err, size_t errlen)
{
    size_t rel_len = strlen(rec->rel ? rec->rel : "");
    if (rel_len > 0xffff || rec->len > SPOOL_PAYLOAD_MAX / 2 || !rec->id[0]) {
        errno = EINVAL;
        snprintf(err, errlen, "spool: record too large or without id");
        return -1;
    }
    assert(strcmp(rec->id, sp->last_id) > 0);  /* ids only grow */
    if (sp->broken && sp->unsynced == 0 && spool_roll(sp, err, errlen) < 0)
        return -1;
    if (sp->wlen >= SPOOL_WBUF_MAX && spool_write_buffered(sp, err, errlen) < 0)
        return -1;
    size_t n = spool_frame(sp, rec);
    struct spool_seg *a = spool_active(sp);
    rec->seg = a->seq;
    rec->off = a->size;
    a->size += n;
    a->count++;
    sp->unsynced++;
    xstrlcpy(sp->last_id, rec->id, sizeof sp->last_id);
    return 0;
}

static void spool_sync_took(struct spool *sp, int64_t us)
{
    struct spool_sync_stats *st = &sp->sync_stats;
    int64_t b = us / SPOOL_SYNC_BUCKET_US;
    st->hist[b < SPOOL_SYNC_BUCKETS ? b : SPOOL_SYNC_BUCKETS - 1]++;
    st->count++;
    st->sum_us += (uint64_t)us;
    if ((uint64_t)us > st->max_us)
        st->max_us = (uint64_t)us;
}

const struct spool_sync_stats *spool_sync_stats(const struct spool *sp)
{
    return &sp->sync_stats;
}

uint64_t spool_sync_pct(const struct spool_sync_stats *st, double q)
{
    double rank = ceil(q * (double)st->count);
    uint64_t want = rank < 1 ? 1 : (uint64_t)rank, seen = 0;
    if (st->count == 0)
        return 0;
    for (int i = 0; i < SPOOL_SYNC_BUCKETS - 1; i++) {
        seen += st->hist[i];
        if (seen >= want) {
            uint64_t edge = (uint64_t)(i + 1) * SPOOL_SYNC_BUCKET_US;
            return edge < st->max_us ? edge : st->max_us;
        }
    }
    return st->max_us;
}

int spool_sync(struct spool *sp, char *err, size_t errlen)
{
    if (sp->unsynced == 0)
        return 0;
    int64_t t0 = daemon_mono_us();
    if (spool_write_buffered(sp, err, errlen) < 0)
        return -1;
    if (fdatasync(sp->fd) < 0) {
        spool_err(err, errlen, "fdatasync");
        spool_rollback(sp);
        return -1;
    }
    spool_sync_took(sp, daemon_mono_us() - t0);
    struct spool_seg *a = spool_active(sp);
    sp->pending += sp->unsynced;
    sp->unsynced = 0;
    sp->synced = a->size;
    sp->synced_count = a->count;
    if (a->size >= sp->seg_bytes) {
        char why[256];
        if (spool_roll(sp, why, sizeof why) < 0)
            log_warn("%s (staying on %08u.seg)", why, a->seq);
    }
    return 0;
}

size_t spool_unsynced(const struct spool *sp)
{
    return sp->unsynced;
}

/* ---- the pending cursor and confirmations ---- */

/* The bytes at the cursor are not an intact record (damaged since the
 * spool was opened): repair the header (0, rec) or quarantine them and move
 * the cursor to the next intact record (1); -1 on a read error.  The damaged
 * records stay counted in their segment until the next start, so that a
 * segment is never deleted early. */
static int spool_next_damaged(struct spool *sp, uint32_t seq, uint64_t limit,
                              struct spool_rec *rec)
{
    uint64_t next = spool_skip_known(sp, seq, sp->cur_off);
    if (next) {
        sp->cur_off = next;       /* found at open: logged and kept then */
        return 1;
    }
    if (spool_resync(sp, seq, sp->cur_off, limit, &next) < 0)
        return -1;
    if (spool_repair(sp, seq, sp->cur_off, next, rec) == 0)
        return 0;
    spool_quarantine(sp, seq, sp->cur_off, next, &sp->cur_acks, 0);
    sp->cur_off = next;
    return 1;
}

int spool_next_pending(struct spool *sp, struct spool_rec *rec, char *err,
                       size_t errlen)
{
    for (;;) {
        size_t i = 0;
        while (i < sp->nsegs && sp->segs[i].seq < sp->cur_seq)
            i++;
        if (i == sp->nsegs)
            return 0;
        struct spool_seg *s = &sp->segs[i];
        if (s->seq != sp->cur_seq) {
            sp->cur_seq = s->seq;
            sp->cur_off = 0;
        }
        if (sp->cur_acks_seq != s->seq) {
            if (spool_acks_load(sp, s->seq, &sp->cur_acks) < 0)
                log_warn("spool: %08u.ack: %s (resending its records)", s->seq,
                         strerror(errno));
            sp->cur_acks_seq = s->seq;
        }
        int active = s == spool_active(sp);
        uint64_t limit = active ? sp->synced : s->size;
        if (sp->cur_off >= limit) {
            if (active)
                return 0;
            sp->cur_seq++;
            sp->cur_off = 0;
            continue;
        }
        int rc = spool_read_at(sp, s->seq, sp->cur_off, limit, rec);
        if (rc > 0)
            rc = spool_next_damaged(sp, s->seq, limit, rec);
        if (rc < 0) {
            spool_err(err, errlen, "read");
            sp->cur_off = limit;   /* skip the rest; a restart retries it */
            return -1;
        }
        if (rc > 0)
            continue;              /* quarantined; cur_off is past it */
        sp->cur_off += spool_rec_size(rec);
        if (!spool_acks_has(&sp->cur_acks, rec->id))
            return 1;
    }
}

int spool_walk_pending(struct spool *sp, spool_scan_fn fn, void *arg, char *err,
                       size_t errlen)
{
    struct spool_acks acks = {0};
    int rc = 0;
    for (size_t i = 0; i < sp->nsegs && rc == 0; i++) {
        struct spool_seg *s = &sp->segs[i];
        uint64_t limit = s == spool_active(sp) ? sp->synced : s->size, off = 0;
        if (spool_acks_load(sp, s->seq, &acks) < 0)
            acks.n = 0;           /* as at open: every record counts as pending */
        while (off < limit && rc == 0) {
            struct spool_rec rec;
            uint64_t next = spool_skip_known(sp, s->seq, off);
            int got = next ? 1 : spool_read_at(sp, s->seq, off, limit, &rec);
            if (got > 0 && !next && spool_resync(sp, s->seq, off, limit, &next) < 0)
                got = -1;
            if (got < 0) {
                spool_err(err, errlen, "read");
                rc = -1;
            } else if (got > 0) {
                off = next;       /* damaged: quarantined when the cursor gets there */
            } else {
                off += spool_rec_size(&rec);
                if (!spool_acks_has(&acks, rec.id))
                    fn(arg, &rec, 1);
            }
        }
    }
    spool_acks_free(&acks);
    return rc;
}

/* Make seg's .ack file the cached one, writing the old one's lines first.
 * 0 / -1 with err (only costs resends after a restart). */
static int spool_ack_file(struct spool *sp, uint32_t seg, char *err, size_t errlen)
{
    int rc = 0;
    if (sp->ack_fd >= 0 && sp->ack_seq == seg)
        return 0;
    if (spool_acks_write(sp) < 0) {
        spool_err(err, errlen, "confirm");
        rc = -1;
    }
    if (sp->ack_fd >= 0)
        close(sp->ack_fd);
    char *path = spool_path(sp, seg, "ack");
    sp->ack_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    free(path);
    sp->ack_seq = seg;
    if (sp->ack_fd < 0) {
        spool_err(err, errlen, "confirm");
        rc = -1;
    }
    return rc;
}

int spool_confirm(struct spool *sp, uint32_t seg, const char *id, char *err,
                  size_t errlen)
{
    struct spool_seg *s = spool_seg_find(sp, seg);
    if (!s)
        return 0;
    int rc = spool_ack_file(sp, seg, err, errlen);
    size_t n = strlen(id);
    if (sp->alen + n + 10 + 1 > sp->acap) {
        sp->acap = sp->acap ? 2 * sp->acap : 4096;
        sp->abuf = xrealloc(sp->abuf, sp->acap);
    }
    memcpy(sp->abuf + sp->alen, id, n);       /* "ID CRC\n": see spool_ack_line */
    snprintf(sp->abuf + sp->alen + n, 11, " %08x", (unsigned)spool_crc32(id, n));
    sp->abuf[sp->alen + n + 9] = '\n';
    sp->alen += n + 10;
    s->acked++;
    if (sp->pending)
        sp->pending--;
    if (s != spool_active(sp) && s->acked >= s->count)
        spool_seg_retire(sp, s);
    return rc;
}

int spool_flush_acks(struct spool *sp, char *err, size_t errlen)
{
    if (spool_acks_write(sp) < 0) {
        spool_err(err, errlen, "confirm");
        return -1;
    }
    return 0;
}

uint64_t spool_pending(const struct spool *sp)
{
    return sp->pending;
}

const char *spool_last_id(const struct spool *sp)
{
    return sp->last_id;
}

size_t spool_segments(const struct spool *sp)
{
    return sp->nsegs;
}
