/* cli_rules_eval.c: `minyi rules eval` -- route every labelled row of a JSON
 * Lines file with a rules file and score the predictions against the labels.
 *
 * A row's predicted label is the category of its best tag, or "unrouted".
 * Figures: accuracy over all rows; per label precision, recall, F1 and
 * support; macro-F1 averaged over the labels that occur as true labels;
 * `unrouted` the share of rows no topic matched; the confusion counts.
 * Labels are listed in byte order of their UTF-8 names (deterministic). */
#include "cli.h"
#include "cli_rules_impl.h"
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_UNROUTED "unrouted"

struct eval {
    size_t total, correct, unrouted;
    char **labels;                /* sorted, unique; "unrouted" not among them */
    size_t nlabels;
    size_t *conf;                 /* nlabels rows (true) x nlabels+1 cols (pred; last = unrouted) */
    size_t *truth, *pred;         /* per row: label indexes (pred may be nlabels) */
    size_t *ntags;                /* per row: tags the rules gave it */
};

static int eval_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of name in the sorted label list; nlabels for "unrouted". */
static size_t eval_index(const struct eval *e, const char *name)
{
    char **p = bsearch(&name, e->labels, e->nlabels, sizeof *e->labels, eval_cmp_str);
    return p ? (size_t)(p - e->labels) : e->nlabels;
}

/* The sorted, unique union of true and predicted labels (borrowed strings). */
static void eval_collect_labels(struct eval *e, const struct cli_rules_rows *rows,
                                char **predicted)
{
    e->labels = xcalloc(2 * rows->n + 1, sizeof *e->labels);
    for (size_t i = 0; i < rows->n; i++) {
        e->labels[e->nlabels++] = rows->v[i].label;
        if (strcmp(predicted[i], EVAL_UNROUTED))
            e->labels[e->nlabels++] = predicted[i];
    }
    qsort(e->labels, e->nlabels, sizeof *e->labels, eval_cmp_str);
    size_t n = 0;
    for (size_t i = 0; i < e->nlabels; i++)
        if (n == 0 || strcmp(e->labels[n - 1], e->labels[i]))
            e->labels[n++] = e->labels[i];
    e->nlabels = n;
}

/* Count everything once the predictions are known. */
static void eval_count(struct eval *e, const struct cli_rules_rows *rows, char **predicted)
{
    eval_collect_labels(e, rows, predicted);
    size_t w = e->nlabels + 1;
    e->conf = xcalloc(e->nlabels * w + 1, sizeof *e->conf);
    e->truth = xcalloc(rows->n + 1, sizeof *e->truth);
    e->pred = xcalloc(rows->n + 1, sizeof *e->pred);
    e->total = rows->n;
    for (size_t i = 0; i < rows->n; i++) {
        size_t t = eval_index(e, rows->v[i].label), p = eval_index(e, predicted[i]);
        e->truth[i] = t;
        e->pred[i] = p;
        e->conf[t * w + p]++;
        e->correct += t == p;
        e->unrouted += p == e->nlabels;
    }
}

/* Precision, recall, F1 and support of label l. */
static void eval_label(const struct eval *e, size_t l, double *prec, double *rec,
                       double *f1, size_t *support)
{
    size_t w = e->nlabels + 1, tp = e->conf[l * w + l], predicted = 0;
    *support = 0;
    for (size_t k = 0; k < e->nlabels; k++) {
        predicted += e->conf[k * w + l];
        *support += e->conf[l * w + k];
    }
    *support += e->conf[l * w + e->nlabels];
    *prec = predicted ? (double)tp / (double)predicted : 0;
    *rec = *support ? (double)tp / (double)*support : 0;
    *f1 = *prec + *rec > 0 ? 2 * *prec * *rec / (*prec + *rec) : 0;
}

static double eval_macro_f1(const struct eval *e)
{
    double sum = 0, p, r, f1;
    size_t n = 0, support;
    for (size_t l = 0; l < e->nlabels; l++) {
        eval_label(e, l, &p, &r, &f1, &support);
        if (support) {
            sum += f1;
            n++;
        }
    }
    return n ? sum / (double)n : 0;
}

