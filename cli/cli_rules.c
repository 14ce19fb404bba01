/* cli_rules.c: `minyi rules check|test|eval|learn|reload` -- the dispatch,
 * check, test and reload, and what eval and learn share (reading labelled
 * JSON Lines, loading and compiling a rules file).  eval lives in
 * cli_rules_eval.c (--folds in cli_rules_folds.c), learn in cli_rules_learn.c
 * (its weights in cli_rules_train.c).  The matching itself is the
 * router's classifier (common/classify.c): `rules test` routes text
 * exactly as minyi-router would. */
#include "cli.h"
#include "cli_rules.h"
#include "cli_rules_impl.h"
#include "config.h"
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "rules_explain.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLI_RULES_STDIN_MAX (1024 * 1024)

struct cli_rules_verb {
    const char *verb, *cmd, *usage, *formats;
};

static const struct cli_rules_verb cli_rules_verbs[] = {
    {"check", "rules check", "rules check [FILE | --rules FILE] [--format json]", "table json"},
    {"test", "rules test", "rules test TEXT|- [--title T] [--rules FILE] [--format json]",
     "table json"},
    {"eval", "rules eval",
     "rules eval FILE.jsonl [--label-field F] [--rules FILE] [--show-errors N] "
     "[--folds K [--top K] [--max-patterns N] [--min-df D]] [--format table|json]",
     "table json"},
    {"learn", "rules learn",
     "rules learn FILE.jsonl --label-field F [--top K] [--max-patterns N] [--min-df D] "
     "[-o RULES.json] [--merge RULES.json] [--rules FILE] | --from-archive", "table json"},
    {"reload", "rules reload", "rules reload [--format json]", "table json"},
};
#define CLI_RULES_NVERBS (sizeof cli_rules_verbs / sizeof cli_rules_verbs[0])

/* Print the first error (and how many more) as one line; CLI_EXIT_FAIL. */
static int cli_rules_fail_errors(const struct cli *c, const struct rules_errors *errs)
{
    if (errs->n > 1)
        return cli_fail(c, "%s (+%zu more; see `minyi rules check`)", errs->v[0],
                        errs->n - 1);
    return cli_fail(c, "%s", errs->n ? errs->v[0] : "rules: unknown error");
}

int cli_rules_open(const struct cli *c, const struct config *cfg, const char *path,
                   struct rules **r, struct classify **cl)
{
    struct rules_errors errs = {0};
    *cl = NULL;
    if (rules_load(path ? path : cfg->rules_path, r, &errs) == 0 &&
        classify_new(*r, cl, &errs) == 0)
        return 0;
    rules_free(r);
    int rc = cli_rules_fail_errors(c, &errs);
    rules_errors_clear(&errs);
    return rc;
}

/* A string member of a JSON row as an owned copy ("" when absent);
 * numbers are printed (ids are often numbers in public data sets). */
static char *cli_rules_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsNumber(v))
        return xasprintf("%.0f", v->valuedouble);
    return xstrdup("");
}

/* Take one line of a JSON Lines file into rows. */
static void cli_rules_take_line(const char *line, size_t len, size_t lineno,
                                const char *label_field, struct cli_rules_rows *rows)
{
    if (strspn(line, " \t\r\n") == len)
        return;
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(o, label_field);
    if (!cJSON_IsObject(o)) {
        rows->bad++;
    } else if (!cJSON_IsString(label) || !label->valuestring[0]) {
        rows->unlabelled++;
    } else {
        rows->v = xrealloc(rows->v, (rows->n + 1) * sizeof *rows->v);
        struct cli_rules_row *row = &rows->v[rows->n++];
        row->id = cli_rules_field(o, "id");
        if (!row->id[0]) {
            free(row->id);
            row->id = xasprintf("line %zu", lineno);
        }
        row->title = cli_rules_field(o, "title");
        row->body = cli_rules_field(o, "body");
        row->label = xstrdup(label->valuestring);
    }
    cJSON_Delete(o);
}

int cli_rules_read_rows(const struct cli *c, const char *path, const char *label_field,
                        struct cli_rules_rows *rows)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    memset(rows, 0, sizeof *rows);
    if (!f)
        return cli_fail(c, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0)
        cli_rules_take_line(line, (size_t)len, ++lineno, label_field, rows);
    int bad = ferror(f), saved = errno;
    free(line);
    if (f != stdin)
        fclose(f);
    if (bad) {
        cli_rules_rows_free(rows);
        return cli_fail(c, "%s: %s", path, strerror(saved));
    }
    if (rows->bad)
        fprintf(stderr, "minyi: %s: warning: %s: %zu line%s not a JSON object, skipped\n",
                c->cmd, path, rows->bad, rows->bad == 1 ? " is" : "s are");
    if (rows->unlabelled)
        fprintf(stderr, "minyi: %s: warning: %s: %zu row%s without \"%s\" skipped\n",
                c->cmd, path, rows->unlabelled, rows->unlabelled == 1 ? "" : "s",
                label_field);
    return 0;
}

