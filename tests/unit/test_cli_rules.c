/* test_cli_rules.c: `minyi rules check|test|eval|learn|reload` through
 * cli_rules(), with stdout and stderr captured in a temporary folder.
 * The eval figures of tests/data/eval-small.jsonl were computed by hand:
 *   e1 air -> 环境保护 (right)       e2 bus -> 交通运输 (right)
 *   e3 school -> 教育文体 (right)    e4 bus -> 交通运输 (truly 环境保护)
 *   e5 hospital -> 卫生计生 (right)  e6 nothing -> unrouted (truly 交通运输)
 *   e7 has no label: skipped
 *   accuracy 4/6; 环境保护 P 1 R 1/2 F1 2/3; 交通运输 P 1/2 R 1/2 F1 1/2;
 *   教育文体 and 卫生计生 F1 1; macro-F1 (2/3 + 1/2 + 1 + 1) / 4 = 19/24;
 *   unrouted 1/6. */
#include "harness.h"
#include "bus.h"
#include "cli_rules.h"
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_cli_rules.XXXXXX";
static char *out_text, *err_text;  /* what the last run printed */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0;
    if (!f || getdelim(&buf, &cap, '\0', f) < 0) {
        free(buf);
        buf = xstrdup("");
    }
    if (f)
        fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Run `minyi rules ARGS...` (NULL-terminated); its output in out_text/err_text. */
static int run(const struct config *cfg, struct bus *bus, ...)
{
    char *argv[32], *opath = xasprintf("%s/out", tmpdir), *epath = xasprintf("%s/err", tmpdir);
    int argc = 0;
    va_list ap;
    va_start(ap, bus);
    argv[argc++] = "rules";
    while ((argv[argc] = va_arg(ap, char *)) != NULL)
        argc++;
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = cli_rules(argc, argv, cfg, bus);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so), close(se), close(fo), close(fe);
    free(out_text);
    free(err_text);
    out_text = slurp(opath);
    err_text = slurp(epath);
    free(opath);
    free(epath);
    return rc;
}

static double num(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_eval(const struct config *cfg, const char *data)
{
    char *file = xasprintf("%s/eval-small.jsonl", data);
    CHECK_INT("eval: exit", run(cfg, NULL, "eval", file, "--format", "json", NULL), 0);
    cJSON *o = cJSON_Parse(out_text);
    CHECK(o != NULL, "eval: output is JSON: got %s", out_text);
    static const struct { const char *a, *b, *c; double want; } figs[] = {
        {"total", NULL, NULL, 6},
        {"accuracy", NULL, NULL, 0.666667},
        {"macro_f1", NULL, NULL, 0.791667},
        {"unrouted", NULL, NULL, 0.166667},
        {"per_label", "环境保护", "precision", 1},
        {"per_label", "环境保护", "recall", 0.5},
        {"per_label", "环境保护", "f1", 0.666667},
        {"per_label", "环境保护", "support", 2},
        {"per_label", "交通运输", "precision", 0.5},
        {"per_label", "交通运输", "recall", 0.5},
        {"per_label", "交通运输", "f1", 0.5},
        {"per_label", "教育文体", "f1", 1},
        {"per_label", "卫生计生", "support", 1},
        {"confusion", "环境保护", "环境保护", 1},
        {"confusion", "环境保护", "交通运输", 1},
        {"confusion", "交通运输", "交通运输", 1},
        {"confusion", "交通运输", "unrouted", 1},
        {"confusion", "卫生计生", "卫生计生", 1},
    };
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        double got = num(o, figs[i].a, figs[i].b, figs[i].c);
        CHECK(fabs(got - figs[i].want) < 1e-6, "eval %s.%s.%s: got %g, want %g", figs[i].a,
              figs[i].b ? figs[i].b : "", figs[i].c ? figs[i].c : "", got, figs[i].want);
    }
    CHECK_INT("eval: labels", cJSON_GetArraySize(cJSON_GetObjectItem(o, "per_label")), 4);
    CHECK(strstr(err_text, "1 row without \"category\" skipped"), "eval: skip warning: got %s",
          err_text);
    cJSON_Delete(o);
    CHECK_INT("eval table", run(cfg, NULL, "eval", file, "--show-errors", "5", NULL), 0);
    CHECK(strstr(out_text, "accuracy  66.67%"), "eval table: got %s", out_text);
    CHECK(strstr(out_text, "macro-F1  0.7917"), "eval table: got %s", out_text);
    CHECK(strstr(out_text, "e4  环境保护  交通运输"), "eval misrouted rows: got %s", out_text);
    free(file);
}

