/* collector_dedup.c: the memory tier of the duplicate keys -- a fixed
 * open-addressing table (linear probing, backward-shift deletion) of the
 * keys added since the last merge, their append-only journal, the group
 * commit with the spool, and when to merge into the index file.
 *
 * A slot's tag is the 64-bit key with its lowest bit replaced by the kind
 * (1: ref, 0: content); 0 marks an empty slot.  Two keys that differ only in
 * that bit are taken as one -- a 2^-63 chance, far below a hash collision
 * of the inputs themselves.
 *
 * Journal record (24 bytes, little-endian): u64 key (the tag), i64 id µs,
 * u8 kind, 3 bytes zero, u32 check.  A record whose check fails (a torn or
 * zeroed tail after a crash) is skipped at load.
 *
 * Why not common/htable: this is a bounded set of bare 16-byte keys, not a
 * table of caller entries.  Its memory is planned (DEDUP_SLOTS, one flat
 * array): when it fills, its keys merge into the on-disk index and it
 * starts empty; it grows only while merges fail.  A chained table would
 * add a pointer and an allocation per key, and hide the bound this tier
 * exists to keep.
 *
 * Not here: the index file, its format and its merge (collector_dedup_index.c).
 */
#include "collector_dedup.h"
#include "collector_dedup_index.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEDUP_REC 24
#define DEDUP_DAY_US (86400LL * 1000000)
#define DEDUP_SLOTS ((size_t)1 << 18)     /* 16 bytes each: 4 MiB */

struct dedup {
    char *path;                   /* the journal */
    int fd;                       /* journal, O_APPEND */
    uint64_t journal_size;
    int64_t window_us;            /* content keys live this long */
    struct dedup_ent *slot;       /* the memory tier */
    size_t cap, count;            /* cap is a power of two, DEDUP_SLOTS unless
                                     a merge failed */
    size_t resident_max;          /* merge at this many keys */
    size_t retry_at;              /* after a failed merge: not before this many */
    struct dedup_index *ix;       /* the disk tier */
    struct dedup_ent *buf;        /* keys not yet in the journal */
    size_t nbuf, ncommitted, bufcap;
    int64_t max_id;
};

static uint64_t dedup_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t dedup_tag(int kind, uint64_t key)
{
    uint64_t t = (key & ~1ull) | (uint64_t)(kind & 1);
    return t ? t : 2;
}

static uint32_t dedup_check(uint64_t key, int64_t id_us, int kind)
{
    return (uint32_t)dedup_mix(key ^ dedup_mix((uint64_t)id_us) ^
                               (0x5bd1e995u + (uint64_t)kind));
}

/* 1 if a key still counts at now_us (ref keys never expire). */
static int dedup_live(const struct dedup *d, uint64_t tag, int64_t id_us, int64_t now_us)
{
    return (tag & 1) || id_us >= now_us - d->window_us;
}

/* The slot holding tag, or the empty slot where it would go. */
static size_t dedup_probe(const struct dedup *d, uint64_t tag)
{
    size_t mask = d->cap - 1, i = (size_t)dedup_mix(tag) & mask;
    while (d->slot[i].tag && d->slot[i].tag != tag)
        i = (i + 1) & mask;
    return i;
}

/* Put n entries into a fresh table of cap slots (the old one is freed). */
static void dedup_rehash(struct dedup *d, size_t cap, const struct dedup_ent *e, size_t n)
{
    struct dedup_ent *old = d->slot;
    d->slot = xcalloc(cap, sizeof *d->slot);
    d->cap = cap;
    d->count = n;
    for (size_t i = 0; i < n; i++)
        d->slot[dedup_probe(d, e[i].tag)] = e[i];
    free(old);
}

/* Insert or replace.  The table grows only past the resident cap, that is
 * when merges fail. */
static void dedup_put(struct dedup *d, uint64_t tag, int64_t id_us)
{
    if ((d->count + 1) * 4 > d->cap * 3) {
        struct dedup_ent *all = xmalloc((d->count ? d->count : 1) * sizeof *all);
        size_t n = 0;
        for (size_t i = 0; i < d->cap; i++)
            if (d->slot[i].tag)
                all[n++] = d->slot[i];
        dedup_rehash(d, d->cap * 2, all, n);
        free(all);
        log_warn("dedup: %s: %zu keys in memory, more than the %zu planned", d->path,
                 d->count, d->resident_max);
    }
    size_t i = dedup_probe(d, tag);
    if (!d->slot[i].tag)
        d->count++;
    d->slot[i] = (struct dedup_ent){tag, id_us};
}

