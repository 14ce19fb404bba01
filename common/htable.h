/* htable: the one in-memory hash table of minyi.  Intrusive: the caller
 * embeds a struct htable_node in its own struct and hands the table that
 * node, so inserting allocates nothing per entry (the collector's window
 * is on the per-report path).  Chained, power-of-two buckets, doubling
 * when there are as many entries as buckets.  The node keeps its hash, so
 * growth and removal never call back into the caller.
 *
 * The caller chooses the hash (hash.h's FNV-1a for strings) and says what
 * "equal" means at lookup with a callback.  The table owns only its bucket
 * array; entries stay the caller's, and must be removed (or popped at
 * teardown) before their memory is freed.
 *
 * Users: the collector's window and held files, the learner's n-grams and
 * features.  Not here: the duplicate index's key set (collector_dedup.c), which is a
 * fixed-capacity set of bare keys with an on-disk tier, not a table of
 * entries.
 */
#ifndef MINYI_HTABLE_H
#define MINYI_HTABLE_H
#include <stddef.h>
#include <stdint.h>

struct htable_node {
    struct htable_node *next;     /* bucket chain; the table's business */
    uint64_t hash;
};

struct htable {
    struct htable_node **buckets;
    size_t nbuckets;              /* a power of two */
    size_t count;
};

/* 1 if node n holds the key key (a callback of htable_find). */
typedef int (*htable_eq_fn)(const struct htable_node *n, const void *key);

/* The struct of type T whose member M is the node n (n not NULL). */
#define htable_entry(n, T, M) ((T *)(void *)((char *)(n) - offsetof(T, M)))

/* Make t empty with at least nbuckets buckets (rounded up to a power of
 * two, at least 8).  Allocates the bucket array: aborts on exhaustion
 * (xmalloc). */
void htable_init(struct htable *t, size_t nbuckets);
/* Free the bucket array and leave t empty; entries still in it are not
 * touched (pop them first if they must be freed). */
void htable_fini(struct htable *t);

/* Insert node n with hash h; n must not be in a table.  Duplicates are
 * the caller's concern (find first).  May grow the bucket array. */
void htable_insert(struct htable *t, struct htable_node *n, uint64_t h);
/* The first node with hash h for which eq(node, key) is 1, or NULL. */
struct htable_node *htable_find(const struct htable *t, uint64_t h,
                                htable_eq_fn eq, const void *key);
/* Unlink n from t (O(chain)).  Returns 1, or 0 if n was not in t. */
int htable_remove(struct htable *t, struct htable_node *n);
/* Unlink and return any one node, or NULL when t is empty: for teardown,
 * `while ((n = htable_pop(t))) free(entry of n);`. */
struct htable_node *htable_pop(struct htable *t);
/* The node after n in bucket order (n NULL: the first), or NULL at the
 * end.  The table must not change during a walk. */
struct htable_node *htable_next(const struct htable *t, const struct htable_node *n);
/* Number of nodes in t. */
size_t htable_count(const struct htable *t);

#endif