void cli_rules_rows_free(struct cli_rules_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->v[i].id);
        free(rows->v[i].title);
        free(rows->v[i].body);
        free(rows->v[i].label);
    }
    free(rows->v);
    memset(rows, 0, sizeof *rows);
}

/* --- check --- */

/* What a rules file holds beyond plain keywords: negative patterns and
 * topics with a bias, which `rules check` names so a reviewer sees them. */
struct cli_rules_census {
    size_t negative, biased;
};

static struct cli_rules_census cli_rules_census(const struct rules *r)
{
    struct cli_rules_census n = {0, 0};
    for (size_t t = 0; r && t < r->ntopics; t++) {
        n.biased += r->topics[t].bias != 0;
        for (size_t i = 0; i < r->topics[t].npatterns; i++)
            n.negative += r->topics[t].patterns[i].w < 0;
    }
    return n;
}

/* The summary line of a file that loads. */
static void cli_rules_check_summary(const char *path, const struct rules *r,
                                    const struct classify *cl)
{
    struct cli_rules_census n = cli_rules_census(r);
    printf("%s: %zu topics, %zu patterns, ok\n", path, r->ntopics, classify_npatterns(cl));
    if (n.negative || n.biased)
        printf("  %zu negative pattern%s (a hit lowers its topic's score), %zu topic%s with "
               "a bias (added to a topic's score once one of its patterns matched)\n",
               n.negative, n.negative == 1 ? "" : "s", n.biased, n.biased == 1 ? "" : "s");
    if (r->tag_ratio > 0 || r->max_tags)
        printf("  tags: those scoring at least %g of the best, at most %zu (0: no cap)\n",
               r->tag_ratio, r->max_tags);
}

static void cli_rules_check_print(const struct cli *c, const char *path,
                                  const struct classify *cl, const struct rules_errors *errs,
                                  const struct rules_errors *warns)
{
    const struct rules *r = cl ? classify_rules(cl) : NULL;
    if (!strcmp(c->format, "json")) {
        cJSON *o = cJSON_CreateObject();
        struct cli_rules_census n = cli_rules_census(r);
        cJSON_AddStringToObject(o, "file", path);
        cJSON_AddBoolToObject(o, "ok", cl != NULL);
        cJSON_AddNumberToObject(o, "topics", r ? (double)r->ntopics : 0);
        cJSON_AddNumberToObject(o, "patterns", cl ? (double)classify_npatterns(cl) : 0);
        cJSON_AddNumberToObject(o, "negative_patterns", (double)n.negative);
        cJSON_AddNumberToObject(o, "biased_topics", (double)n.biased);
        cJSON_AddNumberToObject(o, "tag_ratio", r ? r->tag_ratio : 0);
        cJSON_AddNumberToObject(o, "max_tags", r ? (double)r->max_tags : 0);
        cJSON_AddItemToObject(o, "errors", cJSON_CreateStringArray(
                                  (const char *const *)errs->v, (int)errs->n));
        cJSON_AddItemToObject(o, "warnings", cJSON_CreateStringArray(
                                  (const char *const *)warns->v, (int)warns->n));
        cli_print_json(stdout, o);
        cJSON_Delete(o);
        return;
    }
    for (size_t i = 0; i < errs->n; i++)
        printf("%s\n", errs->v[i]);
    for (size_t i = 0; i < warns->n; i++)
        printf("warning: %s\n", warns->v[i]);
    if (cl)
        cli_rules_check_summary(path, r, cl);
}

