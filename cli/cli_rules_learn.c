/* cli_rules_learn.c: `minyi rules learn` -- learn a complete rules file
 * with one topic per label from labelled JSON Lines (the command around it:
 * cli_rules_learn_cmd.c).
 *
 * Method (deterministic: same input, same output):
 *   - features: n-grams of 2-4 consecutive Han characters (BMP: U+3400-4DBF,
 *     U+4E00-9FFF, U+F900-FAFF) inside the title or the body, counted once
 *     per row (document frequency); an n-gram must occur in at least
 *     --min-df rows (default 5: no name or address of one writer becomes a
 *     rule) and must not begin or end with a function character (的 了 是
 *     在 和 ...: "的房" and "了学" are fragments, not words);
 *   - candidates: for each label L, the top --top n-grams by chi-square of
 *     the 2x2 table (g, L), only when g is positively associated with L
 *     (ties: the longer, then byte order); a candidate gives way to the
 *     longest n-gram containing it that scores at least LEARN_CLOSE of it,
 *     and is skipped when it contains an already chosen n-gram, is
 *     contained in one it scores close to, or is a window of 3-4 characters
 *     sharing all but one character with a chosen one;
 *   - weights: every label gets a weight for every candidate of every
 *     label, trained jointly (cli_rules_train.c: regularised logistic
 *     regression on exactly the router's scoring), so a word of one label
 *     is negative evidence for the others; each topic keeps its
 *     --max-patterns heaviest (by size), scaled so the largest of the file
 *     is LEARN_SCALE, two decimals; weights below LEARN_PRUNE of the
 *     largest are dropped.
 * To bound memory on large files, when the table passes LEARN_MAX_GRAMS the
 * rarest n-grams are pruned (a deterministic lossy count).
 *
 * Committees, categories, triage and the title weight come from the
 * configured rules file (or --rules); --merge FILE keeps that file's topics
 * except earlier "learned-*" ones and appends the new ones. */
#include "cli.h"
#include "cli_rules_impl.h"
#include "hash.h"
#include "htable.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LEARN_MIN_LABEL_DF 2        /* rows of the label itself holding the n-gram */
#define LEARN_CLOSE 0.8
#define LEARN_PRUNE 0.001            /* of the largest weight: smaller ones dropped */
#define LEARN_SCALE 5.0              /* the largest weight of the file */
#define LEARN_TAG_RATIO 0.5          /* a learned file's tag threshold and cap */
#define LEARN_MAX_TAGS 3
#define LEARN_MAX_GRAMS (1u << 21)
#define LEARN_KEY_MAX 12              /* 4 characters of 3 bytes */
#define LEARN_MAX_LABELS 256

struct learn_gram {
    struct htable_node hn;            /* in learn.tab, by the key's FNV-1a */
    char key[LEARN_KEY_MAX];
    uint8_t len;
    uint32_t df, last_row;            /* last_row: row index + 1 */
};

struct learn {
    size_t nlabels;
    char **labels;                    /* sorted unique, borrowed from the rows */
    size_t *rows_of;                  /* rows per label */
    size_t *label_of;                 /* per row: its label */
    struct learn_gram *g;
    uint32_t *counts;                 /* ngrams x nlabels document frequencies */
    size_t n, cap;
    struct htable tab;                /* the n-grams by key; rebuilt when g moves */
    uint32_t min_df;                  /* raised by pruning */
};

struct learn_cand {
    size_t gram;
    double score;
};

static uint64_t learn_fnv(const char *s, size_t n)
{
    return hash_fnv1a(HASH_FNV_OFFSET, s, n);
}

/* The table anew over g[0..n), after g moved (grown or compacted): each
 * node keeps its hash, so nothing is hashed again. */
static void learn_reindex(struct learn *l)
{
    htable_fini(&l->tab);
    htable_init(&l->tab, 2 * l->n);
    for (size_t i = 0; i < l->n; i++)
        htable_insert(&l->tab, &l->g[i].hn, l->g[i].hn.hash);
}

struct learn_key {
    const char *s;
    size_t n;
};

static int learn_eq(const struct htable_node *hn, const void *key)
{
    const struct learn_gram *g = htable_entry(hn, const struct learn_gram, hn);
    const struct learn_key *k = key;
    return g->len == k->n && !memcmp(g->key, k->s, k->n);
}

/* Drop n-grams seen in fewer than min_df rows, raising min_df until the
 * table is at most half full. */
