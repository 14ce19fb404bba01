/* cli_rules_impl.h: what the files of `minyi rules` share (private to
 * cli_rules.c, cli_rules_eval.c and cli_rules_learn.c; nobody else includes
 * it).  The public entry point is cli_rules() in cli_rules.h. */
#ifndef MINYI_CLI_RULES_IMPL_H
#define MINYI_CLI_RULES_IMPL_H
#include <stddef.h>

struct cli;
struct config;
struct rules;
struct classify;

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

/* `rules learn --from-archive`: the archive's handled reports, labelled by
 * the category of their final committee (see cli_rules_history.c), written
 * to a temporary JSON Lines file with field "category".  Returns 0 and its
 * *path (caller unlinks and frees), or CLI_EXIT_FAIL / _TIMEOUT after
 * printing why. */
int cli_rules_history(struct cli *c, const struct rules *base, char **path);

#endif
