/* test_spool: the collector's segment log -- what survives a restart, what
 * a torn tail costs, when segments go away, and that a large backlog is
 * walked with bounded memory.  Every case works in its own mktemp -d. */
#include "harness.h"
#include "../../collector/collector_spool.h"
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpl[] = "/tmp/test_spool.XXXXXX";
static char *root;
static int ncase;

/* A fresh, empty spool directory for one case. */
static char *case_dir(void)
{
    static char dir[256];
    snprintf(dir, sizeof dir, "%s/c%d", root, ncase++);
    return dir;
}

static void make_id(char *id, long n)
{
    snprintf(id, SPOOL_ID_MAX + 1, "20250101-%06ld-%06ld", n / 1000000, n % 1000000);
}

/* Append record n (socket or drop), not synced. */
static int put(struct spool *sp, long n, int drop)
{
    char data[128], rel[64], err[256];
    struct spool_rec r = {0};
    make_id(r.id, n);
    snprintf(data, sizeof data, "{\"n\":%ld}", n);
    snprintf(rel, sizeof rel, "f%ld.json", n);
    r.source = drop ? 1 : 0;
    r.content_key = (uint64_t)n * 7919u;
    r.ref_key = (uint64_t)n;
    r.rel = drop ? rel : "";
    r.dev = drop ? 42 : 0;
    r.ino = drop ? (uint64_t)n + 1000 : 0;
    r.data = data;
    r.len = strlen(data);
    int rc = spool_append(sp, &r, err, sizeof err);
    if (rc < 0)
        printf("# append %ld: %s\n", n, err);
    return rc;
}

static struct spool *reopen(struct spool **sp, const char *dir, size_t seg_bytes)
{
    char err[256];
    spool_close(sp);
    if (spool_open(dir, seg_bytes, NULL, NULL, sp, err, sizeof err) < 0)
        printf("# open %s: %s\n", dir, err);
    return *sp;
}

/* Ids of every pending record, in order, into ids[] (at most max). */
static size_t drain(struct spool *sp, struct spool_rec *recs, size_t max)
{
    char err[256];
    struct spool_rec r;
    size_t n = 0;
    while (spool_next_pending(sp, &r, err, sizeof err) == 1)
        if (n < max)
            recs[n++] = r;
        else
            n++;
    return n;
}

static struct {
    long n;
    int pending;
} scanned[16];
static size_t nscanned;

static void on_scan(void *arg, const struct spool_rec *rec, int pending)
{
    (void)arg;
    if (nscanned < 16) {
        scanned[nscanned].n = strtol(strchr(rec->data, ':') + 1, NULL, 10);
        scanned[nscanned++].pending = pending;
    }
}

static void test_restart(void)
{
    const char *dir = case_dir();
    char err[256];
    struct spool *sp = NULL;
    CHECK(reopen(&sp, dir, 0) != NULL, "open");
    put(sp, 1, 0);
    put(sp, 2, 1);
    struct spool_rec r;
    CHECK_INT("unsynced records are not pending",
              spool_next_pending(sp, &r, err, sizeof err), 0);
    CHECK_INT("sync", spool_sync(sp, err, sizeof err), 0);
    put(sp, 3, 0);                        /* never synced: lost at close */
    reopen(&sp, dir, 0);
    CHECK_INT("pending after reopen", spool_pending(sp), 2);
    CHECK_STR("last id", spool_last_id(sp), "20250101-000000-000002");
    struct spool_rec recs[4];
    CHECK_INT("records pending", drain(sp, recs, 4), 2);
    CHECK_STR("first id", recs[0].id, "20250101-000000-000001");
    CHECK_STR("first rel", recs[0].rel, "");
    CHECK_INT("first content key", recs[0].content_key, 7919);
    CHECK_STR("second id", recs[1].id, "20250101-000000-000002");
    CHECK_STR("second data", recs[1].data, "{\"n\":2}");
    CHECK_INT("second len", recs[1].len, 7);
    CHECK_STR("second rel", recs[1].rel, "f2.json");
    CHECK_INT("second dev", recs[1].dev, 42);
    CHECK_INT("second ino", recs[1].ino, 1002);
    CHECK_INT("second source", recs[1].source, 1);
    CHECK_INT("confirm", spool_confirm(sp, recs[0].seg, recs[0].id, err, sizeof err), 0);
    CHECK_INT("pending after confirm", spool_pending(sp), 1);
    struct spool_rec again;
    CHECK_INT("read back by position",
              spool_read(sp, recs[1].seg, recs[1].off, &again, err, sizeof err), 0);
    CHECK_STR("read back id", again.id, "20250101-000000-000002");
    spool_close(&sp);
    nscanned = 0;
    CHECK_INT("open with scan", spool_open(dir, 0, on_scan, NULL, &sp, err, sizeof err), 0);
    CHECK_INT("scan saw both records", nscanned, 2);
    CHECK_INT("scan: record 1 confirmed", scanned[0].pending, 0);
    CHECK_INT("scan: record 2 pending", scanned[1].pending, 1);
    CHECK_INT("pending after confirm + reopen", drain(sp, recs, 4), 1);
    CHECK_STR("the unconfirmed one", recs[0].id, "20250101-000000-000002");
    spool_close(&sp);
    CHECK(sp == NULL, "close nulls the pointer");
}

