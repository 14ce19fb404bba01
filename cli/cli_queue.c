/* cli_queue.c: a committee clerk's commands -- pull, queue, ack, release,
 * reassign, show.  Each sends one query to the archiver (proto.h) and
 * prints the answer as a table for people or as JSON (Lines) for scripts.
 * The queue rules themselves (leases, states) live in the archiver. */
#include "cli.h"
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_TOPICS_SHOWN 3
#define QUEUE_PAGE 1000           /* reports asked for at a time (the archiver's most) */

/* A positive integer option value, or -1. */
static long queue_positive(const char *s)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : -1;
    return s && *s && *end == '\0' && v > 0 && v <= 1000000000L ? v : -1;
}

/* "topic1,topic2,topic3" from a report's topics (caller frees). */
static char *queue_topics(const cJSON *report)
{
    const cJSON *t, *topics = cJSON_GetObjectItemCaseSensitive(report, "topics");
    char *out = xstrdup("");
    int n = 0;
    cJSON_ArrayForEach(t, topics) {
        const char *id = cJSON_IsString(t) ? t->valuestring : cli_json_str(t, "topic", NULL);
        if (!id)
            continue;
        char *next = n == QUEUE_TOPICS_SHOWN ? xasprintf("%s,…", out)
                   : xasprintf("%s%s%s", out, n ? "," : "", id);
        free(out);
        out = next;
        if (++n > QUEUE_TOPICS_SHOWN)
            break;
    }
    return out;
}

/* The state to show: the report's own, else leased/open from lease_until. */
static const char *queue_state(const cJSON *report)
{
    const char *state = cli_json_str(report, "state", NULL);
    if (state)
        return state;
    return cli_json_str(report, "lease_until", NULL) ? "leased" : "open";
}

static void queue_add_row(struct cli_table *t, const cJSON *r, time_t now)
{
    char age[16] = "";
    time_t at;
    if (cli_text_time(cli_json_str(r, "received_at", NULL), &at) == 0)
        cli_text_age((long)(now - at), age, sizeof age);
    char *topics = queue_topics(r), *state;
    const char *late = cli_json_str(r, "overdue", NULL);
    /* 督办: "open, overdue 3d to take up" */
    state = late ? xasprintf("%s, overdue %.0fd to %s", queue_state(r),
                             cli_json_num(r, "overdue_days", 0),
                             strcmp(late, "close") ? "take up" : "close")
                 : xstrdup(queue_state(r));
    const char *cells[] = {cli_json_str(r, "id", "?"), age, cli_json_str(r, "member", ""),
                           state, topics, cli_json_str(r, "title", "")};
    cli_table_add(t, cells);
    free(topics);
    free(state);
}

/* Print reply.reports: JSON Lines, or a table with `empty` when none. */
static void queue_print_reports(const struct cli *c, const cJSON *reply, const char *empty)
{
    static const char *const headers[] = {"ID", "AGE", "MEMBER", "STATE", "TOPICS", "TITLE"};
    const cJSON *r, *reports = cJSON_GetObjectItemCaseSensitive(reply, "reports");
    if (cli_print_json_lines(c, reports))
        return;
    if (cJSON_GetArraySize(reports) == 0) {
        printf("%s\n", empty);
        return;
    }
    struct cli_table *t = cli_table_new(6, headers);
    cli_table_right(t, 1);
    time_t now = time(NULL);
    cJSON_ArrayForEach(r, reports)
        queue_add_row(t, r, now);
    cli_table_print(t, stdout, cli_columns());
    cli_table_free(&t);
}


int cli_pull(struct cli *c, int argc, char **argv)
{
    const char *limit_s = NULL, *lease_s = NULL;
    const struct cli_opt opts[] = {{"limit", 0, 1, &limit_s}, {"lease", 0, 1, &lease_s},
                                   {NULL, 0, 0, NULL}};
    char *pos[1];
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    long limit = limit_s ? queue_positive(limit_s) : 10, lease = 0;
    if (limit < 0)
        return cli_usage_error(c, "--limit: want a positive number, not \"%s\"", limit_s);
    if (lease_s && (lease = queue_positive(lease_s)) < 0)
        return cli_usage_error(c, "--lease: want a positive number of seconds, not \"%s\"",
                               lease_s);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_PULL, .committee = pos[0], .limit = limit,
                                .lease = lease ? lease : c->cfg->limits.lease_seconds,
                                .who = c->who};
    cJSON *reply;
    if ((rc = cli_query(c, &req, &reply)) != CLI_EXIT_OK)
        return rc;
    queue_print_reports(c, reply, "no open reports to pull");
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

/* Ask for one page of the queue after report `after` ("" from the start):
 * at most want reports.  CLI_EXIT_OK and *reply, or the failure. */
