/* cli_rules_train.c: the weights of `minyi rules learn`, trained jointly
 * across labels by a linear model whose features are the router's own
 * scoring of literal patterns (classify.h): for pattern g in a row,
 * x_g = title_weight * min(th, 3) + min(bh, 3), th and bh its
 * non-overlapping occurrences in the title and the body.  A topic's score
 * is then bias + sum of w_g * x_g, exactly what the router computes for a
 * rules file holding those weights.
 *
 * Training: averaged passive-aggressive updates (PA-I, multiclass), where
 * "no topic" scores 0 as the router's triage does: a row's label must
 * outscore every other label and 0 by a margin of 1.  Rows are visited in
 * a fixed pseudo-random order, so the same input gives the same weights.
 *
 * Not here: choosing the candidate n-grams or writing the rules file
 * (cli_rules_learn.c). */
#include "cli_rules_impl.h"
#include "hash.h"
#include "htable.h"
#include "xmalloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TRAIN_EPOCHS 6                /* more fit the training part closer and the */
#define TRAIN_C 0.003                 /* held-out parts worse (PA-I: the largest
                                         step one row may take) */
#define TRAIN_COUNT_MAX 3             /* classify.h: CLASSIFY_COUNT_MAX */

/* The features of every row, as compressed sparse rows. */
struct train_rows {
    size_t *start;                    /* nrows + 1 */
    uint32_t *feat;
    float *val;
    size_t n, cap;
};

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

/* Count the candidate literals of one field (Han n-grams of 2-4 characters:
 * a literal of Han characters can only match inside a run of them). */
static void train_field(const struct train_index *ix, struct train_scratch *x, const char *text,
                        int field)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), run = 0;
    for (size_t i = 0; i < len;) {
        if (!cli_rules_is_han(s + i, len - i)) {
            run = 0;
            i++;
            continue;
        }
        run++;
        for (size_t n = 4; n >= 2; n--) {
            if (n > run)
                continue;
            size_t from = i - 3 * (n - 1);
            long f = train_lookup(ix, text + from, 3 * n);
            if (f < 0 || x->cnt[field][f] >= TRAIN_COUNT_MAX || from < x->end[f])
                continue;
            if (!x->cnt[0][f] && !x->cnt[1][f])
                x->touched[x->ntouched++] = (uint32_t)f;
            x->cnt[field][f]++;
            x->end[f] = from + 3 * n;
        }
        i += 3;
    }
    for (size_t k = 0; k < x->ntouched; k++)
        x->end[x->touched[k]] = 0;    /* the next field starts afresh */
}

static void train_push(struct train_rows *tr, uint32_t f, float v)
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
static void train_features(struct train_rows *tr, const struct train_index *ix, size_t nfeat,
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
    free(x.cnt[0]);
    free(x.cnt[1]);
    free(x.end);
    free(x.touched);
}

/* Scores of every label for row r into s[nlabels]. */
static void train_scores(const struct cli_train *m, const struct train_rows *tr, size_t r,
                         double *s)
{
    for (size_t l = 0; l < m->nlabels; l++) {
        const double *w = m->w + l * m->nfeat;
        double sum = m->bias[l];
        for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++)
            sum += w[tr->feat[k]] * tr->val[k];
        s[l] = sum;
    }
}

/* Add tau * x (and tau to the bias) to label l's weights; u accumulates
 * t * tau * x for the average. */
static void train_step(struct cli_train *m, double *u, double *ub, const struct train_rows *tr,
                       size_t r, size_t l, double tau, double t)
{
    double *w = m->w + l * m->nfeat, *ul = u + l * m->nfeat;
    for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++) {
        w[tr->feat[k]] += tau * tr->val[k];
        ul[tr->feat[k]] += t * tau * tr->val[k];
    }
    m->bias[l] += tau;
    ub[l] += t * tau;
}

/* One passive-aggressive update for row r of label y. */
static void train_update(struct cli_train *m, double *u, double *ub, const struct train_rows *tr,
                         size_t r, size_t y, double *s, double t)
{
    train_scores(m, tr, r, s);
    size_t rival = m->nlabels;        /* nlabels: "no topic", scoring 0 */
    double best = 0;
    for (size_t l = 0; l < m->nlabels; l++)
        if (l != y && s[l] > best) {
            best = s[l];
            rival = l;
        }
    double loss = 1 - (s[y] - best);
    if (loss <= 0)
        return;
    double sq = 1;
    for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++)
        sq += (double)tr->val[k] * tr->val[k];
    double tau = loss / (rival < m->nlabels ? 2 * sq : sq);
    tau = tau < TRAIN_C ? tau : TRAIN_C;
    train_step(m, u, ub, tr, r, y, tau, t);
    if (rival < m->nlabels)
        train_step(m, u, ub, tr, r, rival, -tau, t);
}

/* A fixed permutation of 0..n-1 (xorshift: deterministic). */
static void train_shuffle(size_t *order, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        size_t j = (size_t)(*state % i), tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
}

void cli_train_fit(struct cli_train *m, const char *const *feat, size_t nfeat,
                   const struct cli_rules_rows *rows, const size_t *label, size_t nlabels,
                   double title_weight)
{
    struct train_index ix;
    struct train_rows tr = {0};
    train_index_build(&ix, feat, nfeat);
    train_features(&tr, &ix, nfeat, rows, title_weight);
    m->nlabels = nlabels;
    m->nfeat = nfeat;
    m->w = xcalloc(nlabels * nfeat + 1, sizeof *m->w);
    m->bias = xcalloc(nlabels + 1, sizeof *m->bias);
    double *u = xcalloc(nlabels * nfeat + 1, sizeof *u), *ub = xcalloc(nlabels + 1, sizeof *ub);
    double *s = xcalloc(nlabels + 1, sizeof *s), t = 1;
    size_t *order = xcalloc(rows->n + 1, sizeof *order);
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < rows->n; i++)
        order[i] = i;
    for (int e = 0; e < TRAIN_EPOCHS; e++) {
        train_shuffle(order, rows->n, &state);
        for (size_t i = 0; i < rows->n; i++, t++)
            train_update(m, u, ub, &tr, order[i], label[order[i]], s, t);
    }
    for (size_t k = 0; k < nlabels * nfeat; k++)
        m->w[k] -= u[k] / t;          /* the average of the weights over every step */
    for (size_t l = 0; l < nlabels; l++)
        m->bias[l] -= ub[l] / t;
    free(u);
    free(ub);
    free(s);
    free(order);
    free(tr.start);
    free(tr.feat);
    free(tr.val);
    train_index_free(&ix);
}

void cli_train_free(struct cli_train *m)
{
    free(m->w);
    free(m->bias);
    memset(m, 0, sizeof *m);
}