static double eval_round(double x)
{
    return round(x * 1e6) / 1e6;
}

static const char *eval_name(const struct eval *e, size_t l)
{
    return l < e->nlabels ? e->labels[l] : EVAL_UNROUTED;
}

static int eval_cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Tags a report: mean, median and most (what clerks read in TOPICS). */
static void eval_tags_json(cJSON *o, const struct eval *e)
{
    size_t *v = xcalloc(e->total + 1, sizeof *v), sum = 0;
    memcpy(v, e->ntags, e->total * sizeof *v);
    qsort(v, e->total, sizeof *v, eval_cmp_size);
    for (size_t i = 0; i < e->total; i++)
        sum += v[i];
    cJSON *t = cJSON_AddObjectToObject(o, "tags_per_report");
    cJSON_AddNumberToObject(t, "mean", e->total ? eval_round((double)sum / (double)e->total) : 0);
    cJSON_AddNumberToObject(t, "median", e->total ? (double)v[(e->total - 1) / 2] : 0);
    cJSON_AddNumberToObject(t, "max", e->total ? (double)v[e->total - 1] : 0);
    free(v);
}

static cJSON *eval_json(const struct eval *e, const struct cli_rules_rows *rows,
                        long show_errors)
{
    cJSON *o = cJSON_CreateObject(), *per = cJSON_CreateObject(), *conf = cJSON_CreateObject();
    double total = e->total ? (double)e->total : 1, p, r, f1;
    size_t support, w = e->nlabels + 1;
    cJSON_AddNumberToObject(o, "total", (double)e->total);
    cJSON_AddNumberToObject(o, "accuracy", eval_round((double)e->correct / total));
    cJSON_AddNumberToObject(o, "macro_f1", eval_round(eval_macro_f1(e)));
    cJSON_AddNumberToObject(o, "unrouted", eval_round((double)e->unrouted / total));
    eval_tags_json(o, e);
    for (size_t l = 0; l < e->nlabels; l++) {
        eval_label(e, l, &p, &r, &f1, &support);
        cJSON *jl = cJSON_AddObjectToObject(per, e->labels[l]);
        cJSON_AddNumberToObject(jl, "precision", eval_round(p));
        cJSON_AddNumberToObject(jl, "recall", eval_round(r));
        cJSON_AddNumberToObject(jl, "f1", eval_round(f1));
        cJSON_AddNumberToObject(jl, "support", (double)support);
        if (!support)
            continue;
        cJSON *row = cJSON_AddObjectToObject(conf, e->labels[l]);
        for (size_t k = 0; k < w; k++)
            if (e->conf[l * w + k])
                cJSON_AddNumberToObject(row, eval_name(e, k), (double)e->conf[l * w + k]);
    }
    cJSON_AddItemToObject(o, "per_label", per);
    cJSON_AddItemToObject(o, "confusion", conf);
    if (show_errors > 0) {
        cJSON *errs = cJSON_AddArrayToObject(o, "errors");
        for (size_t i = 0; i < rows->n && cJSON_GetArraySize(errs) < show_errors; i++) {
            if (e->truth[i] == e->pred[i])
                continue;
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "id", rows->v[i].id);
            cJSON_AddStringToObject(x, "true", rows->v[i].label);
            cJSON_AddStringToObject(x, "predicted", eval_name(e, e->pred[i]));
            cJSON_AddStringToObject(x, "title", rows->v[i].title);
            cJSON_AddItemToArray(errs, x);
        }
    }
    return o;
}

/* The per-label figures for people. */
static void eval_print_labels(const cJSON *o)
{
    static const char *const hd[] = {"LABEL", "PRECISION", "RECALL", "F1", "SUPPORT"};
    struct cli_table *t = cli_table_new(5, hd);
    const cJSON *l;
    for (size_t i = 1; i < 5; i++)
        cli_table_right(t, i);
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(o, "per_label")) {
        char p[16], r[16], f[16], s[24];
        snprintf(p, sizeof p, "%.4f", cli_json_num(l, "precision", 0));
        snprintf(r, sizeof r, "%.4f", cli_json_num(l, "recall", 0));
        snprintf(f, sizeof f, "%.4f", cli_json_num(l, "f1", 0));
        snprintf(s, sizeof s, "%.0f", cli_json_num(l, "support", 0));
        const char *row[] = {l->string, p, r, f, s};
        cli_table_add(t, row);
    }
    cli_table_print(t, stdout, 0);
    cli_table_free(&t);
}

