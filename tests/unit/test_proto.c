/* test_proto.c: every message of common/proto -- encoded, sent over an
 * inproc:// pair, received and decoded equal; every truncation, extra
 * frame, unknown or missing member and other version refused with its
 * reason; the previous version still understood. */
#include "bus.h"
#include "harness.h"
#include "proto.h"
#include "report.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct bus *bus;
static struct bus_sock *push, *pull;

/* A message of the given frames, as bus_recv would give it (borrowed). */
static struct bus_msg msg_of(const char *const *frames, size_t n)
{
    struct bus_msg m = {0};
    m.nframes = m.nkept = n;
    for (size_t i = 0; i < n; i++) {
        m.frame[i].data = (void *)frames[i];
        m.frame[i].size = strlen(frames[i]);
    }
    return m;
}

static int recv_one(struct bus_msg *m)
{
    struct bus_poll p = {.sock = pull, .fd = -1};
    return bus_poll(&p, 1, 2000) > 0 && bus_recv(pull, m, 1) == 0 ? 0 : -1;
}

static struct report *sample(void)
{
    struct report *r = report_new();
    report_stamp(r, 1764720000123456LL);
    r->member = strdup("M001");
    r->title = strdup("关于增开公交线路的建议");
    r->body = strdup("小区附近没有公交车站 \"quoted\"\n");
    r->content_key = 0x0123456789abcdefULL;
    return r;
}

static void test_route(void)
{
    struct report *r = sample();
    char *text = proto_route_encode(r);
    struct bus_msg m;
    struct proto_route x;
    struct proto_error err;
    CHECK(proto_route_send(push, text, strlen(text), 0) == 0, "route sent");
    CHECK(recv_one(&m) == 0, "route received");
    CHECK_INT("route decodes", proto_route_decode(&m, &x, &err), 0);
    CHECK_INT("route version", x.version, PROTO_VERSION);
    CHECK_STR("route id", x.r ? x.r->id : NULL, r->id);
    CHECK_STR("route body", x.r ? x.r->body : NULL, r->body);
    CHECK(x.r && x.r->content_key == r->content_key, "route content key kept");
    CHECK(x.len == strlen(text) && !memcmp(x.text, text, x.len), "route text as sent");
    proto_route_clear(&x);
    bus_msg_clear(&m);

    /* the previous version (what a release before wrote) is understood */
    char *old = strdup(text);
    memcpy(strstr(old, "\"v\":") + 4, "1", 1);
    const char *f1[] = {old};
    m = msg_of(f1, 1);
    CHECK_INT("route v1 decodes", proto_route_decode(&m, &x, &err), 0);
    CHECK_INT("route v1 version", x.version, 1);
    proto_route_clear(&x);

    static const struct {
        const char *what, *v;
        size_t nframes;
        enum proto_reason want;
    } bad[] = {
        {"version 3", "3", 1, PROTO_BAD_VERSION},
        {"version 0", "0", 1, PROTO_BAD_VERSION},
        {"two frames", NULL, 2, PROTO_BAD_FRAMES},
        {"no frame", NULL, 0, PROTO_BAD_FRAMES},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t = strdup(text);
        if (bad[i].v)
            memcpy(strstr(t, "\"v\":") + 4, bad[i].v, 1);
        const char *f[] = {t, t};
        m = msg_of(f, bad[i].nframes);
        int rc = proto_route_decode(&m, &x, &err);
        CHECK(rc < 0 && err.reason == bad[i].want, "route %s: got rc %d reason %d, want %d (%s)",
              bad[i].what, rc, err.reason, bad[i].want, err.detail);
        free(t);
    }
    char *extra = strdup(text);                  /* a member report_encode never writes */
    memcpy(strstr(extra, "\"title\""), "\"tItle\"", 7);
    const char *fx[] = {extra};
    m = msg_of(fx, 1);
    CHECK(proto_route_decode(&m, &x, &err) < 0 && strstr(err.detail, "unknown member \"tItle\""),
          "route with an unknown member refused: %s", err.detail);
    free(extra);
    const char *cut[] = {"{\"v\":2,\"id\":\"20251203-000000-1234"};
    m = msg_of(cut, 1);
    CHECK(proto_route_decode(&m, &x, &err) < 0 && err.reason == PROTO_BAD_JSON,
          "route truncated: reason %d (%s)", err.reason, err.detail);
    const char *v3[] = {"{\"v\":3,\"id\":\"x\"}"};
    m = msg_of(v3, 1);
    CHECK(proto_route_decode(&m, &x, &err) < 0 && err.version == 3, "peer version 3 known");
    CHECK(strstr(err.detail, "peer speaks protocol 3, this daemon") != NULL,
          "refusal says: got \"%s\"", err.detail);
    free(old);
    free(text);
    report_free(&r);
}

