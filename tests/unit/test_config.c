/* test_config.c: the config loader (defaults, relative paths, overrides,
 * errors naming file and key) and the roster. */
#include "config.h"
#include "harness.h"
#include "roster.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/minyi-test-config.XXXXXX";

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    struct config *c = NULL;
    char err[512] = "", want[600];
    unsetenv("MINYI_STATE_DIR");
    int rc = config_load(write_file("empty.json", "{}"), NULL, &c, err, sizeof err);
    CHECK(rc == 0, "empty config loads: %s", err);
    if (!c)
        return;
    snprintf(want, sizeof want, "%s/var", dir);
    CHECK_STR("state dir beside config", c->state_dir, want);
    snprintf(want, sizeof want, "ipc://%s/var/run/submit.sock", dir);
    CHECK_STR("submit endpoint", c->ep.submit, want);
    snprintf(want, sizeof want, "ipc://%s/var/run/route-large.sock", dir);
    CHECK_STR("large route lane endpoint", c->ep.route_large, want);
    snprintf(want, sizeof want, "ipc://%s/var/run/archive-large.sock", dir);
    CHECK_STR("large archive lane endpoint", c->ep.archive_large, want);
    CHECK_INT("large lane: 8 MB of 64 KB reports", config_large_hwm(c), 128);
    snprintf(want, sizeof want, "%s/rules.json", dir);
    CHECK_STR("rules path", c->rules_path, want);
    CHECK_STR("timezone", c->timezone, "Asia/Shanghai");
    CHECK_INT("max bytes", c->limits.max_report_bytes, 65536);
    CHECK_INT("two default quotas", c->nquotas, 2);
    CHECK_STR("quota 0 scope", c->quotas[0].scope, "member");
    CHECK_STR("quota 1 period", c->quotas[1].period, "month");
    CHECK(c->points.adopted == 3, "adopted points default 3");
    CHECK_INT("retention off by default", c->retention.closed_days, 0);
    snprintf(want, sizeof want, "%s/var/retention", dir);
    CHECK_STR("retention exports in the state dir", c->retention.export_dir, want);
    config_free(&c);
    CHECK(c == NULL, "config_free nulls");
}

static void test_overrides(void)
{
    struct config *c = NULL;
    char err[512] = "";
    const char *p = write_file("o.json",
        "{\"state_dir\":\"../elsewhere\",\"rules\":\"/abs/r.json\",\"insecure\":true,"
        "\"endpoints\":{\"submit\":\"tcp://127.0.0.1:5999\",\"query\":\"ipc://@STATE@/q\"},"
        "\"limits\":{\"lease_seconds\":60},"
        "\"retention\":{\"closed_days\":1825,\"export_dir\":\"out\"},"
        "\"quotas\":[{\"scope\":\"group\",\"id\":\"g1\",\"period\":\"quarter\",\"min\":4}]}");
    CHECK(config_load(p, "/tmp/sd-override", &c, err, sizeof err) == 0, "loads: %s", err);
    if (!c)
        return;
    CHECK_STR("--state-dir wins", c->state_dir, "/tmp/sd-override");
    CHECK_STR("tcp endpoint kept", c->ep.submit, "tcp://127.0.0.1:5999");
    CHECK_STR("@STATE@ replaced", c->ep.query, "ipc:///tmp/sd-override/q");
    CHECK_STR("absolute rules", c->rules_path, "/abs/r.json");
    CHECK_INT("lease", c->limits.lease_seconds, 60);
    CHECK_INT("one quota", c->nquotas, 1);
    CHECK_STR("quota id", c->quotas[0].id, "g1");
    CHECK_INT("retention days", c->retention.closed_days, 1825);
    CHECK_STR("retention dir relative to the state dir", c->retention.export_dir,
              "/tmp/sd-override/out");
    config_free(&c);
    setenv("MINYI_STATE_DIR", "/tmp/sd-env", 1);
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "loads: %s", err);
    CHECK_STR("env state dir", c ? c->state_dir : NULL, "/tmp/sd-env");
    unsetenv("MINYI_STATE_DIR");
    config_free(&c);
}

