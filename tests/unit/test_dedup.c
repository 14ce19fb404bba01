/* test_dedup: duplicate keys -- ref keys are kept forever, content keys for
 * the configured days; the journal survives a restart, is compacted, and a
 * torn tail costs nothing but the torn record; keys merged into the index
 * file keep their first ids across reopens and crashes mid-merge, memory
 * stays under its cap, and a damaged index is refused. */
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

/* ---- two tiers: memory and the index file ---- */

static char *idx_of(const char *path)
{
    static char ix[300];
    snprintf(ix, sizeof ix, "%.*s.idx", (int)strlen(path) - 4, path);
    return ix;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static uint64_t key_of(int i)
{
    return (uint64_t)i * 0x9e3779b97f4a7c15ull | 4;
}

/* Adds keys [from, to) the way the collector does: groups committed after
 * the spool's sync, the journal flushed every 8192 keys.  Records the
 * largest number of keys resident at any time in *peak. */
static void add_keys(struct dedup *d, int from, int to, int64_t base, size_t *peak)
{
    char err[256];
    for (int i = from; i < to; i++) {
        dedup_add(d, i % 3 ? DEDUP_CONTENT : DEDUP_REF, key_of(i), base + i);
        if (peak && dedup_resident(d) > *peak)
            *peak = dedup_resident(d);
        if (i % 64 == 63)
            dedup_commit(d);
        if (dedup_unflushed(d) >= 8192)
            dedup_flush(d, err, sizeof err);
    }
    dedup_flush(d, err, sizeof err);
}

/* Keys [from, to) found with their first ids at now. */
static int found_keys(struct dedup *d, int from, int to, int64_t base, int64_t now)
{
    int n = 0;
    int64_t id;
    for (int i = from; i < to; i++)
        n += dedup_find(d, i % 3 ? DEDUP_CONTENT : DEDUP_REF, key_of(i), now, &id) &&
             id == base + i;
    return n;
}

/* Ages survive merges and a reopen; expired content keys leave the index
 * at the next merge, ref keys never. */
static void test_merge_ages(void)
{
    const char *path = case_path();
    struct dedup *d = open_at(path, 30, NOW - 400 * DAY);
    dedup_set_resident_max(d, 100);
    for (size_t i = 0; i < NAGE; i++)
        dedup_add(d, age_cases[i].kind, age_cases[i].key, NOW - age_cases[i].age_us);
    size_t peak = 0;
    add_keys(d, 1, 1000, NOW - 1000, &peak);       /* several merges */
    CHECK(peak <= 100, "resident keys: got %zu, want <= 100", peak);
    CHECK(file_size(idx_of(path)) > 4096, "index written: got %lld bytes",
          file_size(idx_of(path)));
    check_ages(d, "merged");
    CHECK_INT("merged keys found", found_keys(d, 1, 1000, NOW - 1000, NOW), 999);
    CHECK_INT("expired content keys dropped by the merges", dedup_count(d), 999 + 5);
    dedup_close(&d);
    d = open_at(path, 30, NOW);
    check_ages(d, "merged, reopened");
    CHECK_INT("merged keys found after reopen", found_keys(d, 1, 1000, NOW - 1000, NOW),
              999);
    dedup_close(&d);
}

/* A known live key keeps its first id wherever it lives; an expired
 * content key takes the new one. */
static const struct {
    const char *what;
    enum dedup_kind kind;
    uint64_t key;
    long long first_age, again_age;   /* added at NOW - age, then again */
    long long want_age;
} first_cases[] = {
    {"ref key added again", DEDUP_REF, 0x5001, 2 * DAY, 0, 2 * DAY},
    {"ref key added again a year on", DEDUP_REF, 0x5003, 400 * DAY, 0, 400 * DAY},
    {"content key again in the window", DEDUP_CONTENT, 0x5000, 10 * DAY, 0, 10 * DAY},
    {"content key again after expiry", DEDUP_CONTENT, 0x5002, 40 * DAY, 0, 0},
};
#define NFIRST (sizeof first_cases / sizeof first_cases[0])

static void check_first(struct dedup *d, const char *when)
{
    for (size_t i = 0; i < NFIRST; i++) {
        int64_t id = 0;
        int got = dedup_find(d, first_cases[i].kind, first_cases[i].key, NOW, &id);
        CHECK(got && id == NOW - first_cases[i].want_age, "%s (%s): got %d id %lld, want id %lld",
              first_cases[i].what, when, got, (long long)(NOW - id) / DAY,
              (long long)first_cases[i].want_age / DAY);
    }
}

static void test_first_id(void)
{
    for (int merged = 0; merged < 2; merged++) {
        const char *path = case_path();
        struct dedup *d = open_at(path, 30, NOW - 400 * DAY);
        for (size_t i = 0; i < NFIRST; i++)
            dedup_add(d, first_cases[i].kind, first_cases[i].key, NOW - first_cases[i].first_age);
        dedup_commit(d);
        if (merged) {                              /* the first ids in the index */
            dedup_set_resident_max(d, 1);
            dedup_add(d, DEDUP_REF, 0x6000, NOW - 500 * DAY);
            dedup_commit(d);
            CHECK_INT("merged: resident", dedup_resident(d), 1);
        }
        for (size_t i = 0; i < NFIRST; i++)
            dedup_add(d, first_cases[i].kind, first_cases[i].key, NOW - first_cases[i].again_age);
        check_first(d, merged ? "first in the index" : "first in memory");
        char err[256];
        dedup_flush(d, err, sizeof err);
        dedup_close(&d);
        d = open_at(path, 30, NOW);
        check_first(d, merged ? "index, reopened" : "memory, reopened");
        dedup_close(&d);
    }
}

/* Merging never takes uncommitted keys: a rollback after a merge still
 * forgets them, and committed ones stay. */
static void test_merge_uncommitted(void)
{
    const char *path = case_path();
    struct dedup *d = open_at(path, 30, NOW);
    dedup_set_resident_max(d, 50);
    for (int i = 0; i < 40; i++)
        dedup_add(d, DEDUP_REF, key_of(i), NOW + i);
    dedup_commit(d);
    for (int i = 40; i < 200; i++)                 /* merges at 50, 90, ... */
        dedup_add(d, DEDUP_REF, key_of(i), NOW + i);
    CHECK(dedup_resident(d) >= 160, "uncommitted stay resident: got %zu, want >= 160",
          dedup_resident(d));
    dedup_rollback(d);
    int64_t id;
    int kept = 0, gone = 0;
    for (int i = 0; i < 40; i++)
        kept += dedup_find(d, DEDUP_REF, key_of(i), NOW, &id) && id == NOW + i;
    for (int i = 40; i < 200; i++)
        gone += !dedup_find(d, DEDUP_REF, key_of(i), NOW, &id);
    CHECK_INT("committed keys merged", kept, 40);
    CHECK_INT("rolled back keys gone, index too", gone, 160);
    CHECK_INT("resident after rollback", dedup_resident(d), 0);
    CHECK_INT("index holds the committed keys", dedup_count(d), 40);
    dedup_close(&d);
}

/* A crash at each step of a merge loses nothing: the files as they would
 * be left are put back from copies, then the keys are looked for. */
static void test_crash_mid_merge(void)
{
    const char *path = case_path();
    char ix[300], snap_log[320], snap_ix[320], tmp[320];
    snprintf(ix, sizeof ix, "%s", idx_of(path));
    snprintf(snap_log, sizeof snap_log, "%s.snap", path);
    snprintf(snap_ix, sizeof snap_ix, "%s.snap", ix);
    snprintf(tmp, sizeof tmp, "%s.tmp", ix);
    struct dedup *d = open_at(path, 30, NOW);
    dedup_set_resident_max(d, 300);
    add_keys(d, 0, 500, NOW, NULL);                /* one merge at 300 */
    dedup_close(&d);
    CHECK_INT("snapshot of the journal", copy_file(path, snap_log), 0);
    CHECK_INT("snapshot of the index", copy_file(ix, snap_ix), 0);
    d = open_at(path, 30, NOW);
    dedup_set_resident_max(d, 300);
    add_keys(d, 500, 700, NOW, NULL);              /* merge: journal emptied */
    dedup_close(&d);
    CHECK(file_size(path) < 24LL * 200, "journal emptied by the merge: got %lld bytes",
          file_size(path));
    /* Keys 0..500 were durable (index or journal) when the second merge
     * began; 500..700 were only in the spool, which is not simulated. */
    static const struct {
        const char *what;
        int old_index, leftover_tmp;
    } steps[] = {
        {"crash while writing the new index", 1, 1},
        {"crash before the rename", 1, 0},
        {"crash after the rename, journal not reset", 0, 0},
        {"crash after the rename, leftover tmp", 0, 1},
    };
    char new_ix[320];
    snprintf(new_ix, sizeof new_ix, "%s.new", ix);
    copy_file(ix, new_ix);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        copy_file(snap_log, path);                 /* the journal as before */
        copy_file(steps[i].old_index ? snap_ix : new_ix, ix);
        if (steps[i].leftover_tmp) {
            FILE *f = fopen(tmp, "wb");
            fputs("half a merge", f);
            fclose(f);
        }
        d = open_at(path, 30, NOW);
        CHECK(d != NULL, "%s: opens", steps[i].what);
        if (!d)
            continue;
        CHECK_INT(steps[i].what, found_keys(d, 0, 500, NOW, NOW), 500);
        CHECK_INT("leftover tmp removed", file_size(tmp), -1);
        dedup_close(&d);
    }
}