static void test_archive(void)
{
    struct report *r = sample();
    char *text = proto_route_encode(r);
    struct bus_msg m, in;
    struct proto_route route;
    struct proto_archive x;
    struct proto_error err;
    const char *f1[] = {text};
    in = msg_of(f1, 1);
    CHECK_INT("route for archive", proto_route_decode(&in, &route, &err), 0);
    route.r->committee = strdup("chengjian");
    static const char tags[] = "[{\"topic\":\"bus\",\"category\":\"交通运输\",\"score\":2,\"hits\":[]}]";
    report_tags_reserve(route.r, 1, 0, 64);
    route.r->tags[0].topic = report_tags_str(route.r, "bus", 3);
    route.r->tags[0].category = report_tags_str(route.r, "交通运输", strlen("交通运输"));
    route.r->ntags = 1;
    CHECK(proto_archive_send(push, &route, route.r, tags, strlen(tags), NULL) == 0,
          "archive sent");
    CHECK(recv_one(&m) == 0, "archive received");
    CHECK_INT("archive frames", bus_msg_parts(&m), 6);
    CHECK_INT("archive decodes", proto_archive_decode(&m, &x, &err), 0);
    CHECK_INT("archive version", x.version, PROTO_VERSION);
    CHECK_STR("archive id", x.r ? x.r->id : NULL, r->id);
    CHECK_STR("archive committee", x.r ? x.r->committee : NULL, "chengjian");
    CHECK_STR("archive tags", x.tags, tags);
    CHECK_STR("archive topic", x.topic, "bus");
    CHECK_STR("archive category", x.category, "交通运输");
    proto_archive_clear(&x);

    /* every frame count but six (and five, version 1's layout) refused */
    const char *f[8];
    for (size_t k = 0; k < bus_msg_parts(&m); k++)
        f[k] = bus_msg_part(&m, k, &(size_t){0});
    f[6] = f[7] = "";
    for (size_t n = 0; n <= 7; n++) {
        if (n == 6)
            continue;
        struct bus_msg t = msg_of(f, n);
        int rc = proto_archive_decode(&t, &x, &err);
        CHECK(rc < 0 && err.reason == PROTO_BAD_FRAMES, "archive of %zu frames: rc %d reason %d",
              n, rc, err.reason);
        proto_archive_clear(&x);
    }
    struct bus_msg v1 = msg_of(f + 1, 5);        /* version 1: no version frame */
    CHECK_INT("archive v1 decodes", proto_archive_decode(&v1, &x, &err), 0);
    CHECK_INT("archive v1 version", x.version, 1);
    proto_archive_clear(&x);
    static const struct {
        size_t frame;
        const char *value, *what;
        enum proto_reason want;
    } bad[] = {
        {0, "3", "version 3", PROTO_BAD_VERSION},
        {0, "x", "a version not a number", PROTO_BAD_FRAMES},
        {1, "{\"v\":2,\"title\":", "a truncated report", PROTO_BAD_JSON},
        {1, "{\"v\":2,\"id\":\"20251203-000000-000001\",\"state\":\"closed\"}",
         "a report with a member the wire does not have", PROTO_BAD_JSON},
        {2, "", "an empty committee", PROTO_BAD_FIELD},
        {2, "a23456789012345678901234567890123", "a committee too long", PROTO_BAD_FIELD},
        {2, "x\",\"y", "a committee with a quote", PROTO_BAD_FIELD},
        {2, "Tian", "a committee in capitals", PROTO_BAD_FIELD},
        {3, "", "empty tags", PROTO_BAD_FIELD},
        {4, "", "a category without a topic", PROTO_BAD_FIELD},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *g[6];
        memcpy(g, f, sizeof g);
        g[bad[i].frame] = bad[i].value;
        struct bus_msg t = msg_of(g, 6);
        int rc = proto_archive_decode(&t, &x, &err);
        CHECK(rc < 0 && err.reason == bad[i].want, "archive with %s: rc %d reason %d, want %d (%s)",
              bad[i].what, rc, err.reason, bad[i].want, err.detail);
        proto_archive_clear(&x);
    }
    bus_msg_clear(&m);
    proto_route_clear(&route);
    free(text);
    report_free(&r);
}

