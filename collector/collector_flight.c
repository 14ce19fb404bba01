/* collector_flight.c: the forwarding window and the held drop files (see
 * collector_flight.h).  Two tables of common/htable (entries by id, held
 * files by rel), and one due list kept sorted by due time
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
    struct htable_node node;      /* in the table by rel */
};

struct flight {
    struct htable ids;            /* flight_entry by id */
    struct flight_entry *head, *tail;
    struct htable held;           /* struct held by rel */
};

static uint64_t flight_hash(const char *s)
{
    return hash_fnv1a_str(HASH_FNV_OFFSET, s);
}

static int entry_eq(const struct htable_node *n, const void *id)
{
    return strcmp(htable_entry(n, struct flight_entry, hnode)->id, id) == 0;
}

static int held_eq(const struct htable_node *n, const void *rel)
{
    return strcmp(htable_entry(n, struct held, node)->rel, rel) == 0;
}

struct flight *flight_new(void)
{
    struct flight *f = xcalloc(1, sizeof *f);
    htable_init(&f->ids, 1024);
    htable_init(&f->held, 1024);
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
    for (struct htable_node *n; (n = htable_pop(&f->held)) != NULL;) {
        struct held *h = htable_entry(n, struct held, node);
        free(h->rel);
        free(h);
    }
    htable_fini(&f->ids);
    htable_fini(&f->held);
    free(f);
    *fp = NULL;
}

/* ---- the window ---- */

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
    struct flight_entry *e = xcalloc(1, sizeof *e);
    xstrlcpy(e->id, id, sizeof e->id);
    e->seg = seg;
    e->off = off;
    e->rel = rel && *rel ? xstrdup(rel) : NULL;
    e->dev = dev;
    e->ino = ino;
    e->due_ms = now_ms;
    htable_insert(&f->ids, &e->hnode, flight_hash(e->id));
    due_insert(f, e);
    return e;
}

struct flight_entry *flight_find(const struct flight *f, const char *id)
{
    struct htable_node *n = htable_find(&f->ids, flight_hash(id), entry_eq, id);
    return n ? htable_entry(n, struct flight_entry, hnode) : NULL;
}

void flight_remove(struct flight *f, struct flight_entry *e)
{
    htable_remove(&f->ids, &e->hnode);
    due_unlink(f, e);
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
    return htable_count(&f->ids);
}

/* ---- held drop files ---- */

static struct held *held_find(const struct flight *f, const char *rel)
{
    struct htable_node *n = htable_find(&f->held, flight_hash(rel), held_eq, rel);
    return n ? htable_entry(n, struct held, node) : NULL;
}

void flight_hold(struct flight *f, const char *rel)
{
    struct held *h = held_find(f, rel);
    if (h) {
        h->count++;
        return;
    }
    h = xcalloc(1, sizeof *h);
    h->rel = xstrdup(rel);
    h->count = 1;
    htable_insert(&f->held, &h->node, flight_hash(rel));
}

void flight_release(struct flight *f, const char *rel)
{
    struct held *h = held_find(f, rel);
    if (!h || --h->count > 0)
        return;
    htable_remove(&f->held, &h->node);
    free(h->rel);
    free(h);
}

int flight_held(const struct flight *f, const char *rel)
{
    return held_find(f, rel) != NULL;
}

size_t flight_nheld(const struct flight *f)
{
    return htable_count(&f->held);
}
