/* test_store: the archive -- storing once, duplicates, leases and their
 * expiry, outcomes, reassignment and history, months in Asia/Shanghai, and
 * the audit (quotas of every scope and period, points). */
#include "archiver_audit.h"
#include "archiver_store.h"
#include "config.h"
#include "harness.h"
#include "report.h"
#include "roster.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY_US (86400LL * 1000000)
#define WINDOW (30 * DAY_US)

static char dir[] = "/tmp/test_store.XXXXXX";
static int64_t clock_us;              /* the next report's time */

/* A routed report of member at time us, committee c. Caller frees. */
static struct report *mk(const char *member, const char *title, const char *ref,
                         const char *committee, int64_t us)
{
    struct report *r = report_new();
    r->member = xstrdup(member);
    r->title = xstrdup(title);
    r->body = xstrdup("正文");
    r->ref = ref ? xstrdup(ref) : NULL;
    r->committee = xstrdup(committee);
    report_stamp(r, us);
    return r;
}

/* Store one report in its own batch; returns the store_put result. */
static int put(struct store *s, struct report *r, const char *outcome, char *dup)
{
    char err[256], d[64] = "";
    store_begin(s, err, sizeof err);
    int rc = store_put(s, r, NULL, outcome ? "imported" : "routed", outcome, WINDOW, r->received_us,
                       d, sizeof d, err, sizeof err);
    if (store_commit(s, err, sizeof err) < 0)
        rc = STORE_ERROR;
    if (dup)
        strcpy(dup, d);
    return rc;
}

static char *put_new(struct store *s, const char *member, const char *title,
                     const char *committee)
{
    struct report *r = mk(member, title, NULL, committee, clock_us += 1000000);
    CHECK_INT("store new", put(s, r, NULL, NULL), STORE_OK);
    char *id = xstrdup(r->id);
    report_free(&r);
    return id;
}

static void test_once(struct store *s)
{
    char dup[64];
    struct report *a = mk("M001", "小区物业", "ref-1", "chengjian", clock_us += 1000000);
    CHECK_INT("first store", put(s, a, NULL, NULL), STORE_OK);
    CHECK_INT("same id again", put(s, a, NULL, NULL), STORE_ALREADY);
    struct report *b = mk("M001", "另一个标题", "ref-1", "chengjian", clock_us += 1000000);
    CHECK_INT("same member+ref", put(s, b, NULL, dup), STORE_DUPLICATE);
    CHECK_STR("duplicate names the first", dup, a->id);
    struct report *c = mk("M002", "另一个标题", "ref-1", "chengjian", clock_us += 1000000);
    CHECK_INT("same ref, other member", put(s, c, NULL, NULL), STORE_OK);
    struct report *d = mk("M002", "另一个标题", NULL, "chengjian", clock_us += 1000000);
    CHECK_INT("same content, no ref", put(s, d, NULL, dup), STORE_DUPLICATE);
    CHECK_STR("content duplicate names the first", dup, c->id);
    struct report *e = mk("M002", "另一个标题", NULL, "chengjian", clock_us + 31 * DAY_US);
    CHECK_INT("same content after the window", put(s, e, NULL, NULL), STORE_OK);
    CHECK_INT("no ref, same id again (not a copy of itself)", put(s, e, NULL, dup),
              STORE_ALREADY);
    CHECK_INT("a dropped copy sent again", put(s, d, NULL, dup), STORE_DUPLICATE);
    CHECK_STR("it still names the first", dup, c->id);
    report_free(&a), report_free(&b), report_free(&c), report_free(&d), report_free(&e);
}

/* Inside one batch: a resend of a report stored earlier in the batch is
 * already there, a copy by ref or by content is a duplicate of it. */