static void test_confirm(void)
{
    const char *ids[] = {"20251203-000000-000001", "20251203-000000-000002"};
    struct bus_msg m;
    struct proto_confirm c;
    struct proto_error err;
    const struct proto_epoch epoch = {"53a3b2fe2b42131c", 238};
    CHECK(proto_confirm_send(push, ids, 2, &epoch) == 0, "confirm sent");
    CHECK(recv_one(&m) == 0, "confirm received");
    CHECK_INT("confirm decodes", proto_confirm_decode(&m, &c, &err), 0);
    CHECK_INT("confirm ids", c.n, 2);
    CHECK_STR("confirm id 2", c.n == 2 ? c.ids[1] : NULL, ids[1]);
    CHECK_INT("confirm names the archive", c.has_epoch, 1);
    CHECK_STR("its generation", c.epoch.generation, epoch.generation);
    CHECK_INT("its commits", c.epoch.commits, 238);
    proto_confirm_clear(&c);
    bus_msg_clear(&m);
    CHECK(proto_confirm_send(push, NULL, 0, NULL) == 0, "confirm without archive sent");
    CHECK(recv_one(&m) == 0, "received");
    CHECK(proto_confirm_decode(&m, &c, &err) == 0 && c.n == 0 && !c.has_epoch,
          "an older archiver's confirmation (no archive) decodes");
    proto_confirm_clear(&c);
    bus_msg_clear(&m);
    static const struct {
        const char *body;
        enum proto_reason want;
    } bad[] = {
        {"{\"v\":3,\"confirm\":[]}", PROTO_BAD_VERSION},
        {"{\"v\":2}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"confirm\":[],\"more\":1}", PROTO_UNKNOWN_FIELD},
        {"{\"v\":2,\"confirm\":\"20251203-000000-000001\"}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"confirm\":[\"../etc\"]}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"confirm\":[", PROTO_BAD_JSON},
        {"{\"v\":\"2\",\"confirm\":[]}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"confirm\":[],\"archive\":{\"generation\":\"XY\",\"commits\":1}}",
         PROTO_BAD_FIELD},
        {"{\"v\":2,\"confirm\":[],\"archive\":{\"generation\":\"ab\",\"commits\":-1}}",
         PROTO_BAD_FIELD},
        {"{\"v\":2,\"confirm\":[],\"archive\":{\"generation\":\"ab\",\"commits\":1,"
         "\"x\":1}}", PROTO_UNKNOWN_FIELD},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *f[] = {bad[i].body};
        m = msg_of(f, 1);
        int rc = proto_confirm_decode(&m, &c, &err);
        CHECK(rc < 0 && err.reason == bad[i].want, "confirm %s: rc %d reason %d, want %d",
              bad[i].body, rc, err.reason, bad[i].want);
    }
    const char *v1[] = {"{\"v\":1,\"confirm\":[\"20251203-000000-000001\"]}"};
    m = msg_of(v1, 1);
    CHECK(proto_confirm_decode(&m, &c, &err) == 0 && c.n == 1, "confirm of version 1");
    proto_confirm_clear(&c);
    const char *two[] = {v1[0], v1[0]};
    m = msg_of(two, 2);
    CHECK(proto_confirm_decode(&m, &c, &err) < 0 && err.reason == PROTO_BAD_FRAMES,
          "confirm of two frames refused");
}

