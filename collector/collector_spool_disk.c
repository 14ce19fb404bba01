/* collector_spool_disk.c: the spool's files -- the segment table, the
 * confirmation (.ack) files, reading records back, and recovery at open.
 * Appending, group commit, the pending cursor and confirmations live in
 * collector_spool.c; the shared state in collector_spool_impl.h. */
#include "collector_spool_impl.h"
#include "collector_reaper.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void spool_err(char *err, size_t errlen, const char *what)
{
    int e = errno;
    snprintf(err, errlen, "spool: %s: %s", what, strerror(e));
    errno = e;
}

char *spool_path(const struct spool *sp, uint32_t seq, const char *ext)
{
    return xasprintf("%s/%08u.%s", sp->dir, seq, ext);
}

int spool_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* ---- segment table ---- */

struct spool_seg *spool_seg_find(struct spool *sp, uint32_t seq)
{
    size_t lo = 0, hi = sp->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sp->segs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sp->nsegs && sp->segs[lo].seq == seq ? &sp->segs[lo] : NULL;
}

struct spool_seg *spool_active(struct spool *sp)
{
    return &sp->segs[sp->nsegs - 1];
}

void spool_seg_push(struct spool *sp, uint32_t seq, uint32_t count,
                           uint32_t acked, uint64_t size)
{
    if (sp->nsegs == sp->cap) {
        sp->cap = sp->cap ? sp->cap * 2 : 16;
        sp->segs = xrealloc(sp->segs, sp->cap * sizeof *sp->segs);
    }
    sp->segs[sp->nsegs++] = (struct spool_seg){seq, count, acked, size};
}

void spool_rd_forget(struct spool *sp, uint32_t seq)
{
    if (sp->rd.fd >= 0 && (seq == 0 || sp->rd.seq == seq)) {
        close(sp->rd.fd);
        sp->rd.fd = -1;
    }
    sp->rd.len = 0;
}

/* Take the .seg of a dead segment out of the way: renamed to .seg.dead
 * (cheap; a leftover is removed at open) and unlinked by the reaper thread,
 * since freeing its blocks can take milliseconds (collector_reaper.h); in
 * place when there is no reaper or the rename fails. */
static void spool_seg_bury(struct spool *sp, char *seg)
{
    char *dead = xasprintf("%s.dead", seg);
    if (sp->reaper && rename(seg, dead) == 0) {
        reaper_add(sp->reaper, dead);
        return;
    }
    free(dead);
    if (unlink(seg) < 0 && errno != ENOENT)
        log_warn("spool: %s: %s", seg, strerror(errno));
}

/* Delete a sealed, fully confirmed segment: the .seg first (once it is gone
 * nothing can be resent), then its .ack (a leftover is removed at open). */
void spool_seg_delete(struct spool *sp, struct spool_seg *s)
{
    uint32_t seq = s->seq;
    char *seg = spool_path(sp, seq, "seg"), *ack = spool_path(sp, seq, "ack");
    spool_seg_bury(sp, seg);
    unlink(ack);
    free(seg);
    free(ack);
    if (sp->ack_fd >= 0 && sp->ack_seq == seq) {
        close(sp->ack_fd);
        sp->ack_fd = -1;
        sp->alen = 0;              /* lines for a file that is gone */
    }
    spool_rd_forget(sp, seq);
    size_t i = (size_t)(s - sp->segs);
    memmove(s, s + 1, (sp->nsegs - i - 1) * sizeof *s);
    sp->nsegs--;
}

int spool_seg_retire(struct spool *sp, struct spool_seg *s)
{
    if (s->count && sp->hooks.guard && sp->hooks.guard(sp->hooks.arg) < 0) {
        log_warn("spool: %08u.seg: kept although confirmed (deleted at the next start)",
                 s->seq);
        return 0;
    }
    spool_seg_delete(sp, s);
    return 1;
}

/* ---- confirmation sets ---- */

static int spool_id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

