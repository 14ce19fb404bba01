/* test_drop: the drop folder (collector_drop) on a real temporary folder:
 * inotify pick-up, names, links, FIFOs, folders, sizes, leases, rejects and
 * removal by inode.  No sleeps: every wait is a poll on drop_fd with a
 * deadline, and "nothing happens" is checked with a full walk. */
#include "../../collector/collector_drop.h"
#include "harness.h"
#include "report.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BYTES 1024
#define NFILES 1000

struct taken {
    char *rel;
    dev_t dev;
    ino_t ino;
    struct report *r;
    struct report_error err;
};

struct sink {
    struct drop *d;
    int reject;                   /* drop_reject every rejected file */
    const char *busy;             /* a name reported in flight, or NULL */
    size_t n;
    struct taken t[NFILES + 16];
};

static char root[256], dropdir[300];

/* Like the collector: a name already taken is in flight. */
static int sink_busy(void *arg, const char *rel)
{
    struct sink *s = arg;
    if (s->busy && strcmp(s->busy, rel) == 0)
        return 1;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->t[i].rel, rel) == 0)
            return 1;
    return 0;
}

static void sink_take(void *arg, const struct drop_file *f, struct report *r,
                      const struct report_error *err)
{
    struct sink *s = arg;
    struct taken *t = &s->t[s->n++];
    t->rel = strdup(f->rel);
    t->dev = f->dev;
    t->ino = f->ino;
    t->r = r;
    t->err = err ? *err : (struct report_error){REPORT_OK, ""};
    if (err && s->reject)
        CHECK_INT("drop_reject", drop_reject(s->d, f, err), 0);
}

static void sink_clear(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->t[i].rel);
        report_free(&s->t[i].r);
    }
    s->n = 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Scan whenever drop_fd is readable until the sink holds `want` files or
 * 5 s pass.  Returns the number of scans that took something. */
