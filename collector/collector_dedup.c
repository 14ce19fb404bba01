/* collector_dedup.c: duplicate keys in an open-addressing hash table (linear
 * probing, backward-shift deletion) with an append-only journal.
 *
 * A slot's tag is the 64-bit key with its lowest bit replaced by the kind
 * (1: ref, 0: content); 0 marks an empty slot.  Two keys that differ only in
 * that bit are taken as one -- a 2^-63 chance, far below a hash collision
 * of the inputs themselves.
 *
 * Journal record (24 bytes, little-endian): u64 key, i64 id µs, u8 kind,
 * 3 bytes zero, u32 check.  A record whose check fails (a torn or zeroed
 * tail after a crash) is skipped at load.
 */
#include "collector_dedup.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEDUP_REC 24
#define DEDUP_DAY_US (86400LL * 1000000)
#define DEDUP_MIN_CAP 1024

struct dedup_slot {
    uint64_t tag;
    int64_t id_us;
};

struct dedup_pend {               /* a key not yet in the journal */
    uint64_t key;
    int64_t id_us;
    int kind;
};

struct dedup {
    char *path;
    int fd;                       /* journal, O_APPEND */
    uint64_t journal_size;
    int64_t window_us;            /* content keys live this long */
    struct dedup_slot *slot;
    size_t cap, count;            /* cap is a power of two */
    struct dedup_pend *buf;
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

/* 1 if the slot still counts at now_us (ref keys never expire). */
static int dedup_live(const struct dedup *d, const struct dedup_slot *s, int64_t now_us)
{
    return (s->tag & 1) || s->id_us >= now_us - d->window_us;
}

/* The slot holding tag, or the empty slot where it would go. */
static size_t dedup_probe(const struct dedup *d, uint64_t tag)
{
    size_t mask = d->cap - 1, i = (size_t)dedup_mix(tag) & mask;
    while (d->slot[i].tag && d->slot[i].tag != tag)
        i = (i + 1) & mask;
    return i;
}

/* Rehash into a table sized for the live keys, dropping expired ones. */
static void dedup_resize(struct dedup *d, int64_t now_us)
{
    size_t live = 0;
    for (size_t i = 0; i < d->cap; i++)
        live += d->slot[i].tag && dedup_live(d, &d->slot[i], now_us);
    size_t cap = DEDUP_MIN_CAP;
    while ((live + 1) * 4 > cap * 3)
        cap *= 2;
    struct dedup_slot *old = d->slot;
    size_t oldcap = d->cap;
    d->slot = xcalloc(cap, sizeof *d->slot);
    d->cap = cap;
    d->count = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].tag && dedup_live(d, &old[i], now_us)) {
            d->slot[dedup_probe(d, old[i].tag)] = old[i];
            d->count++;
        }
    free(old);
}

/* Insert or replace; now_us dates expiry if the table must be rebuilt. */
static void dedup_put(struct dedup *d, uint64_t tag, int64_t id_us, int64_t now_us)
{
    if ((d->count + 1) * 4 > d->cap * 3)
        dedup_resize(d, now_us);
    size_t i = dedup_probe(d, tag);
    if (!d->slot[i].tag)
        d->count++;
    d->slot[i].tag = tag;
    d->slot[i].id_us = id_us;
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

int dedup_find(const struct dedup *d, enum dedup_kind kind, uint64_t key,
               int64_t now_us, int64_t *id_us)
{
    if (!key)
        return 0;
    const struct dedup_slot *s = &d->slot[dedup_probe(d, dedup_tag((int)kind, key))];
    if (!s->tag || !dedup_live(d, s, now_us))
        return 0;
    *id_us = s->id_us;
    return 1;
}

void dedup_add(struct dedup *d, enum dedup_kind kind, uint64_t key, int64_t id_us)
{
    if (!key)
        return;
    dedup_put(d, dedup_tag((int)kind, key), id_us, id_us);
    if (d->nbuf == d->bufcap) {
        d->bufcap = d->bufcap ? d->bufcap * 2 : 256;
        d->buf = xrealloc(d->buf, d->bufcap * sizeof *d->buf);
    }
    d->buf[d->nbuf++] = (struct dedup_pend){key, id_us, (int)kind};
    if (id_us > d->max_id)
        d->max_id = id_us;
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
    while (d->nbuf > d->ncommitted) {
        struct dedup_pend *p = &d->buf[--d->nbuf];
        dedup_delete(d, dedup_tag(p->kind, p->key));
    }
}

/* ---- the journal ---- */

static void dedup_encode(char *p, uint64_t key, int64_t id_us, int kind)
{
    uint32_t check = dedup_check(key, id_us, kind);
    memset(p, 0, DEDUP_REC);
    for (int i = 0; i < 8; i++) {
        p[i] = (char)(key >> (8 * i));
        p[8 + i] = (char)((uint64_t)id_us >> (8 * i));
    }
    p[16] = (char)kind;
    for (int i = 0; i < 4; i++)
        p[20 + i] = (char)(check >> (8 * i));
}

/* 0 and the fields, or -1 if the record is torn. */
static int dedup_decode(const char *p, uint64_t *key, int64_t *id_us, int *kind)
{
    uint64_t k = 0, id = 0;
    uint32_t check = 0;
    for (int i = 7; i >= 0; i--) {
        k = k << 8 | (unsigned char)p[i];
        id = id << 8 | (unsigned char)p[8 + i];
    }
    for (int i = 3; i >= 0; i--)
        check = check << 8 | (unsigned char)p[20 + i];
    *key = k;
    *id_us = (int64_t)id;
    *kind = (unsigned char)p[16];
    if (!k || *kind > 1 || p[17] || p[18] || p[19] || check != dedup_check(k, *id_us, *kind))
        return -1;
    return 0;
}

static int dedup_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w == 0 ? (errno = EIO, -1) : -1;
        p += w;
        n -= (size_t)w;
    }
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
        dedup_encode(bytes + i * DEDUP_REC, d->buf[i].key, d->buf[i].id_us, d->buf[i].kind);
    int rc = dedup_write_all(d->fd, bytes, n) < 0 ? -1 : fdatasync(d->fd);
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