static void test_submit(void)
{
    static const struct {
        const char *body;
        enum report_reason want;
        int extra;                /* members left in extra */
    } cases[] = {
        {"{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\"}", REPORT_OK, 0},
        {"{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\",\"x\":1}", REPORT_OK, 1},
        {"{\"v\":2,\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\"}", REPORT_BAD_FIELD, 0},
        {"{\"member\":\"M1\",\"title\":\"t\"}", REPORT_MISSING_FIELD, 0},
        {"{\"member\":\"M1\",\"title\":\"t\",", REPORT_BAD_JSON, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *f[] = {cases[i].body};
        struct bus_msg m = msg_of(f, 1);
        struct report *r = NULL;
        struct report_error err = {0};
        proto_submit_decode(&m, 65536, &r, &err);
        CHECK(err.reason == cases[i].want, "submit %s: reason %s, want %s", cases[i].body,
              report_reason_name(err.reason), report_reason_name(cases[i].want));
        CHECK_INT("submit extra members", r && r->extra ? cJSON_GetArraySize(r->extra) : 0,
                  cases[i].extra);
        report_free(&r);
    }
    const char *two[] = {cases[0].body, cases[0].body};
    struct bus_msg m = msg_of(two, 2);
    struct report *r = NULL;
    struct report_error err = {0};
    CHECK(proto_submit_decode(&m, 65536, &r, &err) < 0 && err.reason == REPORT_BAD_JSON,
          "submit of two frames refused");

    char *ok = proto_submit_reply("20251203-000000-000001", 1, NULL);
    struct proto_reply rep;
    struct proto_error perr;
    CHECK(proto_reply_decode(ok, strlen(ok), &rep, &perr) == 0 && rep.ok, "submit reply ok");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(rep.tree, "duplicate")), "duplicate said");
    proto_reply_clear(&rep);
    free(ok);
    err.reason = REPORT_UNKNOWN_MEMBER;
    snprintf(err.detail, sizeof err.detail, "member \"x\" is not in the roster");
    char *no = proto_submit_reply(NULL, 0, &err);
    CHECK(proto_reply_decode(no, strlen(no), &rep, &perr) == 0 && !rep.ok, "submit refusal");
    CHECK_STR("submit refusal code", rep.error, "unknown_member");
    CHECK_STR("submit refusal detail", rep.detail, err.detail);
    proto_reply_clear(&rep);
    free(no);
}

/* Encode q, decode it back and compare every member. */
static void request_round_trip(const struct proto_request *q)
{
    char *text = proto_request_encode(q);
    struct proto_request d;
    struct proto_error err;
    const char *name = proto_cmd_name(q->cmd);
    CHECK(proto_request_decode(text, strlen(text), &d, &err) == 0, "%s decodes: %s (%s)", name,
          err.detail, text);
    CHECK_INT(name, d.cmd, q->cmd);
    CHECK_INT("request version", d.version, PROTO_VERSION);
    CHECK_STR("committee", d.committee, q->committee);
    CHECK_STR("id", d.id, q->id);
    CHECK_STR("outcome", d.outcome, q->outcome);
    CHECK_STR("note", d.note, q->note);
    CHECK_STR("who", d.who, q->who);
    CHECK_STR("month", d.month, q->month);
    CHECK_STR("since_id", d.since_id, q->since_id);
    CHECK_STR("after", d.after, q->after);
    CHECK_STR("member", d.member, q->member);
    CHECK_INT("limit", d.limit, q->limit);
    CHECK_INT("lease", d.lease, q->lease);
    CHECK_INT("reports", d.reports ? cJSON_GetArraySize(d.reports) : -1,
              q->reports ? cJSON_GetArraySize(q->reports) : -1);
    proto_request_clear(&d);
    free(text);
}