/* The confusion matrix: a row per true label, a column per predicted one. */
static void eval_print_confusion(const struct eval *e)
{
    size_t w = e->nlabels + 1;
    const char **hd = xcalloc(w + 1, sizeof *hd);
    hd[0] = "TRUE \\ PREDICTED";
    for (size_t k = 0; k < w; k++)
        hd[k + 1] = eval_name(e, k);
    struct cli_table *t = cli_table_new(w + 1, hd);
    char (*cells)[24] = xcalloc(w, sizeof *cells);
    for (size_t k = 1; k <= w; k++)
        cli_table_right(t, k);
    for (size_t l = 0; l < e->nlabels; l++) {
        hd[0] = e->labels[l];
        for (size_t k = 0; k < w; k++) {
            snprintf(cells[k], sizeof cells[k], "%zu", e->conf[l * w + k]);
            hd[k + 1] = e->conf[l * w + k] ? cells[k] : ".";
        }
        cli_table_add(t, hd);
    }
    cli_table_print(t, stdout, 0);
    cli_table_free(&t);
    free(cells);
    free(hd);
}

static void eval_print_errors(const cJSON *o)
{
    static const char *const hd[] = {"ID", "TRUE", "PREDICTED", "TITLE"};
    const cJSON *x, *errs = cJSON_GetObjectItemCaseSensitive(o, "errors");
    if (!errs)
        return;
    struct cli_table *t = cli_table_new(4, hd);
    cJSON_ArrayForEach(x, errs) {
        const char *row[] = {cli_json_str(x, "id", ""), cli_json_str(x, "true", ""),
                             cli_json_str(x, "predicted", ""), cli_json_str(x, "title", "")};
        cli_table_add(t, row);
    }
    printf("\nmisrouted (first %d)\n", cJSON_GetArraySize(errs));
    cli_table_print(t, stdout, cli_columns());
    cli_table_free(&t);
}

static void eval_print_table(const struct eval *e, const cJSON *o, const char *file,
                             const char *rules)
{
    printf("%s: %zu rows, rules %s\n", file, e->total, rules);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags_per_report");
    printf("accuracy  %.2f%%\nmacro-F1  %.4f\nunrouted  %.2f%%\n", 100 * cli_json_num(o, "accuracy", 0),
           cli_json_num(o, "macro_f1", 0), 100 * cli_json_num(o, "unrouted", 0));
    printf("tags      %.2f a report (median %.0f, most %.0f)\n\n", cli_json_num(tags, "mean", 0),
           cli_json_num(tags, "median", 0), cli_json_num(tags, "max", 0));
    eval_print_labels(o);
    printf("\nconfusion\n");
    eval_print_confusion(e);
    eval_print_errors(o);
}

char **cli_rules_predict(const struct classify *cl, const struct cli_rules_rows *rows,
                         size_t *ntags)
{
    char **predicted = xcalloc(rows->n + 1, sizeof *predicted);
    for (size_t i = 0; i < rows->n; i++) {
        struct report *r = report_new();
        r->title = xstrdup(rows->v[i].title);
        r->body = xstrdup(rows->v[i].body);
        classify_report(cl, r, NULL);
        if (ntags)
            ntags[i] = r->ntags;
        predicted[i] = xstrdup(r->ntags && r->tags[0].category ? r->tags[0].category
                                                               : EVAL_UNROUTED);
        report_free(&r);
    }
    return predicted;
}

void cli_rules_predicted_free(char **predicted, size_t n)
{
    for (size_t i = 0; predicted && i < n; i++)
        free(predicted[i]);
    free(predicted);
}

