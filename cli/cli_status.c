/* cli_status.c: `minyi status` -- asks each daemon (every router of
 * endpoints.router_ctl) {"cmd": "status"} with a
 * short timeout and shows up/down, its counters, and the archiver's queue
 * depths.  Exit 0 when all three answered, 3 when any did not.  What the
 * counters mean is each daemon's business; they are shown as they come.
 * Also `minyi check`, the archive's integrity check. */
#include "cli.h"
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_TIMEOUT_MS 1000
#define STATUS_MAX (2 + CONFIG_ROUTERS_MAX)

/* Who is asked: the collector, each router ("router", "router-2", ...),
 * the archiver last. */
struct status_daemons {
    char names[STATUS_MAX][16];
    const char *endpoints[STATUS_MAX];
    cJSON *replies[STATUS_MAX];
    int n;
};

static void status_list(const struct config *cfg, struct status_daemons *s)
{
    s->n = 0;
    snprintf(s->names[s->n], sizeof s->names[0], "collector");
    s->endpoints[s->n++] = cfg->ep.collector_ctl;
    for (size_t i = 0; i < cfg->nrouters; i++) {
        snprintf(s->names[s->n], sizeof s->names[0], i ? "router-%zu" : "router", i + 1);
        s->endpoints[s->n++] = cfg->router_ctls[i];
    }
    snprintf(s->names[s->n], sizeof s->names[0], "archiver");
    s->endpoints[s->n++] = cfg->ep.query;
}

/* "k=v k=v" of the scalars of obj, one level of nesting as "k.sub=v"
 * (caller frees).  skip: keys left out at the top level. */
static char *status_counters(const cJSON *obj, const char *prefix)
{
    static const char *const skip[] = {"ok", "daemon", "queues", "counters", "overdue",
                                        NULL};
    const cJSON *v;
    char *out = xstrdup(""), buf[64];
    cJSON_ArrayForEach(v, obj) {
        int skipped = 0;
        for (int i = 0; !prefix && skip[i]; i++)
            skipped |= !strcmp(v->string, skip[i]);
        char *next = NULL;
        if (skipped || cJSON_IsNull(v) || cJSON_IsArray(v)) {
            continue;
        } else if (cJSON_IsObject(v)) {
            char *inner = prefix ? xstrdup("") : status_counters(v, v->string);
            next = xasprintf("%s%s%s", out, *out && *inner ? " " : "", inner);
            free(inner);
        } else {
            next = xasprintf("%s%s%s%s%s=%s", out, *out ? " " : "", prefix ? prefix : "",
                             prefix ? "." : "", v->string, cli_json_text(v, buf, sizeof buf));
        }
        free(out);
        out = next;
    }
    return out;
}

/* One daemon's line: up/down and its counters (its "counters" object when
 * it has one, else its other top-level fields). */
static void status_row(struct cli_table *t, const char *name, const cJSON *reply)
{
    char *counters;
    const char *state = "down";
    if (!reply) {
        counters = xstrdup("no answer in time");
    } else if (!strcmp(cli_json_str(reply, "error", ""), "failed")) {
        state = "failed";         /* minyi up gave up restarting it */
        counters = xstrdup(cli_json_str(reply, "detail", ""));
    } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        state = "up";
        counters = xasprintf("error %s %s", cli_json_str(reply, "error", "?"),
                             cli_json_str(reply, "detail", ""));
    } else {
        const cJSON *own = cJSON_GetObjectItemCaseSensitive(reply, "counters");
        state = "up";
        counters = status_counters(cJSON_IsObject(own) ? own : reply, NULL);
    }
    const char *cells[] = {name, state, counters};
    cli_table_add(t, cells);
    free(counters);
}

/* Queue depths from the archiver: {"queues": {C: N | {"open", "leased"}}}
 * or {"queues": [{"committee", "open", "leased"}]}, and the reports past a
 * deadline {"overdue": {C: N}}. */
static void status_queues(const cJSON *reply)
{
    static const char *const headers[] = {"QUEUE", "OPEN", "LEASED", "OVERDUE"};
    const cJSON *overdue = cJSON_GetObjectItemCaseSensitive(reply, "overdue");
    const cJSON *q, *queues = cJSON_GetObjectItemCaseSensitive(reply, "queues");
    if (cJSON_GetArraySize(queues) == 0)
        return;
    struct cli_table *t = cli_table_new(4, headers);
    cli_table_right(t, 1);
    cli_table_right(t, 2);
    cli_table_right(t, 3);
    cJSON_ArrayForEach(q, queues) {
        char open[32], leased[32], late[32];
        const char *name = cJSON_IsArray(queues) ? cli_json_str(q, "committee", "?") : q->string;
        if (cJSON_IsNumber(q)) {
            cli_json_text(q, open, sizeof open);
            leased[0] = '\0';
        } else {
            cli_json_text(cJSON_GetObjectItemCaseSensitive(q, "open"), open, sizeof open);
            cli_json_text(cJSON_GetObjectItemCaseSensitive(q, "leased"), leased, sizeof leased);
        }
        cli_json_text(cJSON_GetObjectItemCaseSensitive(overdue, name), late, sizeof late);
        const char *cells[] = {name, open, leased, late};
        cli_table_add(t, cells);
    }
    printf("\n");
    cli_table_print(t, stdout, 0);
    cli_table_free(&t);
}