/* Damage the only segment of a 3-record spool and count what survives:
 * only a torn end is cut; a damaged record in the middle costs itself; a
 * damaged header whose checksum still matches is repaired. */
enum { SIZE_OFF3, SIZE_AS_WRITTEN };
static const struct {
    const char *what;
    int how;          /* 0 truncate mid-record 3, 1 flip a byte of record 2's
                         payload, 2 bad magic on record 3, 3 short header */
    size_t want;
    int size;         /* the segment's size afterwards */
    int corrupt;      /* 2 or 3: record N's bytes are in corrupt/ */
} torn_cases[] = {
    {"truncated mid-record", 0, 2, SIZE_OFF3, 3},
    {"flipped payload byte", 1, 2, SIZE_AS_WRITTEN, 2},
    {"bad magic", 2, 3, SIZE_AS_WRITTEN, 0},
    {"short header appended", 3, 3, SIZE_AS_WRITTEN, 0},
};

static void damage(const char *path, int how, uint64_t off2, uint64_t off3)
{
    FILE *f = fopen(path, "r+b");
    struct stat st;
    stat(path, &st);
    if (how == 0) {
        if (truncate(path, (off_t)off3 + 20) < 0)
            perror("truncate");
    } else if (how == 1 || how == 2) {
        long at = how == 1 ? (long)off2 + 30 : (long)off3;
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x55, f);
    } else {
        fseek(f, 0, SEEK_END);
        fwrite("\x53\x53\x50\x4c\x10", 1, 5, f);
    }
    fclose(f);
}

static void test_torn(void)
{
    for (size_t i = 0; i < sizeof torn_cases / sizeof torn_cases[0]; i++) {
        const char *dir = case_dir();
        char err[256], seg[300];
        struct spool *sp = NULL;
        reopen(&sp, dir, 0);
        put(sp, 1, 0);
        put(sp, 2, 0);
        put(sp, 3, 0);
        spool_sync(sp, err, sizeof err);
        struct spool_rec recs[4];
        drain(sp, recs, 4);
        snprintf(seg, sizeof seg, "%s/%08u.seg", dir, recs[0].seg);
        uint64_t off2 = recs[1].off, off3 = recs[2].off;
        struct stat st;
        stat(seg, &st);
        uint64_t written = (uint64_t)st.st_size;
        spool_close(&sp);
        damage(seg, torn_cases[i].how, off2, off3);
        CHECK(reopen(&sp, dir, 0) != NULL, "%s: reopen", torn_cases[i].what);
        size_t got = sp ? drain(sp, recs, 4) : 0;
        CHECK(got == torn_cases[i].want, "%s: pending: got %zu, want %zu",
              torn_cases[i].what, got, torn_cases[i].want);
        CHECK_STR(torn_cases[i].what, got ? recs[0].id : "", "20250101-000000-000001");
        stat(seg, &st);
        CHECK_INT(torn_cases[i].what, (uint64_t)st.st_size,
                  torn_cases[i].size == SIZE_OFF3 ? off3 : written);
        char q[400];
        snprintf(q, sizeof q, "%s/corrupt/%08u.seg@%llu", dir, recs[0].seg,
                 (unsigned long long)(torn_cases[i].corrupt == 2 ? off2 : off3));
        CHECK_INT(torn_cases[i].what, access(q, F_OK) == 0, torn_cases[i].corrupt != 0);
        if (sp)                          /* new records go on after the damage */
            put(sp, 4, 0), spool_sync(sp, err, sizeof err);
        reopen(&sp, dir, 0);
        CHECK_INT("pending after more appends", sp ? spool_pending(sp) : 0,
                  torn_cases[i].want + 1);
        spool_close(&sp);
    }
}

