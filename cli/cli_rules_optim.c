/* cli_rules_optim.c: the loss that `minyi rules learn` minimises and how:
 * L2-regularised multinomial logistic regression over the labels plus
 * "no topic", whose score is fixed at 0 as the router's triage treats a
 * report no topic scored (so the right label must also score above 0),
 * minimised over the whole training part at once by L-BFGS.  No random
 * order and no step size to tune: the same rows give the same weights.
 *
 * The regulariser is chosen by inner validation (cli_optim_choose): fit on
 * four fifths of the training rows for each of a few values, score the
 * fifth the way the router would, keep the best.  Nothing outside the
 * rows given is looked at.
 *
 * Not here: the features (cli_rules_train.c builds them). */
#include "cli_rules_impl.h"
#include "xmalloc.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OPTIM_MEMORY 8                /* L-BFGS correction pairs */
#define OPTIM_MAX_ITER 300
#define OPTIM_TOL 1e-7                /* stop when the loss gains less, relatively, */
#define OPTIM_SLOW 3                  /* this many steps in a row */
#define OPTIM_ARMIJO 1e-4
#define OPTIM_HOLD 5                  /* inner validation holds out 1 row in 5 */

/* The problem: rows idx[0..n) of tr, their labels, the regulariser. */
struct optim {
    const struct cli_train_rows *tr;
    const size_t *label, *idx;
    size_t n, nlabels, nfeat, dim;    /* dim: nlabels * nfeat */
    double lambda;
    double *s;                        /* scratch: one row's scores */
    const unsigned char *keep;        /* per weight: 0 holds it at 0; NULL: none held */
};

/* Scores of row r under the weights th (label-major). */
static void optim_scores(const struct optim *p, const double *th, size_t r, double *s)
{
    const struct cli_train_rows *tr = p->tr;
    for (size_t l = 0; l < p->nlabels; l++) {
        const double *w = th + l * p->nfeat;
        double sum = 0;
        for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++)
            sum += w[tr->feat[k]] * tr->val[k];
        s[l] = sum;
    }
}

/* Row r's loss; adds its gradient (scaled by 1/n) to g. */
static double optim_row(const struct optim *p, const double *th, size_t r, double *g)
{
    const struct cli_train_rows *tr = p->tr;
    size_t y = p->label[r];
    double *s = p->s, mx = 0, z;
    optim_scores(p, th, r, s);
    for (size_t l = 0; l < p->nlabels; l++)
        mx = s[l] > mx ? s[l] : mx;
    z = exp(-mx);                     /* "no topic", scoring 0 */
    for (size_t l = 0; l < p->nlabels; l++)
        z += exp(s[l] - mx);
    double loss = log(z) + mx - s[y];
    for (size_t l = 0; l < p->nlabels; l++) {
        double c = (exp(s[l] - mx) / z - (l == y)) / (double)p->n;
        double *gl = g + l * p->nfeat;
        for (size_t k = tr->start[r]; k < tr->start[r + 1]; k++)
            gl[tr->feat[k]] += c * tr->val[k];
    }
    return loss;
}

/* The objective at theta and its gradient into g. */
static double optim_loss(const struct optim *p, const double *th, double *g)
{
    double f = 0, reg = 0;
    memset(g, 0, p->dim * sizeof *g);
    for (size_t i = 0; i < p->n; i++)
        f += optim_row(p, th, p->idx[i], g);
    for (size_t k = 0; k < p->dim; k++) {
        reg += th[k] * th[k];
        g[k] += p->lambda * th[k];
        if (p->keep && !p->keep[k])
            g[k] = 0;
    }
    return f / (double)p->n + p->lambda * reg / 2;
}

static double optim_dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* L-BFGS memory: pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k. */
struct optim_mem {
    double *s[OPTIM_MEMORY], *y[OPTIM_MEMORY], rho[OPTIM_MEMORY], alpha[OPTIM_MEMORY];
    size_t n, head;                   /* pairs held; the next slot */
};

/* d = -H g by the two-loop recursion (the steepest descent, scaled, when
 * the memory is empty). */
static void optim_direction(const struct optim_mem *m, const double *g, double *d, size_t dim)
{
    for (size_t i = 0; i < dim; i++)
        d[i] = -g[i];
    if (m->n == 0) {
        double norm = sqrt(optim_dot(g, g, dim));
        for (size_t i = 0; i < dim && norm > 1; i++)
            d[i] /= norm;
        return;
    }
    double alpha[OPTIM_MEMORY];
    for (size_t j = 0; j < m->n; j++) {
        size_t k = (m->head + OPTIM_MEMORY - 1 - j) % OPTIM_MEMORY;
        alpha[k] = m->rho[k] * optim_dot(m->s[k], d, dim);
        for (size_t i = 0; i < dim; i++)
            d[i] -= alpha[k] * m->y[k][i];
    }
    size_t last = (m->head + OPTIM_MEMORY - 1) % OPTIM_MEMORY;
    double gamma = 1 / (m->rho[last] * optim_dot(m->y[last], m->y[last], dim));
    for (size_t i = 0; i < dim; i++)
        d[i] *= gamma;
    for (size_t j = m->n; j-- > 0;) {
        size_t k = (m->head + OPTIM_MEMORY - 1 - j) % OPTIM_MEMORY;
        double beta = m->rho[k] * optim_dot(m->y[k], d, dim);
        for (size_t i = 0; i < dim; i++)
            d[i] += (alpha[k] - beta) * m->s[k][i];
    }
}