static int sink_wait(struct sink *s, size_t want, size_t max)
{
    int64_t deadline = now_ms() + 5000;
    int scans = 0;
    while (s->n < want && now_ms() < deadline) {
        struct pollfd p = {drop_fd(s->d), POLLIN, 0};
        poll(&p, 1, (int)(deadline - now_ms()));
        int n = drop_scan(s->d, 0, max, sink_busy, sink_take, s);
        CHECK(n >= 0 && (size_t)n <= max, "drop_scan: got %d, want 0..%zu", n, max);
        scans += n > 0;
    }
    return scans;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A fresh drop folder with an open, already walked handle. */
static void setup(struct sink *s)
{
    char err[256];
    memset(s, 0, sizeof *s);
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/test_drop.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        abort();
    snprintf(dropdir, sizeof dropdir, "%s/drop", root);
    mkdir(dropdir, 0770);
    CHECK(drop_open(dropdir, MAX_BYTES, &s->d, err, sizeof err) == 0, "drop_open: %s", err);
    CHECK_INT("first scan", drop_scan(s->d, 0, 100, sink_busy, sink_take, s), 0);
}

static void teardown(struct sink *s)
{
    drop_close(&s->d);
    CHECK(s->d == NULL, "drop_close: pointer not cleared");
    sink_clear(s);
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* drop/rel; two calls may share one expression (rename). */
static char *path_of(const char *rel)
{
    static char buf[2][512];
    static int i;
    i = !i;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dropdir, rel);
    return buf[i];
}

static void write_at(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void put(const char *rel, const char *data)
{
    write_at(path_of(rel), data, strlen(data));
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The reason file beside rejected/name, parsed; NULL if absent, not UTF-8
 * (cJSON alone would let that pass) or not JSON. */
static cJSON *reason_of(const char *name)
{
    char path[512], buf[4096];
    snprintf(path, sizeof path, "%s/rejected/%s.reason.json", dropdir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return n && report_utf8_valid(buf, n) ? cJSON_Parse(buf) : NULL;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "(absent)";
}

/* ---- one entry per case ---------------------------------------------- */

enum entry { E_FILE, E_DIR, E_LINK, E_FIFO };

struct one_case {
    const char *name;
    enum entry entry;
    const char *rel;
    const char *data;             /* content, link target; NULL: MAX_BYTES + 1 bytes */
    enum report_reason reason;
    const char *want;             /* title when accepted, detail substring if not */
    const char *body;
    const char *flat;             /* name in rejected/ */
};

#define JSON_OK "{\"member\":\"M001\",\"title\":\"关于停车难\",\"body\":\"正文\"}"

static const struct one_case one_cases[] = {
    {"json taken", E_FILE, "a.json", JSON_OK, REPORT_OK, "关于停车难", "正文", NULL},
    {"text taken, split", E_FILE, "M001/x.txt", "\n 关于停车难 \n\n第一段\n第二段\n", REPORT_OK,
     "关于停车难", "第一段\n第二段", NULL},
    {"text gb18030", E_FILE, "M001/gb.txt", "\xB9\xD8\xD3\xDA\n\xD5\xFD\xCE\xC4", REPORT_OK,
     "关于", "正文", NULL},
    {"upper-case extension", E_FILE, "B.JSON", JSON_OK, REPORT_OK, "关于停车难", "正文", NULL},
    {"too large", E_FILE, "big.json", NULL, REPORT_TOO_LARGE, "1024", NULL, "big.json"},
    {"bad json", E_FILE, "bad.json", "{\"member\":", REPORT_BAD_JSON, "", NULL, "bad.json"},
    {"empty file", E_FILE, "M001/e.txt", "", REPORT_MISSING_FIELD, "empty", NULL, "M001-e.txt"},
    {"wrong extension at top", E_FILE, "notes.txt", "x\ny", REPORT_BAD_FIELD, "unexpected name",
     NULL, "notes.txt"},
    {"json inside MEMBER", E_FILE, "M001/a.json", JSON_OK, REPORT_BAD_FIELD, "unexpected name",
     NULL, "M001-a.json"},
    {"nested folder", E_DIR, "M001/sub", NULL, REPORT_BAD_FIELD, "folder too deep", NULL,
     "M001-sub"},
    {"symlink", E_LINK, "l.json", "../target.json", REPORT_BAD_FIELD,
     "symbolic link, not followed", NULL, "l.json"},
    {"symlink to a folder", E_LINK, "M009", "..", REPORT_BAD_FIELD,
     "symbolic link, not followed", NULL, "M009"},
    {"fifo", E_FIFO, "f.json", NULL, REPORT_BAD_FIELD, "not a regular file (fifo)", NULL,
     "f.json"},
    {"fifo in MEMBER", E_FIFO, "M001/f.txt", NULL, REPORT_BAD_FIELD, "(fifo)", NULL,
     "M001-f.txt"},
};

static void make_entry(const struct one_case *c)
{
    char *slash = strchr(c->rel, '/');
    if (slash) {
        char member[64];
        snprintf(member, sizeof member, "%.*s", (int)(slash - c->rel), c->rel);
        mkdir(path_of(member), 0770);
    }
    char big[MAX_BYTES + 1];
    memset(big, ' ', sizeof big);
    switch (c->entry) {
    case E_FILE:
        if (c->data)
            put(c->rel, c->data);
        else
            write_at(path_of(c->rel), big, sizeof big);
        break;
    case E_DIR:
        mkdir(path_of(c->rel), 0770);
        break;
    case E_LINK:
        if (symlink(c->data, path_of(c->rel)) < 0)
            abort();
        break;
    case E_FIFO:
        if (mkfifo(path_of(c->rel), 0644) < 0)
            abort();
        break;
    }
}

static void check_rejected(const struct one_case *c, const struct taken *t)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rejected/%s", dropdir, c->flat);
    CHECK(exists(path), "%s: rejected/%s: missing", c->name, c->flat);
    CHECK(!exists(path_of(c->rel)), "%s: %s: still in drop/", c->name, c->rel);
    cJSON *js = reason_of(c->flat);
    CHECK(js != NULL, "%s: %s.reason.json: got no valid JSON", c->name, c->flat);
    CHECK_STR(c->name, jstr(js, "file"), c->rel);
    CHECK_STR(c->name, jstr(js, "reason"), report_reason_name(c->reason));
    CHECK_STR(c->name, jstr(js, "detail"), t->err.detail);
    CHECK(strlen(jstr(js, "at")) >= 25, "%s: at: got \"%s\"", c->name, jstr(js, "at"));
    cJSON_Delete(js);
}

static void test_one(const struct one_case *c)
{
    struct sink s;
    setup(&s);
    s.reject = 1;
    char target[512];
    snprintf(target, sizeof target, "%s/target.json", root);
    put("../target.json", JSON_OK);
    make_entry(c);
    sink_wait(&s, 1, 100);
    CHECK(s.n == 1, "%s: files taken: got %zu, want 1", c->name, s.n);
    if (s.n == 1) {
        const struct taken *t = &s.t[0];
        CHECK_STR(c->name, t->rel, c->rel);
        CHECK(t->err.reason == c->reason, "%s: reason: got %s (%s), want %s", c->name,
              report_reason_name(t->err.reason), t->err.detail, report_reason_name(c->reason));
        if (c->reason == REPORT_OK && t->r) {
            CHECK_STR(c->name, t->r->member, "M001");
            CHECK_STR(c->name, t->r->title, c->want);
            CHECK_STR(c->name, t->r->body, c->body);
            CHECK_INT(c->name, t->r->source, REPORT_SOURCE_DROP);
            CHECK(exists(path_of(c->rel)), "%s: accepted file removed before archiving",
                  c->name);
        } else if (c->reason != REPORT_OK) {
            CHECK(strstr(t->err.detail, c->want), "%s: detail: got \"%s\", want \"%s\"",
                  c->name, t->err.detail, c->want);
            check_rejected(c, t);
        }
    }
    struct stat st;
    CHECK(stat(target, &st) == 0 && st.st_size == (off_t)strlen(JSON_OK),
          "%s: the link target was touched", c->name);
    teardown(&s);
}

/* ---- scenarios ---------------------------------------------------------- */

/* Temporary names are left alone, and taken once renamed. */
static void test_temp_names(void)
{
    static const char *const temps[] = {".x.json", "x.json.tmp", "x.json.part", "x.json~",
                                        "M001/.y.txt", "M001/y.txt.tmp", ".M002/z.txt"};
    struct sink s;
    setup(&s);
    mkdir(path_of("M001"), 0770);
    mkdir(path_of(".M002"), 0770);
    for (size_t i = 0; i < sizeof temps / sizeof temps[0]; i++)
        put(temps[i], JSON_OK);
    CHECK_INT("walk over temporary names", drop_scan(s.d, 1, 100, sink_busy, sink_take, &s), 0);
    rename(path_of("x.json.tmp"), path_of("x.json"));
    rename(path_of("M001/y.txt.tmp"), path_of("M001/y.txt"));
    sink_wait(&s, 2, 100);
    CHECK_INT("taken after rename", s.n, 2);
    for (size_t i = 0; i < s.n; i++)
        CHECK(strcmp(s.t[i].rel, "x.json") == 0 || strcmp(s.t[i].rel, "M001/y.txt") == 0,
              "taken: got \"%s\", want x.json or M001/y.txt", s.t[i].rel);
    teardown(&s);
}

/* busy() names are skipped; a full walk never enters rejected/. */
static void test_busy_and_rejected(void)
{
    struct sink s;
    setup(&s);
    put("a.json", JSON_OK);
    put("rejected/z.json", JSON_OK);
    s.busy = "a.json";
    CHECK_INT("walk with a.json in flight", drop_scan(s.d, 1, 100, sink_busy, sink_take, &s), 0);
    s.busy = NULL;
    CHECK_INT("walk after", drop_scan(s.d, 1, 100, sink_busy, sink_take, &s), 1);
    CHECK_STR("taken", s.n ? s.t[0].rel : NULL, "a.json");
    teardown(&s);
}

/* A file removed between the listing and the open is skipped quietly:
 * neither taken nor rejected (the busy check runs just before the open). */
static int busy_unlink(void *arg, const char *rel)
{
    (void)arg;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dropdir, rel);
    unlink(path);
    return 0;
}

static void test_vanished(void)
{
    struct sink s;
    setup(&s);
    put("gone.json", JSON_OK);
    CHECK_INT("walk: the file vanishes before it is opened",
              drop_scan(s.d, 1, 100, busy_unlink, sink_take, &s), 0);
    CHECK_INT("nothing taken", s.n, 0);
    char path[600];
    snprintf(path, sizeof path, "%s/rejected/gone.json.reason.json", dropdir);
    CHECK(access(path, F_OK) != 0, "a vanished file is not rejected");
    teardown(&s);
}

/* drop_remove removes only the very file that was read. */
static void test_remove_identity(void)
{
    struct sink s;
    setup(&s);
    put("a.json", JSON_OK);
    sink_wait(&s, 1, 100);
    CHECK_INT("taken", s.n, 1);
    if (s.n != 1) {
        teardown(&s);
        return;
    }
    put("a.json.tmp", JSON_OK);                       /* a new inode under the same name */
    rename(path_of("a.json.tmp"), path_of("a.json"));
    CHECK_INT("remove replaced", drop_remove(s.d, "a.json", s.t[0].dev, s.t[0].ino), 0);
    CHECK(exists(path_of("a.json")), "remove replaced: the newer file was removed");
    struct stat st;
    lstat(path_of("a.json"), &st);
    CHECK_INT("remove same", drop_remove(s.d, "a.json", st.st_dev, st.st_ino), 0);
    CHECK(!exists(path_of("a.json")), "remove same: still there");
    CHECK_INT("remove gone", drop_remove(s.d, "a.json", st.st_dev, st.st_ino), 0);
    teardown(&s);
}

/* A name that is not UTF-8 (with a space and a newline) still gets a valid
 * reason file; a second file with the same flat name gets a number. */
static void test_reject_names(void)
{
    static const char bad[] = "\xB9\xD8 x\n\xFF.json";
    struct sink s;
    setup(&s);
    s.reject = 1;
    put(bad, "not json");
    mkdir(path_of("M001"), 0770);
    put("M001-x.json", "{");
    put("M001/x.json", "{");
    put("rejected/c.json", "set aside earlier, without a reason file");
    put("c.json", "{");
    sink_wait(&s, 4, 100);
    CHECK_INT("rejected", s.n, 4);
    cJSON *js = reason_of(bad);
    CHECK(js != NULL, "reason file for a non-UTF-8 name: not valid JSON");
    CHECK_STR("file", jstr(js, "file"), "\xEF\xBF\xBD\xEF\xBF\xBD x\n\xEF\xBF\xBD.json");
    CHECK_STR("reason", jstr(js, "reason"), "bad_json");
    cJSON_Delete(js);
    char path[512];
    snprintf(path, sizeof path, "%s/rejected/%s", dropdir, bad);
    CHECK(exists(path), "rejected/<non-UTF-8 name>: missing");
    cJSON *a = reason_of("M001-x.json"), *b = reason_of("M001-x.2.json");
    CHECK(a && b, "two reasons for M001-x.json: got %p and %p", (void *)a, (void *)b);
    if (a && b)
        CHECK(strcmp(jstr(a, "file"), jstr(b, "file")) != 0, "same file in both: %s",
              jstr(a, "file"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    snprintf(path, sizeof path, "%s/rejected/c.2.json", dropdir);
    CHECK(exists(path), "rejected/c.json taken: want the new one as c.2.json");
    cJSON *c = reason_of("c.json");
    CHECK(c == NULL, "c.json: a reason written for the earlier file");
    cJSON_Delete(c);
    teardown(&s);
}

/* 1000 files at once are taken in slices of at most 100, each exactly once,
 * and drop_fd stays readable until the backlog is gone. */
static void test_many(void)
{
    struct sink s;
    char rel[32];
    setup(&s);
    for (int i = 0; i < NFILES; i++) {
        snprintf(rel, sizeof rel, "%04d.json", i);
        put(rel, JSON_OK);
    }
    int scans = sink_wait(&s, NFILES, 100);
    CHECK_INT("files taken", s.n, NFILES);
    CHECK(scans >= NFILES / 100, "scans: got %d, want >= %d", scans, NFILES / 100);
    size_t ok = 0;
    for (size_t i = 0; i < s.n; i++)
        ok += s.t[i].r != NULL;
    CHECK_INT("reports parsed", ok, NFILES);
    CHECK_INT("full walk after", drop_scan(s.d, 1, 100, sink_busy, sink_take, &s), 0);
    teardown(&s);
}

/* 1 if this process may take read leases here (root or the file's owner). */
static int leases_work(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/lease-probe", root);
    put("../lease-probe", "x");
    int fd = open(path, O_RDONLY), ok = fcntl(fd, F_SETLEASE, F_RDLCK) == 0;
    if (ok)
        fcntl(fd, F_SETLEASE, F_UNLCK);
    close(fd);
    unlink(path);
    return ok;
}

/* A file open for writing is not read half-way. */
static void test_open_for_writing(void)
{
    static const char part1[] = "{\"member\":\"M001\",";
    static const char part2[] = "\"title\":\"t\",\"body\":\"b\"}";
    struct sink s;
    setup(&s);
    if (!leases_work()) {
        printf("skip: read leases are not permitted here (the 1-second rule applies)\n");
        teardown(&s);
        return;
    }
    int fd = open(path_of("w.json"), O_WRONLY | O_CREAT, 0644);
    CHECK(write(fd, part1, strlen(part1)) == (ssize_t)strlen(part1), "write part 1");
    CHECK_INT("walk while open", drop_scan(s.d, 1, 100, sink_busy, sink_take, &s), 0);
    CHECK(write(fd, part2, strlen(part2)) == (ssize_t)strlen(part2), "write part 2");
    close(fd);
    sink_wait(&s, 1, 100);
    CHECK_INT("taken after close", s.n, 1);
    CHECK(s.n == 1 && s.t[0].r != NULL, "after close: got %s: %s",
          s.n ? report_reason_name(s.t[0].err.reason) : "-", s.n ? s.t[0].err.detail : "-");
    teardown(&s);
}

static int64_t age_ms(const char *path)
{
    struct stat st;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (stat(path, &st) < 0)
        return -1;
    return (now.tv_sec - st.st_mtim.tv_sec) * 1000 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
}

/* The child of test_no_lease, as user nobody: returns its failure count. */
static int no_lease_child(struct sink *s)
{
    char err[256];
    if (setgid(65534) < 0 || setuid(65534) < 0)
        return 100;
    CHECK(drop_open(dropdir, MAX_BYTES, &s->d, err, sizeof err) == 0, "drop_open: %s", err);
    if (!s->d)
        return harness_failed;
    int64_t t0 = now_ms();
    sink_wait(s, 1, 100);
    int64_t age = age_ms(path_of("a.json")), waited = now_ms() - t0;
    CHECK_INT("taken without a lease", s->n, 1);
    CHECK(s->n == 1 && s->t[0].r != NULL, "without a lease: not parsed");
    CHECK(age >= 1000, "taken %lld ms after its last change, want >= 1000", (long long)age);
    CHECK(waited < 2500, "drop_fd woke the caller after %lld ms, want about 1000",
          (long long)waited);
    drop_close(&s->d);
    sink_clear(s);
    return harness_failed;
}

/* Where leases are not permitted (here: another user's file) a file is
 * taken only once it has not changed for a second, and drop_fd wakes the
 * caller for it. */
static void test_no_lease(void)
{
    struct sink s;
    int status = -1;
    if (geteuid() != 0) {
        printf("skip: acting as another user needs root\n");
        return;
    }
    setup(&s);
    drop_close(&s.d);
    chmod(root, 0755);
    chmod(dropdir, 0777);
    chmod(path_of("rejected"), 0777);
    put("a.json", JSON_OK);
    pid_t pid = fork();
    if (pid == 0) {
        int failed = no_lease_child(&s);
        fflush(stdout);
        _exit(failed);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %d", status);
    teardown(&s);
}

/* A member folder moved in with files already inside is listed. */
static void test_folder_moved_in(void)
{
    char from[512];
    struct sink s;
    setup(&s);
    snprintf(from, sizeof from, "%s/M002", root);
    mkdir(from, 0770);
    put("../M002/a.txt", "标题\n正文");
    put("../M002/b.txt", "标题二\n正文");
    rename(from, path_of("M002"));
    sink_wait(&s, 2, 100);
    CHECK_INT("taken from a moved-in folder", s.n, 2);
    for (size_t i = 0; i < s.n; i++)
        CHECK_STR("member", s.t[i].r ? s.t[i].r->member : NULL, "M002");
    put("M002/c.txt", "标题三\n正文");                 /* watched from now on */
    sink_wait(&s, 3, 100);
    CHECK_INT("taken after", s.n, 3);
    teardown(&s);
}

static void test_open_errors(void)
{
    char err[256] = "";
    struct drop *d = (struct drop *)1;
    CHECK_INT("drop_open missing", drop_open("/nonexistent/drop", 10, &d, err, sizeof err), -1);
    CHECK(d == NULL, "drop_open missing: handle not NULL");
    CHECK(strstr(err, "/nonexistent/drop") != NULL, "drop_open missing: err \"%s\"", err);
    drop_close(NULL);
    drop_close(&d);
    CHECK_INT("drop_fd(NULL)", drop_fd(NULL), -1);
}

int main(void)
{
    alarm(120);                   /* a blocked open (FIFO) must fail, not hang */
    for (size_t i = 0; i < sizeof one_cases / sizeof one_cases[0]; i++)
        test_one(&one_cases[i]);
    test_temp_names();
    test_busy_and_rejected();
    test_vanished();
    test_remove_identity();
    test_reject_names();
    test_many();
    test_open_for_writing();
    test_no_lease();
    test_folder_moved_in();
    test_open_errors();
    return harness_done();
}