static int exists(const char *dir, uint32_t seq, const char *ext)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%08u.%s", dir, seq, ext);
    return access(path, F_OK) == 0;
}

static void test_rollover(void)
{
    const char *dir = case_dir();
    char err[256];
    struct spool *sp = NULL;
    reopen(&sp, dir, 200);               /* ~2 records per segment */
    for (long n = 1; n <= 10; n++) {
        put(sp, n, 0);
        spool_sync(sp, err, sizeof err);
    }
    CHECK(spool_segments(sp) >= 4, "segments: got %zu, want >= 4", spool_segments(sp));
    struct spool_rec recs[16];
    CHECK_INT("all pending", drain(sp, recs, 16), 10);
    uint32_t first = recs[0].seg;
    CHECK(recs[9].seg > first, "records spread over segments");
    size_t before = spool_segments(sp), k = 0;
    for (; k < 10 && recs[k].seg == first; k++)
        spool_confirm(sp, recs[k].seg, recs[k].id, err, sizeof err);
    CHECK_INT("confirmed segment deleted", exists(dir, first, "seg"), 0);
    CHECK_INT("its .ack deleted", exists(dir, first, "ack"), 0);
    CHECK_INT("segment count", spool_segments(sp), before - 1);
    CHECK_INT("reading a deleted segment fails",
              spool_read(sp, first, 0, &recs[15], err, sizeof err), -1);
    uint32_t second = recs[k].seg;
    spool_confirm(sp, recs[k].seg, recs[k].id, err, sizeof err);  /* partly */
    FILE *f = fopen(strcat(strcpy(err, dir), "/99999998.ack"), "w");  /* stray */
    fclose(f);
    f = fopen(strcat(strcpy(err, dir), "/99999997.seg.dead"), "w");  /* a reaper's leftover */
    fclose(f);
    reopen(&sp, dir, 200);
    CHECK_INT("stray .ack removed at open", exists(dir, 99999998, "ack"), 0);
    CHECK_INT("dead segment removed at open", exists(dir, 99999997, "seg.dead"), 0);
    CHECK_INT("a confirmed segment's file is gone once the spool closes (the reaper)",
              exists(dir, first, "seg.dead"), 0);
    CHECK_INT("partly confirmed segment kept", exists(dir, second, "seg"), 1);
    CHECK_INT("pending after reopen", spool_pending(sp), 10 - k - 1);
    size_t n = drain(sp, recs, 16);
    for (size_t i = 0; i < n; i++)
        spool_confirm(sp, recs[i].seg, recs[i].id, err, sizeof err);
    reopen(&sp, dir, 200);
    CHECK_INT("all confirmed: only the new active segment", spool_segments(sp), 1);
    CHECK_INT("nothing pending", spool_pending(sp), 0);
    spool_close(&sp);
}

static int guard_calls, guard_answer;

static int guard(void *arg)
{
    (void)arg;
    guard_calls++;
    return guard_answer;
}

/* The guard is asked before a confirmed segment is deleted; -1 keeps it,
 * and the next open asks again. */
