/* cli_audit.c: `minyi audit` -- asks the archiver for a month's counts and
 * prints them as a table for people, one CSV, the JSON object as it came,
 * or one HTML page (cli_audit_html.c).  The counting and the quota rules
 * live in the archiver; this file only lays out what it answered, using one
 * table of sections and columns for both the table and the CSV forms. */
#include "cli.h"
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct audit_col {
    const char *key, *header;
    int right;                    /* numbers are right-aligned in tables */
};

struct audit_section {
    const char *key, *title;
    const struct audit_col *cols;
    size_t ncols;
    const char *unmet;            /* what met=false is called in tables */
};

#define AUDIT_COLS(a) a, sizeof a / sizeof a[0]
static const struct audit_col audit_members[] = {
    {"member", "MEMBER", 0}, {"name", "NAME", 0},         {"sector", "SECTOR", 0},
    {"group", "GROUP", 0},   {"count", "COUNT", 1},       {"adopted", "ADOPTED", 1},
    {"ytd", "YTD", 1},       {"quota", "QUOTA", 1},       {"points", "POINTS", 1},
    {"points_ytd", "POINTS YTD", 1}, {"met", "MET", 0},
};
static const struct audit_col audit_groups[] = {
    {"group", "GROUP", 0}, {"count", "COUNT", 1}, {"members", "MEMBERS", 1},
    {"quota", "QUOTA", 1}, {"met", "MET", 0},
};
static const struct audit_col audit_sectors[] = {
    {"sector", "SECTOR", 0}, {"count", "COUNT", 1}, {"members", "MEMBERS", 1},
    {"quota", "QUOTA", 1},   {"met", "MET", 0},
};
static const struct audit_col audit_committees[] = {
    {"committee", "COMMITTEE", 0}, {"name", "NAME", 0}, {"count", "COUNT", 1},
    {"open", "OPEN", 1},           {"closed", "CLOSED", 1},
};
static const struct audit_col audit_topics[] = {
    {"topic", "TOPIC", 0}, {"category", "CATEGORY", 0}, {"count", "COUNT", 1},
};
static const struct audit_col audit_quotas[] = {
    {"rule", "RULE", 0}, {"scope", "SCOPE", 0}, {"id", "ID", 0},   {"period", "PERIOD", 0},
    {"min", "MIN", 1},   {"count", "COUNT", 1}, {"of", "OF", 1}, {"met", "MET", 0},
};
static const struct audit_col audit_trend[] = {
    {"month", "MONTH", 0}, {"count", "COUNT", 1},
};

static const struct audit_col audit_supervision[] = {
    {"committee", "COMMITTEE", 0},  {"take_up_days", "TAKE UP DAYS", 1},
    {"close_days", "CLOSE DAYS", 1}, {"overdue", "OVERDUE NOW", 1}, {"closed", "CLOSED", 1},
    {"median_days_to_close", "MEDIAN DAYS", 1}, {"closed_in_time", "IN TIME", 1},
    {"in_time_share", "IN TIME SHARE", 1},
};

static const struct audit_section audit_sections[] = {
    {"members", "Members", AUDIT_COLS(audit_members), "✗ under quota"},
    {"groups", "Groups", AUDIT_COLS(audit_groups), "✗ under quota"},
    {"sectors", "Sectors", AUDIT_COLS(audit_sectors), "✗ under quota"},
    {"committees", "Committees", AUDIT_COLS(audit_committees), NULL},
    {"topics", "Topics", AUDIT_COLS(audit_topics), NULL},
    {"quotas", "Quotas", AUDIT_COLS(audit_quotas), "✗ not met"},
    {"trend", "Trend", AUDIT_COLS(audit_trend), NULL},
    {"supervision", "Supervision (督办)", AUDIT_COLS(audit_supervision), NULL},
};
#define AUDIT_NSECTIONS (sizeof audit_sections / sizeof audit_sections[0])

/* How many entries of the array `key` have met == false. */
static int audit_unmet(const cJSON *audit, const char *key)
{
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(audit, key))
        n += cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "met"));
    return n;
}

/* The heading: organisation, month, zone, total, members under quota. */
static void audit_heading(FILE *f, const cJSON *audit, const char *org)
{
    char total[32];
    const cJSON *o, *outcomes = cJSON_GetObjectItemCaseSensitive(audit, "outcomes");
    fprintf(f, "%s — %s (%s)\n", cli_json_str(audit, "organisation", org),
            cli_json_str(audit, "month", "?"), cli_json_str(audit, "timezone", "?"));
    fprintf(f, "%s reports; %d of %d members under quota\n",
            cli_json_text(cJSON_GetObjectItemCaseSensitive(audit, "total"), total, sizeof total),
            audit_unmet(audit, "members"),
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(audit, "members")));
    if (cJSON_GetArraySize(outcomes) > 0) {
        fputs("outcomes:", f);
        cJSON_ArrayForEach(o, outcomes)
            fprintf(f, " %s %s", o->string, cli_json_text(o, total, sizeof total));
        fputc('\n', f);
    }
}

/* A cell of a table: met as a mark, everything else as text. */
static const char *audit_cell(const struct audit_section *s, const struct audit_col *col,
                              const cJSON *v, char *buf, size_t n)
{
    if (strcmp(col->key, "met") != 0 || !cJSON_IsBool(v))
        return cli_json_text(v, buf, n);
    return cJSON_IsTrue(v) ? "✓" : s->unmet ? s->unmet : "✗";
}