/* Remember the step from x to xn (gradients g, gn) when it curves upward. */
static void optim_remember(struct optim_mem *m, const double *x, const double *xn,
                           const double *g, const double *gn, size_t dim)
{
    size_t k = m->head;
    for (size_t i = 0; i < dim; i++) {
        m->s[k][i] = xn[i] - x[i];
        m->y[k][i] = gn[i] - g[i];
    }
    double sy = optim_dot(m->s[k], m->y[k], dim);
    if (sy <= 1e-12)
        return;
    m->rho[k] = 1 / sy;
    m->head = (k + 1) % OPTIM_MEMORY;
    m->n += m->n < OPTIM_MEMORY;
}

/* Minimise p's objective from th (updated in place). */
static void optim_minimise(const struct optim *p, double *th)
{
    size_t dim = p->dim;
    struct optim_mem m = {0};
    double *g = xcalloc(dim, sizeof *g), *gn = xcalloc(dim, sizeof *gn);
    double *d = xcalloc(dim, sizeof *d), *xn = xcalloc(dim, sizeof *xn);
    for (size_t k = 0; k < OPTIM_MEMORY; k++) {
        m.s[k] = xcalloc(dim, sizeof *m.s[k]);
        m.y[k] = xcalloc(dim, sizeof *m.y[k]);
    }
    double f = optim_loss(p, th, g);
    int slow = 0;
    for (int it = 0; it < OPTIM_MAX_ITER; it++) {
        optim_direction(&m, g, d, dim);
        double gd = optim_dot(g, d, dim), step = 1, fn = f;
        if (gd >= 0)
            break;
        for (int ls = 0; ls < 40; ls++, step /= 2) {
            for (size_t i = 0; i < dim; i++)
                xn[i] = th[i] + step * d[i];
            fn = optim_loss(p, xn, gn);
            if (fn <= f + OPTIM_ARMIJO * step * gd)
                break;
        }
        if (fn > f)
            break;
        optim_remember(&m, th, xn, g, gn, dim);
        memcpy(th, xn, dim * sizeof *th);
        memcpy(g, gn, dim * sizeof *g);
        slow = f - fn < OPTIM_TOL * (fabs(f) > 1 ? fabs(f) : 1) ? slow + 1 : 0;
        f = fn;
        if (slow == OPTIM_SLOW)
            break;
    }
    for (size_t k = 0; k < OPTIM_MEMORY; k++) {
        free(m.s[k]);
        free(m.y[k]);
    }
    free(g);
    free(gn);
    free(d);
    free(xn);
}

void cli_optim_fit(struct cli_train *m, const struct cli_train_rows *tr, const size_t *label,
                   const size_t *idx, size_t n, double lambda, const unsigned char *keep)
{
    struct optim p = {tr, label, idx, n, m->nlabels, m->nfeat, m->nlabels * m->nfeat,
                      lambda, xcalloc(m->nlabels + 1, sizeof(double)), keep};
    for (size_t k = 0; keep && k < p.dim; k++)
        m->w[k] = keep[k] ? m->w[k] : 0;
    optim_minimise(&p, m->w);
    free(p.s);
}

/* Share of rows idx[0..n) that m routes to their label as the router
 * would: the best score, when above 0. */
static double optim_accuracy(const struct cli_train *m, const struct cli_train_rows *tr,
                             const size_t *label, const size_t *idx, size_t n)
{
    struct optim p = {tr, label, idx, n, m->nlabels, m->nfeat, 0, 0, NULL, NULL};
    double *s = xcalloc(m->nlabels + 1, sizeof *s);
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        optim_scores(&p, m->w, idx[i], s);
        size_t best = m->nlabels;
        double top = 0;
        for (size_t l = 0; l < m->nlabels; l++)
            if (s[l] > top) {
                top = s[l];
                best = l;
            }
        ok += best == label[idx[i]];
    }
    free(s);
    return n ? (double)ok / (double)n : 0;
}

double cli_optim_choose(struct cli_train *m, const struct cli_train_rows *tr,
                        const size_t *label, const double *grid, size_t ngrid)
{
    size_t n = tr->nrows, *fit = xcalloc(n + 1, sizeof *fit), *hold = xcalloc(n + 1, sizeof *hold);
    size_t nfit = 0, nhold = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % OPTIM_HOLD == OPTIM_HOLD - 1)
            hold[nhold++] = i;
        else
            fit[nfit++] = i;
    }
    double best = grid[0], top = -1;
    for (size_t k = 0; k < ngrid; k++) {  /* strongest first, each warm-starting the next */
        cli_optim_fit(m, tr, label, fit, nfit, grid[k], NULL);
        double acc = optim_accuracy(m, tr, label, hold, nhold);
        if (acc > top) {
            top = acc;
            best = grid[k];
        }
    }
    memset(m->w, 0, m->nlabels * m->nfeat * sizeof *m->w);
    free(fit);
    free(hold);
    return best;
}
