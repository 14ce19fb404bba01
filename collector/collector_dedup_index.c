/* collector_dedup_index.c: the sorted key file of collector_dedup_index.h --
 * page encoding and checks, the check of the whole file at open, lookups
 * (sparse index, one pread), and the merge that writes the next file.
 *
 * Not here: which keys go in and when, the journal (collector_dedup.c).
 */
#include "collector_dedup_index.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IX_PAGE 4096
#define IX_REC 16
#define IX_PER_PAGE 255
#define IX_COUNT_AT (IX_PER_PAGE * IX_REC)   /* 4080: u32 count, u32 zero */
#define IX_CHECK_AT (IX_PAGE - 8)            /* 4088: u64 check */
#define IX_HEAD_LEN 32                       /* header bytes under its check */
#define IX_MAGIC "MINYIDX1"
#define IX_VERSION 1

struct dedup_index {
    char *path;
    int fd;                       /* -1: no file yet, the index is empty */
    uint64_t nrec;
    int64_t max_id;
    uint64_t *first;              /* first tag of each data page */
    size_t npages;
    uint64_t last_tag;            /* the last lookup, which an add repeats */
    int last_hit;
    int64_t last_id;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A 64-bit check of len bytes (a multiple of 8) seeded with the page
 * number, so a page written at the wrong place fails too.  Catches damage,
 * not malice. */
static uint64_t ix_check(const unsigned char *p, size_t len, uint64_t seed)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (seed * 0xff51afd7ed558ccdull);
    for (size_t i = 0; i < len; i += 8) {
        h ^= get64(p + i);
        h = (h << 31 | h >> 33) * 0x9e3779b97f4a7c15ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* Page k of fd into pg.  0, or -1 with errno (EIO for a short file). */
static int ix_read_page(int fd, uint64_t k, unsigned char *pg)
{
    return fileio_pread_all(fd, pg, IX_PAGE, (off_t)(k * IX_PAGE));
}

static int ix_write_page(int fd, uint64_t k, const unsigned char *pg)
{
    return fileio_pwrite_all(fd, pg, IX_PAGE, (off_t)(k * IX_PAGE));
}

/* Records in data page k (1-based) that passes its check, else -1. */
static int ix_page_count(const unsigned char *pg, uint64_t k)
{
    uint32_t n = get32(pg + IX_COUNT_AT);
    if (get64(pg + IX_CHECK_AT) != ix_check(pg, IX_CHECK_AT, k) || n == 0 ||
        n > IX_PER_PAGE || get32(pg + IX_COUNT_AT + 4))
        return -1;
    return (int)n;
}

static uint64_t ix_pages_for(uint64_t nrec)
{
    return (nrec + IX_PER_PAGE - 1) / IX_PER_PAGE;
}

/* ---- opening: the header and every page checked ---- */

static int ix_load_header(struct dedup_index *ix, char *why, size_t len)
{
    unsigned char pg[IX_PAGE];
    struct stat st;
    if (fstat(ix->fd, &st) < 0 || (st.st_size >= IX_PAGE && ix_read_page(ix->fd, 0, pg) < 0)) {
        snprintf(why, len, "cannot read the header: %s", strerror(errno));
        return -1;
    }
    if (st.st_size < IX_PAGE) {
        snprintf(why, len, "%lld bytes, shorter than its header (truncated)",
                 (long long)st.st_size);
        return -1;
    }
    if (memcmp(pg, IX_MAGIC, 8) != 0 || get32(pg + 8) != IX_VERSION ||
        get32(pg + 12) != IX_PAGE || get64(pg + IX_HEAD_LEN) != ix_check(pg, IX_HEAD_LEN, 0)) {
        snprintf(why, len, "not a version %d index or a damaged header", IX_VERSION);
        return -1;
    }
    ix->nrec = get64(pg + 16);
    ix->max_id = (int64_t)get64(pg + 24);
    uint64_t pages = ix_pages_for(ix->nrec);
    if ((uint64_t)st.st_size != (pages + 1) * IX_PAGE) {
        snprintf(why, len, "%lld bytes, want %llu for %llu keys (truncated?)",
                 (long long)st.st_size, (unsigned long long)((pages + 1) * IX_PAGE),
                 (unsigned long long)ix->nrec);
        return -1;
    }
    ix->npages = (size_t)pages;
    return 0;
}

/* Check page k's records: the count the header implies, rising tags. */
static int ix_load_page(struct dedup_index *ix, uint64_t k, uint64_t *last, char *why,
                        size_t len)
{
    unsigned char pg[IX_PAGE];
    uint64_t want = k < ix->npages ? IX_PER_PAGE : ix->nrec - IX_PER_PAGE * (k - 1);
    if (ix_read_page(ix->fd, k, pg) < 0) {
        snprintf(why, len, "page %llu: %s", (unsigned long long)k, strerror(errno));
        return -1;
    }
    int n = ix_page_count(pg, k);
    if (n < 0 || (uint64_t)n != want) {
        snprintf(why, len, "page %llu of %zu fails its check", (unsigned long long)k,
                 ix->npages);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        uint64_t tag = get64(pg + (size_t)i * IX_REC);
        if (tag <= *last) {
            snprintf(why, len, "page %llu: keys out of order", (unsigned long long)k);
            return -1;
        }
        *last = tag;
    }
    ix->first[k - 1] = get64(pg);
    return 0;
}

static int ix_load(struct dedup_index *ix, char *why, size_t len)
{
    if (ix_load_header(ix, why, len) < 0)
        return -1;
    ix->first = xcalloc(ix->npages ? ix->npages : 1, sizeof *ix->first);
    uint64_t last = 0;
    for (uint64_t k = 1; k <= ix->npages; k++)
        if (ix_load_page(ix, k, &last, why, len) < 0)
            return -1;
    return 0;
}

int dedup_index_open(const char *path, struct dedup_index **out, char *err,
                     size_t errlen)
{
    struct dedup_index *ix = xcalloc(1, sizeof *ix);
    ix->path = xstrdup(path);
    char *tmp = xasprintf("%s.tmp", path);
    if (unlink(tmp) == 0)
        log_warn("dedup: %s: removed, left by an interrupted merge", tmp);
    free(tmp);
    *out = NULL;
    ix->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ix->fd < 0 && errno != ENOENT) {
        snprintf(err, errlen, "dedup: %s: %s", path, strerror(errno));
        dedup_index_close(&ix);
        return -1;
    }
    char why[160];
    if (ix->fd >= 0 && ix_load(ix, why, sizeof why) < 0) {
        snprintf(err, errlen,
                 "dedup: %s: damaged index: %s; it is the only record of the keys "
                 "it holds: restore it, or move it aside to start without them",
                 path, why);
        dedup_index_close(&ix);
        return -1;
    }
    *out = ix;
    return 0;
}

void dedup_index_close(struct dedup_index **ixp)
{
    struct dedup_index *ix = *ixp;
    if (!ix)
        return;
    if (ix->fd >= 0)
        close(ix->fd);
    free(ix->first);
    free(ix->path);
    free(ix);
    *ixp = NULL;
}

/* ---- lookups ---- */

/* Look tag up in the file: 1 and *id_us, or 0.  The page was checked at
 * open (or written by this process): only its count is checked again. */
static int ix_lookup(const struct dedup_index *ix, uint64_t tag, int64_t *id_us)
{
    if (!ix->npages || tag < ix->first[0])
        return 0;
    size_t lo = 0, hi = ix->npages;          /* the last page starting <= tag */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->first[mid] <= tag)
            lo = mid;
        else
            hi = mid;
    }
    unsigned char pg[IX_PAGE];
    uint32_t n = ix_read_page(ix->fd, lo + 1, pg) < 0 ? 0 : get32(pg + IX_COUNT_AT);
    if (n == 0 || n > IX_PER_PAGE) {
        log_error("dedup: %s: page %zu unreadable or damaged: its keys count as unknown",
                  ix->path, lo + 1);
        return 0;
    }
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        uint64_t t = get64(pg + mid * IX_REC);
        if (t == tag) {
            *id_us = (int64_t)get64(pg + mid * IX_REC + 8);
            return 1;
        }
        if (t < tag)
            a = mid + 1;
        else
            b = mid;
    }
    return 0;
}

