/* test_flight: the collector's forwarding window and held drop files. */
#include "collector_flight.h"
#include "harness.h"
#include <stdio.h>
#include <string.h>

/* Entries come due in the order they should be sent; a sent one is due
 * again only after the resend interval, backing off per send. */
static void test_due_order(void)
{
    struct flight *f = flight_new();
    struct flight_entry *a = flight_add(f, "id-a", 1, 0, NULL, 0, 0, 100);
    struct flight_entry *b = flight_add(f, "id-b", 1, 50, "x.json", 7, 8, 100);
    CHECK(flight_due(f, 99) == NULL, "nothing is due before its time");
    CHECK(flight_due(f, 100) == a, "the first added is due first");
    flight_sent(f, a, 100, 1000);
    CHECK(flight_due(f, 100) == b, "after sending a, b is due");
    flight_sent(f, b, 100, 1000);
    CHECK(flight_due(f, 1099) == NULL, "sent entries wait the resend interval");
    CHECK(flight_due(f, 1100) == a, "a is due again first");
    flight_sent(f, a, 1100, 1000);          /* second send: due 2000 ms later */
    CHECK(flight_due(f, 1100) == b, "b before a after a's resend");
    flight_sent(f, b, 1100, 1000);
    CHECK_INT("a due with back-off", (long long)a->due_ms, 3100);
    for (int i = 0; i < 10; i++)
        flight_sent(f, a, 0, 1000);
    CHECK_INT("back-off is capped at 4x", (long long)a->due_ms, 4000);
    CHECK_INT("count", (long long)flight_count(f), 2);
    flight_free(&f);
    CHECK(f == NULL, "flight_free NULLs the pointer");
}

/* Lookup by id survives growth and removal. */
static void test_find_many(void)
{
    struct flight *f = flight_new();
    char id[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "20260101-000000-%06d", i);
        flight_add(f, id, (uint32_t)i, (uint64_t)i * 10, NULL, 0, 0, i);
    }
    CHECK_INT("5000 entries", (long long)flight_count(f), 5000);
    struct flight_entry *e = flight_find(f, "20260101-000000-004321");
    CHECK(e && e->seg == 4321 && e->off == 43210, "find after growth");
    flight_remove(f, e);
    CHECK(flight_find(f, "20260101-000000-004321") == NULL, "removed is gone");
    CHECK(flight_find(f, "nope") == NULL, "unknown id");
    for (int i = 0; i < 5000; i += 2) {
        snprintf(id, sizeof id, "20260101-000000-%06d", i);
        e = flight_find(f, id);
        if (e)
            flight_remove(f, e);
    }
    CHECK_INT("half removed", (long long)flight_count(f), 2499);
    CHECK(flight_due(f, 1000000) && !strcmp(flight_due(f, 1000000)->id,
                                             "20260101-000000-000001"),
          "the due list skips removed entries");
    flight_free(&f);
}

/* A drop file is held once per spooled record and free after the last. */
static void test_held(void)
{
    struct flight *f = flight_new();
    flight_hold(f, "a.json");
    flight_hold(f, "M001/b.txt");
    flight_hold(f, "a.json");
    CHECK_INT("two names held", (long long)flight_nheld(f), 2);
    flight_release(f, "a.json");
    CHECK(flight_held(f, "a.json"), "still held after one of two releases");
    flight_release(f, "a.json");
    CHECK(!flight_held(f, "a.json"), "free after the last release");
    flight_release(f, "never-held.json");
    CHECK(flight_held(f, "M001/b.txt"), "others untouched");
    char rel[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(rel, sizeof rel, "f%d.json", i);
        flight_hold(f, rel);
    }
    CHECK(flight_held(f, "f2999.json") && flight_held(f, "M001/b.txt"),
          "held names survive growth");
    flight_free(&f);
}

int main(void)
{
    test_due_order();
    test_find_many();
    test_held();
    return harness_done();
}