static void learn_prune(struct learn *l)
{
    while (l->n > LEARN_MAX_GRAMS / 2) {
        size_t k = 0;
        l->min_df++;
        for (size_t i = 0; i < l->n; i++) {
            if (l->g[i].df < l->min_df)
                continue;
            l->g[k] = l->g[i];
            memmove(l->counts + k * l->nlabels, l->counts + i * l->nlabels,
                    l->nlabels * sizeof *l->counts);
            k++;
        }
        l->n = k;
    }
    learn_reindex(l);
}

/* Count n-gram s[0..n) once for row `row` of label `label`. */
static void learn_add(struct learn *l, const char *s, size_t n, size_t row, size_t label)
{
    uint64_t h = learn_fnv(s, n);
    struct learn_key k = {s, n};
    struct htable_node *hn = htable_find(&l->tab, h, learn_eq, &k);
    if (hn) {
        struct learn_gram *g = htable_entry(hn, struct learn_gram, hn);
        if (g->last_row != row + 1) {
            g->last_row = (uint32_t)row + 1;
            g->df++;
            l->counts[(size_t)(g - l->g) * l->nlabels + label]++;
        }
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4096;
        l->g = xrealloc(l->g, l->cap * sizeof *l->g);
        l->counts = xrealloc(l->counts, l->cap * l->nlabels * sizeof *l->counts);
        learn_reindex(l);
    }
    struct learn_gram *g = &l->g[l->n];
    memcpy(g->key, s, n);
    g->len = (uint8_t)n;
    g->df = 1;
    g->last_row = (uint32_t)row + 1;
    memset(l->counts + l->n * l->nlabels, 0, l->nlabels * sizeof *l->counts);
    l->counts[l->n * l->nlabels + label] = 1;
    htable_insert(&l->tab, &g->hn, h);
    if (++l->n >= LEARN_MAX_GRAMS)
        learn_prune(l);
}

/* 1 if s[0..2] (left bytes available) is one Han character of the BMP. */
static int learn_is_han(const unsigned char *s, size_t left)
{
    if (left < 3 || (s[0] & 0xF0) != 0xE0 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
        return 0;
    unsigned cp = (s[0] & 0x0Fu) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3Fu);
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF);
}

void cli_rules_han_grams(const char *text, void (*visit)(const char *gram, size_t len, void *arg),
                         void *arg)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), run = 0;
    for (size_t i = 0; i < len;) {
        if (!learn_is_han(s + i, len - i)) {
            run = 0;
            i++;
            continue;
        }
        run++;
        for (size_t n = 2; n <= 4 && n <= run; n++)
            visit(text + i - 3 * (n - 1), 3 * n, arg);
        i += 3;
    }
}

/* Where learn_text's n-grams are counted. */
struct learn_row {
    struct learn *l;
    size_t row, label;
};

static void learn_visit(const char *gram, size_t len, void *arg)
{
    struct learn_row *r = arg;
    learn_add(r->l, gram, len, r->row, r->label);
}

/* Every 2-4 character n-gram of the Han runs of text. */
static void learn_text(struct learn *l, const char *text, size_t row, size_t label)
{
    struct learn_row r = {l, row, label};
    cli_rules_han_grams(text, learn_visit, &r);
}

static int learn_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Labels (sorted unique) and the counts of every row.  -1 when there are
 * more than LEARN_MAX_LABELS labels (not a category field). */
static int learn_count(struct learn *l, const struct cli_rules_rows *rows)
{
    l->labels = xcalloc(rows->n + 1, sizeof *l->labels);
    for (size_t i = 0; i < rows->n; i++)
        l->labels[i] = rows->v[i].label;
    qsort(l->labels, rows->n, sizeof *l->labels, learn_cmp_str);
    for (size_t i = 0; i < rows->n; i++)
        if (l->nlabels == 0 || strcmp(l->labels[l->nlabels - 1], l->labels[i]))
            l->labels[l->nlabels++] = l->labels[i];
    if (l->nlabels > LEARN_MAX_LABELS)
        return -1;
    l->rows_of = xcalloc(l->nlabels + 1, sizeof *l->rows_of);
    l->label_of = xcalloc(rows->n + 1, sizeof *l->label_of);
    l->min_df = 1;
    htable_init(&l->tab, 1u << 16);
    for (size_t i = 0; i < rows->n; i++) {
        char **p = bsearch(&rows->v[i].label, l->labels, l->nlabels, sizeof *l->labels,
                           learn_cmp_str);
        size_t label = (size_t)(p - l->labels);
        l->rows_of[label]++;
        l->label_of[i] = label;
        learn_text(l, rows->v[i].title, i, label);
        learn_text(l, rows->v[i].body, i, label);
    }
    return 0;
}

/* 1 if the n-gram begins or ends with a function character: a fragment
 * of a phrase ("的房", "了学"), not a word. */