/* Backward-shift deletion: later members of the probe run move up so that
 * no lookup stops early at the hole. */
static void dedup_delete(struct dedup *d, uint64_t tag)
{
    size_t mask = d->cap - 1, i = dedup_probe(d, tag), j = i;
    if (!d->slot[i].tag)
        return;
    for (;;) {
        j = (j + 1) & mask;
        if (!d->slot[j].tag)
            break;
        size_t k = (size_t)dedup_mix(d->slot[j].tag) & mask;
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            d->slot[i] = d->slot[j];
            i = j;
        }
    }
    d->slot[i].tag = 0;
    d->count--;
}

/* ---- the merge into the index ---- */

static int dedup_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct dedup_ent *)a)->tag, y = ((const struct dedup_ent *)b)->tag;
    return x < y ? -1 : x > y;
}

/* Move the committed keys in memory into the index; the uncommitted ones
 * stay (a rollback may still take them back), as does everything if the
 * merge fails.  The journal is not touched.  0, or -1 with err. */
static int dedup_spill(struct dedup *d, int64_t now_us, char *err, size_t errlen)
{
    for (size_t i = d->ncommitted; i < d->nbuf; i++)
        dedup_delete(d, d->buf[i].tag);
    size_t n = 0;                 /* sorted in place: no second table */
    for (size_t i = 0; i < d->cap; i++)
        if (d->slot[i].tag)
            d->slot[n++] = d->slot[i];
    qsort(d->slot, n, sizeof *d->slot, dedup_cmp);
    int64_t t0 = daemon_mono_ms();
    int rc = dedup_index_merge(d->ix, d->slot, n, now_us - d->window_us, d->max_id, err,
                               errlen);
    if (rc == 0) {
        log_info("dedup: %zu keys merged into the index, %llu there now (%ld ms)", n,
                 (unsigned long long)dedup_index_count(d->ix),
                 (long)(daemon_mono_ms() - t0));
        if (d->nbuf > d->ncommitted)  /* (buf may be NULL when nothing waits) */
            memmove(d->buf, d->buf + d->ncommitted,
                    (d->nbuf - d->ncommitted) * sizeof *d->buf);
        d->nbuf -= d->ncommitted;
        d->ncommitted = 0;
        d->count = 0;
        if (d->cap == DEDUP_SLOTS)
            memset(d->slot, 0, d->cap * sizeof *d->slot);
        else
            dedup_rehash(d, DEDUP_SLOTS, NULL, 0);
    } else {                      /* keep them all, with room to grow */
        struct dedup_ent *kept = d->slot;
        d->slot = NULL;
        dedup_rehash(d, d->cap * 2, kept, n);
        free(kept);
    }
    for (size_t i = d->ncommitted; i < d->nbuf; i++)
        dedup_put(d, d->buf[i].tag, d->buf[i].id_us);
    return rc;
}

/* Empty the journal: the index holds all it listed.  0, or -1 with err
 * (then it lists keys twice, which costs nothing but space). */
static int dedup_journal_reset(struct dedup *d, char *err, size_t errlen)
{
    if (ftruncate(d->fd, 0) < 0 || fdatasync(d->fd) < 0) {
        snprintf(err, errlen, "dedup: %s: cannot empty the journal after a merge: %s",
                 d->path, strerror(errno));
        return -1;
    }
    d->journal_size = 0;
    return 0;
}

/* Merge when memory is full (and the last failure is far enough back);
 * empty the journal after it unless reset is 0 (the journal is being read). */
static void dedup_maybe_spill(struct dedup *d, int64_t now_us, int reset)
{
    if (d->count < d->resident_max || d->count < d->retry_at)
        return;
    char err[256];
    int committed = d->count > d->nbuf - d->ncommitted;   /* else nothing to merge */
    if (committed && dedup_spill(d, now_us, err, sizeof err) < 0)
        log_warn("%s (the keys stay in memory)", err);
    else if (committed && reset && dedup_journal_reset(d, err, sizeof err) < 0)
        log_warn("%s", err);
    /* still full: uncommitted keys, or a failed merge: not at every add */
    d->retry_at = d->count >= d->resident_max ? d->count + d->resident_max / 4 : 0;
}

/* ---- lookups and the group commit ---- */