/* A journal longer than memory (one written before the index existed)
 * is merged into the index while it is read. */
static void test_long_journal(void)
{
    char a[256], b[256];
    snprintf(a, sizeof a, "%s", case_path());
    snprintf(b, sizeof b, "%s", case_path());
    const char *path = case_path();
    const int n = DEDUP_RESIDENT_MAX + 50000, half = n / 2;
    struct dedup *d = open_at(a, 30, NOW);
    add_keys(d, 0, half, NOW, NULL);
    dedup_close(&d);
    d = open_at(b, 30, NOW);
    add_keys(d, half, n, NOW, NULL);
    dedup_close(&d);
    copy_file(a, path);
    FILE *out = fopen(path, "ab"), *in = fopen(b, "rb");   /* both halves */
    char buf[65536];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, r, out);
    fclose(in);
    fclose(out);
    CHECK_INT("journal of both halves", file_size(path), 24LL * n);
    d = open_at(path, 30, NOW);
    CHECK(dedup_resident(d) <= DEDUP_RESIDENT_MAX, "resident after load: got %zu, want <= %d",
          dedup_resident(d), DEDUP_RESIDENT_MAX);
    CHECK_INT("all keys found", found_keys(d, 0, n, NOW, NOW), n);
    CHECK(file_size(path) < 24LL * n, "journal compacted: got %lld bytes", file_size(path));
    dedup_close(&d);
    d = open_at(path, 30, NOW);
    CHECK_INT("all keys found after reopen", found_keys(d, 0, n, NOW, NOW), n);
    dedup_close(&d);
}