static void test_once_in_batch(struct store *s)
{
    char err[256], dup[64] = "";
    struct report *a = mk("M004", "同一批", "ref-b", "chengjian", clock_us += 1000000);
    struct report *b = mk("M004", "同一批 2", "ref-b", "chengjian", clock_us += 1000000);
    struct report *c = mk("M004", "无编号", NULL, "chengjian", clock_us += 1000000);
    struct report *d = mk("M004", "无编号", NULL, "chengjian", clock_us += 1000000);
    struct { struct report *r; int want; const char *dup_of; } cases[] = {
        {a, STORE_OK, NULL}, {a, STORE_ALREADY, NULL}, {b, STORE_DUPLICATE, a->id},
        {c, STORE_OK, NULL}, {c, STORE_ALREADY, NULL}, {d, STORE_DUPLICATE, c->id},
    };
    CHECK_INT("begin", store_begin(s, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct report *r = cases[i].r;
        int rc = store_put(s, r, NULL, "routed", NULL, WINDOW, r->received_us, dup,
                           sizeof dup, err, sizeof err);
        CHECK(rc == cases[i].want, "batch case %zu: got %d, want %d (%s)", i, rc,
              cases[i].want, err);
        if (cases[i].dup_of)
            CHECK_STR("batch duplicate names the first", dup, cases[i].dup_of);
    }
    CHECK_INT("commit", store_commit(s, err, sizeof err), 0);
    report_free(&a), report_free(&b), report_free(&c), report_free(&d);
}

/* The topics of report id as show gives them, printed (caller frees). */
static char *shown_topics(struct store *s, const char *id)
{
    char err[256];
    cJSON *o = store_show(s, id, err, sizeof err);
    CHECK(o != NULL, "show %s: %s", id, err);
    char *t = o ? cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "topics")) : xstrdup("");
    cJSON_Delete(o);
    return t;
}

/* Tags: the router's frame is stored as it is, a broken one as [], and
 * without a frame the report's own tags; the best tag counts in the audit. */
static void test_tags(struct store *s)
{
    static const char frame[] =
        "[{\"topic\":\"wuye\",\"category\":\"城乡建设\",\"score\":4.5,\"hits\":"
        "[{\"field\":\"title\",\"pattern\":0,\"offset\":6,\"text\":\"物业\"}]},"
        "{\"topic\":\"noise\",\"category\":\"环境保护\",\"score\":1,\"hits\":[]}]";
    char err[256], d[64];
    struct report *a = mk("M003", "小区物业", NULL, "chengjian", clock_us += 1000000);
    struct report *b = mk("M003", "标签坏了", NULL, "chengjian", clock_us += 1000000);
    struct report *c = mk("M003", "自带标签", NULL, "jiaoke", clock_us += 1000000);
    struct report *e = mk("M003", "路由器点名", NULL, "shefa", clock_us += 1000000);
    struct report_hit hit = {.field = "body", .pattern = 2, .offset = 9, .text = "学位"};
    struct report_tag tag = {.topic = "school", .category = "教育文体", .score = 2.25,
                             .hits = &hit, .nhits = 1};
    c->tags = &tag;
    c->ntags = 1;
    CHECK_INT("begin", store_begin(s, err, sizeof err), 0);
    struct store_tags ta = {frame, NULL, NULL}, tb = {"[{\"topic\":", NULL, NULL};
    CHECK_INT("frame", store_put(s, a, &ta, "routed", NULL, WINDOW, a->received_us, d,
                                 sizeof d, err, sizeof err), STORE_OK);
    CHECK_INT("broken frame", store_put(s, b, &tb, "routed", NULL, WINDOW,
                                        b->received_us, d, sizeof d, err, sizeof err),
              STORE_OK);
    CHECK_INT("own tags", store_put(s, c, NULL, "routed", NULL, WINDOW, c->received_us, d,
                                    sizeof d, err, sizeof err), STORE_OK);
    struct store_tags te = {frame, "named", "民政"};    /* the router's best-tag frames */
    CHECK_INT("best tag named", store_put(s, e, &te, "routed", NULL, WINDOW, e->received_us,
                                          d, sizeof d, err, sizeof err), STORE_OK);
    CHECK_INT("commit", store_commit(s, err, sizeof err), 0);
    char *cmd = xasprintf("sqlite3 %s/archive.db \"SELECT topic || '/' || category FROM reports "
                          "WHERE id IN ('%s', '%s') ORDER BY id\" | tr '\\n' ' ' | "
                          "grep -qx 'wuye/城乡建设 named/民政 '", dir, a->id, e->id);
    CHECK_INT("best tag: read from the tags, or as the router named it", system(cmd), 0);
    free(cmd);
    char *t = shown_topics(s, a->id);
    CHECK_STR("frame stored as it is", t, frame);
    free(t);
    t = shown_topics(s, b->id);
    CHECK_STR("broken frame: no topics", t, "[]");
    free(t);
    t = shown_topics(s, c->id);
    CHECK_STR("own tags", t, "[{\"topic\":\"school\",\"category\":\"教育文体\",\"score\":2.25,"
                             "\"hits\":[[\"body\",2,9,\"学位\"]]}]");
    free(t);
    c->tags = NULL;
    c->ntags = 0;
    report_free(&a), report_free(&b), report_free(&c), report_free(&e);
}