int spool_acks_write(struct spool *sp)
{
    int rc = 0;
    if (sp->alen && sp->ack_fd >= 0)
        rc = fileio_write_all(sp->ack_fd, sp->abuf, sp->alen);
    else if (sp->alen)
        rc = (errno = EBADF, -1);  /* the .ack file could not be opened */
    sp->alen = 0;
    return rc;
}

/* Check one .ack line, "ID CRC\n" (CRC: 8 hex digits of the id's CRC-32;
 * lines of older spools have no CRC), and cut it down to the id.  0, or -1
 * if it is torn or damaged: a flipped byte must not turn it into the id of
 * another record, which would then never be sent. */
static int spool_ack_line(char *line)
{
    size_t len = strlen(line);
    if (len < 2 || line[len - 1] != '\n')
        return -1;
    line[--len] = '\0';
    char *sp = strchr(line, ' ');
    if (!sp)
        return 0;
    *sp = '\0';
    char *end;
    unsigned long crc = strtoul(sp + 1, &end, 16);
    if (end != sp + 9 || *end || crc != spool_crc32(line, (size_t)(sp - line)))
        return -1;
    return 0;
}

/* Load the sorted ids of seq's .ack file into a (emptied first).  A torn
 * last line (no newline) never counts.  Returns 0 / -1 (errno). */
int spool_acks_load(struct spool *sp, uint32_t seq, struct spool_acks *a)
{
    if (sp->ack_seq == seq && spool_acks_write(sp) < 0)
        log_warn("spool: %08u.ack: %s (resending its records)", seq, strerror(errno));
    char *path = spool_path(sp, seq, "ack");
    FILE *f = fopen(path, "re");
    free(path);
    a->n = 0;
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[SPOOL_ID_MAX + 16];
    while (fgets(line, sizeof line, f)) {
        if (spool_ack_line(line) < 0)
            continue;              /* torn, damaged or overlong: a resend */
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 256;
            a->id = xrealloc(a->id, a->cap * sizeof *a->id);
        }
        xstrlcpy(a->id[a->n++], line, sizeof a->id[0]);
    }
    int bad = ferror(f);
    fclose(f);
    qsort(a->id, a->n, sizeof *a->id, spool_id_cmp);
    return bad ? -1 : 0;
}

int spool_acks_has(const struct spool_acks *a, const char *id)
{
    return a->n && bsearch(id, a->id, a->n, sizeof *a->id, spool_id_cmp) != NULL;
}

void spool_acks_free(struct spool_acks *a)
{
    free(a->id);
    memset(a, 0, sizeof *a);
}

/* ---- reading ---- */

const char *spool_fetch(struct spool *sp, uint32_t seq, uint64_t off, size_t n,
                               uint64_t limit)
{
    struct spool_buf *b = &sp->rd;
    if (b->fd >= 0 && b->seq == seq && off >= b->start && off + n <= b->start + b->len)
        return b->p + (off - b->start);
    errno = 0;
    if (off + n > limit)
        return NULL;
    if (b->fd < 0 || b->seq != seq) {
        spool_rd_forget(sp, 0);
        char *path = spool_path(sp, seq, "seg");
        b->fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
        if (b->fd < 0)
            return NULL;
        b->seq = seq;
    }
    size_t want = n > SPOOL_CHUNK ? n : SPOOL_CHUNK;
    if (want > limit - off)
        want = (size_t)(limit - off);
    if (want > b->cap) {
        b->cap = want;
        b->p = xrealloc(b->p, b->cap);
    }
    b->start = off;
    b->len = 0;
    while (b->len < want) {
        ssize_t r = pread(b->fd, b->p + b->len, want - b->len, (off_t)(off + b->len));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return b->len = 0, NULL;
        if (r == 0)
            break;
        b->len += (size_t)r;
    }
    errno = 0;
    return b->len >= n ? b->p : NULL;
}