static int queue_page(struct cli *c, const char *committee, long want, const char *after,
                      cJSON **reply)
{
    struct proto_request req = {.cmd = PROTO_CMD_QUEUE, .committee = committee,
                                .limit = want, .after = *after ? after : NULL};
    return cli_query(c, &req, reply);
}

/* Every open report of the committee (or the first `limit`), a page at a
 * time, so neither the archiver nor this process holds the whole queue. */
int cli_queue(struct cli *c, int argc, char **argv)
{
    const char *limit_s = NULL;
    const struct cli_opt opts[] = {{"limit", 0, 1, &limit_s}, {NULL, 0, 0, NULL}};
    char *pos[1], after[64] = "";
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    long limit = limit_s ? queue_positive(limit_s) : 0, shown = 0;
    if (limit < 0)
        return cli_usage_error(c, "--limit: want a positive number, not \"%s\"", limit_s);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    double open = -1, leased = 0;
    for (int more = 1; more && (!limit || shown < limit);) {
        long want = limit && limit - shown < QUEUE_PAGE ? limit - shown : QUEUE_PAGE;
        cJSON *reply;
        if ((rc = queue_page(c, pos[0], want, after, &reply)) != CLI_EXIT_OK)
            return rc;
        const cJSON *reports = cJSON_GetObjectItemCaseSensitive(reply, "reports");
        int got = cJSON_GetArraySize(reports);
        if (got || !shown)
            queue_print_reports(c, reply, "no open reports");
        if (!*after) {
            open = cli_json_num(reply, "open", -1);
            leased = cli_json_num(reply, "leased", 0);
        }
        shown += got;
        more = got && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "more"));
        if (got)
            snprintf(after, sizeof after, "%s",
                     cli_json_str(cJSON_GetArrayItem(reports, got - 1), "id", ""));
        cJSON_Delete(reply);
        more &= *after != '\0';
    }
    if (strcmp(c->format, "json") && open >= 0)
        printf("%.0f open, %.0f leased\n", open, leased);
    return CLI_EXIT_OK;
}

/* The answer to ack/release/reassign: JSON without "ok", or one line. */
static void queue_print_change(const struct cli *c, cJSON *reply,
                               const struct proto_request *req)
{
    if (!strcmp(c->format, "json")) {
        cJSON_DeleteItemFromObjectCaseSensitive(reply, "ok");
        cli_print_json(stdout, reply);
        return;
    }
    const char *id = cli_json_str(reply, "id", req->id);
    const char *state = cli_json_str(reply, "state", NULL);
    const char *committee = cli_json_str(reply, "committee", req->committee);
    const char *outcome = cli_json_str(reply, "outcome", req->outcome);
    if (!strcmp(c->cmd, "reassign"))
        printf("%s: moved to %s\n", id, committee ? committee : "?");
    else if (outcome)
        printf("%s: %s (%s)\n", id, state ? state : "closed", outcome);
    else
        printf("%s: %s\n", id, state ? state : "done");
}

/* Send an ack/release/reassign request and print the answer. */
static int queue_change(struct cli *c, struct proto_request *req)
{
    cJSON *reply;
    req->who = c->who;
    int rc = cli_query(c, req, &reply);
    if (rc == CLI_EXIT_OK)
        queue_print_change(c, reply, req);
    cJSON_Delete(reply);
    return rc;
}

int cli_ack(struct cli *c, int argc, char **argv)
{
    static const char *const outcomes[] = {"adopted", "forwarded", "filed", "declined"};
    const char *outcome = NULL, *note = NULL;
    const struct cli_opt opts[] = {{"outcome", 0, 1, &outcome}, {"note", 0, 1, &note},
                                   {NULL, 0, 0, NULL}};
    char *pos[1];
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), known = 0, rc;
    if (n < 0)
        return cli_args_done(c, n);
    for (size_t i = 0; outcome && i < sizeof outcomes / sizeof outcomes[0]; i++)
        known |= !strcmp(outcome, outcomes[i]);
    if (!outcome)
        return cli_usage_error(c, "--outcome is required");
    if (!known)
        return cli_usage_error(c, "unknown outcome \"%s\" (adopted, forwarded, filed, declined)",
                               outcome);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_ACK, .id = pos[0], .outcome = outcome,
                                .note = note};
    return queue_change(c, &req);
}

int cli_release(struct cli *c, int argc, char **argv)
{
    char *pos[1];
    int n = cli_args(c, argc, argv, NULL, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_RELEASE, .id = pos[0]};
    return queue_change(c, &req);
}

int cli_reassign(struct cli *c, int argc, char **argv)
{
    char *pos[2];
    int n = cli_args(c, argc, argv, NULL, pos, 2, 2), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_REASSIGN, .id = pos[0], .committee = pos[1]};
    return queue_change(c, &req);
}

/* "label       value" lines of the readable record. */
static void show_field(const char *label, const char *value)
{
    if (value && *value)
        printf("%-12s %s\n", label, value);
}