static void eval_free(struct eval *e, char **predicted, size_t n)
{
    cli_rules_predicted_free(predicted, n);
    free(e->labels);
    free(e->conf);
    free(e->truth);
    free(e->pred);
    free(e->ntags);
}

void cli_rules_score(const struct cli_rules_rows *rows, char **predicted, double *accuracy,
                     double *macro_f1, double *unrouted)
{
    struct eval e = {0};
    eval_count(&e, rows, predicted);
    double total = e.total ? (double)e.total : 1;
    *accuracy = (double)e.correct / total;
    *macro_f1 = eval_macro_f1(&e);
    *unrouted = (double)e.unrouted / total;
    eval_free(&e, NULL, 0);
}

/* `rules eval FILE --folds K`: the rules file only gives the organisation. */
static int eval_folds(struct cli *c, const struct config *cfg, const char *path, const char *file,
                      const char *field, const char *folds, const char *const learn[3])
{
    char *end;
    long k = strtol(folds, &end, 10);
    struct cli_rules_learn_opts o;
    if (end == folds || *end)
        return cli_usage_error(c, "--folds: want a number, not \"%s\"", folds);
    if (cli_rules_learn_opts_parse(c, learn[0], learn[1], learn[2], &o) != 0)
        return CLI_EXIT_USAGE;
    struct rules *r = NULL;
    struct classify *cl = NULL;
    struct cli_rules_rows rows;
    int rc = cli_rules_open(c, cfg, path, &r, &cl);
    if (rc != 0)
        return rc;
    if ((rc = cli_rules_read_rows(c, file, field, &rows)) == 0)
        rc = cli_rules_folds(c, r, &rows, k, file, field, &o);
    cli_rules_rows_free(&rows);
    classify_free(&cl);
    rules_free(&r);
    return rc;
}

int cli_rules_eval(struct cli *c, const struct config *cfg, int argc, char **argv)
{
    const char *path = NULL, *field = "category", *show = NULL, *folds = NULL;
    const char *learn[3] = {NULL, NULL, NULL};
    const struct cli_opt opts[] = {{"rules", 0, 1, &path}, {"label-field", 0, 1, &field},
                                   {"show-errors", 0, 1, &show}, {"folds", 0, 1, &folds},
                                   {"top", 0, 1, &learn[0]}, {"max-patterns", 0, 1, &learn[1]},
                                   {"min-df", 0, 1, &learn[2]}, {NULL, 0, 0, NULL}};
    char *pos[1], *end;
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if (folds)
        return eval_folds(c, cfg, path, pos[0], field, folds, learn);
    if (learn[0] || learn[1] || learn[2])
        return cli_usage_error(c, "--top, --max-patterns and --min-df go with --folds");
    long show_errors = show ? strtol(show, &end, 10) : 0;
    if (show && (*end || show_errors < 0 || end == show))
        return cli_usage_error(c, "--show-errors: want a number, not \"%s\"", show);
    struct rules *r = NULL;
    struct classify *cl = NULL;
    struct cli_rules_rows rows;
    if ((rc = cli_rules_open(c, cfg, path, &r, &cl)) != 0)
        return rc;
    if ((rc = cli_rules_read_rows(c, pos[0], field, &rows)) == 0 && rows.n == 0)
        rc = cli_fail(c, "%s: no rows labelled with \"%s\"", pos[0], field);
    struct eval e = {0};
    e.ntags = rc ? NULL : xcalloc(rows.n + 1, sizeof *e.ntags);
    char **predicted = rc ? NULL : cli_rules_predict(cl, &rows, e.ntags);
    if (rc == 0) {
        eval_count(&e, &rows, predicted);
        cJSON *o = eval_json(&e, &rows, show_errors);
        if (!strcmp(c->format, "json"))
            cli_print_json(stdout, o);
        else
            eval_print_table(&e, o, pos[0], r->path);
        cJSON_Delete(o);
    }
    eval_free(&e, predicted, rows.n);
    cli_rules_rows_free(&rows);
    classify_free(&cl);
    rules_free(&r);
    return rc;
}