int dedup_find(const struct dedup *d, enum dedup_kind kind, uint64_t key,
               int64_t now_us, int64_t *id_us)
{
    if (!key)
        return 0;
    uint64_t tag = dedup_tag((int)kind, key);
    const struct dedup_ent *s = &d->slot[dedup_probe(d, tag)];
    if (s->tag && dedup_live(d, tag, s->id_us, now_us)) {
        *id_us = s->id_us;
        return 1;
    }
    int64_t id;
    if (dedup_index_find(d->ix, tag, &id) && dedup_live(d, tag, id, now_us)) {
        *id_us = id;
        return 1;
    }
    return 0;
}

void dedup_add(struct dedup *d, enum dedup_kind kind, uint64_t key, int64_t id_us)
{
    int64_t first;
    if (!key)
        return;
    if (id_us > d->max_id)
        d->max_id = id_us;
    if (dedup_find(d, kind, key, id_us, &first))
        return;                   /* the first id stays */
    uint64_t tag = dedup_tag((int)kind, key);
    dedup_put(d, tag, id_us);
    if (d->nbuf == d->bufcap) {
        d->bufcap = d->bufcap ? d->bufcap * 2 : 256;
        d->buf = xrealloc(d->buf, d->bufcap * sizeof *d->buf);
    }
    d->buf[d->nbuf++] = (struct dedup_ent){tag, id_us};
    dedup_maybe_spill(d, id_us, 1);
}

void dedup_commit(struct dedup *d)
{
    d->ncommitted = d->nbuf;
}

size_t dedup_unflushed(const struct dedup *d)
{
    return d->nbuf;
}

void dedup_rollback(struct dedup *d)
{
    while (d->nbuf > d->ncommitted)
        dedup_delete(d, d->buf[--d->nbuf].tag);
}

/* ---- the journal ---- */

static void dedup_encode(char *p, uint64_t tag, int64_t id_us)
{
    int kind = (int)(tag & 1);
    uint32_t check = dedup_check(tag, id_us, kind);
    memset(p, 0, DEDUP_REC);
    for (int i = 0; i < 8; i++) {
        p[i] = (char)(tag >> (8 * i));
        p[8 + i] = (char)((uint64_t)id_us >> (8 * i));
    }
    p[16] = (char)kind;
    for (int i = 0; i < 4; i++)
        p[20 + i] = (char)(check >> (8 * i));
}

/* 0 and the record's tag and id, or -1 if the record is torn.  (Records of
 * older versions hold the key itself, whose tag is the same.) */
static int dedup_decode(const char *p, uint64_t *tag, int64_t *id_us)
{
    uint64_t k = 0, id = 0;
    uint32_t check = 0;
    for (int i = 7; i >= 0; i--) {
        k = k << 8 | (unsigned char)p[i];
        id = id << 8 | (unsigned char)p[8 + i];
    }
    for (int i = 3; i >= 0; i--)
        check = check << 8 | (unsigned char)p[20 + i];
    int kind = (unsigned char)p[16];
    *tag = dedup_tag(kind, k);
    *id_us = (int64_t)id;
    if (!k || kind > 1 || p[17] || p[18] || p[19] || check != dedup_check(k, *id_us, kind))
        return -1;
    return 0;
}

int dedup_flush(struct dedup *d, char *err, size_t errlen)
{
    d->ncommitted = d->nbuf;
    if (d->nbuf == 0)
        return 0;
    size_t n = d->nbuf * DEDUP_REC;
    char *bytes = xmalloc(n);
    for (size_t i = 0; i < d->nbuf; i++)
        dedup_encode(bytes + i * DEDUP_REC, d->buf[i].tag, d->buf[i].id_us);
    int rc = fileio_write_all(d->fd, bytes, n) < 0 ? -1 : fdatasync(d->fd);
    free(bytes);
    if (rc < 0) {
        snprintf(err, errlen, "dedup: %s: %s", d->path, strerror(errno));
        if (ftruncate(d->fd, (off_t)d->journal_size) < 0)  /* keep records aligned */
            log_warn("dedup: %s: cannot truncate: %s", d->path, strerror(errno));
        return -1;
    }
    d->journal_size += n;
    d->nbuf = d->ncommitted = 0;
    return 0;
}

/* One journal record into memory: a ref key keeps its first id, a content
 * key its latest (it was added again once expired). */
static void dedup_load_one(struct dedup *d, uint64_t tag, int64_t id_us, int64_t now_us)
{
    if (id_us > d->max_id)
        d->max_id = id_us;
    if (!dedup_live(d, tag, id_us, now_us))
        return;                   /* expired: compaction drops it */
    struct dedup_ent *s = &d->slot[dedup_probe(d, tag)];
    if (s->tag) {
        if ((tag & 1) ? id_us < s->id_us : id_us > s->id_us)
            s->id_us = id_us;
        return;
    }
    dedup_put(d, tag, id_us);
    dedup_maybe_spill(d, now_us, 0);   /* a journal longer than memory */
}