/* Read the journal into the table.  Returns 0 / -1 (errno). */
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
            uint64_t key;
            int64_t id_us;
            int kind;
            if (dedup_decode(buf + off, &key, &id_us, &kind) < 0) {
                (*torn)++;
                continue;
            }
            if (id_us > d->max_id)
                d->max_id = id_us;
            uint64_t tag = dedup_tag(kind, key);
            if (!(tag & 1) && id_us < now_us - d->window_us)
                continue;              /* expired: compaction drops it */
            struct dedup_slot *s = &d->slot[dedup_probe(d, tag)];
            if (!s->tag || s->id_us < id_us)  /* a content key seen again later */
                dedup_put(d, tag, id_us, now_us);
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    *torn += have != 0;
    close(fd);
    return 0;
}

/* fsync the folder holding path, so a rename in it is durable. */
static int dedup_sync_dir(const char *path)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write the live keys to PATH.tmp, sync, rename over the journal, sync the
 * folder, and keep the new journal open for appending.  0 / -1 (errno). */
static int dedup_compact(struct dedup *d, int64_t now_us)
{
    char *tmp = xasprintf("%s.tmp", d->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    char buf[DEDUP_REC * 2048];
    size_t n = 0;
    int rc = fd < 0 ? -1 : 0;
    d->journal_size = 0;
    for (size_t i = 0; rc == 0 && i < d->cap; i++) {
        const struct dedup_slot *s = &d->slot[i];
        if (!s->tag || !dedup_live(d, s, now_us))
            continue;
        dedup_encode(buf + n, s->tag & ~1ull, s->id_us, (int)(s->tag & 1));
        n += DEDUP_REC;
        if (n == sizeof buf) {
            rc = dedup_write_all(fd, buf, n);
            d->journal_size += n;
            n = 0;
        }
    }
    if (rc == 0 && n) {
        rc = dedup_write_all(fd, buf, n);
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
        rc = dedup_sync_dir(d->path);
    if (rc == 0 && (d->fd = open(d->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        rc = -1;
    return rc;
}

int dedup_open(const char *path, int days, int64_t now_us, struct dedup **out,
               char *err, size_t errlen)
{
    struct dedup *d = xcalloc(1, sizeof *d);
    d->path = xstrdup(path);
    d->fd = -1;
    d->window_us = (int64_t)(days > 0 ? days : 0) * DEDUP_DAY_US;
    d->cap = DEDUP_MIN_CAP;
    d->slot = xcalloc(d->cap, sizeof *d->slot);
    size_t torn = 0;
    *out = NULL;
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
    free(d->slot);
    free(d->buf);
    free(d->path);
    free(d);
    *dp = NULL;
}

size_t dedup_count(const struct dedup *d)
{
    return d->count;
}

int64_t dedup_max_id_us(const struct dedup *d)
{
    return d->max_id;
}
