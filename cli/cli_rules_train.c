/* cli_rules_train.c: the weights of `minyi rules learn`, trained jointly
 * across labels by a linear model whose features are the router's own
 * scoring of literal patterns (classify.h): for pattern g in a row,
 * x_g = title_weight * min(th, 3) + min(bh, 3), th and bh its
 * non-overlapping occurrences in the title and the body.  A topic's score
 * is then sum of w_g * x_g, exactly what the router computes for a rules
 * file holding those weights.
 *
 * Training sees each row as TF-IDF does: x_g times idf(g), scaled to unit
 * length, so long messages do not outweigh short ones and rare n-grams are
 * not drowned by common ones.  Neither changes which topic wins: idf is
 * folded into the weights written, and a row's length scales every topic's
 * score alike (hence no bias, which would not scale).  The weights are
 * fitted (cli_rules_optim.c) with the regulariser chosen by inner
 * validation, then each topic keeps its max_patterns heaviest and is
 * fitted again with only those, as the router will score it.
 *
 * Not here: choosing the candidate n-grams or writing the rules file
 * (cli_rules_learn.c). */
#include "cli_rules_impl.h"
#include "hash.h"
#include "htable.h"
#include "xmalloc.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_COUNT_MAX 3             /* classify.h: CLASSIFY_COUNT_MAX */

/* Feature lookup: the candidate literals in an htable, node[f] for feat[f]. */
struct train_index {
    const char *const *feat;
    size_t *len;
    struct htable_node *node;
    struct htable tab;
};

struct train_key {
    const struct train_index *ix;
    const char *s;
    size_t n;
};

static uint64_t train_hash(const char *s, size_t n)
{
    return hash_fnv1a(HASH_FNV_OFFSET, s, n);
}

static void train_index_build(struct train_index *ix, const char *const *feat, size_t nfeat)
{
    ix->feat = feat;
    ix->len = xcalloc(nfeat + 1, sizeof *ix->len);
    ix->node = xcalloc(nfeat + 1, sizeof *ix->node);
    htable_init(&ix->tab, 2 * nfeat);
    for (size_t f = 0; f < nfeat; f++) {
        ix->len[f] = strlen(feat[f]);
        htable_insert(&ix->tab, &ix->node[f], train_hash(feat[f], ix->len[f]));
    }
}

static void train_index_free(struct train_index *ix)
{
    htable_fini(&ix->tab);
    free(ix->node);
    free(ix->len);
}

static int train_eq(const struct htable_node *hn, const void *key)
{
    const struct train_key *k = key;
    size_t f = (size_t)(hn - k->ix->node);
    return k->ix->len[f] == k->n && !memcmp(k->ix->feat[f], k->s, k->n);
}

/* The feature spelled s[0..n), or -1. */
static long train_lookup(const struct train_index *ix, const char *s, size_t n)
{
    struct train_key k = {ix, s, n};
    const struct htable_node *hn = htable_find(&ix->tab, train_hash(s, n), train_eq, &k);
    return hn ? (long)(hn - ix->node) : -1;
}

/* Per-row scratch: occurrence counts per field and where the last counted
 * occurrence of each feature ended (PCRE2 counts non-overlapping matches). */
struct train_scratch {
    uint8_t *cnt[2];
    size_t *end;
    uint32_t *touched;
    size_t ntouched;
};

/* One field being counted by train_field. */
struct train_walk {
    const struct train_index *ix;
    struct train_scratch *x;
    const char *text;
    int field;
};

/* Count the n-gram gram[0..len) of the field when it is a candidate, as
 * PCRE2 would: at most TRAIN_COUNT_MAX, never overlapping the last one. */
static void train_visit(const char *gram, size_t len, void *arg)
{
    struct train_walk *w = arg;
    struct train_scratch *x = w->x;
    size_t from = (size_t)(gram - w->text);
    long f = train_lookup(w->ix, gram, len);
    if (f < 0 || x->cnt[w->field][f] >= TRAIN_COUNT_MAX || from < x->end[f])
        return;
    if (!x->cnt[0][f] && !x->cnt[1][f])
        x->touched[x->ntouched++] = (uint32_t)f;
    x->cnt[w->field][f]++;
    x->end[f] = from + len;
}

/* Count the candidate literals of one field (Han n-grams of 2-4 characters:
 * a literal of Han characters can only match inside a run of them). */
static void train_field(const struct train_index *ix, struct train_scratch *x, const char *text,
                        int field)
{
    struct train_walk w = {ix, x, text, field};
    cli_rules_han_grams(text, train_visit, &w);
    for (size_t k = 0; k < x->ntouched; k++)
        x->end[x->touched[k]] = 0;    /* the next field starts afresh */
}

static void train_push(struct cli_train_rows *tr, uint32_t f, float v)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? 2 * tr->cap : 65536;
        tr->feat = xrealloc(tr->feat, tr->cap * sizeof *tr->feat);
        tr->val = xrealloc(tr->val, tr->cap * sizeof *tr->val);
    }
    tr->feat[tr->n] = f;
    tr->val[tr->n++] = v;
}

