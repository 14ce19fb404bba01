/* collector_flight.c: the forwarding window and the held drop files (see
 * collector_flight.h).  Two chained hash tables that double when they get
 * as many entries as buckets, and one due list kept sorted by due time
 * (insertion walks from the tail: entries are nearly always appended).
 */
#include "collector_flight.h"
#include "hash.h"
#include "xmalloc.h"
#include <stdlib.h>
#include <string.h>

struct held {
    char *rel;
    unsigned count;
    struct held *next;
};

struct flight {
    struct flight_entry **buckets;
    size_t nb, n;
    struct flight_entry *head, *tail;
    struct held **hbuckets;
    size_t hnb, hn;
};

static uint64_t flight_hash(const char *s)
{
    return hash_fnv1a_str(HASH_FNV_OFFSET, s);
}

struct flight *flight_new(void)
{
    struct flight *f = xcalloc(1, sizeof *f);
    f->nb = 1024;
    f->buckets = xcalloc(f->nb, sizeof *f->buckets);
    f->hnb = 1024;
    f->hbuckets = xcalloc(f->hnb, sizeof *f->hbuckets);
    return f;
}

void flight_free(struct flight **fp)
{
    struct flight *f = *fp;
    if (!f)
        return;
    for (struct flight_entry *e = f->head, *next; e; e = next) {
        next = e->next;
        free(e->rel);
        free(e);
    }
    for (size_t i = 0; i < f->hnb; i++)
        for (struct held *h = f->hbuckets[i], *next; h; h = next) {
            next = h->next;
            free(h->rel);
            free(h);
        }
    free(f->buckets);
    free(f->hbuckets);
    free(f);
    *fp = NULL;
}

/* ---- the window ---- */

static void flight_grow(struct flight *f)
{
    size_t nb = f->nb * 2;
    struct flight_entry **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < f->nb; i++)
        for (struct flight_entry *e = f->buckets[i], *next; e; e = next) {
            next = e->hnext;
            size_t k = flight_hash(e->id) & (nb - 1);
            e->hnext = b[k];
            b[k] = e;
        }
    free(f->buckets);
    f->buckets = b;
    f->nb = nb;
}

static void due_unlink(struct flight *f, struct flight_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        f->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        f->tail = e->prev;
    e->prev = e->next = NULL;
}

/* Insert e in due order, after every entry due at the same time or earlier.
 * New entries (due now) go to the head and sent ones (due last) to the
 * tail, both in O(1); only backed-off resends walk. */
static void due_insert(struct flight *f, struct flight_entry *e)
{
    struct flight_entry *p = f->tail;
    if (f->head && e->due_ms < f->head->due_ms)
        p = NULL;
    while (p && p->due_ms > e->due_ms)
        p = p->prev;
    e->prev = p;
    e->next = p ? p->next : f->head;
    if (e->next)
        e->next->prev = e;
    else
        f->tail = e;
    if (p)
        p->next = e;
    else
        f->head = e;
}

struct flight_entry *flight_add(struct flight *f, const char *id, uint32_t seg,
                                uint64_t off, const char *rel, uint64_t dev,
                                uint64_t ino, int64_t now_ms)
{
    if (f->n >= f->nb)
        flight_grow(f);
    struct flight_entry *e = xcalloc(1, sizeof *e);
    xstrlcpy(e->id, id, sizeof e->id);
    e->seg = seg;
    e->off = off;
    e->rel = rel && *rel ? xstrdup(rel) : NULL;
    e->dev = dev;
    e->ino = ino;
    e->due_ms = now_ms;
    size_t k = flight_hash(e->id) & (f->nb - 1);
    e->hnext = f->buckets[k];
    f->buckets[k] = e;
    f->n++;
    due_insert(f, e);
    return e;
}

struct flight_entry *flight_find(const struct flight *f, const char *id)
{
    struct flight_entry *e = f->buckets[flight_hash(id) & (f->nb - 1)];
    while (e && strcmp(e->id, id) != 0)
        e = e->hnext;
    return e;
}

void flight_remove(struct flight *f, struct flight_entry *e)
{
    struct flight_entry **pp = &f->buckets[flight_hash(e->id) & (f->nb - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    due_unlink(f, e);
    f->n--;
    free(e->rel);
    free(e);
}

struct flight_entry *flight_due(const struct flight *f, int64_t now_ms)
{
    return f->head && f->head->due_ms <= now_ms ? f->head : NULL;
}

void flight_sent(struct flight *f, struct flight_entry *e, int64_t now_ms, int resend_ms)
{
    int shift = e->sends < 2 ? e->sends : 2;
    e->sends++;
    e->due_ms = now_ms + ((int64_t)resend_ms << shift);
    due_unlink(f, e);
    due_insert(f, e);
}

size_t flight_count(const struct flight *f)
{
    return f->n;
}

/* ---- held drop files ---- */

static struct held **held_slot(const struct flight *f, const char *rel)
{
    struct held **pp = &f->hbuckets[flight_hash(rel) & (f->hnb - 1)];
    while (*pp && strcmp((*pp)->rel, rel) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void held_grow(struct flight *f)
{
    size_t nb = f->hnb * 2;
    struct held **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < f->hnb; i++)
        for (struct held *h = f->hbuckets[i], *next; h; h = next) {
            next = h->next;
            size_t k = flight_hash(h->rel) & (nb - 1);
            h->next = b[k];
            b[k] = h;
        }
    free(f->hbuckets);
    f->hbuckets = b;
    f->hnb = nb;
}

void flight_hold(struct flight *f, const char *rel)
{
    if (f->hn >= f->hnb)
        held_grow(f);
    struct held **pp = held_slot(f, rel);
    if (*pp) {
        (*pp)->count++;
        return;
    }
    struct held *h = xcalloc(1, sizeof *h);
    h->rel = xstrdup(rel);
    h->count = 1;
    *pp = h;
    f->hn++;
}

void flight_release(struct flight *f, const char *rel)
{
    struct held **pp = held_slot(f, rel), *h = *pp;
    if (!h || --h->count > 0)
        return;
    *pp = h->next;
    free(h->rel);
    free(h);
    f->hn--;
}

int flight_held(const struct flight *f, const char *rel)
{
    return *held_slot(f, rel) != NULL;
}

size_t flight_nheld(const struct flight *f)
{
    return f->hn;
}