int dedup_index_find(struct dedup_index *ix, uint64_t tag, int64_t *id_us)
{
    if (tag != ix->last_tag) {
        ix->last_tag = tag;
        ix->last_hit = ix_lookup(ix, tag, &ix->last_id);
    }
    if (ix->last_hit)
        *id_us = ix->last_id;
    return ix->last_hit;
}

/* ---- the merge ---- */

struct ix_reader {                /* the current file, record by record */
    const struct dedup_index *ix;
    uint64_t page;
    int i, n;
    unsigned char pg[IX_PAGE];
};

struct ix_writer {                /* the next file, page by page */
    int fd;
    int64_t cutoff;
    int n;                        /* records in pg */
    uint64_t pages, nrec;
    uint64_t *first;
    size_t capfirst;
    unsigned char pg[IX_PAGE];
};

/* 1 and the next record, 0 at the end, -1 (errno) on a bad page. */
static int ix_next(struct ix_reader *r, struct dedup_ent *e)
{
    if (r->i == r->n) {
        if (r->page == r->ix->npages)
            return 0;
        r->page++;
        if (ix_read_page(r->ix->fd, r->page, r->pg) < 0)
            return -1;
        if ((r->n = ix_page_count(r->pg, r->page)) < 0)
            return errno = EIO, -1;
        r->i = 0;
    }
    e->tag = get64(r->pg + (size_t)r->i * IX_REC);
    e->id_us = (int64_t)get64(r->pg + (size_t)r->i * IX_REC + 8);
    r->i++;
    return 1;
}

static int ix_seal(struct ix_writer *w)
{
    if (!w->n)
        return 0;
    memset(w->pg + (size_t)w->n * IX_REC, 0, IX_PAGE - (size_t)w->n * IX_REC);
    put32(w->pg + IX_COUNT_AT, (uint32_t)w->n);
    w->pages++;
    put64(w->pg + IX_CHECK_AT, ix_check(w->pg, IX_CHECK_AT, w->pages));
    w->n = 0;
    return ix_write_page(w->fd, w->pages, w->pg);
}