/* Every row's features. */
static void train_features(struct cli_train_rows *tr, const struct train_index *ix, size_t nfeat,
                           const struct cli_rules_rows *rows, double title_weight)
{
    struct train_scratch x = {0};
    x.cnt[0] = xcalloc(nfeat + 1, 1);
    x.cnt[1] = xcalloc(nfeat + 1, 1);
    x.end = xcalloc(nfeat + 1, sizeof *x.end);
    x.touched = xcalloc(nfeat + 1, sizeof *x.touched);
    tr->start = xcalloc(rows->n + 1, sizeof *tr->start);
    for (size_t r = 0; r < rows->n; r++) {
        tr->start[r] = tr->n;
        x.ntouched = 0;
        train_field(ix, &x, rows->v[r].title, 0);
        train_field(ix, &x, rows->v[r].body, 1);
        for (size_t k = 0; k < x.ntouched; k++) {
            uint32_t f = x.touched[k];
            train_push(tr, f, (float)(title_weight * x.cnt[0][f] + x.cnt[1][f]));
            x.cnt[0][f] = x.cnt[1][f] = 0;
        }
    }
    tr->start[rows->n] = tr->n;
    tr->nrows = rows->n;
    free(x.cnt[0]);
    free(x.cnt[1]);
    free(x.end);
    free(x.touched);
}

/* Scale every row's values by idf and to unit length; idf[f] per feature
 * (smoothed: 1 + ln((1 + rows) / (1 + rows holding f))). */
static void train_normalise(struct cli_train_rows *tr, size_t nfeat, double *idf)
{
    size_t *df = xcalloc(nfeat + 1, sizeof *df);
    for (size_t k = 0; k < tr->n; k++)
        df[tr->feat[k]]++;
    for (size_t f = 0; f < nfeat; f++)
        idf[f] = 1 + log((1.0 + (double)tr->nrows) / (1.0 + (double)df[f]));
    for (size_t r = 0; r < tr->nrows; r++) {
        double sq = 0;
        for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++) {
            tr->val[k] = (float)(tr->val[k] * idf[tr->feat[k]]);
            sq += (double)tr->val[k] * tr->val[k];
        }
        for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++)
            tr->val[k] = (float)(tr->val[k] / sqrt(sq));
    }
    free(df);
}

static const double *train_sort_w;

static int train_cmp_abs(const void *x, const void *y)
{
    double a = fabs(train_sort_w[*(const size_t *)x]), b = fabs(train_sort_w[*(const size_t *)y]);
    if (a != b)
        return a > b ? -1 : 1;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* Per weight, 1 for the max_patterns largest (as written: times idf) of
 * each label, 0 for the rest (owned). */
static unsigned char *train_keep(const double *theta, const double *idf, size_t nlabels,
                                 size_t nfeat, size_t max_patterns)
{
    unsigned char *keep = xcalloc(nlabels * nfeat + 1, 1);
    double *w = xcalloc(nfeat + 1, sizeof *w);
    size_t *ord = xcalloc(nfeat + 1, sizeof *ord);
    for (size_t l = 0; l < nlabels; l++) {
        for (size_t f = 0; f < nfeat; f++) {
            w[f] = theta[l * nfeat + f] * idf[f];
            ord[f] = f;
        }
        train_sort_w = w;
        qsort(ord, nfeat, sizeof *ord, train_cmp_abs);
        for (size_t k = 0; k < max_patterns && k < nfeat; k++)
            keep[l * nfeat + ord[k]] = 1;
    }
    free(w);
    free(ord);
    return keep;
}

void cli_train_fit(struct cli_train *m, const char *const *feat, size_t nfeat,
                   const struct cli_rules_rows *rows, const size_t *label, size_t nlabels,
                   double title_weight, size_t max_patterns)
{
    static const double grid[] = {1e-3, 3e-4, 1e-4, 3e-5, 1e-5};
    struct train_index ix;
    struct cli_train_rows tr = {0};
    train_index_build(&ix, feat, nfeat);
    train_features(&tr, &ix, nfeat, rows, title_weight);
    m->nlabels = nlabels;
    m->nfeat = nfeat;
    m->w = xcalloc(nlabels * nfeat + 1, sizeof *m->w);
    double *idf = xcalloc(nfeat + 1, sizeof *idf);
    train_normalise(&tr, nfeat, idf);
    double lambda = cli_optim_choose(m, &tr, label, grid, sizeof grid / sizeof *grid);
    size_t *all = xcalloc(rows->n + 1, sizeof *all);
    for (size_t i = 0; i < rows->n; i++)
        all[i] = i;
    cli_optim_fit(m, &tr, label, all, rows->n, lambda, NULL);
    if (max_patterns < nfeat) {
        unsigned char *keep = train_keep(m->w, idf, nlabels, nfeat, max_patterns);
        cli_optim_fit(m, &tr, label, all, rows->n, lambda, keep);
        free(keep);
    }
    for (size_t l = 0; l < nlabels; l++)
        for (size_t f = 0; f < nfeat; f++)
            m->w[l * nfeat + f] *= idf[f];
    free(idf);
    free(all);
    free(tr.start);
    free(tr.feat);
    free(tr.val);
    train_index_free(&ix);
}

void cli_train_free(struct cli_train *m)
{
    free(m->w);
    memset(m, 0, sizeof *m);
}
