/* test_dedup: duplicate keys -- ref keys are kept forever, content keys for
 * the configured days; the journal survives a restart, is compacted, and a
 * torn tail costs nothing but the torn record. */
#include "harness.h"
#include "../../collector/collector_dedup.h"
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY (86400LL * 1000000)
#define NOW (1750000000LL * 1000000)     /* a fixed "now": 2025-06-15 */

static char tmpl[] = "/tmp/test_dedup.XXXXXX";
static char *root;
static int ncase;

static char *case_path(void)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/dedup%d.log", root, ncase++);
    return path;
}

static struct dedup *open_at(const char *path, int days, int64_t now)
{
    char err[256];
    struct dedup *d = NULL;
    if (dedup_open(path, days, now, &d, err, sizeof err) < 0)
        printf("# %s\n", err);
    return d;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Keys added "age" days before NOW; looked up at NOW with a 30-day window,
 * both in the live table and after a reload of the journal. */
static const struct {
    const char *what;
    enum dedup_kind kind;
    uint64_t key;
    long long age_us;
    int want;
} age_cases[] = {
    {"ref key, a year old", DEDUP_REF, 0x1001, 365 * DAY, 1},
    {"ref key, today", DEDUP_REF, 0x1003, 0, 1},
    {"content key, today", DEDUP_CONTENT, 0x2000, 0, 1},
    {"content key, 29 days", DEDUP_CONTENT, 0x2002, 29 * DAY, 1},
    {"content key, just inside 30 days", DEDUP_CONTENT, 0x2004, 30 * DAY - 1, 1},
    {"content key, 31 days", DEDUP_CONTENT, 0x2006, 31 * DAY, 0},
    {"content key, 400 days", DEDUP_CONTENT, 0x2008, 400 * DAY, 0},
};
#define NAGE (sizeof age_cases / sizeof age_cases[0])

static void check_ages(struct dedup *d, const char *when)
{
    for (size_t i = 0; i < NAGE; i++) {
        int64_t id = 0;
        int got = dedup_find(d, age_cases[i].kind, age_cases[i].key, NOW, &id);
        CHECK(got == age_cases[i].want, "%s (%s): found %d, want %d", age_cases[i].what,
              when, got, age_cases[i].want);
        if (got)
            CHECK_INT(age_cases[i].what, id, NOW - age_cases[i].age_us);
    }
}

static void test_expiry_and_reload(void)
{
    const char *path = case_path();
    char err[256];
    struct dedup *d = open_at(path, 30, NOW - 400 * DAY);
    for (size_t i = 0; i < NAGE; i++)
        dedup_add(d, age_cases[i].kind, age_cases[i].key, NOW - age_cases[i].age_us);
    CHECK_INT("flush", dedup_flush(d, err, sizeof err), 0);
    check_ages(d, "live");
    int64_t id;
    CHECK_INT("kinds are apart: content 0x1001 unknown",
              dedup_find(d, DEDUP_CONTENT, 0x1001, NOW, &id), 0);
    CHECK_INT("key 0 is never a duplicate", dedup_find(d, DEDUP_REF, 0, NOW, &id), 0);
    CHECK_INT("max id", dedup_max_id_us(d), NOW);
    dedup_close(&d);
    CHECK(d == NULL, "close nulls the pointer");
    CHECK_INT("journal before compaction", file_size(path), 24 * (long long)NAGE);
    d = open_at(path, 30, NOW);
    check_ages(d, "reloaded");
    CHECK_INT("compacted: expired content keys gone", file_size(path), 24 * 5);
    CHECK_INT("keys after reload", dedup_count(d), 5);
    CHECK_INT("max id survives", dedup_max_id_us(d), NOW);
    /* An expired content key comes back with the new report's id. */
    dedup_add(d, DEDUP_CONTENT, 0x2006, NOW);
    CHECK_INT("re-added content key found", dedup_find(d, DEDUP_CONTENT, 0x2006, NOW, &id), 1);
    CHECK_INT("with the new id", id, NOW);
    dedup_close(&d);
}

static void test_rollback(void)
{
    const char *path = case_path();
    char err[256];
    struct dedup *d = open_at(path, 30, NOW);
    const int n = 20000;                 /* several resizes, long probe runs */
    for (int i = 1; i <= n; i++)
        dedup_add(d, i % 2 ? DEDUP_REF : DEDUP_CONTENT, (uint64_t)i * 2654435761u, NOW + i);
    dedup_flush(d, err, sizeof err);
    for (int i = n + 1; i <= 2 * n; i++)
        dedup_add(d, DEDUP_REF, (uint64_t)i * 2654435761u, NOW + i);
    dedup_rollback(d);
    int kept = 0, gone = 0;
    int64_t id;
    for (int i = 1; i <= n; i++)
        kept += dedup_find(d, i % 2 ? DEDUP_REF : DEDUP_CONTENT, (uint64_t)i * 2654435761u,
                           NOW, &id) && id == NOW + i;
    for (int i = n + 1; i <= 2 * n; i++)
        gone += !dedup_find(d, DEDUP_REF, (uint64_t)i * 2654435761u, NOW, &id);
    CHECK_INT("flushed keys kept", kept, n);
    CHECK_INT("rolled back keys gone", gone, n);
    CHECK_INT("count", dedup_count(d), n);
    CHECK_INT("nothing left to flush", dedup_flush(d, err, sizeof err), 0);
    dedup_close(&d);
    CHECK_INT("journal holds the flushed keys only", file_size(path), 24LL * n);
    d = open_at(path, 30, NOW);
    dedup_add(d, DEDUP_REF, 7, NOW);
    dedup_close(&d);                     /* never flushed: lost */
    d = open_at(path, 30, NOW);
    CHECK_INT("unflushed key lost at close", dedup_find(d, DEDUP_REF, 7, NOW, &id), 0);
    CHECK_INT("keys after reload", dedup_count(d), n);
    dedup_close(&d);
}

/* Committed keys survive a rollback and wait in memory for the flush. */
static void test_commit(void)
{
    const char *path = case_path();
    char err[256];
    int64_t id;
    struct dedup *d = open_at(path, 30, NOW);
    dedup_add(d, DEDUP_REF, 0x1111, NOW);
    dedup_add(d, DEDUP_CONTENT, 0x2222, NOW);
    dedup_commit(d);
    dedup_add(d, DEDUP_REF, 0x3333, NOW + 1);
    dedup_rollback(d);
    CHECK_INT("committed ref key kept", dedup_find(d, DEDUP_REF, 0x1111, NOW, &id), 1);
    CHECK_INT("committed content key kept", dedup_find(d, DEDUP_CONTENT, 0x2222, NOW, &id), 1);
    CHECK_INT("uncommitted key gone", dedup_find(d, DEDUP_REF, 0x3333, NOW, &id), 0);
    CHECK_INT("unflushed", dedup_unflushed(d), 2);
    CHECK_INT("nothing written before the flush", file_size(path), 0);
    CHECK_INT("flush", dedup_flush(d, err, sizeof err), 0);
    CHECK_INT("unflushed after the flush", dedup_unflushed(d), 0);
    CHECK_INT("journal after the flush", file_size(path), 48);
    dedup_close(&d);
}

static void test_torn(void)
{
    const char *path = case_path();
    char err[256];
    struct dedup *d = open_at(path, 30, NOW);
    dedup_add(d, DEDUP_REF, 0xaaaa, NOW);
    dedup_add(d, DEDUP_REF, 0xbbbb, NOW);
    dedup_flush(d, err, sizeof err);
    dedup_close(&d);
    FILE *f = fopen(path, "r+b");        /* damage record 2, add a torn tail */
    fseek(f, 24 + 9, SEEK_SET);
    fputc(0x7f, f);
    fseek(f, 0, SEEK_END);
    fwrite("\0\0\0\0\0\0\0\0\0\0", 1, 10, f);
    fclose(f);
    d = open_at(path, 30, NOW);
    CHECK(d != NULL, "opens despite damage");
    int64_t id;
    CHECK_INT("intact record kept", d ? dedup_find(d, DEDUP_REF, 0xaaaa, NOW, &id) : 0, 1);
    CHECK_INT("damaged record skipped", d ? dedup_find(d, DEDUP_REF, 0xbbbb, NOW, &id) : 1, 0);
    CHECK_INT("journal rewritten whole", file_size(path), 24);
    dedup_add(d, DEDUP_REF, 0xcccc, NOW);
    CHECK_INT("appends after repair", dedup_flush(d, err, sizeof err), 0);
    dedup_close(&d);
    d = open_at(path, 30, NOW);
    CHECK_INT("appended key reloaded", dedup_find(d, DEDUP_REF, 0xcccc, NOW, &id), 1);
    dedup_close(&d);
}

int main(void)
{
    root = mkdtemp(tmpl);
    if (!root)
        return perror("mkdtemp"), 1;
    test_expiry_and_reload();
    test_rollback();
    test_commit();
    test_torn();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    return harness_done();
}