static int cli_rules_check(struct cli *c, const struct config *cfg, int argc, char **argv)
{
    const char *path = NULL;
    const struct cli_opt opts[] = {{"rules", 0, 1, &path}, {NULL, 0, 0, NULL}};
    char *pos[1];
    int n = cli_args(c, argc, argv, opts, pos, 0, 1);
    if (n < 0)
        return cli_args_done(c, n);
    if (n == 1 && path)
        return cli_usage_error(c, "give the rules file once: FILE or --rules FILE");
    path = n == 1 ? pos[0] : path ? path : cfg->rules_path;
    struct rules_errors errs = {0}, warns = {0};
    struct rules *r = NULL;
    struct classify *cl = NULL;
    if (rules_load(path, &r, &errs) == 0 && classify_new(r, &cl, &errs) == 0)
        classify_warnings(cl, &warns);
    cli_rules_check_print(c, path, cl, &errs, &warns);
    int rc = CLI_EXIT_OK;
    if (!cl)
        rc = cli_fail(c, "%s: %zu error%s", path, errs.n, errs.n == 1 ? "" : "s");
    classify_free(&cl);
    rules_free(&r);
    rules_errors_clear(&errs);
    rules_errors_clear(&warns);
    return rc;
}

/* --- test --- */

/* All of stdin (at most CLI_RULES_STDIN_MAX bytes), or NULL. */
static char *cli_rules_slurp_stdin(void)
{
    size_t len = 0, cap = 4096, n;
    char *buf = xmalloc(cap + 1);
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap && cap >= CLI_RULES_STDIN_MAX)
            break;
        if (len == cap)
            buf = xrealloc(buf, (cap *= 2) + 1);
    }
    buf[len] = '\0';
    if (ferror(stdin) || strlen(buf) != len) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The explanation for people: the committee, then a table of tags and one
 * of hits (pattern numbers 1-based, as in `rules check`). */
static void cli_rules_test_table(const cJSON *o)
{
    static const char *const th[] = {"TOPIC", "NAME", "CATEGORY", "COMMITTEE", "SCORE"};
    static const char *const hh[] = {"TOPIC", "FIELD", "OFFSET", "MATCHED", "PATTERN"};
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags"), *t, *h;
    printf("committee: %s (%s)%s\n", cli_json_str(o, "committee", ""),
           cli_json_str(o, "committee_name", ""),
           cJSON_GetArraySize(tags) ? "" : ", the triage committee: no topic matched");
    if (!cJSON_GetArraySize(tags))
        return;
    struct cli_table *tt = cli_table_new(5, th), *ht = cli_table_new(5, hh);
    cli_table_right(tt, 4);
    cli_table_right(ht, 2);
    cJSON_ArrayForEach(t, tags) {
        char score[80], off[32], pat[1024];
        double bias = cli_json_num(t, "bias", 0);
        if (bias != 0)
            snprintf(score, sizeof score, "%g (bias %g)", cli_json_num(t, "score", 0), bias);
        else
            snprintf(score, sizeof score, "%g", cli_json_num(t, "score", 0));
        const char *row[] = {cli_json_str(t, "topic", ""), cli_json_str(t, "name", ""),
                             cli_json_str(t, "category", ""), cli_json_str(t, "committee", ""),
                             score};
        cli_table_add(tt, row);
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(t, "hits")) {
            snprintf(off, sizeof off, "%.0f", cli_json_num(h, "offset", 0));
            double w = cli_json_num(h, "w", 1);
            if (w != 1)
                snprintf(pat, sizeof pat, "%.0f: %s (w %g)", cli_json_num(h, "pattern", 0) + 1,
                         cli_json_str(h, "re", ""), w);
            else
                snprintf(pat, sizeof pat, "%.0f: %s", cli_json_num(h, "pattern", 0) + 1,
                         cli_json_str(h, "re", ""));
            const char *hrow[] = {cli_json_str(t, "topic", ""), cli_json_str(h, "field", ""),
                                  off, cli_json_str(h, "text", ""), pat};
            cli_table_add(ht, hrow);
        }
    }
    putchar('\n');
    cli_table_print(tt, stdout, cli_columns());
    putchar('\n');
    cli_table_print(ht, stdout, cli_columns());
    cli_table_free(&tt);
    cli_table_free(&ht);
}

static int cli_rules_test(struct cli *c, const struct config *cfg, int argc, char **argv)
{
    const char *path = NULL, *title = "";
    const struct cli_opt opts[] = {{"rules", 0, 1, &path}, {"title", 0, 1, &title},
                                   {NULL, 0, 0, NULL}};
    char *pos[1];
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    char *text = strcmp(pos[0], "-") ? xstrdup(pos[0]) : cli_rules_slurp_stdin();
    if (!text)
        return cli_fail(c, "stdin: cannot read the text (or it holds a NUL byte)");
    if (!report_utf8_valid(text, strlen(text)) || !report_utf8_valid(title, strlen(title))) {
        free(text);
        return cli_fail(c, "the text is not valid UTF-8");
    }
    struct rules *r = NULL;
    struct classify *cl = NULL;
    if ((rc = cli_rules_open(c, cfg, path, &r, &cl)) != 0) {
        free(text);
        return rc;
    }
    struct report *rep = report_new();
    rep->title = xstrdup(title);
    rep->body = text;
    classify_report(cl, rep, NULL);
    cJSON *o = rules_explain(r, rep);
    if (!strcmp(c->format, "json"))
        cli_print_json(stdout, o);
    else
        cli_rules_test_table(o);
    cJSON_Delete(o);
    report_free(&rep);
    classify_free(&cl);
    rules_free(&r);
    return rc;
}