int spool_decode(const char *p, size_t n, struct spool_rec *rec)
{
    if (n < SPOOL_FIXED + 2 || (unsigned char)p[0] != SPOOL_VERSION)
        return -1;
    size_t rel_len = (unsigned char)p[2] | (size_t)(unsigned char)p[3] << 8;
    size_t data_len = spool_get32(p + 4);
    if (SPOOL_FIXED + rel_len + 1 + data_len + 1 != n)
        return -1;
    if (memchr(p + 8, '\0', SPOOL_ID_MAX + 1) == NULL)
        return -1;
    const char *rel = p + SPOOL_FIXED, *data = rel + rel_len + 1;
    if (rel[rel_len] != '\0' || data[data_len] != '\0')
        return -1;
    memcpy(rec->id, p + 8, SPOOL_ID_MAX + 1);
    rec->source = (unsigned char)p[1];
    rec->content_key = spool_get64(p + 40);
    rec->ref_key = spool_get64(p + 48);
    rec->dev = spool_get64(p + 56);
    rec->ino = spool_get64(p + 64);
    rec->rel = rel;
    rec->data = data;
    rec->len = data_len;
    return 0;
}

/* Read the record at (seq, off) not past limit.  Returns 0 and rec, 1 if
 * the bytes there are not an intact record (torn), -1 on a read error. */
int spool_read_at(struct spool *sp, uint32_t seq, uint64_t off, uint64_t limit,
                         struct spool_rec *rec)
{
    const char *h = spool_fetch(sp, seq, off, SPOOL_HDR, limit);
    if (!h)
        return errno ? -1 : 1;
    uint32_t len = spool_get32(h + 4), crc = spool_get32(h + 8);
    if (spool_get32(h) != SPOOL_MAGIC || len > SPOOL_PAYLOAD_MAX)
        return 1;
    const char *r = spool_fetch(sp, seq, off, SPOOL_HDR + (size_t)len, limit);
    if (!r)
        return errno ? -1 : 1;
    if (spool_crc32(r + SPOOL_HDR, len) != crc || spool_decode(r + SPOOL_HDR, len, rec) < 0)
        return 1;
    rec->seg = seq;
    rec->off = off;
    return 0;
}

int spool_read(struct spool *sp, uint32_t seg, uint64_t off, struct spool_rec *rec,
               char *err, size_t errlen)
{
    struct spool_seg *s = spool_seg_find(sp, seg);
    if (!s) {
        errno = ENOENT;
        snprintf(err, errlen, "spool: segment %08u is gone", seg);
        return -1;
    }
    uint64_t limit = s == spool_active(sp) ? sp->synced : s->size;
    int rc = spool_read_at(sp, seg, off, limit, rec);
    if (rc == 0)
        return 0;
    if (rc > 0) {
        errno = EIO;
        snprintf(err, errlen, "spool: %08u.seg: no record at offset %llu", seg,
                 (unsigned long long)off);
    } else {
        spool_err(err, errlen, "read");
    }
    return -1;
}



size_t spool_rec_size(const struct spool_rec *rec)
{
    return SPOOL_HDR + SPOOL_FIXED + strlen(rec->rel) + 1 + rec->len + 1;
}

/* ---- recovery ---- */

static int spool_seq_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The numbers of the NNNNNNNN.seg files, sorted (caller frees *out).  A
 * .ack file whose segment is gone is removed.  Returns 0 / -1 (errno). */