/* A daemon that did not answer: if minyi up gave up restarting it, its
 * note (STATE/run/minyi-NAME.failed) as {"ok": false, "error": "failed",
 * "detail": note}; else NULL. */
static cJSON *status_failed(const struct cli *c, const char *name)
{
    char *rel = xasprintf("run/minyi-%s.failed", name), line[1024];
    char *path = config_state_path(c->cfg, rel);
    FILE *f = fopen(path, "re");
    free(rel);
    free(path);
    if (!f)
        return NULL;
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", "failed");
    cJSON_AddStringToObject(o, "detail", line);
    return o;
}

static void status_print(const struct cli *c, const struct status_daemons *s)
{
    static const char *const headers[] = {"DAEMON", "STATE", "COUNTERS"};
    if (!strcmp(c->format, "json")) {
        cJSON *all = cJSON_CreateObject();
        for (int i = 0; i < s->n; i++)
            cJSON_AddItemToObject(all, s->names[i], s->replies[i]
                                  ? cJSON_Duplicate(s->replies[i], 1) : cJSON_CreateNull());
        cli_print_json(stdout, all);
        cJSON_Delete(all);
        return;
    }
    struct cli_table *t = cli_table_new(3, headers);
    for (int i = 0; i < s->n; i++)
        status_row(t, s->names[i], s->replies[i]);
    cli_table_print(t, stdout, 0);
    cli_table_free(&t);
    const cJSON *archiver = s->replies[s->n - 1];
    if (archiver && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(archiver, "ok")))
        status_queues(archiver);
}

int cli_status(struct cli *c, int argc, char **argv)
{
    static const struct proto_request req = {.cmd = PROTO_CMD_STATUS};
    struct status_daemons s = {0};
    int n = cli_args(c, argc, argv, NULL, NULL, 0, 0), rc, down = 0;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    status_list(c->cfg, &s);
    long timeout = c->cfg->limits.request_timeout_ms < STATUS_TIMEOUT_MS
                 ? c->cfg->limits.request_timeout_ms : STATUS_TIMEOUT_MS;
    for (int i = 0; i < s.n; i++)
        if (cli_call(c, s.endpoints[i], &req, timeout, &s.replies[i]) < 0) {
            down++;
            /* minyi up names every router's note minyi-router.failed */
            s.replies[i] = status_failed(c, strncmp(s.names[i], "router", 6) ? s.names[i]
                                                                            : "router");
        }
    status_print(c, &s);
    for (int i = 0; i < s.n; i++)
        cJSON_Delete(s.replies[i]);
    return down ? CLI_EXIT_TIMEOUT : CLI_EXIT_OK;
}

/* `minyi check`: the archiver runs PRAGMA integrity_check on the archive it
 * holds open.  That reads every page (minutes for a very large archive), so
 * the wait is CHECK_TIMEOUT_MS, not the usual request timeout.  Exit 0 when
 * sound, 1 when damaged (the problems on stderr), 3 when no answer. */
#define CHECK_TIMEOUT_MS (30L * 60 * 1000)
int cli_check(struct cli *c, int argc, char **argv)
{
    static const struct proto_request req = {.cmd = PROTO_CMD_CHECK};
    cJSON *reply = NULL;
    int n = cli_args(c, argc, argv, NULL, NULL, 0, 0), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if (cli_call(c, c->cfg->ep.query, &req, CHECK_TIMEOUT_MS, &reply) < 0)
        return cli_timeout(c, "archiver");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
        rc = cli_fail(c, "%s: %s", cli_json_str(reply, "error", "internal"),
                      cli_json_str(reply, "detail", ""));
    } else if (!strcmp(c->format, "json")) {
        cli_print_json(stdout, reply);
        rc = strcmp(cli_json_str(reply, "check", ""), "ok") ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    } else if (strcmp(cli_json_str(reply, "check", ""), "ok")) {
        rc = cli_fail(c, "the archive is damaged: %s (README: Recovering the archive)",
                      cli_json_str(reply, "problems", "?"));
    } else {
        printf("archive ok (integrity_check, %.0f ms)\n", cli_json_num(reply, "ms", 0));
        rc = CLI_EXIT_OK;
    }
    cJSON_Delete(reply);
    return rc;
}
