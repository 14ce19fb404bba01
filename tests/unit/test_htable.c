/* test_htable: the one intrusive hash table (common/htable.c): insert,
 * find, remove, growth, colliding hashes, walking and teardown. */
#include "harness.h"
#include "hash.h"
#include "htable.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    char key[24];
    int value;
    struct htable_node node;
};

static int item_eq(const struct htable_node *n, const void *key)
{
    return strcmp(htable_entry(n, struct item, node)->key, key) == 0;
}

/* A table whose hash is forced: h = 0 puts every key in one chain. */
static uint64_t key_hash(const char *key, int collide)
{
    return collide ? 7 : hash_fnv1a_str(HASH_FNV_OFFSET, key);
}

static struct item *find(const struct htable *t, const char *key, int collide)
{
    struct htable_node *n = htable_find(t, key_hash(key, collide), item_eq, key);
    return n ? htable_entry(n, struct item, node) : NULL;
}

/* Insert n items, find each, remove every other one, find again, walk,
 * pop the rest: the same contract with spread and with colliding hashes. */
static void test_case(const char *name, int n, int collide)
{
    struct htable t;
    htable_init(&t, 0);
    CHECK(t.nbuckets == 8, "%s: initial buckets %zu", name, t.nbuckets);
    struct item *items = calloc((size_t)n, sizeof *items);
    for (int i = 0; i < n; i++) {
        snprintf(items[i].key, sizeof items[i].key, "k%d", i);
        items[i].value = i;
        htable_insert(&t, &items[i].node, key_hash(items[i].key, collide));
    }
    CHECK_INT(name, htable_count(&t), n);
    CHECK(t.nbuckets >= (size_t)n && (t.nbuckets & (t.nbuckets - 1)) == 0,
          "%s: grew to a power of two >= n (%zu)", name, t.nbuckets);
    int found = 0;
    for (int i = 0; i < n; i++) {
        struct item *it = find(&t, items[i].key, collide);
        found += it == &items[i] && it->value == i;
    }
    CHECK_INT("every key found", found, n);
    CHECK(find(&t, "absent", collide) == NULL, "%s: unknown key", name);

    for (int i = 0; i < n; i += 2)
        CHECK(htable_remove(&t, &items[i].node) == 1, "%s: remove k%d", name, i);
    CHECK(htable_remove(&t, &items[0].node) == 0, "%s: second remove refused", name);
    CHECK_INT("half left", htable_count(&t), n / 2);
    int right = 0;
    for (int i = 0; i < n; i++)
        right += (find(&t, items[i].key, collide) != NULL) == (i % 2 == 1);
    CHECK_INT("removed gone, others kept", right, n);

    int walked = 0, odd = 1;
    for (struct htable_node *x = htable_next(&t, NULL); x; x = htable_next(&t, x)) {
        walked++;
        odd &= htable_entry(x, struct item, node)->value % 2 == 1;
    }
    CHECK_INT("walk visits each once", walked, n / 2);
    CHECK(odd, "%s: walk sees only live entries", name);

    int popped = 0;
    for (struct htable_node *x; (x = htable_pop(&t)) != NULL;)
        popped++;
    CHECK_INT("pop empties the table", popped, n / 2);
    CHECK_INT("count after teardown", htable_count(&t), 0);
    CHECK(htable_next(&t, NULL) == NULL, "%s: empty walk", name);
    htable_fini(&t);
    CHECK(t.buckets == NULL, "%s: fini frees the buckets", name);
    free(items);
}

/* Equal hashes, different keys: the compare callback decides. */
static void test_same_hash_distinct_keys(void)
{
    struct htable t;
    htable_init(&t, 100);
    CHECK_INT("hint rounds up to a power of two", t.nbuckets, 128);
    struct item a = {.key = "a", .value = 1}, b = {.key = "b", .value = 2};
    htable_insert(&t, &a.node, 42);
    htable_insert(&t, &b.node, 42);
    CHECK(find(&t, "a", 0) == NULL, "a different hash misses");
    struct htable_node *n = htable_find(&t, 42, item_eq, "a");
    CHECK(n == &a.node, "the callback picks a out of a shared chain");
    n = htable_find(&t, 42, item_eq, "b");
    CHECK(n == &b.node, "and b");
    htable_remove(&t, &b.node);
    CHECK(htable_find(&t, 42, item_eq, "a") == &a.node, "a survives b's removal");
    htable_fini(&t);
}

int main(void)
{
    static const struct {
        const char *name;
        int n, collide;
    } cases[] = {
        {"empty", 0, 0},
        {"one", 1, 0},
        {"below growth", 7, 0},
        {"grows", 5000, 0},
        {"all collide", 300, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_case(cases[i].name, cases[i].n, cases[i].collide);
    test_same_hash_distinct_keys();
    return harness_done();
}