static void test_check(const struct config *cfg)
{
    CHECK_INT("check: exit", run(cfg, NULL, "check", NULL), 0);
    char *want = xasprintf("%s: 6 topics, 19 patterns, ok\n", cfg->rules_path);
    CHECK_STR("check: output", out_text, want);
    free(want);
    char *bad = xasprintf("%s/bad.json", tmpdir);
    spit(bad, "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}],\n"
              " \"categories\": {\"民政\": \"a\"}, \"topics\": [\n"
              " {\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\", \"patterns\": [\"(ab\", \"a\"],"
              "  \"exclude\": [\"[\"]},\n"
              " {\"id\": \"y\", \"name\": \"Y\", \"category\": \"民政\", \"patterns\": [\"\\\\\"]}]}\n");
    CHECK_INT("check bad: exit", run(cfg, NULL, "check", "--rules", bad, NULL), 1);
    char *w = xasprintf("%s: topic x: pattern 1: missing closing parenthesis at offset 3\n"
                        "%s: topic x: exclude 1: missing terminating ] for character class at offset 1\n"
                        "%s: topic y: pattern 1: \\ at end of pattern at offset 1\n", bad, bad, bad);
    CHECK_STR("check bad: every error", out_text, w);
    free(w);
    w = xasprintf("minyi: rules check: %s: 3 errors\n", bad);
    CHECK_STR("check bad: stderr", err_text, w);
    free(w);
    spit(bad, "{\"triage\": \"a\", \"committees\": [{\"id\": \"a\", \"name\": \"甲\"}],"
              " \"categories\": {\"民政\": \"a\"}, \"topics\": ["
              " {\"id\": \"x\", \"name\": \"X\", \"category\": \"民政\", \"patterns\": [\"a?\"]},"
              " {\"id\": \"y\", \"name\": \"Y\", \"category\": \"民政\", \"patterns\": []}]}");
    CHECK_INT("check warnings: exit", run(cfg, NULL, "check", "--rules", bad, NULL), 0);
    w = xasprintf("warning: %s: topic x: pattern 1: can match the empty string\n"
                  "warning: %s: topic y: no patterns, can never match\n"
                  "%s: 2 topics, 1 patterns, ok\n", bad, bad, bad);
    CHECK_STR("check warnings", out_text, w);
    free(w);
    free(bad);
}

static void test_test(const struct config *cfg)
{
    CHECK_INT("test: exit", run(cfg, NULL, "test", "地铁站太挤", "--title", "公交线路",
                                "--format", "json", NULL), 0);
    cJSON *o = cJSON_Parse(out_text);
    CHECK_STR("test: committee", cJSON_GetStringValue(cJSON_GetObjectItem(o, "committee")),
              "chengjian");
    const cJSON *tag = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "tags"), 0);
    CHECK_STR("test: topic", cJSON_GetStringValue(cJSON_GetObjectItem(tag, "topic")), "bus");
    CHECK(num(tag, "score", NULL, NULL) == 5.5, "test: score: got %g, want 5.5",
          num(tag, "score", NULL, NULL));
    CHECK_INT("test: hits", cJSON_GetArraySize(cJSON_GetObjectItem(tag, "hits")), 2);
    CHECK(num(tag, "bias", NULL, NULL) == 0, "test: bias: got %g", num(tag, "bias", NULL, NULL));
    const cJSON *h;
    int seen = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(tag, "hits")) {
        if (num(h, "pattern", NULL, NULL) != 1)
            continue;             /* the body's 地铁: pattern 2 of the file, 0-based 1 */
        seen = 1;
        CHECK_STR("test: hit re", cJSON_GetStringValue(cJSON_GetObjectItem(h, "re")), "地铁|轨道交通");
        CHECK(num(h, "w", NULL, NULL) == 2.5, "test: hit w: got %g", num(h, "w", NULL, NULL));
        CHECK_STR("test: hit text", cJSON_GetStringValue(cJSON_GetObjectItem(h, "text")), "地铁");
    }
    CHECK(seen, "test: no hit of pattern 1 in %s", out_text);
    cJSON_Delete(o);
    CHECK_INT("test table: exit", run(cfg, NULL, "test", "道路拥堵", NULL), 0);
    CHECK(strstr(out_text, "committee: tian (提案委员会), the triage committee"),
          "test table: got %s", out_text);
    CHECK_INT("test table: exit", run(cfg, NULL, "test", "PM2.5 超标", NULL), 0);
    CHECK(strstr(out_text, "air    body   ") && strstr(out_text, "2: PM2\\.5"),
          "test table hits: got %s", out_text);
}

