/* cli_supervise.c: following reports along their path -- `minyi overdue
 * [COMMITTEE]` (督办: the reports past their committee's deadline to take
 * up or to close, oldest first; the archiver owns the deadlines'
 * arithmetic) and `minyi mine MEMBER` (反馈: a member's reports and what
 * became of them). */
#include "cli.h"
#include "proto.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void overdue_row(struct cli_table *t, const cJSON *r)
{
    char days[32], deadline[32];
    const char *kind = cli_json_str(r, "overdue", "");
    int closing = !strcmp(kind, "close");
    snprintf(days, sizeof days, "%.0fd", cli_json_num(r, "days", 0));
    snprintf(deadline, sizeof deadline, "%s %.0fd", closing ? "close" : "take up",
             cli_json_num(r, closing ? "close_days" : "take_up_days", 0));
    const char *cells[] = {cli_json_str(r, "id", "?"), cli_json_str(r, "committee", ""),
                           cli_json_str(r, "state", ""), deadline, days,
                           cli_json_str(r, "member", ""), cli_json_str(r, "title", "")};
    cli_table_add(t, cells);
}

static void overdue_print(const struct cli *c, const cJSON *reply)
{
    static const char *const headers[] = {"ID", "COMMITTEE", "STATE", "DEADLINE", "OVERDUE",
                                          "MEMBER", "TITLE"};
    const cJSON *r, *reports = cJSON_GetObjectItemCaseSensitive(reply, "reports");
    if (cli_print_json_lines(c, reports))
        return;
    if (cJSON_GetArraySize(reports) == 0) {
        printf("nothing overdue\n");
        return;
    }
    struct cli_table *t = cli_table_new(7, headers);
    cli_table_right(t, 4);
    cJSON_ArrayForEach(r, reports)
        overdue_row(t, r);
    cli_table_print(t, stdout, cli_columns());
    cli_table_free(&t);
}

/* The two commands' shared run: [ARG] (required when need is 1) and
 * [--limit N], request cmd of the archiver with ARG as its committee
 * (overdue) or member (mine), and print the reply. */
static int supervise_ask(struct cli *c, int argc, char **argv, enum proto_cmd cmd, int need,
                         void (*print)(const struct cli *c, const cJSON *reply))
{
    const char *limit_s = NULL;
    const struct cli_opt opts[] = {{"limit", 0, 1, &limit_s}, {NULL, 0, 0, NULL}};
    char *pos[1] = {NULL};
    int n = cli_args(c, argc, argv, opts, pos, need, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    long limit = cli_opt_num(c, "limit", limit_s, 1000, 1, 1000);
    if (limit < 0)
        return CLI_EXIT_USAGE;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = cmd, .limit = limit, .who = c->who};
    if (cmd == PROTO_CMD_OVERDUE)
        req.committee = n == 1 ? pos[0] : NULL;
    else
        req.member = pos[0];
    cJSON *reply;
    rc = cli_query(c, &req, &reply);
    if (rc != CLI_EXIT_OK)
        return rc;
    print(c, reply);
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

int cli_overdue(struct cli *c, int argc, char **argv)
{
    return supervise_ask(c, argc, argv, PROTO_CMD_OVERDUE, 0, overdue_print);
}

/* ---- minyi mine MEMBER: feedback to the member (反馈) ---- */

static void mine_row(struct cli_table *t, const cJSON *r)
{
    char points[32], received[16] = "";
    const char *at = cli_json_str(r, "received_at", "");
    snprintf(received, sizeof received, "%.10s", at);
    cli_json_text(cJSON_GetObjectItemCaseSensitive(r, "points"), points, sizeof points);
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(r, "upstream");
    /* "sent", "closed: adopted", "closed: forwarded, adopted" (two levels up) */
    char upstream[96] = "-";
    if (cJSON_IsObject(up))
        snprintf(upstream, sizeof upstream, "%s%s%s%s%s", cli_json_str(up, "status", "?"),
                 cli_json_str(up, "outcome", NULL) ? ": " : "", cli_json_str(up, "outcome", ""),
                 cli_json_str(up, "further", NULL) ? ", " : "", cli_json_str(up, "further", ""));
    const char *cells[] = {cli_json_str(r, "id", "?"), received, cli_json_str(r, "committee", ""),
                           cli_json_str(r, "state", ""), cli_json_str(r, "outcome", "-"),
                           upstream, points, cli_json_str(r, "title", ""),
                           cli_json_str(r, "note", "")};
    cli_table_add(t, cells);
}

static void mine_print(const struct cli *c, const cJSON *reply)
{
    static const char *const headers[] = {"ID", "RECEIVED", "COMMITTEE", "STATE", "OUTCOME",
                                          "UPSTREAM", "POINTS", "TITLE", "NOTE"};
    const cJSON *r, *reports = cJSON_GetObjectItemCaseSensitive(reply, "reports");
    if (cli_print_json_lines(c, reports))
        return;
    printf("%s %s: %.0f report%s, %g points\n", cli_json_str(reply, "member", ""),
           cli_json_str(reply, "name", ""), cli_json_num(reply, "count", 0),
           cli_json_num(reply, "count", 0) == 1 ? "" : "s", cli_json_num(reply, "points", 0));
    if (cJSON_GetArraySize(reports) == 0)
        return;
    struct cli_table *t = cli_table_new(9, headers);
    cli_table_right(t, 6);
    cJSON_ArrayForEach(r, reports)
        mine_row(t, r);
    cli_table_print(t, stdout, cli_columns());
    cli_table_free(&t);
}

int cli_mine(struct cli *c, int argc, char **argv)
{
    return supervise_ask(c, argc, argv, PROTO_CMD_MINE, 1, mine_print);
}
