/* cli_rules_impl.h: what the files of `minyi rules` share (private to
 * cli_rules.c, cli_rules_eval.c and cli_rules_learn.c; nobody else includes
 * it).  The public entry point is cli_rules() in cli_rules.h. */
#ifndef MINYI_CLI_RULES_IMPL_H
#define MINYI_CLI_RULES_IMPL_H
#include <stddef.h>
#include <stdint.h>

struct cli;
struct config;
struct rules;
struct classify;
struct cJSON;

/* One labelled row of a JSON Lines file: strings owned by the row set. */
struct cli_rules_row {
    char *id;                     /* "id" of the row, else "line N" */
    char *title, *body;           /* "" when absent */
    char *label;                  /* the label field's value */
};

struct cli_rules_rows {
    struct cli_rules_row *v;
    size_t n;
    size_t unlabelled;            /* rows without the label field (skipped) */
    size_t bad;                   /* lines that are not a JSON object (skipped) */
};

/* Read every row of `path` ("-": stdin) that carries `label_field` as a
 * string.  Returns 0 (warnings for skipped rows printed on stderr), or
 * CLI_EXIT_FAIL after printing "minyi: CMD: PATH: why". */
int cli_rules_read_rows(const struct cli *c, const char *path, const char *label_field,
                        struct cli_rules_rows *rows);
/* Free the rows and reset *rows. */
void cli_rules_rows_free(struct cli_rules_rows *rows);

/* Load and compile `path` (NULL: cfg->rules_path).  Returns 0 with *r and *cl
 * (caller frees with classify_free then rules_free), or CLI_EXIT_FAIL after
 * printing every error on stderr. */
int cli_rules_open(const struct cli *c, const struct config *cfg, const char *path,
                   struct rules **r, struct classify **cl);

/* `minyi rules eval ...` and `minyi rules learn ...`: argv[0] is the verb,
 * c->cmd already "rules eval" / "rules learn".  Return the exit status. */
int cli_rules_eval(struct cli *c, const struct config *cfg, int argc, char **argv);
int cli_rules_learn(struct cli *c, const struct config *cfg, int argc, char **argv);

/* Call visit(gram, len, arg) for every n-gram of 2-4 consecutive Han
 * characters of the BMP (U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF) in text:
 * what learned patterns are made of.  gram points into text, len is in
 * bytes; in order of where the n-gram ends, the shortest first. */
void cli_rules_han_grams(const char *text, void (*visit)(const char *gram, size_t len, void *arg),
                         void *arg);

/* Route every row with cl: an owned array of owned strings, one per row,
 * the category of the best tag or "unrouted" (free with
 * cli_rules_predicted_free); ntags (may be NULL; rows->n entries) gets the
 * number of tags of each row. */
char **cli_rules_predict(const struct classify *cl, const struct cli_rules_rows *rows,
                         size_t *ntags);
void cli_rules_predicted_free(char **predicted, size_t n);

/* Accuracy, macro-F1 and unrouted share of predicted (cli_rules_predict)
 * against the rows' labels. */
void cli_rules_score(const struct cli_rules_rows *rows, char **predicted, double *accuracy,
                     double *macro_f1, double *unrouted);

/* Options of `rules learn` (also used by `rules eval --folds`). */
struct cli_rules_learn_opts {
    long top;                     /* candidate n-grams per label */
    long max_patterns;            /* patterns per learned topic at most */
    long min_df;                  /* rows a pattern must occur in, at least */
    int quiet;                    /* 1: no warnings on stderr */
};

/* Parse --top, --max-patterns and --min-df (NULL: the defaults 400, 500
 * and 5) into *o.  0, or CLI_EXIT_USAGE after printing why. */
int cli_rules_learn_opts_parse(struct cli *c, const char *top, const char *maxp,
                               const char *mindf, struct cli_rules_learn_opts *o);

/* Learn topics from rows (labels must be categories of base, which gives
 * the committees and settings; merge, when not NULL, is a rules file whose
 * topics other than earlier learned-* ones are kept).  Returns the rules
 * file as a cJSON object (caller deletes), or NULL after printing why.
 * `from` and `field` are named in the file's comments. */
struct cJSON *cli_rules_learn_json(const struct cli *c, const struct rules *base,
                                   const char *merge, const struct cli_rules_rows *rows,
                                   const char *from, const char *field,
                                   const struct cli_rules_learn_opts *o);

/* `rules eval --folds K`: cross-validate learning on rows (base gives the
 * organisation); prints the figures.  Returns the exit status. */
int cli_rules_folds(struct cli *c, const struct rules *base, const struct cli_rules_rows *rows,
                    long k, const char *file, const char *field,
                    const struct cli_rules_learn_opts *o);

/* A linear model over literal features (cli_rules_train.c): w is nlabels x
 * nfeat (row-major); owned, freed by cli_train_free. */
struct cli_train {
    size_t nlabels, nfeat;
    double *w;
};
/* Train m on rows (label[i] is row i's label, < nlabels) with the
 * features feat[0..nfeat) (Han literals, borrowed), scored as the router
 * scores a literal pattern with this title weight; each label keeps at
 * most max_patterns non-zero weights.  Deterministic. */
void cli_train_fit(struct cli_train *m, const char *const *feat, size_t nfeat,
                   const struct cli_rules_rows *rows, const size_t *label, size_t nlabels,
                   double title_weight, size_t max_patterns);
/* Free m's arrays and zero it. */
void cli_train_free(struct cli_train *m);

/* The features of every row, as compressed sparse rows: row r's features
 * are feat[start[r]..start[r+1]) with values val[...]. */
struct cli_train_rows {
    size_t *start;                    /* nrows + 1 */
    uint32_t *feat;
    float *val;
    size_t n, cap, nrows;
};
/* Fit m's weights (nlabels, nfeat set, w allocated) on rows idx[0..n) of
 * tr with regulariser lambda, starting from m->w; a weight whose keep[] is
 * 0 is held at 0 (keep NULL: none is) (cli_rules_optim.c). */
void cli_optim_fit(struct cli_train *m, const struct cli_train_rows *tr, const size_t *label,
                   const size_t *idx, size_t n, double lambda, const unsigned char *keep);
/* The regulariser of grid[0..ngrid) (strongest first) whose fit on four
 * fifths of tr's rows routes the other fifth best; m->w is scratch, left
 * at 0. */
double cli_optim_choose(struct cli_train *m, const struct cli_train_rows *tr,
                        const size_t *label, const double *grid, size_t ngrid);

/* `rules learn --from-archive`: the archive's handled reports, labelled by
 * the category of their final committee (see cli_rules_history.c), written
 * to a temporary JSON Lines file with field "category".  Returns 0 and its
 * *path (caller unlinks and frees), or CLI_EXIT_FAIL / _TIMEOUT after
 * printing why. */
int cli_rules_history(struct cli *c, const struct rules *base, char **path);

#endif