static int spool_list(struct spool *sp, uint32_t **out, size_t *n)
{
    DIR *d = opendir(sp->dir);
    if (!d)
        return -1;
    uint32_t *segs = NULL, *acks = NULL;
    size_t ns = 0, na = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strlen(name) == 17 && strspn(name, "0123456789") == 8 &&
            strcmp(name + 8, ".seg.dead") == 0) {
            char *path = xasprintf("%s/%s", sp->dir, name);   /* a reaper's leftover */
            unlink(path);
            free(path);
            continue;
        }
        if (strlen(name) != 12 || strspn(name, "0123456789") != 8 || name[8] != '.')
            continue;
        uint32_t seq = (uint32_t)strtoul(name, NULL, 10);
        if (seq >= sp->next_seq)
            sp->next_seq = seq + 1;
        if (strcmp(name + 9, "seg") == 0) {
            segs = xrealloc(segs, (ns + 1) * sizeof *segs);
            segs[ns++] = seq;
        } else if (strcmp(name + 9, "ack") == 0) {
            acks = xrealloc(acks, (na + 1) * sizeof *acks);
            acks[na++] = seq;
        }
    }
    closedir(d);
    if (ns)
        qsort(segs, ns, sizeof *segs, spool_seq_cmp);
    for (size_t i = 0; i < na; i++)
        if (!ns || !bsearch(&acks[i], segs, ns, sizeof *segs, spool_seq_cmp)) {
            char *path = spool_path(sp, acks[i], "ack");
            unlink(path);
            free(path);
        }
    free(acks);
    *out = segs;
    *n = ns;
    return 0;
}

/* Cut the newest segment at a torn record (spool_quarantine kept and
 * logged the bytes). */
static void spool_cut(struct spool *sp, uint32_t seq, uint64_t off)
{
    char *path = spool_path(sp, seq, "seg");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)off) < 0 || fdatasync(fd) < 0)
        log_error("spool: %s: cannot truncate: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(path);
    spool_rd_forget(sp, seq);
}

/* 1 if bytes [off, size) look like an append a crash cut short: too short
 * for a header, a header whose length runs past the end, or zeros (what
 * some file systems show of blocks never written). */
static int spool_incomplete(struct spool *sp, uint32_t seq, uint64_t off, uint64_t size)
{
    if (size - off < SPOOL_HDR)
        return 1;
    const char *h = spool_fetch(sp, seq, off, SPOOL_HDR, size);
    if (!h)
        return 0;
    if (spool_get32(h) == SPOOL_MAGIC && SPOOL_HDR + (uint64_t)spool_get32(h + 4) > size - off)
        return 1;
    uint64_t n = size - off > SPOOL_CHUNK ? SPOOL_CHUNK : size - off;
    const char *p = spool_fetch(sp, seq, off, (size_t)n, size);
    for (uint64_t i = 0; p && i < n; i++)
        if (p[i])
            return 0;
    return p != NULL;
}

/* The bytes at off are not an intact record: repair its header, or skip to
 * the next intact record (quarantining what lies between), or -- at the end
 * of the newest segment -- cut a torn write.  Returns 0 with *rec repaired,
 * 1 with *next set (where reading goes on), 2 if cut there, 3 like 1 but
 * the bytes could not be copied to corrupt/, -1 read error. */
static int spool_recover_damage(struct spool *sp, uint32_t seq, uint64_t off,
                                uint64_t size, int newest, const struct spool_acks *acks,
                                struct spool_rec *rec, uint64_t *next)
{
    if (spool_resync(sp, seq, off, size, next) < 0)
        return -1;
    if (spool_repair(sp, seq, off, *next, rec) == 0)
        return 0;
    int torn = newest && *next == size && spool_incomplete(sp, seq, off, size);
    if (spool_quarantine(sp, seq, off, *next, acks, torn) < 0)
        return 3;                 /* not copied: keep them where they are */
    if (!torn)
        return 1;
    spool_cut(sp, seq, off);
    return 2;
}

/* Read one segment through: count its records, find which are confirmed,
 * hand each to scan, cut a torn tail.  Returns 0 / -1 with err. */