static int learn_fragment(const struct learn_gram *g)
{
    static const char fn[] = "的了是在和与及着过吗呢吧啊把被也都就又很从对向给让";
    for (size_t k = 0; k + 3 <= sizeof fn - 1; k += 3)
        if (!memcmp(g->key, fn + k, 3) || !memcmp(g->key + g->len - 3, fn + k, 3))
            return 1;
    return 0;
}

/* Chi-square of n-gram i for label k, or 0 when it does not qualify. */
static double learn_score(const struct learn *l, size_t i, size_t k, double total, long min_df)
{
    double a = l->counts[i * l->nlabels + k], df = l->g[i].df;
    double b = df - a, c = (double)l->rows_of[k] - a, d = total - a - b - c;
    if (df < (double)min_df || a < LEARN_MIN_LABEL_DF || a * d <= b * c)
        return 0;
    double den = (a + b) * (c + d) * (a + c) * (b + d);
    return den > 0 ? total * (a * d - b * c) * (a * d - b * c) / den : 0;
}

static const struct learn *learn_sort_ctx;

static int learn_cmp_cand(const void *x, const void *y)
{
    const struct learn_cand *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    const struct learn_gram *ga = &learn_sort_ctx->g[a->gram], *gb = &learn_sort_ctx->g[b->gram];
    if (ga->len != gb->len)
        return ga->len > gb->len ? -1 : 1;    /* the longer, more specific first */
    return memcmp(ga->key, gb->key, ga->len);
}

/* Candidate i, or the longest n-gram containing it that scores close to it
 * ("红绿灯" rather than "红绿" and "绿灯"). */
static struct learn_cand learn_promote(const struct learn *l, const struct learn_cand *v,
                                       size_t nv, size_t i)
{
    const struct learn_gram *g = &l->g[v[i].gram];
    size_t best = i;
    for (size_t j = 0; j < nv && v[j].score >= LEARN_CLOSE * v[i].score; j++) {
        const struct learn_gram *s = &l->g[v[j].gram];
        if (s->len > l->g[v[best].gram].len && memmem(s->key, s->len, g->key, g->len))
            best = j;
    }
    return v[best];
}

/* 1 if candidate g is redundant with an already chosen n-gram. */
static int learn_redundant(const struct learn *l, const struct learn_cand *chosen,
                           size_t nchosen, const struct learn_cand *cand)
{
    const struct learn_gram *g = &l->g[cand->gram];
    for (size_t j = 0; j < nchosen; j++) {
        const struct learn_gram *c = &l->g[chosen[j].gram];
        if (memmem(g->key, g->len, c->key, c->len))
            return 1;                 /* g contains c: c already matches there */
        if (memmem(c->key, c->len, g->key, g->len) &&
            cand->score >= LEARN_CLOSE * chosen[j].score)
            return 1;
        if (g->len >= 9 && (memmem(c->key, c->len, g->key + 3, g->len - 3) ||
                            memmem(c->key, c->len, g->key, g->len - 3)))
            return 1;                 /* a shifted window of c ("于噪音扰" of "噪音扰民") */
    }
    return 0;
}

/* Add the candidates of label k (n-gram indexes) to feat, unless already
 * there (in[gram] marks them).  Returns the new count. */
static size_t learn_candidates(const struct learn *l, size_t k, size_t total,
                               const struct cli_rules_learn_opts *o, size_t *feat, size_t nfeat,
                               unsigned char *in)
{
    struct learn_cand *v = xcalloc(l->n + 1, sizeof *v), *chosen = xcalloc((size_t)o->top, sizeof *v);
    size_t nv = 0, nchosen = 0;
    for (size_t i = 0; i < l->n; i++) {
        double s = learn_fragment(&l->g[i]) ? 0 : learn_score(l, i, k, (double)total, o->min_df);
        if (s > 0)
            v[nv++] = (struct learn_cand){i, s};
    }
    learn_sort_ctx = l;
    qsort(v, nv, sizeof *v, learn_cmp_cand);
    for (size_t i = 0; i < nv && nchosen < (size_t)o->top; i++) {
        struct learn_cand cand = learn_promote(l, v, nv, i);
        if (learn_fragment(&l->g[cand.gram]) || learn_redundant(l, chosen, nchosen, &cand))
            continue;
        chosen[nchosen++] = cand;
        if (!in[cand.gram]++)
            feat[nfeat++] = cand.gram;
    }
    free(v);
    free(chosen);
    return nfeat;
}

/* One learned pattern before it is written. */
struct learn_pat {
    const char *re;
    double w;
};