static void audit_table_section(FILE *f, const struct audit_section *s, const cJSON *rows)
{
    const char *headers[16], *cells[16];
    char bufs[16][64];
    const cJSON *row;
    for (size_t i = 0; i < s->ncols; i++)
        headers[i] = s->cols[i].header;
    struct cli_table *t = cli_table_new(s->ncols, headers);
    for (size_t i = 0; i < s->ncols; i++)
        if (s->cols[i].right)
            cli_table_right(t, i);
    cJSON_ArrayForEach(row, rows) {
        for (size_t i = 0; i < s->ncols; i++)
            cells[i] = audit_cell(s, &s->cols[i],
                                  cJSON_GetObjectItemCaseSensitive(row, s->cols[i].key),
                                  bufs[i], sizeof bufs[i]);
        cli_table_add(t, cells);
    }
    fprintf(f, "\n%s\n", s->title);
    cli_table_print(t, f, 0);
    cli_table_free(&t);
}

static void audit_table(FILE *f, const cJSON *audit, const char *org)
{
    audit_heading(f, audit, org);
    for (size_t i = 0; i < AUDIT_NSECTIONS; i++) {
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(audit, audit_sections[i].key);
        if (cJSON_GetArraySize(rows) > 0)
            audit_table_section(f, &audit_sections[i], rows);
    }
}

/* The CSV columns: "section", then every column key of every section once. */
static size_t audit_csv_columns(const char **keys, size_t max)
{
    size_t n = 0;
    keys[n++] = "section";
    for (size_t i = 0; i < AUDIT_NSECTIONS; i++)
        for (size_t j = 0; j < audit_sections[i].ncols; j++) {
            size_t k = 0;
            while (k < n && strcmp(keys[k], audit_sections[i].cols[j].key))
                k++;
            if (k == n && n < max)
                keys[n++] = audit_sections[i].cols[j].key;
        }
    return n;
}

static void audit_csv_row(FILE *f, const char *const *keys, size_t nkeys, const char *section,
                          const struct audit_section *s, const cJSON *row)
{
    char buf[64];
    for (size_t k = 0; k < nkeys; k++) {
        const char *text = "";
        int in = k == 0;
        for (size_t j = 0; s && j < s->ncols && !in; j++)
            in = !strcmp(s->cols[j].key, keys[k]);
        if (k == 0)
            text = section;
        else if (in)
            text = cli_json_text(cJSON_GetObjectItemCaseSensitive(row, keys[k]), buf, sizeof buf);
        char *field = cli_text_csv(text);
        fprintf(f, "%s%s", k ? "," : "", field);
        free(field);
    }
    fputc('\n', f);
}

/* One CSV: a header, a "summary" row (month, count = total), then the rows
 * of every section with the section's name first. */
static void audit_csv(FILE *f, const cJSON *audit)
{
    const char *keys[64];
    const cJSON *row;
    size_t nkeys = audit_csv_columns(keys, 64);
    for (size_t k = 0; k < nkeys; k++)
        fprintf(f, "%s%s", k ? "," : "", keys[k]);
    fputc('\n', f);
    cJSON *summary = cJSON_CreateObject();
    cJSON_AddStringToObject(summary, "month", cli_json_str(audit, "month", ""));
    cJSON_AddNumberToObject(summary, "count", cli_json_num(audit, "total", 0));
    static const struct audit_col summary_cols[] = {{"month", "", 0}, {"count", "", 0}};
    const struct audit_section summary_section = {"summary", "", AUDIT_COLS(summary_cols), NULL};
    audit_csv_row(f, keys, nkeys, "summary", &summary_section, summary);
    cJSON_Delete(summary);
    for (size_t i = 0; i < AUDIT_NSECTIONS; i++)
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(audit, audit_sections[i].key))
            audit_csv_row(f, keys, nkeys, audit_sections[i].key, &audit_sections[i], row);
}

/* Write the audit in c->format to f.  Returns 0, or -1 on a write error. */
static int audit_write(const struct cli *c, FILE *f, const cJSON *audit)
{
    const char *org = c->cfg->organisation ? c->cfg->organisation : "";
    if (!strcmp(c->format, "json"))
        cli_print_json(f, audit);
    else if (!strcmp(c->format, "csv"))
        audit_csv(f, audit);
    else if (!strcmp(c->format, "html"))
        return cli_audit_html(f, audit, org);
    else
        audit_table(f, audit, org);
    return ferror(f) ? -1 : 0;
}

/* -o FILE: written beside it under a temporary name, then renamed, so a
 * reader never sees half a page. */
static int audit_to_file(struct cli *c, const char *path, const cJSON *audit)
{
    char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = CLI_EXIT_OK;
    if (!f) {
        free(tmp);
        return cli_fail(c, "%s: %s", path, strerror(errno));
    }
    errno = 0;
    int bad = audit_write(c, f, audit) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        rc = cli_fail(c, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int cli_audit(struct cli *c, int argc, char **argv)
{
    const char *month = NULL, *out = NULL;
    const struct cli_opt opts[] = {{"month", 0, 1, &month}, {"output", 'o', 1, &out},
                                   {NULL, 0, 0, NULL}};
    int n = cli_args(c, argc, argv, opts, NULL, 0, 0), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if (month && !cli_text_month(month))
        return cli_usage_error(c, "--month: want YYYY-MM, not \"%s\"", month);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    struct proto_request req = {.cmd = PROTO_CMD_AUDIT, .month = month};
    cJSON *reply;
    rc = cli_query(c, &req, &reply);
    if (rc != CLI_EXIT_OK)
        return rc;
    const cJSON *audit = cJSON_GetObjectItemCaseSensitive(reply, "audit");
    if (!cJSON_IsObject(audit))
        rc = cli_fail(c, "archiver: the reply has no audit");
    else if (out && strcmp(out, "-"))
        rc = audit_to_file(c, out, audit);
    else if (audit_write(c, stdout, audit) < 0)
        rc = cli_fail(c, "cannot write the output");
    cJSON_Delete(reply);
    return rc;
}