/* The keywords that matched: "公交 (title), 线路 (body)" (caller frees).  A
 * hit is [field, pattern, offset, text], or an object with those keys
 * (archives written before), or just the text. */
static char *show_hits(const cJSON *topic)
{
    const cJSON *h, *hits = cJSON_GetObjectItemCaseSensitive(topic, "hits");
    char *out = xstrdup("");
    cJSON_ArrayForEach(h, hits) {
        const char *text = cJSON_IsString(h)  ? h->valuestring
                           : cJSON_IsArray(h) ? cJSON_GetStringValue(cJSON_GetArrayItem(h, 3))
                                              : cli_json_str(h, "text", NULL);
        const char *field = cJSON_IsArray(h) ? cJSON_GetStringValue(cJSON_GetArrayItem(h, 0))
                                             : cli_json_str(h, "field", NULL);
        if (!text)
            continue;
        char *next = field ? xasprintf("%s%s%s (%s)", out, *out ? ", " : "", text, field)
                           : xasprintf("%s%s%s", out, *out ? ", " : "", text);
        free(out);
        out = next;
    }
    return out;
}

static void show_topics(const cJSON *report)
{
    const cJSON *t, *topics = cJSON_GetObjectItemCaseSensitive(report, "topics");
    if (cJSON_GetArraySize(topics) == 0) {
        show_field("topics", "(none matched)");
        return;
    }
    printf("topics\n");
    cJSON_ArrayForEach(t, topics) {
        char score[32], *hits = show_hits(t);
        const char *category = cli_json_str(t, "category", NULL);
        cli_json_text(cJSON_GetObjectItemCaseSensitive(t, "score"), score, sizeof score);
        printf("  %s%s%s%s  score %s%s%s\n", cli_json_str(t, "topic", "?"),
               category ? " (" : "", category ? category : "", category ? ")" : "",
               *score ? score : "?", *hits ? "  " : "", hits);
        free(hits);
    }
}

/* One history entry: time, event, then its other fields as key=value. */
static void show_event(const cJSON *e)
{
    const cJSON *f;
    char buf[64];
    printf("  %s  %s", cli_json_str(e, "at", cli_json_str(e, "time", "")),
           cli_json_str(e, "event", "?"));
    cJSON_ArrayForEach(f, e) {
        if (!strcmp(f->string, "at") || !strcmp(f->string, "time") ||
            !strcmp(f->string, "event") || !strcmp(f->string, "id") ||
            cJSON_IsNull(f) || cJSON_IsObject(f) || cJSON_IsArray(f))
            continue;
        char *v = cli_text_oneline(cli_json_text(f, buf, sizeof buf));
        printf("  %s=%s", f->string, v);
        free(v);
    }
    printf("\n");
}

static void show_record(const cJSON *r)
{
    const cJSON *e, *history = cJSON_GetObjectItemCaseSensitive(r, "history");
    const char *outcome = cli_json_str(r, "outcome", NULL), *name = cli_json_str(r, "name", NULL);
    char *member = name ? xasprintf("%s %s", cli_json_str(r, "member", ""), name)
                        : xstrdup(cli_json_str(r, "member", ""));
    char *state = outcome ? xasprintf("%s (%s)", queue_state(r), outcome) : xstrdup(queue_state(r));
    show_field("id", cli_json_str(r, "id", "?"));
    show_field("member", member);
    show_field("title", cli_json_str(r, "title", ""));
    show_field("committee", cli_json_str(r, "committee", ""));
    show_field("state", state);
    show_field("received", cli_json_str(r, "received_at", ""));
    show_field("submitted", cli_json_str(r, "submitted_at", ""));
    show_field("ref", cli_json_str(r, "ref", ""));
    show_field("lease until", cli_json_str(r, "lease_until", ""));
    show_field("leased by", cli_json_str(r, "lease_who", ""));
    show_topics(r);
    if (cJSON_GetArraySize(history) > 0)
        printf("history\n");
    cJSON_ArrayForEach(e, history)
        show_event(e);
    printf("body\n");
    const char *body = cli_json_str(r, "body", "");
    for (const char *p = body; *p;) {
        size_t len = strcspn(p, "\n");
        printf("  %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    free(member);
    free(state);
}

int cli_show(struct cli *c, int argc, char **argv)
{
    char *pos[1];
    int n = cli_args(c, argc, argv, NULL, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_SHOW, .id = pos[0]};
    cJSON *reply;
    if ((rc = cli_query(c, &req, &reply)) != CLI_EXIT_OK)
        return rc;
    const cJSON *report = cJSON_GetObjectItemCaseSensitive(reply, "report");
    if (!cJSON_IsObject(report)) {
        cJSON_Delete(reply);
        return cli_fail(c, "archiver: the reply has no report");
    }
    if (!strcmp(c->format, "json"))
        cli_print_json(stdout, report);
    else
        show_record(report);
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}