/* --- reload --- */

/* Ask one router (endpoint) to reload; its exit status.  label names it in
 * messages ("router", "router 2"). */
static int cli_rules_reload_one(struct cli *c, const struct config *cfg, const char *endpoint,
                                const char *label)
{
    static const struct proto_request req = {.cmd = PROTO_CMD_RELOAD};
    cJSON *reply = NULL;
    if (cli_call(c, endpoint, &req, cfg->limits.request_timeout_ms, &reply) < 0) {
        if (errno == EPROTO)
            return cli_fail(c, "%s: malformed reply", label);
        fprintf(stderr, "minyi: %s: %s did not answer\n", c->cmd, label);
        return CLI_EXIT_TIMEOUT;
    }
    int rc = CLI_EXIT_OK;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
        rc = cli_fail(c, "%s: %s: %s", label, cli_json_str(reply, "error", "internal"),
                      cli_json_str(reply, "detail", ""));
    else if (!strcmp(c->format, "json"))
        cli_print_json(stdout, reply);
    else
        printf("%s reloaded the rules: %.0f topics\n", label, cli_json_num(reply, "topics", 0));
    cJSON_Delete(reply);
    return rc;
}

/* Every router of endpoints.router_ctl; the worst exit status (a router
 * that did not answer is 3, one that refused 1). */
static int cli_rules_reload(struct cli *c, const struct config *cfg, int argc, char **argv)
{
    int n = cli_args(c, argc, argv, NULL, NULL, 0, 0), rc = CLI_EXIT_OK;
    if (n < 0)
        return cli_args_done(c, n);
    size_t nrouters = cfg->nrouters ? cfg->nrouters : 1;
    for (size_t i = 0; i < nrouters; i++) {
        char label[32];
        snprintf(label, sizeof label, i ? "router %zu" : "router", i + 1);
        int one = cli_rules_reload_one(c, cfg, cfg->nrouters ? cfg->router_ctls[i]
                                                             : cfg->ep.router_ctl, label);
        if (one == CLI_EXIT_TIMEOUT || (one != CLI_EXIT_OK && rc == CLI_EXIT_OK))
            rc = one;
    }
    return rc;
}

static void cli_rules_help(FILE *f)
{
    for (size_t i = 0; i < CLI_RULES_NVERBS; i++)
        fprintf(f, "%s minyi %s\n", i ? "      " : "usage:", cli_rules_verbs[i].usage);
}

int cli_rules(int argc, char **argv, const struct config *cfg, struct bus *bus)
{
    const char *verb = argc > 1 ? argv[1] : NULL;
    if (verb && (!strcmp(verb, "-h") || !strcmp(verb, "--help"))) {
        cli_rules_help(stdout);
        return CLI_EXIT_OK;
    }
    size_t i = 0;
    while (verb && i < CLI_RULES_NVERBS && strcmp(cli_rules_verbs[i].verb, verb))
        i++;
    if (!verb || i == CLI_RULES_NVERBS) {
        fprintf(stderr, "minyi: rules: %s%s\n", verb ? "unknown command " : "missing command",
                verb ? verb : "");
        cli_rules_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const struct cli_rules_verb *v = &cli_rules_verbs[i];
    struct cli c = {.cmd = v->cmd, .usage = v->usage, .formats = v->formats, .bus = bus,
                    .cfg = (struct config *)cfg};   /* borrowed: never closed here */
    switch (i) {
    case 0: return cli_rules_check(&c, cfg, argc - 1, argv + 1);
    case 1: return cli_rules_test(&c, cfg, argc - 1, argv + 1);
    case 2: return cli_rules_eval(&c, cfg, argc - 1, argv + 1);
    case 3: return cli_rules_learn(&c, cfg, argc - 1, argv + 1);
    default: return cli_rules_reload(&c, cfg, argc - 1, argv + 1);
    }
}
