/* cli_rules_folds.c: `minyi rules eval --folds K` -- k-fold cross-validation
 * of `rules learn` on one labelled file: the rows are dealt into K parts in
 * a fixed pseudo-random order; for each part the rules are learned from the
 * other K-1 (with the learn options given) and scored on it.  Prints each
 * fold and the mean and standard deviation of accuracy, macro-F1 and the
 * unrouted share, and the time learning took: what an office measures
 * before it deploys a learned rule set.
 *
 * Not here: the learner (cli_rules_learn.c) or the figures of one scoring
 * (cli_rules_eval.c, whose counting this file calls through
 * cli_rules_score). */
#include "cli.h"
#include "cli_rules_impl.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FOLDS_MAX 20

struct folds_fig {
    double acc, f1, unrouted, secs;
};

static double folds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fold[i] for every row: a fixed shuffle dealt round-robin. */
static size_t *folds_deal(size_t n, long k)
{
    size_t *order = xcalloc(n + 1, sizeof *order), *fold = xcalloc(n + 1, sizeof *fold);
    uint64_t s = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t j = (size_t)(s % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        fold[order[i]] = i % (size_t)k;
    free(order);
    return fold;
}

/* Rows of fold f (in = 1) or of every other fold (in = 0): a shallow
 * copy whose strings stay the caller's (free only ->v). */
static struct cli_rules_rows folds_pick(const struct cli_rules_rows *rows, const size_t *fold,
                                        size_t f, int in)
{
    struct cli_rules_rows sub = {0};
    sub.v = xcalloc(rows->n + 1, sizeof *sub.v);
    for (size_t i = 0; i < rows->n; i++)
        if ((fold[i] == f) == in)
            sub.v[sub.n++] = rows->v[i];
    return sub;
}

/* Learn on the other folds, score fold f.  0, or -1 after printing why. */
static int folds_one(const struct cli *c, const struct rules *base, const struct cli_rules_rows *rows,
                     const size_t *fold, size_t f, const char *file, const char *field,
                     const struct cli_rules_learn_opts *o, struct folds_fig *fig)
{
    struct cli_rules_rows train = folds_pick(rows, fold, f, 0), test = folds_pick(rows, fold, f, 1);
    double t0 = folds_now();
    cJSON *out = cli_rules_learn_json(c, base, NULL, &train, file, field, o);
    fig->secs = folds_now() - t0;
    char *text = out ? cJSON_PrintUnformatted(out) : NULL;
    struct rules_errors errs = {0};
    struct rules *r = NULL;
    struct classify *cl = NULL;
    int rc = -1;
    if (text && rules_parse("(learned)", text, strlen(text), &r, &errs) == 0 &&
        classify_new(r, &cl, &errs) == 0) {
        char **pred = cli_rules_predict(cl, &test, NULL);
        cli_rules_score(&test, pred, &fig->acc, &fig->f1, &fig->unrouted);
        cli_rules_predicted_free(pred, test.n);
        rc = 0;
    } else if (text) {
        cli_fail(c, "internal: the learned rules do not load: %s", errs.n ? errs.v[0] : "?");
    }
    classify_free(&cl);
    rules_free(&r);
    rules_errors_clear(&errs);
    free(text);
    cJSON_Delete(out);
    free(train.v);
    free(test.v);
    return rc;
}

/* Mean and standard deviation of one figure over the folds. */
static void folds_stat(const struct folds_fig *v, long k, size_t off, double *mean, double *sd)
{
    double sum = 0, sq = 0;
    for (long i = 0; i < k; i++)
        sum += *(const double *)((const char *)&v[i] + off);
    *mean = sum / (double)k;
    for (long i = 0; i < k; i++) {
        double d = *(const double *)((const char *)&v[i] + off) - *mean;
        sq += d * d;
    }
    *sd = k > 1 ? sqrt(sq / (double)(k - 1)) : 0;
}

static void folds_print(const struct cli *c, const struct folds_fig *v, long k, const char *file,
                        size_t nrows)
{
    static const struct { const char *name; size_t off; } figs[] = {
        {"accuracy", offsetof(struct folds_fig, acc)},
        {"macro_f1", offsetof(struct folds_fig, f1)},
        {"unrouted", offsetof(struct folds_fig, unrouted)},
        {"learn_seconds", offsetof(struct folds_fig, secs)},
    };
    double mean, sd;
    if (!strcmp(c->format, "json")) {
        cJSON *o = cJSON_CreateObject(), *per = cJSON_AddArrayToObject(o, "per_fold");
        cJSON_AddNumberToObject(o, "rows", (double)nrows);
        cJSON_AddNumberToObject(o, "folds", (double)k);
        for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
            folds_stat(v, k, figs[i].off, &mean, &sd);
            cJSON *f = cJSON_AddObjectToObject(o, figs[i].name);
            cJSON_AddNumberToObject(f, "mean", round(mean * 1e6) / 1e6);
            cJSON_AddNumberToObject(f, "sd", round(sd * 1e6) / 1e6);
        }
        for (long i = 0; i < k; i++) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddNumberToObject(f, "accuracy", round(v[i].acc * 1e6) / 1e6);
            cJSON_AddNumberToObject(f, "macro_f1", round(v[i].f1 * 1e6) / 1e6);
            cJSON_AddNumberToObject(f, "unrouted", round(v[i].unrouted * 1e6) / 1e6);
            cJSON_AddItemToArray(per, f);
        }
        cli_print_json(stdout, o);
        cJSON_Delete(o);
        return;
    }
    printf("%s: %zu rows, %ld folds: rules learned from %ld parts, scored on the other\n", file,
           nrows, k, k - 1);
    for (long i = 0; i < k; i++)
        printf("fold %ld  accuracy %.2f%%  macro-F1 %.4f  unrouted %.2f%%  learned in %.1f s\n",
               i + 1, 100 * v[i].acc, v[i].f1, 100 * v[i].unrouted, v[i].secs);
    folds_stat(v, k, figs[0].off, &mean, &sd);
    printf("accuracy  %.2f%% ± %.2f\n", 100 * mean, 100 * sd);
    folds_stat(v, k, figs[1].off, &mean, &sd);
    printf("macro-F1  %.4f ± %.4f\n", mean, sd);
    folds_stat(v, k, figs[2].off, &mean, &sd);
    printf("unrouted  %.2f%% ± %.2f\n", 100 * mean, 100 * sd);
    folds_stat(v, k, figs[3].off, &mean, &sd);
    printf("learning  %.1f s ± %.1f a fold\n", mean, sd);
}

int cli_rules_folds(struct cli *c, const struct rules *base, const struct cli_rules_rows *rows,
                    long k, const char *file, const char *field,
                    const struct cli_rules_learn_opts *o)
{
    if (k < 2 || k > FOLDS_MAX)
        return cli_usage_error(c, "--folds: want a number from 2 to %d", FOLDS_MAX);
    if (rows->n < (size_t)k)
        return cli_fail(c, "%s: %zu rows cannot make %ld folds", file, rows->n, k);
    size_t *fold = folds_deal(rows->n, k);
    struct folds_fig *v = xcalloc((size_t)k, sizeof *v);
    struct cli_rules_learn_opts q = *o;
    int rc = CLI_EXIT_OK;
    q.quiet = 1;
    for (long f = 0; f < k && rc == CLI_EXIT_OK; f++)
        if (folds_one(c, base, rows, fold, (size_t)f, file, field, &q, &v[f]) < 0)
            rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK)
        folds_print(c, v, k, file, rows->n);
    free(fold);
    free(v);
    return rc;
}