static void test_requests(void)
{
    cJSON *reports = cJSON_Parse("[{\"member\":\"M1\",\"title\":\"t\",\"body\":\"b\"}]");
    const struct proto_request reqs[] = {
        {.cmd = PROTO_CMD_PULL, .committee = "jiaoke", .limit = 5, .lease = 60, .who = "li"},
        {.cmd = PROTO_CMD_QUEUE, .committee = "jiaoke", .limit = 100},
        {.cmd = PROTO_CMD_QUEUE, .committee = "jiaoke", .limit = 1000,
         .after = "20251203-000000-000001"},
        {.cmd = PROTO_CMD_CHECK},
        {.cmd = PROTO_CMD_ACK, .id = "20251203-000000-000001", .outcome = "adopted",
         .note = "采用 \"ok\"", .who = "li"},
        {.cmd = PROTO_CMD_RELEASE, .id = "20251203-000000-000001", .who = "li"},
        {.cmd = PROTO_CMD_REASSIGN, .id = "20251203-000000-000001", .committee = "shefa"},
        {.cmd = PROTO_CMD_SHOW, .id = "20251203-000000-000001"},
        {.cmd = PROTO_CMD_AUDIT, .month = "2025-12"},
        {.cmd = PROTO_CMD_AUDIT},
        {.cmd = PROTO_CMD_IMPORT, .reports = reports},
        {.cmd = PROTO_CMD_HISTORY, .limit = 500, .since_id = "20251203-000000-000001"},
        {.cmd = PROTO_CMD_STATUS},
        {.cmd = PROTO_CMD_RELOAD},
        {.cmd = PROTO_CMD_MINE, .member = "M001", .limit = 200, .who = "M001"},
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++)
        request_round_trip(&reqs[i]);
    cJSON_Delete(reports);

    static const struct {
        const char *text;
        enum proto_reason want;
    } bad[] = {
        {"{\"v\":3,\"cmd\":\"status\"}", PROTO_BAD_VERSION},
        {"{\"v\":0,\"cmd\":\"status\"}", PROTO_BAD_VERSION},
        {"{\"v\":2.5,\"cmd\":\"status\"}", PROTO_BAD_FIELD},
        {"{\"v\":2}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"cmd\":\"drop\"}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":7}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"status\",\"committee\":\"x\"}", PROTO_UNKNOWN_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"x\",\"limt\":3}", PROTO_UNKNOWN_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\"}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"x\",\"after\":\"y\"}",
         PROTO_UNKNOWN_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"\"}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":1}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"a\\\"b\"}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"reassign\",\"id\":\"x\",\"committee\":\"委员会\"}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"x\",\"limit\":0}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"x\",\"limit\":1.5}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"pull\",\"committee\":\"x\",\"limit\":\"3\"}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"ack\",\"id\":\"x\"}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"cmd\":\"import\",\"reports\":{}}", PROTO_BAD_FIELD},
        {"{\"v\":2,\"cmd\":\"mine\"}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"cmd\":\"mine\",\"member\":\"M1\",\"committee\":\"x\"}", PROTO_UNKNOWN_FIELD},
        {"{\"v\":2,\"cmd\":\"status\"", PROTO_BAD_JSON},
        {"[\"status\"]", PROTO_BAD_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct proto_request q;
        struct proto_error err;
        int rc = proto_request_decode(bad[i].text, strlen(bad[i].text), &q, &err);
        CHECK(rc < 0 && err.reason == bad[i].want, "request %s: rc %d reason %d, want %d (%s)",
              bad[i].text, rc, err.reason, bad[i].want, err.detail);
    }
    struct proto_request q;
    struct proto_error err;
    static const char v1[] = "{\"cmd\":\"queue\",\"committee\":\"tian\"}";
    CHECK(proto_request_decode(v1, strlen(v1), &q, &err) == 0 && q.version == 1,
          "a request without \"v\" is version 1");
    proto_request_clear(&q);
    const char *two[] = {v1, v1};
    struct bus_msg m = msg_of(two, 2);
    CHECK(proto_request_decode_msg(&m, &q, &err) < 0 && err.reason == PROTO_BAD_FRAMES,
          "a request of two frames refused");
}

