/* htable.c: the intrusive chained hash table (htable.h). */
#include "htable.h"
#include "xmalloc.h"
#include <stdlib.h>

void htable_init(struct htable *t, size_t nbuckets)
{
    size_t nb = 8;
    while (nb < nbuckets)
        nb *= 2;
    t->buckets = xcalloc(nb, sizeof *t->buckets);
    t->nbuckets = nb;
    t->count = 0;
}

void htable_fini(struct htable *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = 0;
    t->count = 0;
}

static void htable_grow(struct htable *t)
{
    size_t nb = t->nbuckets * 2;
    struct htable_node **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct htable_node *n = t->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

void htable_insert(struct htable *t, struct htable_node *n, uint64_t h)
{
    if (t->count >= t->nbuckets)
        htable_grow(t);
    struct htable_node **head = &t->buckets[h & (t->nbuckets - 1)];
    n->hash = h;
    n->next = *head;
    *head = n;
    t->count++;
}

struct htable_node *htable_find(const struct htable *t, uint64_t h,
                                htable_eq_fn eq, const void *key)
{
    struct htable_node *n = t->buckets[h & (t->nbuckets - 1)];
    while (n && !(n->hash == h && eq(n, key)))
        n = n->next;
    return n;
}

int htable_remove(struct htable *t, struct htable_node *n)
{
    struct htable_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (!*pp)
        return 0;
    *pp = n->next;
    n->next = NULL;
    t->count--;
    return 1;
}

struct htable_node *htable_pop(struct htable *t)
{
    for (size_t i = 0; t->count > 0 && i < t->nbuckets; i++) {
        struct htable_node *n = t->buckets[i];
        if (n) {
            t->buckets[i] = n->next;
            n->next = NULL;
            t->count--;
            return n;
        }
    }
    return NULL;
}

struct htable_node *htable_next(const struct htable *t, const struct htable_node *n)
{
    if (n && n->next)
        return n->next;
    size_t i = n ? (size_t)(n->hash & (t->nbuckets - 1)) + 1 : 0;
    for (; i < t->nbuckets; i++)
        if (t->buckets[i])
            return t->buckets[i];
    return NULL;
}

size_t htable_count(const struct htable *t)
{
    return t->count;
}