static int learn_cmp_abs(const void *x, const void *y)
{
    const struct learn_pat *a = x, *b = y;
    if (fabs(a->w) != fabs(b->w))
        return fabs(a->w) > fabs(b->w) ? -1 : 1;
    return strcmp(a->re, b->re);
}

static int learn_cmp_w(const void *x, const void *y)
{
    const struct learn_pat *a = x, *b = y;
    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    return strcmp(a->re, b->re);
}

/* The largest weight of the model (its scale). */
static double learn_wmax(const struct cli_train *m)
{
    double max = 0;
    for (size_t k = 0; k < m->nlabels * m->nfeat; k++)
        max = fabs(m->w[k]) > max ? fabs(m->w[k]) : max;
    return max > 0 ? max : 1;
}

/* Label k's patterns, heaviest first: the --max-patterns largest weights
 * (by size) above the prune line, scaled, as a JSON array. */
static cJSON *learn_patterns(const struct cli_train *m, size_t k, const char *const *feat,
                             const struct cli_rules_learn_opts *o, size_t *npos, size_t *nneg)
{
    double scale = LEARN_SCALE / learn_wmax(m);
    struct learn_pat *v = xcalloc(m->nfeat + 1, sizeof *v);
    size_t n = 0;
    for (size_t f = 0; f < m->nfeat; f++) {
        double w = round(100 * scale * m->w[k * m->nfeat + f]) / 100;
        if (fabs(w) >= LEARN_PRUNE * LEARN_SCALE && w != 0)
            v[n++] = (struct learn_pat){feat[f], w};
    }
    qsort(v, n, sizeof *v, learn_cmp_abs);
    n = n < (size_t)o->max_patterns ? n : (size_t)o->max_patterns;
    qsort(v, n, sizeof *v, learn_cmp_w);
    cJSON *arr = cJSON_CreateArray();
    *npos = *nneg = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "re", v[i].re);
        cJSON_AddNumberToObject(p, "w", v[i].w);
        cJSON_AddItemToArray(arr, p);
        *(v[i].w > 0 ? npos : nneg) += 1;
    }
    free(v);
    return arr;
}

/* The n-gram strings of the candidates (owned array of owned strings). */
static char **learn_feat_strings(const struct learn *l, const size_t *feat, size_t nfeat)
{
    char **s = xcalloc(nfeat + 1, sizeof *s);
    for (size_t f = 0; f < nfeat; f++) {
        const struct learn_gram *g = &l->g[feat[f]];
        s[f] = xmalloc(g->len + 1u);
        memcpy(s[f], g->key, g->len);
        s[f][g->len] = '\0';
    }
    return s;
}

/* One learned topic for label k with its patterns. */
static cJSON *learn_topic(const struct learn *l, size_t k, const char *cm, cJSON *pats,
                          size_t npos, size_t nneg, size_t total, size_t id)
{
    cJSON *t = cJSON_CreateObject();
    char sid[32];
    snprintf(sid, sizeof sid, "learned-%zu", id);
    char *note = xasprintf("learned by `minyi rules learn` from %zu of %zu labelled messages "
                           "(label %s): %zu patterns raise its score, %zu lower it; weights "
                           "trained jointly with the other learned topics", l->rows_of[k], total,
                           l->labels[k], npos, nneg);
    cJSON_AddStringToObject(t, "id", sid);
    cJSON_AddStringToObject(t, "name", l->labels[k]);
    cJSON_AddStringToObject(t, "comment", note);
    cJSON_AddStringToObject(t, "category", l->labels[k]);
    cJSON_AddStringToObject(t, "committee", cm);
    cJSON_AddItemToObject(t, "patterns", pats);
    free(note);
    return t;
}