/* The memory cap holds with the built-in size, whatever was accepted. */
static void test_cap(void)
{
    const char *path = case_path();
    const int n = 600000;
    struct dedup *d = open_at(path, 30, NOW);
    size_t peak = 0;
    add_keys(d, 0, n, NOW, &peak);
    CHECK(peak <= DEDUP_RESIDENT_MAX, "resident keys: got %zu, want <= %d", peak,
          DEDUP_RESIDENT_MAX);
    CHECK_INT("all keys counted", dedup_count(d), n);
    CHECK_INT("all keys found", found_keys(d, 0, n, NOW, NOW), n);
    CHECK_INT("max id", dedup_max_id_us(d), NOW + n - 1);
    dedup_close(&d);
    d = open_at(path, 30, NOW);
    CHECK(dedup_resident(d) < DEDUP_RESIDENT_MAX, "resident after reopen: got %zu",
          dedup_resident(d));
    CHECK_INT("max id after reopen", dedup_max_id_us(d), NOW + n - 1);
    CHECK_INT("all keys found after reopen", found_keys(d, 0, n, NOW, NOW), n);
    dedup_close(&d);
}

/* A damaged index is refused with a clear error; moved aside, the
 * collector starts without its keys. */
static void test_damaged_index(void)
{
    const char *path = case_path();
    char ix[300], good[320];
    snprintf(ix, sizeof ix, "%s", idx_of(path));
    snprintf(good, sizeof good, "%s.good", ix);
    struct dedup *d = open_at(path, 30, NOW);
    dedup_set_resident_max(d, 1000);
    add_keys(d, 0, 1200, NOW, NULL);
    size_t journal_keys = dedup_resident(d);       /* all flushed */
    CHECK(journal_keys > 0 && journal_keys < 1200, "some keys merged: %zu resident",
          journal_keys);
    dedup_close(&d);
    copy_file(ix, good);
    long long size = file_size(good);
    static const struct {
        const char *what;
        long long at;             /* byte to change, or -1 */
        long long cut;            /* length to truncate to, or -1 */
    } cases[] = {
        {"a flipped byte in a page", 4096 + 100, -1},
        {"a flipped byte in a page trailer", 2 * 4096 + 4084, -1},
        {"a flipped byte in the header", 17, -1},
        {"a wrong magic", 0, -1},
        {"a missing last page", -1, -4096},
        {"cut mid-page", -1, 4096 + 1000},
        {"cut to nothing", -1, 0},
    };
    char err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_file(good, ix);
        if (cases[i].at >= 0) {
            FILE *f = fopen(ix, "r+b");
            fseek(f, cases[i].at, SEEK_SET);
            int c = fgetc(f);
            fseek(f, cases[i].at, SEEK_SET);
            fputc(c ^ 0x10, f);
            fclose(f);
        } else if (truncate(ix, cases[i].cut < 0 ? size + cases[i].cut : cases[i].cut) < 0) {
            CHECK(0, "%s: cannot truncate", cases[i].what);
        }
        err[0] = '\0';
        d = NULL;
        int rc = dedup_open(path, 30, NOW, &d, err, sizeof err);
        CHECK(rc == -1 && d == NULL, "%s: got %d, want -1 (refused)", cases[i].what, rc);
        CHECK(strstr(err, "damaged index") && strstr(err, "move it aside"),
              "%s: got error \"%s\", want one saying damaged index and what to do",
              cases[i].what, err);
        dedup_close(&d);
    }
    unlink(ix);
    d = open_at(path, 30, NOW);
    CHECK(d != NULL, "starts once the index is moved aside");
    if (d)
        CHECK_INT("only the journal's keys", found_keys(d, 0, 1200, NOW, NOW), journal_keys);
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
    test_merge_ages();
    test_first_id();
    test_merge_uncommitted();
    test_crash_mid_merge();
    test_long_journal();
    test_cap();
    test_damaged_index();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    return harness_done();
}
