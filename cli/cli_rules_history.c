/* cli_rules_history.c: `minyi rules learn --from-archive` -- the office's own
 * history as labelled rows.
 *
 * The archiver's {"cmd":"history"} lists reports committees have closed and
 * reports they moved (a reassignment is a routing correction), each with
 * its final committee and the router's topic tags.  A committee takes up
 * several categories, so the label of a report is:
 *   - the best-scoring tag whose category belongs to the final committee
 *     (the router's guess, confirmed by where the report ended), else
 *   - the committee's only category, when it has exactly one, else
 *   - none: the report is skipped (counted and said).
 * The rows are written to a temporary JSON Lines file that the ordinary
 * learner reads, so both paths learn the same way.
 */
#include "cli.h"
#include "cli_rules_impl.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HISTORY_PAGE 1000

/* The label of one history report, or NULL (borrowed). */
static const char *history_label(const struct rules *base, const cJSON *rep)
{
    const char *committee = cli_json_str(rep, "committee", NULL);
    const cJSON *t, *topics = cJSON_GetObjectItemCaseSensitive(rep, "topics");
    if (!committee)
        return NULL;
    cJSON_ArrayForEach(t, topics) {
        const char *cat = cli_json_str(t, "category", NULL);
        const char *cm = cat ? rules_category_committee(base, cat) : NULL;
        if (cm && !strcmp(cm, committee))
            return cat;
    }
    const char *only = NULL;
    for (size_t i = 0; i < base->ncategories; i++)
        if (!strcmp(base->categories[i].committee, committee)) {
            if (only)
                return NULL;
            only = base->categories[i].name;
        }
    return only;
}

/* Append the labelled reports of one page to f; *last is the last id seen.
 * Returns the number of reports in the page, or -1 after printing why
 * (*rc: the exit status). */
static long history_page(struct cli *c, const struct rules *base, FILE *f, char *last,
                         size_t lastlen, size_t *kept, int *rc)
{
    struct proto_request req = {.cmd = PROTO_CMD_HISTORY, .limit = HISTORY_PAGE,
                                .since_id = *last ? last : NULL};
    cJSON *reply = NULL, *rep;
    *rc = cli_query(c, &req, &reply);
    if (*rc != CLI_EXIT_OK)
        return -1;
    const cJSON *reports = cJSON_GetObjectItemCaseSensitive(reply, "reports");
    long n = 0;
    cJSON_ArrayForEach(rep, reports) {
        n++;
        snprintf(last, lastlen, "%s", cli_json_str(rep, "id", last));
        const char *label = history_label(base, rep);
        if (!label)
            continue;
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "id", cli_json_str(rep, "id", ""));
        cJSON_AddStringToObject(row, "title", cli_json_str(rep, "title", ""));
        cJSON_AddStringToObject(row, "body", cli_json_str(rep, "body", ""));
        cJSON_AddStringToObject(row, "category", label);
        char *s = cJSON_PrintUnformatted(row);
        fprintf(f, "%s\n", s);
        free(s);
        cJSON_Delete(row);
        (*kept)++;
    }
    cJSON_Delete(reply);
    return n;
}

int cli_rules_history(struct cli *c, const struct rules *base, char **path)
{
    if (!c->bus || !c->cfg)
        return cli_fail(c, "--from-archive: cannot reach the archiver");
    char tmpl[] = "/tmp/minyi-history.XXXXXX";
    int fd = mkstemp(tmpl);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return cli_fail(c, "temporary file: %s", strerror(errno));
    }
    char last[64] = "";
    size_t total = 0, kept = 0;
    long n;
    int rc = CLI_EXIT_OK;
    while ((n = history_page(c, base, f, last, sizeof last, &kept, &rc)) > 0) {
        total += (size_t)n;
        if (n < HISTORY_PAGE)
            break;
    }
    if (fclose(f) != 0 || n < 0) {
        unlink(tmpl);
        return n < 0 ? rc : cli_fail(c, "temporary file: %s", strerror(errno));
    }
    fprintf(stderr, "minyi: rules learn: %zu handled reports in the archive, %zu labelled "
                    "(the others went to a committee of several categories without a "
                    "matching tag)\n", total, kept);
    *path = xstrdup(tmpl);
    return CLI_EXIT_OK;
}