static void test_guard(void)
{
    const char *dir = case_dir();
    char err[256];
    struct spool *sp = NULL;
    struct spool_hooks hooks = {.guard = guard};
    spool_open_hooks(dir, 200, &hooks, &sp, err, sizeof err);
    for (long n = 1; n <= 6; n++) {
        put(sp, n, 0);
        spool_sync(sp, err, sizeof err);
    }
    struct spool_rec recs[8];
    size_t n = drain(sp, recs, 8), k = 0;
    uint32_t first = recs[0].seg;
    guard_answer = -1;
    for (; k < n && recs[k].seg == first; k++)
        spool_confirm(sp, recs[k].seg, recs[k].id, err, sizeof err);
    CHECK_INT("guard asked once the segment is confirmed", guard_calls, 1);
    CHECK_INT("refused: segment kept", exists(dir, first, "seg"), 1);
    spool_close(&sp);
    guard_answer = 0;
    spool_open_hooks(dir, 200, &hooks, &sp, err, sizeof err);
    CHECK_INT("asked again at open", guard_calls, 2);
    CHECK_INT("agreed: segment deleted", exists(dir, first, "seg"), 0);
    CHECK_INT("the rest still pending", spool_pending(sp), 6 - k);
    spool_close(&sp);
}

/* A group larger than the write buffer: written out in pieces, all of it
 * durable after the one sync, every record read back intact. */