/* Read the journal into memory.  Returns 0 / -1 (errno). */
static int dedup_load(struct dedup *d, int64_t now_us, size_t *torn)
{
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    char buf[DEDUP_REC * 2048];
    size_t have = 0;
    ssize_t r;
    while ((r = read(fd, buf + have, sizeof buf - have)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return close(fd), -1;
        have += (size_t)r;
        size_t used = have - have % DEDUP_REC;
        for (size_t off = 0; off < used; off += DEDUP_REC) {
            uint64_t tag;
            int64_t id_us;
            if (dedup_decode(buf + off, &tag, &id_us) < 0)
                (*torn)++;
            else
                dedup_load_one(d, tag, id_us, now_us);
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    *torn += have != 0;
    close(fd);
    return 0;
}

/* Write the live keys in memory to PATH.tmp, sync, rename over the journal,
 * sync the folder, and keep the new journal open for appending.  0 / -1
 * (errno). */
static int dedup_compact(struct dedup *d, int64_t now_us)
{
    char *tmp = xasprintf("%s.tmp", d->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    char buf[DEDUP_REC * 2048];
    size_t n = 0;
    int rc = fd < 0 ? -1 : 0;
    d->journal_size = 0;
    for (size_t i = 0; rc == 0 && i < d->cap; i++) {
        const struct dedup_ent *s = &d->slot[i];
        if (!s->tag || !dedup_live(d, s->tag, s->id_us, now_us))
            continue;
        dedup_encode(buf + n, s->tag, s->id_us);
        n += DEDUP_REC;
        if (n == sizeof buf) {
            rc = fileio_write_all(fd, buf, n);
            d->journal_size += n;
            n = 0;
        }
    }
    if (rc == 0 && n) {
        rc = fileio_write_all(fd, buf, n);
        d->journal_size += n;
    }
    if (rc == 0)
        rc = fdatasync(fd);
    if (fd >= 0)
        close(fd);
    if (rc == 0)
        rc = rename(tmp, d->path);
    free(tmp);
    if (rc == 0)
        rc = dedup_index_sync_dir(d->path);
    if (rc == 0 && (d->fd = open(d->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        rc = -1;
    return rc;
}

/* The index file beside the journal: dedup.log -> dedup.idx. */
static char *dedup_index_path(const char *path)
{
    size_t len = strlen(path);
    if (len > 4 && strcmp(path + len - 4, ".log") == 0)
        return xasprintf("%.*s.idx", (int)(len - 4), path);
    return xasprintf("%s.idx", path);
}

int dedup_open(const char *path, int days, int64_t now_us, struct dedup **out,
               char *err, size_t errlen)
{
    struct dedup *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    d->fd = -1;
    d->window_us = (int64_t)(days > 0 ? days : 0) * DEDUP_DAY_US;
    d->cap = DEDUP_SLOTS;
    d->slot = xcalloc(d->cap, sizeof *d->slot);
    d->resident_max = DEDUP_RESIDENT_MAX;
    *out = NULL;
    char *ixpath = dedup_index_path(path);
    int rc = dedup_index_open(ixpath, &d->ix, err, errlen);
    free(ixpath);
    if (rc < 0) {
        dedup_close(&d);
        return -1;
    }
    d->max_id = dedup_index_max_id(d->ix);
    size_t torn = 0;
    if (dedup_load(d, now_us, &torn) < 0 || dedup_compact(d, now_us) < 0) {
        snprintf(err, errlen, "dedup: %s: %s", path, strerror(errno));
        dedup_close(&d);
        return -1;
    }
    if (torn)
        log_warn("dedup: %s: %zu torn records skipped", path, torn);
    *out = d;
    return 0;
}

void dedup_close(struct dedup **dp)
{
    struct dedup *d = *dp;
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    dedup_index_close(&d->ix);
    free(d->slot);
    free(d->buf);
    free(d->path);
    free(d);
    *dp = NULL;
}

size_t dedup_count(const struct dedup *d)
{
    return d->count + (size_t)dedup_index_count(d->ix);
}

size_t dedup_resident(const struct dedup *d)
{
    return d->count;
}

void dedup_set_resident_max(struct dedup *d, size_t max)
{
    d->resident_max = max < 1 ? 1 : max > DEDUP_RESIDENT_MAX ? DEDUP_RESIDENT_MAX : max;
}

int64_t dedup_max_id_us(const struct dedup *d)
{
    return d->max_id;
}