/* An archive of schema version 1 (tags in a table of their own) opens as
 * version 2 with its tags, best first, and their best topic. */
static void test_migrate(void)
{
    char err[256], *path = xasprintf("%s/v1.db", dir);
    char *cmd = xasprintf(
        "sqlite3 %s \"CREATE TABLE reports (id TEXT PRIMARY KEY, member TEXT NOT NULL, "
        "title TEXT NOT NULL, body TEXT NOT NULL, ref TEXT, submitted_at TEXT, "
        "received_at TEXT NOT NULL, received_us INTEGER NOT NULL, month TEXT NOT NULL, "
        "source TEXT NOT NULL, committee TEXT NOT NULL, routed_committee TEXT NOT NULL, "
        "state TEXT NOT NULL DEFAULT 'open', outcome TEXT, note TEXT, lease_until_us "
        "INTEGER, lease_owner TEXT, closed_us INTEGER, content_key INTEGER NOT NULL, "
        "extra TEXT); CREATE INDEX reports_month ON reports(month, member, state, outcome, "
        "committee); CREATE TABLE topics (report_id TEXT NOT NULL, rank INTEGER NOT NULL, "
        "topic TEXT NOT NULL, category TEXT, score REAL NOT NULL, hits TEXT, PRIMARY KEY "
        "(report_id, rank)); INSERT INTO reports VALUES('20260301-010000-000000', 'M001', "
        "'物业', '正文', NULL, NULL, '2026-03-01T09:00:00.000+08:00', 1772326800000000, "
        "'2026-03', 'socket', 'chengjian', 'chengjian', 'open', NULL, NULL, NULL, NULL, "
        "NULL, 7, NULL); INSERT INTO topics VALUES('20260301-010000-000000', 1, 'noise', "
        "'环境保护', 1.0, '[]'), ('20260301-010000-000000', 0, 'wuye', '城乡建设', 4.5, "
        "'[{\\\"field\\\":\\\"title\\\",\\\"pattern\\\":0,\\\"offset\\\":0,"
        "\\\"text\\\":\\\"物业\\\"}]'); PRAGMA user_version=1;\"", path);
    struct store *s = NULL;
    CHECK_INT("v1 archive made with the sqlite3 shell", system(cmd), 0);
    CHECK_INT("open v1", store_open(path, &s, err, sizeof err), 0);
    CHECK(s != NULL, "open v1: %s", err);
    if (s) {
        char *t = shown_topics(s, "20260301-010000-000000");
        CHECK_STR("v1 tags, best first",
                  t, "[{\"topic\":\"wuye\",\"category\":\"城乡建设\",\"score\":4.5,\"hits\":"
                     "[{\"field\":\"title\",\"pattern\":0,\"offset\":0,\"text\":\"物业\"}]},"
                     "{\"topic\":\"noise\",\"category\":\"环境保护\",\"score\":1,\"hits\":[]}]");
        free(t);
        store_close(&s);
    }
    free(cmd);
    cmd = xasprintf("sqlite3 %s 'PRAGMA user_version; SELECT topic FROM reports; "
                    "SELECT count(*) FROM sqlite_master WHERE name = \"topics\"' | "
                    "tr '\\n' ' ' | grep -qx '2 wuye 0 '", path);
    CHECK_INT("v2: user_version, best topic, no topics table", system(cmd), 0);
    free(cmd);
    free(path);
}

/* A new archive has 32 KB pages and one history event per stored report. */
static void test_page_size(void)
{
    char *cmd = xasprintf("sqlite3 %s/archive.db \"PRAGMA page_size; SELECT count(*) = "
                          "(SELECT count(*) FROM reports) FROM history WHERE event IN "
                          "('routed', 'imported')\" | tr '\\n' ' ' | grep -qx '32768 1 '",
                          dir);
    CHECK_INT("new archive: 32 KB pages, one routed or imported event a report", system(cmd), 0);
    free(cmd);
}