static int spool_recover_seg(struct spool *sp, uint32_t seq, int newest, char *err,
                             size_t errlen)
{
    char *path = spool_path(sp, seq, "seg");
    struct stat st;
    int rc = stat(path, &st);
    free(path);
    if (rc < 0)
        return spool_err(err, errlen, "stat segment"), -1;
    struct spool_acks acks = {0};
    if (spool_acks_load(sp, seq, &acks) < 0)
        log_warn("spool: %08u.ack: %s (resending its records)", seq, strerror(errno));
    uint64_t size = (uint64_t)st.st_size, off = 0;
    uint32_t count = 0, acked = 0;
    struct spool_rec rec;
    while (off < size) {
        uint64_t next;
        rc = spool_read_at(sp, seq, off, size, &rec);
        if (rc > 0)
            rc = spool_recover_damage(sp, seq, off, size, newest, &acks, &rec, &next);
        if (rc < 0) {
            spool_acks_free(&acks);
            return spool_err(err, errlen, "read segment"), -1;
        }
        if (rc == 2) {
            size = off;
            break;
        }
        if (rc > 0) {
            count += rc == 3;     /* never confirmed: the segment stays */
            off = next;
            continue;
        }
        int pending = !spool_acks_has(&acks, rec.id);
        count++;
        acked += !pending;
        if (strcmp(rec.id, sp->last_id) > 0)
            xstrlcpy(sp->last_id, rec.id, sizeof sp->last_id);
        if (sp->hooks.scan)
            sp->hooks.scan(sp->hooks.arg, &rec, pending);
        off += spool_rec_size(&rec);
    }
    spool_acks_free(&acks);
    spool_seg_push(sp, seq, count, acked, size);
    sp->pending += count - acked;
    return 0;
}

static int spool_recover(struct spool *sp, char *err, size_t errlen)
{
    uint32_t *seqs;
    size_t n;
    if (spool_list(sp, &seqs, &n) < 0)
        return spool_err(err, errlen, sp->dir), -1;
    for (size_t i = 0; i < n; i++)
        if (spool_recover_seg(sp, seqs[i], i + 1 == n, err, errlen) < 0) {
            free(seqs);
            return -1;
        }
    free(seqs);
    for (size_t i = sp->nsegs; i-- > 0;)
        if (sp->segs[i].acked >= sp->segs[i].count)
            spool_seg_retire(sp, &sp->segs[i]);
    return 0;
}

int spool_open(const char *dir, size_t seg_bytes, spool_scan_fn scan, void *arg,
               struct spool **out, char *err, size_t errlen)
{
    struct spool_hooks hooks = {.scan = scan, .arg = arg};
    return spool_open_hooks(dir, seg_bytes, &hooks, out, err, errlen);
}

int spool_open_hooks(const char *dir, size_t seg_bytes, const struct spool_hooks *hooks,
                     struct spool **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        spool_err(err, errlen, dir);
        return -1;
    }
    struct spool *sp = xcalloc(1, sizeof *sp);
    sp->dir = xstrdup(dir);
    sp->seg_bytes = seg_bytes ? seg_bytes : SPOOL_SEGMENT_BYTES;
    sp->fd = sp->ack_fd = sp->rd.fd = -1;
    sp->next_seq = 1;
    if (hooks)
        sp->hooks = *hooks;
    sp->reaper = reaper_new();
    int rc = spool_recover(sp, err, errlen);
    if (rc == 0)
        spool_notes_load(sp);     /* reports lost in damage found at earlier starts too */
    if (rc < 0 || spool_roll(sp, err, errlen) < 0) {
        spool_close(&sp);
        return -1;
    }
    *out = sp;
    return 0;
}

void spool_close(struct spool **spp)
{
    struct spool *sp = *spp;
    if (!sp)
        return;
    if (sp->unsynced)
        spool_rollback(sp);
    if (sp->fd >= 0)
        close(sp->fd);
    if (spool_acks_write(sp) < 0)
        log_warn("spool: %08u.ack: %s (resending its records)", sp->ack_seq, strerror(errno));
    if (sp->ack_fd >= 0)
        close(sp->ack_fd);
    free(sp->abuf);
    spool_rd_forget(sp, 0);
    spool_acks_free(&sp->cur_acks);
    free(sp->rd.p);
    free(sp->wbuf);
    free(sp->segs);
    free(sp->skips);
    reaper_free(&sp->reaper);         /* after the last deletion it may queue */
    free(sp->dir);
    free(sp);
    *spp = NULL;
}
