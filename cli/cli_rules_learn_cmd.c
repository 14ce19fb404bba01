/* cli_rules_learn_cmd.c: the `minyi rules learn` command -- its options,
 * reading the labelled rows (or the archive's history), checking that the
 * learned file loads and compiles, writing it, and printing what was
 * learned, its training accuracy and the time it took.
 *
 * Not here: the learning itself (cli_rules_learn.c, cli_rules_train.c). */
#include "cli.h"
#include "cli_rules_impl.h"
#include "config.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Parse and compile text; 0 and *r, *cl, or -1 with the first error in errs. */
static int learn_compile(const char *name, const char *text, struct rules **r,
                         struct classify **cl, struct rules_errors *errs)
{
    *cl = NULL;
    if (rules_parse(name, text, strlen(text), r, errs) < 0)
        return -1;
    if (classify_new(*r, cl, errs) < 0) {
        rules_free(r);
        return -1;
    }
    return 0;
}

/* Write text to opath atomically, or to stdout when opath is NULL. */
static int learn_write(const struct cli *c, const char *text, const char *opath)
{
    if (!opath) {
        printf("%s\n", text);
        return CLI_EXIT_OK;
    }
    int rc = CLI_EXIT_OK;
    char *tmp = xasprintf("%s.tmp", opath);
    FILE *f = fopen(tmp, "w");
    int bad = !f || fprintf(f, "%s\n", text) < 0;
    bad |= f && fclose(f) != 0;
    if (bad || rename(tmp, opath) < 0) {
        rc = cli_fail(c, "%s: %s", opath, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* Seconds on the monotonic clock. */
static double learn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Share of rows the compiled rules route to their label. */
static double learn_accuracy(const struct classify *cl, const struct cli_rules_rows *rows)
{
    char **pred = cli_rules_predict(cl, rows, NULL);
    size_t ok = 0;
    for (size_t i = 0; i < rows->n; i++)
        ok += strcmp(pred[i], rows->v[i].label) == 0;
    cli_rules_predicted_free(pred, rows->n);
    return rows->n ? (double)ok / (double)rows->n : 0;
}

/* Patterns of the learned-* topics of out. */
static size_t learn_npatterns(const cJSON *out, size_t *ntopics)
{
    const cJSON *t;
    size_t n = 0;
    *ntopics = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(out, "topics")) {
        if (strncmp(cli_json_str(t, "id", ""), "learned-", 8))
            continue;
        (*ntopics)++;
        n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "patterns"));
    }
    return n;
}

/* Learn from the rows of file and write the rules file; base supplies the
 * organisation.  Prints what was learned, its training accuracy and the
 * time it took (on stderr when stdout holds the file). */
static int learn_run(const struct cli *c, const struct rules *base, const char *merge,
                     const char *file, const char *field, const struct cli_rules_learn_opts *o,
                     const char *opath)
{
    struct cli_rules_rows rows;
    double t0 = learn_now();
    int rc = cli_rules_read_rows(c, file, field, &rows);
    if (rc == 0 && rows.n == 0)
        rc = cli_fail(c, "%s: no rows labelled with \"%s\"", file, field);
    cJSON *out = rc ? NULL : cli_rules_learn_json(c, base, merge, &rows, file, field, o);
    if (rc == 0 && !out)
        rc = CLI_EXIT_FAIL;
    if (rc == 0) {
        double secs = learn_now() - t0;
        char *text = cJSON_Print(out);
        struct rules_errors errs = {0};
        struct rules *r = NULL;
        struct classify *cl = NULL;
        size_t ntop, npat = learn_npatterns(out, &ntop);
        if (learn_compile(opath ? opath : "(output)", text, &r, &cl, &errs) < 0) {
            rc = cli_fail(c, "internal: the learned rules do not load: %s", errs.v[0]);
        } else {
            rc = learn_write(c, text, opath);
            fprintf(opath ? stdout : stderr, "%s: %zu topics, %zu patterns learned from %zu rows in %.1f s; "
                    "training accuracy %.2f%% (`rules eval --folds 5` measures it on rows "
                    "it did not learn from)\n", opath ? opath : "(stdout)", ntop, npat,
                    rows.n, secs, 100 * learn_accuracy(cl, &rows));
        }
        classify_free(&cl);
        rules_free(&r);
        rules_errors_clear(&errs);
        free(text);
    }
    cJSON_Delete(out);
    cli_rules_rows_free(&rows);
    return rc;
}

int cli_rules_learn_opts_parse(struct cli *c, const char *top, const char *maxp,
                               const char *mindf, struct cli_rules_learn_opts *o)
{
    o->top = cli_opt_num(c, "top", top, 1000, 1, 10000);
    o->max_patterns = o->top < 0 ? -1 : cli_opt_num(c, "max-patterns", maxp, 1000, 1, 100000);
    o->min_df = o->max_patterns < 0 ? -1 : cli_opt_num(c, "min-df", mindf, 5, 1, 1000000);
    o->quiet = 0;
    return o->min_df < 0 ? CLI_EXIT_USAGE : 0;
}

int cli_rules_learn(struct cli *c, const struct config *cfg, int argc, char **argv)
{
    const char *field = "category", *top_s = NULL, *opath = NULL, *merge = NULL;
    const char *path = NULL, *archive = NULL, *maxp = NULL, *mindf = NULL;
    const struct cli_opt opts[] = {
        {"label-field", 0, 1, &field}, {"top", 0, 1, &top_s}, {"output", 'o', 1, &opath},
        {"merge", 0, 1, &merge},       {"rules", 0, 1, &path}, {"from-archive", 0, 0, &archive},
        {"max-patterns", 0, 1, &maxp}, {"min-df", 0, 1, &mindf}, {NULL, 0, 0, NULL},
    };
    char *pos[1];
    struct cli_rules_learn_opts o;
    int n = cli_args(c, argc, argv, opts, pos, 0, 1);
    if (n < 0)
        return cli_args_done(c, n);
    if (!archive && n == 0)
        return cli_usage_error(c, "missing FILE.jsonl (or --from-archive)");
    if (archive && n > 0)
        return cli_usage_error(c, "either FILE.jsonl or --from-archive, not both");
    if (cli_rules_learn_opts_parse(c, top_s, maxp, mindf, &o) != 0)
        return CLI_EXIT_USAGE;
    struct rules_errors errs = {0};
    struct rules *base = NULL;
    const char *bpath = merge ? merge : path ? path : cfg->rules_path;
    if (rules_load(bpath, &base, &errs) < 0) {
        cli_fail(c, "%s%s", errs.v[0], errs.n > 1 ? " (and more; see `minyi rules check`)" : "");
        rules_errors_clear(&errs);
        return CLI_EXIT_FAIL;
    }
    char *hist = NULL;
    int rc = archive ? cli_rules_history(c, base, &hist) : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK)
        rc = learn_run(c, base, merge, hist ? hist : pos[0], hist ? "category" : field, &o,
                       opath);
    if (hist)
        unlink(hist);
    free(hist);
    rules_free(&base);
    return rc;
}