/* A garbled page: quick_check finds it; and without a check, the first
 * statement that reads it marks the store damaged (SQLITE_CORRUPT). */
static void test_damaged(void)
{
    char err[256], out[512];
    char *path = xasprintf("%s/damaged.db", dir);
    struct store *s = NULL;
    CHECK_INT("open", store_open(path, &s, err, sizeof err), 0);
    for (int i = 0; i < 40; i++) {
        char title[32];
        snprintf(title, sizeof title, "损坏 %d", i);
        free(put_new(s, "M017", title, "jiaoke"));
    }
    store_close(&s);
    char *cmd = xasprintf("sqlite3 %s 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null && "
                          "head -c 32768 /dev/zero | tr '\\000' '\\245' | "
                          "dd of=%s bs=32768 seek=$(sqlite3 %s \"SELECT "
                          "rootpage - 1 FROM sqlite_master WHERE name = 'reports_queue'\") "
                          "count=1 conv=notrunc status=none", path, path, path);
    CHECK_INT("garble the queue index's page", system(cmd), 0);
    free(cmd);
    CHECK_INT("reopen", store_open(path, &s, err, sizeof err), 0);
    CHECK(s && store_damaged(s) == NULL, "not known to be damaged before a read");
    cJSON *q = s ? store_queue(s, "jiaoke", 10, NULL, 1 << 20, clock_us, err, sizeof err) : NULL;
    CHECK(q == NULL && s && store_damaged(s) != NULL, "a read of the page: damaged (%s)",
          s && store_damaged(s) ? store_damaged(s) : "-");
    cJSON_Delete(q);
    store_close(&s);
    CHECK_INT("reopen", store_open(path, &s, err, sizeof err), 0);
    CHECK_INT("quick_check finds it", s ? store_check(s, 0, out, sizeof out) : -1, 1);
    CHECK(s && store_damaged(s) != NULL, "and marks the store damaged");
    store_close(&s);
    free(path);
}

/* ids of a pull, space separated (caller frees). */
static char *pull(struct store *s, const char *committee, int limit, const char *who,
                  int64_t now)
{
    char err[256], *out = xstrdup("");
    cJSON *a = store_pull(s, committee, limit, 60, who, now, err, sizeof err), *r;
    CHECK(a != NULL, "pull: %s", err);
    cJSON_ArrayForEach(r, a) {
        char *n = xasprintf("%s%s ", out, cJSON_GetStringValue(cJSON_GetObjectItem(r, "id")));
        free(out);
        out = n;
    }
    cJSON_Delete(a);
    return out;
}

/* A queue of 250 listed in pages: in order, none twice, none left out,
 * "more" until the last page; a page also stops at max_bytes. */
static void test_queue_pages(struct store *s)
{
    char err[256], after[64] = "", *ids[250];
    for (int i = 0; i < 250; i++) {
        char title[32];
        snprintf(title, sizeof title, "分页 %d", i);
        ids[i] = put_new(s, "M015", title, "nongye");
    }
    int seen = 0, pages = 0, in_order = 1, more = 1;
    while (more && pages < 10) {
        cJSON *o = store_queue(s, "nongye", 100, *after ? after : NULL, 1 << 20, clock_us,
                               err, sizeof err), *r;
        CHECK(o != NULL, "queue page %d: %s", pages, err);
        if (!o)
            break;
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(o, "reports")) {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r, "id"));
            in_order &= seen < 250 && !strcmp(id, ids[seen]);
            seen++;
            snprintf(after, sizeof after, "%s", id);
        }
        CHECK_INT("counts on the first page only", cJSON_HasObjectItem(o, "open"), pages == 0);
        more = cJSON_IsTrue(cJSON_GetObjectItem(o, "more"));
        pages++;
        cJSON_Delete(o);
    }
    CHECK_INT("every report listed", seen, 250);
    CHECK_INT("in order, none twice", in_order, 1);
    CHECK_INT("pages of 100", pages, 3);
    cJSON *o = store_queue(s, "nongye", 100, NULL, 1, clock_us, err, sizeof err);
    CHECK_INT("a page stops at max_bytes (one report at least)",
              cJSON_GetArraySize(cJSON_GetObjectItem(o, "reports")), 1);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "more")), "and says there is more");
    cJSON_Delete(o);
    CHECK(store_queue(s, "nongye", 100, "20990101-000000-000000", 1 << 20, clock_us, err,
                      sizeof err) == NULL && !strncmp(err, "no report", 9),
          "after an unknown id: %s", err);
    for (int i = 0; i < 250; i++)
        free(ids[i]);
}