/* The lanes: which messages are large, and the large lane's depth. */
static void test_lanes(void)
{
    struct config *c = NULL;
    char err[512] = "";
    CHECK(!config_lane_large(CONFIG_LANE_SMALL), "8 KB is the ordinary lane");
    CHECK(config_lane_large(CONFIG_LANE_SMALL + 1), "over 8 KB is the large lane");
    const char *p = write_file("l.json", "{\"insecure\":true,"
                                         "\"limits\":{\"max_report_bytes\":4096,\"hwm\":300},"
                                         "\"endpoints\":{\"route\":\"tcp://127.0.0.1:6000\","
                                         "\"route_large\":\"tcp://127.0.0.1:6001\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "loads: %s", err);
    CHECK_INT("small reports: no deeper than limits.hwm", c ? config_large_hwm(c) : -1, 300);
    CHECK_STR("large lane endpoint set", c ? c->ep.route_large : NULL, "tcp://127.0.0.1:6001");
    config_free(&c);
    p = write_file("l2.json", "{\"limits\":{\"max_report_bytes\":100000000}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "loads: %s", err);
    CHECK_INT("huge reports: at least 8 deep", c ? config_large_hwm(c) : -1, 8);
    config_free(&c);
    p = write_file("l3.json", "{\"endpoints\":{\"archive\":\"tcp://10.0.0.2:6000\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) < 0 && strstr(err, "archive_large"),
          "a pipe moved without its large lane is refused: got \"%s\"", err);
    config_free(&c);
    p = write_file("l4.json", "{\"endpoints\":{\"query\":\"tcp://127.0.0.1:6000\"}}");
    const char *eps[CONFIG_NENDPOINTS], *names[CONFIG_NENDPOINTS];
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "tcp:// without insecure loads "
          "(the daemons want keys for it): %s", err);
    CHECK_INT("it needs CURVE", c ? (int)config_endpoint_list(c, CONFIG_EP_CURVE, eps, names,
                                                              CONFIG_NENDPOINTS) : -1, 1);
    CHECK_STR("by its name", c ? names[0] : NULL, "query");
    CHECK(c && strstr(c->server_key, "/keys/server.key"), "server key in the state dir");
    config_free(&c);
    p = write_file("l5.json", "{\"insecure\":true,\"endpoints\":{\"query\":\"tcp://127.0.0.1:6000\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "with insecure it loads: %s", err);
    CHECK_INT("one tcp endpoint to warn about", c ? (int)config_endpoint_list(c, CONFIG_EP_PLAIN,
                                                   eps, NULL, CONFIG_NENDPOINTS) : -1, 1);
    CHECK_INT("none needing keys", c ? (int)config_endpoint_list(c, CONFIG_EP_CURVE, eps, NULL,
                                                                 CONFIG_NENDPOINTS) : -1, 0);
    config_free(&c);
    p = write_file("l6.json", "{\"insecure\":[\"submit\", \"router_ctl\"],\"endpoints\":{"
                   "\"submit\":\"tcp://127.0.0.1:6000\",\"query\":\"tcp://127.0.0.1:6001\","
                   "\"router_ctl\":[\"tcp://127.0.0.1:6002\",\"tcp://127.0.0.1:6003\"]}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "insecure as a list loads: %s", err);
    CHECK_INT("submit and both routers' ctl plain", c ? (int)config_endpoint_list(c,
              CONFIG_EP_PLAIN, eps, names, CONFIG_NENDPOINTS) : -1, 3);
    CHECK_STR("the second router's too", c ? names[2] : NULL, "router_ctl");
    CHECK_INT("query needs keys", c ? (int)config_endpoint_list(c, CONFIG_EP_CURVE, eps, names,
                                                               CONFIG_NENDPOINTS) : -1, 1);
    config_free(&c);
    p = write_file("l7.json", "{\"insecure\":[\"sbumit\"]}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) < 0 && strstr(err, "insecure: want"),
          "an unknown endpoint name in insecure is refused: got \"%s\"", err);
    config_free(&c);
}

/* 督办: defaults, a committee's own deadlines (missing keys from the
 * defaults), the notify argv with a relative program. */
static void test_supervision(void)
{
    struct config *c = NULL;
    char err[512] = "", want[600];
    int t, d;
    const char *p = write_file("sv.json",
        "{\"supervision\":{\"close_days\":20,\"committees\":{\"jingji\":{\"take_up_days\":1},"
        "\"tian\":{\"take_up_days\":0,\"close_days\":0}},\"notify\":[\"bin/sms\",\"-q\"]}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "supervision loads: %s", err);
    if (!c)
        return;
    struct { const char *committee; int take_up, close; } cases[] = {
        {"jingji", 1, 20}, {"tian", 0, 0}, {"nongye", 5, 20}, {NULL, 5, 20},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_deadlines(c, cases[i].committee, &t, &d);
        CHECK(t == cases[i].take_up && d == cases[i].close, "%s: got %d/%d, want %d/%d",
              cases[i].committee ? cases[i].committee : "(none)", t, d, cases[i].take_up,
              cases[i].close);
    }
    snprintf(want, sizeof want, "%s/bin/sms", dir);
    CHECK_STR("notify program relative to the config", c->supervision.notify[0], want);
    CHECK_STR("notify argument kept", c->supervision.notify[1], "-q");
    CHECK(c->supervision.notify[2] == NULL, "notify argv ends with NULL");
    CHECK_INT("check every 60 s by default", c->supervision.check_seconds, 60);
    config_free(&c);
    CHECK(config_load(write_file("sv0.json", "{}"), NULL, &c, err, sizeof err) == 0, "%s", err);
    config_deadlines(c, "jingji", &t, &d);
    CHECK(t == 5 && d == 30, "defaults: got %d/%d, want 5/30", t, d);
    CHECK(c->supervision.notify == NULL, "no notify by default");
    config_free(&c);
}

/* 报送 over tcp://: the link's CURVE keys (this level's pair, relative to
 * the config; the next level's server key), or "insecure". */
static void test_upstream_keys(void)
{
    struct config *c = NULL;
    char err[512] = "", want[600];
    const char *p = write_file("up.json",
        "{\"upstream\":{\"endpoint\":\"tcp://10.0.0.1:7001\",\"member\":\"M050\","
        "\"key\":\"keys/district.key\","
        "\"server_public_key\":\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "upstream with keys loads: %s", err);
    if (c) {
        snprintf(want, sizeof want, "%s/keys/district.key", dir);
        CHECK_STR("key relative to the config", c->upstream.key, want);
        CHECK_STR("server key kept", c->upstream.server_public_key,
                  "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
        CHECK_INT("not insecure", c->upstream.insecure, 0);
        config_free(&c);
    }
    p = write_file("up4.json", "{\"state_dir\":\"/s\",\"upstream\":{\"endpoint\":"
                               "\"tcp://10.0.0.1:7001\",\"member\":\"M050\",\"key\":"
                               "\"@STATE@/keys/d.key\",\"server_key\":\"city/server.pub\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "server_key file loads: %s", err);
    if (c) {
        CHECK_STR("key in the state folder", c->upstream.key, "/s/keys/d.key");
        snprintf(want, sizeof want, "%s/city/server.pub", dir);
        CHECK_STR("server_key relative to the config", c->upstream.server_key, want);
        config_free(&c);
    }
    p = write_file("up2.json", "{\"upstream\":{\"endpoint\":\"tcp://10.0.0.1:7001\","
                               "\"member\":\"M050\",\"insecure\":true}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "insecure upstream loads: %s", err);
    config_free(&c);
    p = write_file("up3.json", "{\"upstream\":{\"endpoint\":\"ipc:///s/submit.sock\","
                               "\"member\":\"M050\"}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "ipc:// upstream needs no keys: %s",
          err);
    config_free(&c);
}

/* endpoints.router_ctl: one endpoint (one router) or a list (several). */
static void test_routers(void)
{
    struct config *c = NULL;
    char err[512] = "", want[600];
    const char *p = write_file("rt.json", "{\"state_dir\":\"/s\",\"endpoints\":{\"router_ctl\":"
                                          "[\"ipc://@STATE@/run/r1\",\"tcp://10.0.0.2:5100\"]}}");
    CHECK(config_load(p, NULL, &c, err, sizeof err) == 0, "router list loads: %s", err);
    if (c) {
        CHECK_INT("two routers", c->nrouters, 2);
        CHECK_STR("first, @STATE@ replaced", c->router_ctls[0], "ipc:///s/run/r1");
        CHECK_STR("second", c->router_ctls[1], "tcp://10.0.0.2:5100");
        CHECK_STR("ep.router_ctl is the first", c->ep.router_ctl, "ipc:///s/run/r1");
        config_free(&c);
    }
    CHECK(config_load(write_file("rt0.json", "{}"), NULL, &c, err, sizeof err) == 0, "%s", err);
    if (c) {
        snprintf(want, sizeof want, "ipc://%s/var/run/router.sock", dir);
        CHECK(c->nrouters == 1 && !strcmp(c->router_ctls[0], want), "default: one router at %s",
              want);
        config_free(&c);
    }
}

static void test_errors(void)
{
    struct { const char *text, *want; } cases[] = {
        {"[1]", "not a JSON object"},
        {"{\"timezone\":5}", "timezone: must be a string"},
        {"{\"timezone\":\"Mars/Base\"}", "timezone: unknown zone"},
        {"{\"limits\":{\"hwm\":-1}}", "limits.hwm"},
        {"{\"quotas\":[{\"scope\":\"planet\",\"period\":\"year\",\"min\":1}]}", "quotas[0].scope"},
        {"{\"quotas\":[{\"scope\":\"org\",\"period\":\"week\",\"min\":1}]}", "quotas[0].period"},
        {"{\"points\":{\"adopted\":\"many\"}}", "points.adopted"},
        {"{\"endpoints\":{\"router_ctl\":[]}}", "endpoints.router_ctl: must be"},
        {"{\"endpoints\":{\"router_ctl\":[\"ipc://a\",5]}}", "endpoints.router_ctl[1]"},
        {"{\"supervision\":[]}", "supervision: must be an object"},
        {"{\"supervision\":{\"close_days\":-1}}", "supervision.close_days"},
        {"{\"supervision\":{\"take_up_days\":1.5}}", "supervision.take_up_days"},
        {"{\"supervision\":{\"committees\":{\"jingji\":{\"close_days\":\"x\"}}}}",
         "supervision.committees.jingji.close_days"},
        {"{\"supervision\":{\"notify\":\"mail -s overdue\"}}", "supervision.notify"},
        {"{\"supervision\":{\"notify\":[\"\"]}}", "supervision.notify: item 1"},
        {"{\"upstream\":{\"endpoint\":\"tcp://10.0.0.1:7001\",\"member\":\"M050\"}}",
         "upstream: a tcp:// link needs \"key\""},
        {"{\"upstream\":{\"endpoint\":\"ipc:///s\",\"member\":\"M050\",\"query\":"
         "\"tcp://10.0.0.1:7002\",\"key\":\"k\"}}", "upstream: a tcp:// link needs"},
        {"{\"upstream\":{\"endpoint\":\"tcp://a:1\",\"member\":\"M\",\"key\":\"k\","
         "\"server_public_key\":\"short\"}}", "upstream.server_public_key: must be 40"},
        {"{\"upstream\":{\"endpoint\":\"tcp://a:1\",\"member\":\"M\",\"insecure\":1}}",
         "upstream.insecure: must be true or false"},
        {"{\"retention\":5}", "retention: must be an object"},
        {"{\"retention\":{\"closed_days\":0}}", "retention.closed_days"},
        {"{\"retention\":{\"closed_days\":\"long\"}}", "retention.closed_days"},
        {"{\"retention\":{\"export_dir\":\"\"}}", "retention.export_dir"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config *c = NULL;
        char err[512] = "";
        const char *p = write_file("bad.json", cases[i].text);
        int rc = config_load(p, NULL, &c, err, sizeof err);
        CHECK(rc < 0 && strstr(err, cases[i].want) && strstr(err, "bad.json"),
              "%s: got \"%s\", want an error naming the file and \"%s\"", cases[i].text, err,
              cases[i].want);
        config_free(&c);
    }
    struct config *c = NULL;
    char err[512];
    CHECK(config_load("/nonexistent/minyi.json", NULL, &c, err, sizeof err) < 0 &&
              strstr(err, "/nonexistent/minyi.json"),
          "missing file: got \"%s\"", err);
}

static void test_roster(void)
{
    struct roster *r = NULL;
    char err[512] = "";
    const char *p = write_file("m.json",
        "{\"members\":[{\"id\":\"M002\",\"name\":\"李娜\",\"sector\":\"教育界\",\"group\":\"一组\"},"
        "{\"id\":\"M001\",\"name\":\"王伟\",\"active\":false,\"left\":\"2026-05-01\"}]}");
    CHECK(roster_load(p, &r, err, sizeof err) == 0, "roster loads: %s", err);
    if (!r)
        return;
    CHECK_INT("count", r->n, 2);
    CHECK_STR("file order kept", r->members[0].id, "M002");
    const struct roster_member *m = roster_find(r, "M001");
    CHECK_STR("find", m ? m->name : NULL, "王伟");
    CHECK_INT("inactive", m ? m->active : -1, 0);
    CHECK_STR("left", m ? m->left : NULL, "2026-05-01");
    CHECK(roster_find(r, "M999") == NULL, "unknown member not found");
    roster_free(&r);
    p = write_file("dup.json", "{\"members\":[{\"id\":\"M1\"},{\"id\":\"M1\"}]}");
    CHECK(roster_load(p, &r, err, sizeof err) < 0 && strstr(err, "duplicate id"),
          "duplicate ids: got \"%s\"", err);
    p = write_file("noid.json", "{\"members\":[{\"name\":\"x\"}]}");
    CHECK(roster_load(p, &r, err, sizeof err) < 0 && strstr(err, "members[0]"),
          "missing id: got \"%s\"", err);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_defaults();
    test_overrides();
    test_lanes();
    test_errors();
    test_supervision();
    test_upstream_keys();
    test_routers();
    test_roster();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("warning: could not remove %s\n", dir);
    return harness_done();
}