/* The learned topics, one per label that is a category with a committee. */
static cJSON *learn_topics(const struct cli *c, const struct learn *l, const struct rules *base,
                           const struct cli_rules_rows *rows, const struct cli_rules_learn_opts *o)
{
    size_t *feat = xcalloc(l->n + 1, sizeof *feat), nfeat = 0;
    unsigned char *in = xcalloc(l->n + 1, 1);
    for (size_t k = 0; k < l->nlabels; k++)
        nfeat = learn_candidates(l, k, rows->n, o, feat, nfeat, in);
    char **fs = learn_feat_strings(l, feat, nfeat);
    struct cli_train m = {0};
    cli_train_fit(&m, (const char *const *)fs, nfeat, rows, l->label_of, l->nlabels,
                  base->title_weight, (size_t)o->max_patterns);
    cJSON *topics = cJSON_CreateArray();
    for (size_t k = 0; k < l->nlabels; k++) {
        const char *cm = rules_category_committee(base, l->labels[k]);
        size_t npos, nneg;
        if (!cm) {
            if (!o->quiet)
                fprintf(stderr, "minyi: %s: warning: label %s is not a category with a "
                        "committee in %s, skipped\n", c->cmd, l->labels[k], base->path);
            continue;
        }
        cJSON *pats = learn_patterns(&m, k, (const char *const *)fs, o, &npos, &nneg);
        if (npos == 0) {
            if (!o->quiet)
                fprintf(stderr, "minyi: %s: warning: label %s: no discriminative n-grams "
                        "(%zu rows)\n", c->cmd, l->labels[k], l->rows_of[k]);
            cJSON_Delete(pats);
            continue;
        }
        cJSON_AddItemToArray(topics, learn_topic(l, k, cm, pats, npos, nneg, rows->n,
                                                 (size_t)cJSON_GetArraySize(topics) + 1));
    }
    for (size_t f = 0; f < nfeat; f++)
        free(fs[f]);
    free(fs);
    free(feat);
    free(in);
    cli_train_free(&m);
    return topics;
}

/* A rules file object holding base's committees, categories and settings. */
static cJSON *learn_skeleton(const struct rules *base, const char *from, const char *field)
{
    cJSON *o = cJSON_CreateObject(), *cms = cJSON_CreateArray(), *cats = cJSON_CreateObject();
    char *desc = xasprintf("learned by `minyi rules learn` from %s (label field \"%s\"); "
                           "committees and categories from %s", from, field, base->path);
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "description", desc);
    free(desc);
    cJSON_AddStringToObject(o, "triage", base->triage);
    cJSON_AddNumberToObject(o, "title_weight", base->title_weight);
    cJSON_AddNumberToObject(o, "min_score", 0);       /* any positive score routes */
    cJSON_AddNumberToObject(o, "tag_ratio", LEARN_TAG_RATIO);
    cJSON_AddNumberToObject(o, "max_tags", LEARN_MAX_TAGS);
    for (size_t i = 0; i < base->ncommittees; i++) {
        cJSON *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cm, "id", base->committees[i].id);
        cJSON_AddStringToObject(cm, "name", base->committees[i].name);
        cJSON_AddItemToArray(cms, cm);
    }
    for (size_t i = 0; i < base->ncategories; i++)
        cJSON_AddStringToObject(cats, base->categories[i].name, base->categories[i].committee);
    cJSON_AddItemToObject(o, "committees", cms);
    cJSON_AddItemToObject(o, "categories", cats);
    return o;
}

/* The --merge file as JSON without its earlier learned-* topics, or NULL. */
static cJSON *learn_merge_base(const struct cli *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_fail(c, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&buf, &cap, '\0', f);
    fclose(f);
    cJSON *o = len > 0 ? cJSON_ParseWithLength(buf, (size_t)len) : NULL;
    free(buf);
    cJSON *topics = cJSON_GetObjectItemCaseSensitive(o, "topics");
    for (cJSON *t = topics ? topics->child : NULL, *next; t; t = next) {
        next = t->next;
        const char *id = cli_json_str(t, "id", "");
        if (!strncmp(id, "learned-", 8))
            cJSON_Delete(cJSON_DetachItemViaPointer(topics, t));
    }
    return o;
}

static void learn_free(struct learn *l)
{
    free(l->labels);
    free(l->rows_of);
    free(l->label_of);
    free(l->g);
    free(l->counts);
    htable_fini(&l->tab);
}

cJSON *cli_rules_learn_json(const struct cli *c, const struct rules *base, const char *merge,
                            const struct cli_rules_rows *rows, const char *from,
                            const char *field, const struct cli_rules_learn_opts *o)
{
    struct learn l = {0};
    cJSON *out = merge ? learn_merge_base(c, merge) : learn_skeleton(base, from, field);
    if (!out)
        return NULL;
    if (learn_count(&l, rows) < 0) {
        cli_fail(c, "%s: more than %d distinct values of \"%s\"", from, LEARN_MAX_LABELS, field);
        learn_free(&l);
        cJSON_Delete(out);
        return NULL;
    }
    cJSON *topics = learn_topics(c, &l, base, rows, o), *t;
    cJSON *dst = cJSON_GetObjectItemCaseSensitive(out, "topics");
    if (!dst)
        dst = cJSON_AddArrayToObject(out, "topics");
    while ((t = cJSON_DetachItemFromArray(topics, 0)) != NULL)
        cJSON_AddItemToArray(dst, t);
    cJSON_Delete(topics);
    learn_free(&l);
    return out;
}