/* A sound archive passes its checks; commits are counted (store_epoch). */
static void test_check(struct store *s)
{
    char out[512];
    const char *gen;
    int64_t before, after;
    CHECK_INT("quick_check of a sound archive", store_check(s, 0, out, sizeof out), 0);
    CHECK_INT("integrity_check of a sound archive", store_check(s, 1, out, sizeof out), 0);
    CHECK(store_damaged(s) == NULL, "not damaged");
    store_epoch(s, &gen, &before);
    CHECK_INT("a generation of 16 hex digits", strspn(gen, "0123456789abcdef"), 16);
    free(put_new(s, "M016", "计数", "nongye"));
    store_epoch(s, &gen, &after);
    CHECK_INT("a commit is counted", after, before + 1);
}

static void test_queue(struct store *s)
{
    char err[256];
    char *x = put_new(s, "M010", "学位 1", "jiaoke"), *y = put_new(s, "M011", "学位 2", "jiaoke");
    char *z = put_new(s, "M012", "学位 3", "jiaoke");
    int64_t now = clock_us;
    char *want = xasprintf("%s %s ", x, y), *got = pull(s, "jiaoke", 2, "a", now);
    CHECK_STR("pull: the two oldest", got, want);
    free(got), free(want);
    want = xasprintf("%s ", z);
    got = pull(s, "jiaoke", 10, "b", now);
    CHECK_STR("a second clerk gets only the unleased one", got, want);
    free(got), free(want);
    got = pull(s, "jiaoke", 10, "c", now + 59 * 1000000LL);
    CHECK_STR("nothing while the leases run", got, "");
    free(got);
    want = xasprintf("%s %s %s ", x, y, z);
    got = pull(s, "jiaoke", 10, "c", now + 61 * 1000000LL);
    CHECK_STR("every report again once the leases ended", got, want);
    free(got), free(want);
    int64_t later = now + 62 * 1000000LL;   /* after the second leases */
    const struct store_actor c = {.who = "c"};
    const struct store_actor a = {.who = "a"}, a_clerk = {.who = "a", .must_hold = 1};
    CHECK_INT("an ended lease cannot ack what c holds now",
              store_ack(s, x, "filed", NULL, &a, later, err, sizeof err), STORE_FORBIDDEN);
    CHECK_INT("nor release it", store_release(s, x, &a, later, err, sizeof err),
              STORE_FORBIDDEN);
    CHECK_INT("nor reassign it", store_reassign(s, x, "shefa", &a, later, err, sizeof err),
              STORE_FORBIDDEN);
    char *w = put_new(s, "M014", "学位 4", "jiaoke");
    CHECK_INT("a clerk acts only on a lease it holds",
              store_ack(s, w, "filed", NULL, &a_clerk, later, err, sizeof err),
              STORE_FORBIDDEN);
    free(w);
    CHECK_INT("release", store_release(s, x, &c, later, err, sizeof err), STORE_OK);
    CHECK_INT("release of an open report", store_release(s, x, &c, later, err, sizeof err),
              STORE_CONFLICT);
    static const char *const outcomes[] = {"adopted", "forwarded", "filed", "declined"};
    for (int i = 0; i < 4; i++) {
        char *id = put_new(s, "M013", outcomes[i], "jiaoke");
        CHECK_INT(outcomes[i], store_ack(s, id, outcomes[i], "备注", &c, later, err, sizeof err),
                  STORE_OK);
        CHECK_INT("ack of a closed report", store_ack(s, id, "filed", NULL, &c, later, err,
                                                      sizeof err), STORE_CONFLICT);
        free(id);
    }
    CHECK_INT("ack of an unknown id", store_ack(s, "20990101-000000-000000", "filed", NULL,
                                                &c, later, err, sizeof err), STORE_NOT_FOUND);
    CHECK_INT("reassign", store_reassign(s, y, "shefa", &c, later, err, sizeof err), STORE_OK);
    CHECK_INT("reassign to where it is", store_reassign(s, y, "shefa", &c, later, err,
                                                        sizeof err), STORE_CONFLICT);
    cJSON *r = store_show(s, y, err, sizeof err), *e;
    CHECK_STR("reassigned: committee", cJSON_GetStringValue(cJSON_GetObjectItem(r, "committee")),
              "shefa");
    CHECK_STR("reassigned: routed_committee",
              cJSON_GetStringValue(cJSON_GetObjectItem(r, "routed_committee")), "jiaoke");
    CHECK_STR("reassigned: open", cJSON_GetStringValue(cJSON_GetObjectItem(r, "state")), "open");
    char *events = xstrdup("");
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(r, "history")) {
        char *n = xasprintf("%s%s ", events, cJSON_GetStringValue(cJSON_GetObjectItem(e, "event")));
        free(events);
        events = n;
    }
    CHECK_STR("history of the moved report", events, "routed leased leased reassigned ");
    free(events);
    cJSON_Delete(r);
    cJSON *h = store_history(s, NULL, 100, err, sizeof err);
    CHECK_INT("history for learning: 4 closed + 1 moved", cJSON_GetArraySize(h), 5);
    cJSON_Delete(h);
    free(x), free(y), free(z);
}