static void test_replies(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "topics", 65);
    char *ok = proto_reply_ok(o);
    struct proto_reply r;
    struct proto_error err;
    CHECK(proto_reply_decode(ok, strlen(ok), &r, &err) == 0 && r.ok, "ok reply");
    CHECK_INT("reply version", r.version, PROTO_VERSION);
    CHECK_INT("reply member", cJSON_GetObjectItem(r.tree, "topics")->valueint, 65);
    proto_reply_clear(&r);
    free(ok);
    char *no = proto_reply_error("not_found", "no report %s", "x");
    CHECK(proto_reply_decode(no, strlen(no), &r, &err) == 0 && !r.ok, "error reply");
    CHECK_STR("error code", r.error, "not_found");
    CHECK_STR("error detail", r.detail, "no report x");
    proto_reply_clear(&r);
    free(no);
    struct proto_error v = {PROTO_BAD_VERSION, 3, "peer speaks protocol 3, this daemon 2"};
    char *refusal = proto_reply_refusal(&v);
    CHECK(proto_reply_decode(refusal, strlen(refusal), &r, &err) == 0 && !r.ok, "refusal");
    CHECK_STR("refusal code", r.error, "bad_version");
    proto_reply_clear(&r);
    free(refusal);
    static const struct {
        const char *text;
        enum proto_reason want;
    } bad[] = {
        {"{\"v\":3,\"ok\":true}", PROTO_BAD_VERSION},
        {"{\"v\":2}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"ok\":false}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"ok\":1}", PROTO_MISSING_FIELD},
        {"{\"v\":2,\"ok\":tr", PROTO_BAD_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = proto_reply_decode(bad[i].text, strlen(bad[i].text), &r, &err);
        CHECK(rc < 0 && err.reason == bad[i].want, "reply %s: rc %d reason %d, want %d",
              bad[i].text, rc, err.reason, bad[i].want);
    }
    static const char v1[] = "{\"ok\":true,\"id\":\"x\"}";
    CHECK(proto_reply_decode(v1, strlen(v1), &r, &err) == 0 && r.version == 1,
          "a reply without \"v\" is version 1");
    proto_reply_clear(&r);
}

static void test_refused(void)
{
    struct proto_peers p = {0};
    struct proto_error e3 = {PROTO_BAD_VERSION, 3, "peer speaks protocol 3, this daemon 2"};
    struct proto_error e4 = {PROTO_BAD_VERSION, 4, "peer speaks protocol 4, this daemon 2"};
    proto_refused(&p, PROTO_CH_ROUTE, &e3);
    proto_refused(&p, PROTO_CH_ROUTE, &e3);
    proto_refused(&p, PROTO_CH_ROUTE, &e4);
    proto_refused(&p, PROTO_CH_QUERY, &e3);
    CHECK_INT("refusals counted", p.refused, 4);
    CHECK_INT("route logged versions", p.logged[PROTO_CH_ROUTE], (1u << 3) | (1u << 4));
    CHECK_INT("query logged versions", p.logged[PROTO_CH_QUERY], 1u << 3);
}

int main(void)
{
    char err[256];
    bus = bus_new();
    pull = bus_open(bus, BUS_PULL, "inproc://test-proto", 1, NULL, err, sizeof err);
    push = bus_open(bus, BUS_PUSH, "inproc://test-proto", 0, NULL, err, sizeof err);
    CHECK(pull && push, "inproc pair: %s", err);
    if (!pull || !push)
        return harness_done();
    test_route();
    test_archive();
    test_confirm();
    test_submit();
    test_requests();
    test_replies();
    test_refused();
    bus_close(&push);
    bus_close(&pull);
    bus_destroy(&bus);
    return harness_done();
}