static void test_usage(const struct config *cfg, struct bus *bus)
{
    CHECK_INT("no verb", run(cfg, NULL, NULL), 2);
    CHECK_INT("unknown verb", run(cfg, NULL, "frob", NULL), 2);
    CHECK_STR("unknown verb: stderr line", strtok(err_text, "\n"), "minyi: rules: unknown command frob");
    CHECK_INT("test without text", run(cfg, NULL, "test", NULL), 2);
    CHECK_INT("eval bad option", run(cfg, NULL, "eval", "x.jsonl", "--frob", NULL), 2);
    CHECK_INT("eval missing file", run(cfg, NULL, "eval", "/nonexistent.jsonl", NULL), 1);
    CHECK_INT("learn --from-archive, no archiver", run(cfg, bus, "learn", "--from-archive", NULL),
              3);
    CHECK_STR("learn --from-archive, no archiver", err_text,
              "minyi: rules learn: archiver did not answer in time (is it running? try "
              "`minyi status`)\n");
    CHECK_INT("learn FILE and --from-archive", run(cfg, bus, "learn", "x.jsonl", "--from-archive",
                                                   NULL), 2);
    CHECK_INT("reload: no router", run(cfg, bus, "reload", NULL), 3);
    CHECK_STR("reload: no router", err_text, "minyi: rules reload: router did not answer\n");
}

/* Learn from a synthetic labelled set, then the learned rules must route
 * the same rows well and load cleanly. */
static void test_learn(const struct config *cfg)
{
    static const char *const words[][4] = {
        {"环境保护", "雾霾", "污水排放", "垃圾焚烧"},
        {"交通运输", "公交线路", "地铁换乘", "停车难"},
        {"教育文体", "课后服务", "学位紧张", "体育场馆"},
    };
    char *data = xasprintf("%s/learn.jsonl", tmpdir), *rules = xasprintf("%s/learned.json", tmpdir);
    FILE *f = fopen(data, "w");
    for (int i = 0; i < 60; i++) {
        const char *const *w = words[i % 3];
        fprintf(f, "{\"id\": \"r%d\", \"title\": \"关于%s的建议\", \"body\": \"市民反映%s问题，"
                   "希望有关部门重视%s。\", \"label\": \"%s\"}\n",
                i, w[1 + i % 2], w[1 + (i / 3) % 3], w[3 - i % 2], w[0]);
    }
    fclose(f);
    CHECK_INT("learn: exit", run(cfg, NULL, "learn", data, "--label-field", "label", "--top",
                                 "5", "-o", rules, NULL), 0);
    CHECK(strstr(out_text, ": 3 topics, "), "learn summary: got %s", out_text);
    CHECK_INT("learned rules check", run(cfg, NULL, "check", "--rules", rules, NULL), 0);
    CHECK_INT("learned rules eval", run(cfg, NULL, "eval", data, "--label-field", "label",
                                        "--rules", rules, "--format", "json", NULL), 0);
    cJSON *o = cJSON_Parse(out_text);
    CHECK(num(o, "accuracy", NULL, NULL) == 1, "learned accuracy: got %g, want 1",
          num(o, "accuracy", NULL, NULL));
    cJSON_Delete(o);
    char *first = slurp(rules);
    CHECK_INT("learn again", run(cfg, NULL, "learn", data, "--label-field", "label", "--top",
                                 "5", NULL), 0);
    CHECK(strcmp(first, out_text) == 0, "learn is deterministic (stdout and -o agree)");
    CHECK_INT("learn --merge", run(cfg, NULL, "learn", data, "--label-field", "label",
                                   "--merge", rules, NULL), 0);
    CHECK(strstr(out_text, "\"learned-3\"") && !strstr(out_text, "\"learned-4\""),
          "merge replaces learned topics");
    free(first);
    free(data);
    free(rules);
}

int main(void)
{
    const char *root = getenv("MINYI_TEST_ROOT");
    char *data = xasprintf("%s/tests/data", root ? root : ".");
    if (!mkdtemp(tmpdir))
        return perror("mkdtemp"), 1;
    char *ctl = xasprintf("ipc://%s/router-ctl.sock", tmpdir);
    struct config cfg = {.rules_path = xasprintf("%s/rules-small.json", data)};
    cfg.ep.router_ctl = ctl;
    cfg.ep.query = xasprintf("ipc://%s/query.sock", tmpdir);
    cfg.limits.request_timeout_ms = 300;
    struct bus *bus = bus_new();
    test_eval(&cfg, data);
    test_check(&cfg);
    test_test(&cfg);
    test_usage(&cfg, bus);
    test_learn(&cfg);
    bus_destroy(&bus);
    free(out_text);
    free(err_text);
    free(cfg.rules_path);
    free(ctl);
    free(cfg.ep.query);
    free(data);
    char *rm = xasprintf("rm -rf '%s'", tmpdir);
    if (system(rm) != 0)
        printf("could not remove %s\n", tmpdir);
    free(rm);
    return harness_done();
}