static void test_months(struct store *s)
{
    static const struct { const char *at, *month; } cases[] = {
        {"2026-01-31T23:59:59+08:00", "2026-01"},
        {"2026-02-01T00:00:00+08:00", "2026-02"},
        {"2026-01-31T15:59:59Z", "2026-01"},
        {"2026-01-31T16:00:00Z", "2026-02"},
        {"2025-12-31T23:59:59.999+08:00", "2025-12"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char m[8];
        store_month(report_time_to_us(cases[i].at), m);
        CHECK(!strcmp(m, cases[i].month), "month of %s: got %s, want %s", cases[i].at, m,
              cases[i].month);
    }
    (void)s;
}

/* ---- the audit ---- */

static const char *members_json =
    "{\"members\":["
    "{\"id\":\"A1\",\"name\":\"甲\",\"sector\":\"经济界\",\"group\":\"一组\"},"
    "{\"id\":\"A2\",\"name\":\"乙\",\"sector\":\"经济界\",\"group\":\"二组\"},"
    "{\"id\":\"A3\",\"name\":\"丙\",\"sector\":\"教育界\",\"group\":\"二组\"},"
    "{\"id\":\"A4\",\"name\":\"丁\",\"sector\":\"教育界\",\"group\":\"二组\","
    "\"active\":false,\"left\":\"2026-01-10\"}]}";

static double num(const cJSON *list, const char *key, const char *id, const char *field)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, key)), id))
            return cJSON_IsBool(cJSON_GetObjectItem(e, field))
                       ? cJSON_IsTrue(cJSON_GetObjectItem(e, field))
                       : cJSON_IsNull(cJSON_GetObjectItem(e, field))
                             ? -1
                             : cJSON_GetNumberValue(cJSON_GetObjectItem(e, field));
    return -99;
}

static void at(struct store *s, const char *member, const char *when, const char *outcome)
{
    static int n;
    char title[32];
    snprintf(title, sizeof title, "标题 %d", ++n);
    struct report *r = mk(member, title, NULL, "jingji", report_time_to_us(when));
    CHECK_INT("audit data stored", put(s, r, outcome, NULL), STORE_OK);
    report_free(&r);
}