/* Append one record unless it is an expired content key. */
static int ix_emit(struct ix_writer *w, const struct dedup_ent *e)
{
    if (!(e->tag & 1) && e->id_us < w->cutoff)
        return 0;
    if (w->n == 0) {
        if (w->pages == w->capfirst) {
            w->capfirst = w->capfirst ? 2 * w->capfirst : 64;
            w->first = xrealloc(w->first, w->capfirst * sizeof *w->first);
        }
        w->first[w->pages] = e->tag;
    }
    put64(w->pg + (size_t)w->n * IX_REC, e->tag);
    put64(w->pg + (size_t)w->n * IX_REC + 8, (uint64_t)e->id_us);
    w->n++;
    w->nrec++;
    return w->n == IX_PER_PAGE ? ix_seal(w) : 0;
}

/* The record to keep of two with one tag (see dedup_index_merge). */
static struct dedup_ent ix_prefer(struct dedup_ent a, struct dedup_ent b)
{
    int b_wins = (a.tag & 1) ? b.id_us < a.id_us : b.id_us > a.id_us;
    return b_wins ? b : a;
}

/* Stream the current file and ents into w.  0 / -1 (errno). */
static int ix_merge_into(struct ix_writer *w, const struct dedup_index *ix,
                         const struct dedup_ent *ents, size_t n)
{
    struct ix_reader *r = xcalloc(1, sizeof *r);
    r->ix = ix;
    struct dedup_ent a;
    int have = ix->fd >= 0 ? ix_next(r, &a) : 0, rc = 0;
    size_t j = 0;
    while (rc == 0 && have >= 0 && (have || j < n)) {
        if (have && (j == n || a.tag < ents[j].tag)) {
            rc = ix_emit(w, &a);
            have = ix_next(r, &a);
        } else if (!have || ents[j].tag < a.tag) {
            rc = ix_emit(w, &ents[j++]);
        } else {
            struct dedup_ent keep = ix_prefer(a, ents[j++]);
            rc = ix_emit(w, &keep);
            have = ix_next(r, &a);
        }
    }
    free(r);
    if (rc == 0 && have < 0)
        rc = -1;
    return rc == 0 ? ix_seal(w) : -1;
}

static int ix_write_header(struct ix_writer *w, int64_t max_id)
{
    memset(w->pg, 0, IX_PAGE);
    memcpy(w->pg, IX_MAGIC, 8);
    put32(w->pg + 8, IX_VERSION);
    put32(w->pg + 12, IX_PAGE);
    put64(w->pg + 16, w->nrec);
    put64(w->pg + 24, (uint64_t)max_id);
    put64(w->pg + IX_HEAD_LEN, ix_check(w->pg, IX_HEAD_LEN, 0));
    return ix_write_page(w->fd, 0, w->pg);
}

int dedup_index_sync_dir(const char *path)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? (slash == dir ? "/" : dir) : ".",
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Take the written file w (already at ix->path) as the index. */
static void ix_adopt(struct dedup_index *ix, struct ix_writer *w, int64_t max_id)
{
    if (ix->fd >= 0)
        close(ix->fd);
    free(ix->first);
    ix->fd = w->fd;
    ix->first = w->first;
    ix->npages = (size_t)w->pages;
    ix->nrec = w->nrec;
    ix->max_id = max_id;
    ix->last_tag = 0;             /* no tag: the cached lookup is void */
    w->fd = -1;
    w->first = NULL;
}

int dedup_index_merge(struct dedup_index *ix, const struct dedup_ent *ents, size_t n,
                      int64_t cutoff_us, int64_t max_id, char *err, size_t errlen)
{
    char *tmp = xasprintf("%s.tmp", ix->path);
    struct ix_writer *w = xcalloc(1, sizeof *w);
    w->cutoff = cutoff_us;
    if (max_id < ix->max_id)
        max_id = ix->max_id;
    w->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    int rc = w->fd < 0 ? -1 : ix_merge_into(w, ix, ents, n);
    if (rc == 0)
        rc = ix_write_header(w, max_id);
    if (rc == 0)
        rc = fdatasync(w->fd);
    if (rc == 0)
        rc = rename(tmp, ix->path);
    if (rc == 0) {
        ix_adopt(ix, w, max_id);           /* the path names it now, synced or not */
        rc = dedup_index_sync_dir(ix->path);
    }
    if (rc < 0) {
        snprintf(err, errlen, "dedup: %s: cannot merge keys into the index: %s", ix->path,
                 strerror(errno));
        if (w->fd >= 0) {
            close(w->fd);
            unlink(tmp);
        }
    }
    free(w->first);
    free(w);
    free(tmp);
    return rc;
}

uint64_t dedup_index_count(const struct dedup_index *ix)
{
    return ix->nrec;
}

int64_t dedup_index_max_id(const struct dedup_index *ix)
{
    return ix->max_id;
}