static void test_big_group(void)
{
    const char *dir = case_dir();
    char err[256], data[2048];
    struct spool *sp = NULL;
    reopen(&sp, dir, 0);
    memset(data, 'x', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    int bad = 0;
    for (long n = 1; n <= 1500; n++) {
        struct spool_rec r = {0};
        make_id(r.id, n);
        r.rel = "";
        r.data = data;
        r.len = (size_t)(n % 2000);
        bad += spool_append(sp, &r, err, sizeof err) < 0;
    }
    CHECK_INT("appends", bad, 0);
    CHECK_INT("one sync", spool_sync(sp, err, sizeof err), 0);
    reopen(&sp, dir, 0);
    struct spool_rec rec;
    long n = 0, wrong = 0;
    while (spool_next_pending(sp, &rec, err, sizeof err) == 1) {
        n++;
        wrong += rec.len != (size_t)(n % 2000);
    }
    CHECK_INT("records after reopen", n, 1500);
    CHECK_INT("records with the wrong length", wrong, 0);
    spool_close(&sp);
}

/* A write that fails (here: the file size limit, as a full disk would)
 * discards the whole unsynced group; nothing of it comes back. */
static void test_write_failure(void)
{
    const char *dir = case_dir();
    char err[256];
    struct spool *sp = NULL;
    reopen(&sp, dir, 0);
    put(sp, 1, 0);
    spool_sync(sp, err, sizeof err);
    put(sp, 2, 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 150;
    setrlimit(RLIMIT_FSIZE, &lim);
    CHECK_INT("append is buffered", put(sp, 3, 0), 0);
    CHECK_INT("the group's write past the limit fails its sync",
              spool_sync(sp, err, sizeof err), -1);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_INT("nothing left to sync", spool_unsynced(sp), 0);
    CHECK_INT("pending unchanged", spool_pending(sp), 1);
    put(sp, 4, 0);
    CHECK_INT("later appends work", spool_sync(sp, err, sizeof err), 0);
    reopen(&sp, dir, 0);
    struct spool_rec recs[4];
    size_t n = drain(sp, recs, 4);
    CHECK_INT("records after reopen", n, 2);
    CHECK_STR("first", n > 0 ? recs[0].id : "", "20250101-000000-000001");
    CHECK_STR("second (2 and 3 were discarded)", n > 1 ? recs[1].id : "",
              "20250101-000000-000004");
    spool_close(&sp);
}

/* 100,000 records: iterate them all while the heap stays small. */
static void test_backlog(void)
{
    const long total = 100000;
    const char *dir = case_dir();
    char err[256];
    struct spool *sp = NULL;
    reopen(&sp, dir, 0);
    for (long n = 1; n <= total; n++) {
        put(sp, n, n % 3 == 0);
        if (n % 1000 == 0)
            spool_sync(sp, err, sizeof err);
    }
    reopen(&sp, dir, 0);
    CHECK_INT("backlog pending", spool_pending(sp), total);
    size_t base = mallinfo2().uordblks, peak = base, count = 0;
    struct spool_rec r;
    char prev[SPOOL_ID_MAX + 1] = "";
    int ordered = 1;
    while (spool_next_pending(sp, &r, err, sizeof err) == 1) {
        ordered &= strcmp(r.id, prev) > 0;
        strcpy(prev, r.id);
        if (++count % 1000 == 0 || count < 10)
            spool_confirm(sp, r.seg, r.id, err, sizeof err);
        size_t now = mallinfo2().uordblks;
        if (now > peak)
            peak = now;
    }
    CHECK_INT("backlog iterated", count, total);
    CHECK_INT("in id order", ordered, 1);
    CHECK(peak - base < (4u << 20), "heap growth: got %zu bytes, want < 4 MiB",
          peak - base);
    spool_close(&sp);
}

/* Every group sync is timed once; a sync with nothing to write is not. */
static void test_sync_stats(void)
{
    struct spool *sp = NULL;
    char err[256];
    const char *dir = case_dir();
    if (!reopen(&sp, dir, 1 << 20))
        return;
    for (long g = 0; g < 5; g++) {
        put(sp, 10 * g + 1, 0);
        put(sp, 10 * g + 2, 0);
        CHECK(spool_sync(sp, err, sizeof err) == 0, "sync %ld: %s", g, err);
    }
    CHECK(spool_sync(sp, err, sizeof err) == 0, "an empty sync: %s", err);
    const struct spool_sync_stats *st = spool_sync_stats(sp);
    uint64_t sum = 0;
    for (int i = 0; i < SPOOL_SYNC_BUCKETS; i++)
        sum += st->hist[i];
    CHECK_INT("five groups, five timed syncs", st->count, 5);
    CHECK_INT("the histogram holds each once", sum, 5);
    spool_close(&sp);
}

/* spool_sync_pct over hand-made histograms (0.25 ms buckets). */
static void test_sync_pct(void)
{
    static const struct {
        const char *what;
        uint32_t b0, b1, b3, blast;      /* counts in buckets 0, 1, 3 and the last */
        uint64_t max_us;
        double q;
        uint64_t want;
    } cases[] = {
        {"no syncs", 0, 0, 0, 0, 0, 0.5, 0},
        {"one sync: never past the longest", 1, 0, 0, 0, 120, 0.99, 120},
        {"p50 of 2+2: the 2nd, bucket 0", 2, 2, 0, 0, 400, 0.5, 250},
        {"p50 of 1+2: the 2nd (ceil), bucket 1", 1, 2, 0, 0, 480, 0.5, 480},
        {"p99 of 51: the 51st, not the 50th", 50, 0, 1, 0, 900, 0.99, 900},
        {"p99 of 51 with the tail below max", 50, 0, 1, 0, 5000, 0.99, 1000},
        {"p50 of 100, in bucket 0", 99, 0, 1, 0, 990, 0.5, 250},
        {"the open last bucket answers the longest", 1, 0, 0, 9, 90000, 0.99, 90000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct spool_sync_stats st = {0};
        st.hist[0] = cases[i].b0;
        st.hist[1] = cases[i].b1;
        st.hist[3] = cases[i].b3;
        st.hist[SPOOL_SYNC_BUCKETS - 1] = cases[i].blast;
        st.count = (uint64_t)cases[i].b0 + cases[i].b1 + cases[i].b3 + cases[i].blast;
        st.max_us = cases[i].max_us;
        CHECK_INT(cases[i].what, spool_sync_pct(&st, cases[i].q), cases[i].want);
    }
}

int main(void)
{
    root = mkdtemp(tmpl);
    if (!root)
        return perror("mkdtemp"), 1;
    test_restart();
    test_torn();
    test_rollover();
    test_guard();
    test_big_group();
    test_write_failure();
    test_backlog();
    test_sync_stats();
    test_sync_pct();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    return harness_done();
}