static void test_audit(void)
{
    char err[512], *path = xasprintf("%s/audit.db", dir), *mpath = xasprintf("%s/m.json", dir);
    FILE *f = fopen(mpath, "w");
    fputs(members_json, f);
    fclose(f);
    struct roster *ro = NULL;
    CHECK_INT("roster", roster_load(mpath, &ro, err, sizeof err), 0);
    struct store *s = NULL;
    CHECK_INT("open", store_open(path, &s, err, sizeof err), 0);
    at(s, "A1", "2026-01-05T10:00:00+08:00", "adopted");
    at(s, "A1", "2026-02-05T10:00:00+08:00", "forwarded");
    at(s, "A1", "2026-03-05T10:00:00+08:00", NULL);
    at(s, "A2", "2026-03-31T23:59:59+08:00", NULL);
    at(s, "A2", "2026-04-01T00:00:00+08:00", NULL);
    at(s, "A4", "2026-01-02T10:00:00+08:00", NULL);
    struct config_quota q[] = {
        {"member", NULL, "year", 1},  {"member", NULL, "month", 1}, {"group", NULL, "quarter", 3},
        {"sector", NULL, "month", 1}, {"org", NULL, "month", 2},   {"member", "A1", "quarter", 3},
    };
    struct config cfg = {.timezone = "Asia/Shanghai", .quotas = q, .nquotas = 6,
                         .points = {1, 3, 5, 0, 0}};
    cJSON *a = audit_build(s, &cfg, ro, NULL, "2026-03", err, sizeof err);
    CHECK(a != NULL, "audit: %s", err);
    const cJSON *m = cJSON_GetObjectItem(a, "members"), *g = cJSON_GetObjectItem(a, "groups");
    const cJSON *sec = cJSON_GetObjectItem(a, "sectors"), *qs = cJSON_GetObjectItem(a, "quotas");
    CHECK_INT("every member listed", cJSON_GetArraySize(m), 4);
    CHECK_INT("March total (23:59:59 on the 31st counts)", cJSON_GetNumberValue(cJSON_GetObjectItem(a, "total")), 2);
    CHECK_INT("A1 March", num(m, "member", "A1", "count"), 1);
    CHECK_INT("A1 ytd", num(m, "member", "A1", "ytd"), 3);
    CHECK_INT("A1 points ytd: 3 reports + adopted 3 + forwarded 5", num(m, "member", "A1", "points_ytd"), 11);
    CHECK_INT("A1 meets year, month and its own quarter rule", num(m, "member", "A1", "met"), 1);
    CHECK_INT("A3 filed nothing: 0", num(m, "member", "A3", "count"), 0);
    CHECK_INT("A3 under quota", num(m, "member", "A3", "met"), 0);
    CHECK_INT("A4 left in January: not held to quotas", num(m, "member", "A4", "met"), -1);
    CHECK_INT("group 一组 quarter 3 met", num(g, "group", "一组", "met"), 1);
    CHECK_INT("group 二组 quarter 1 of 3: not met", num(g, "group", "二组", "met"), 0);
    CHECK_INT("sector 经济界 March 2", num(sec, "sector", "经济界", "count"), 2);
    CHECK_INT("sector 教育界 not met", num(sec, "sector", "教育界", "met"), 0);
    CHECK_INT("quota list: one line per rule", cJSON_GetArraySize(qs), 6);
    CHECK_INT("org month rule: count 2", cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 4), "count")), 2);
    CHECK_INT("org month rule met", cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 4), "met")), 1);
    CHECK_INT("every member a year: 2 of 3 held members meet it", cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 0), "count")), 2);
    CHECK_INT("A1's own quarter rule: 3", cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(qs, 5), "count")), 3);
    const cJSON *trend = cJSON_GetObjectItem(a, "trend");
    CHECK_INT("trend: 12 months", cJSON_GetArraySize(trend), 12);
    CHECK_INT("trend: January 2", cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(trend, 9), "count")), 2);
    cJSON_Delete(a);
    CHECK(audit_build(s, &cfg, ro, NULL, "2026-13", err, sizeof err) == NULL, "bad month refused");
    store_close(&s);
    roster_free(&ro);
    free(path), free(mpath);
}

int main(void)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    char err[256], *path = xasprintf("%s/archive.db", dir);
    struct store *s = NULL;
    CHECK_INT("open", store_open(path, &s, err, sizeof err), 0);
    clock_us = report_time_to_us("2026-03-01T09:00:00+08:00");
    test_once(s);
    test_once_in_batch(s);
    test_queue(s);
    test_queue_pages(s);
    test_check(s);
    test_months(s);
    test_tags(s);
    store_close(&s);
    CHECK_INT("reopen", store_open(path, &s, err, sizeof err), 0);
    cJSON *st = store_status(s, err, sizeof err);
    CHECK(st && cJSON_GetNumberValue(cJSON_GetObjectItem(st, "total")) > 0, "status after reopen");
    cJSON_Delete(st);
    store_close(&s);
    test_audit();
    test_migrate();
    test_page_size();
    test_damaged();
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        perror(cmd);
    free(cmd);
    free(path);
    return harness_done();
}
