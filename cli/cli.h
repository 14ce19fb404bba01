/* cli: what the files of the `minyi` command share, and nothing else.
 *
 *   cli.c           arguments, config + bus, requests to the daemons, JSON bits
 *   cli_text.c      pure text helpers: display width, truncation, CSV/HTML
 *                   escaping, RFC 3339 times, ages
 *   cli_table.c     aligned tables for people (CJK-aware)
 *   cli_audit_html.c  the audit as one self-contained HTML page
 *   cli_*.c         one file per subcommand family; each entry point below
 *                   takes argv with argv[0] = the subcommand name and returns
 *                   the exit status of SPEC.md.
 *
 * Every failure is one line on stderr, "minyi: WHAT: WHY".  Nothing here
 * calls exit(); main() in minyi.c returns what the subcommand returned.
 */
#ifndef MINYI_CLI_H
#define MINYI_CLI_H
#include "proto.h"
#include <stddef.h>
#include <stdio.h>
#include <time.h>

struct cJSON;
struct config;
struct bus;

/* Exit statuses of SPEC.md. */
enum cli_exit {
    CLI_EXIT_OK = 0,              /* done */
    CLI_EXIT_FAIL = 1,            /* the request failed or was refused */
    CLI_EXIT_USAGE = 2,           /* usage error */
    CLI_EXIT_TIMEOUT = 3,         /* a daemon did not answer in time */
};

/* One run of the command.  Strings are borrowed from argv / the environment. */
struct cli {
    const char *cmd;              /* "pull": the WHAT of error lines */
    const char *usage;            /* "pull COMMITTEE [--limit N] ..." */
    const char *formats;          /* allowed --format values, "table json" */
    const char *config_path;      /* -c FILE, or NULL ($MINYI_CONFIG, default) */
    const char *state_dir;        /* --state-dir DIR, or NULL ($MINYI_STATE_DIR) */
    const char *format;           /* --format, default "table" */
    const char *who;              /* --who, default $USER, else "clerk" */
    int who_given;                /* --who was given: every request names it */
    const char *key;              /* --key FILE, default $MINYI_KEY: the CURVE key
                                     pair used on tcp:// endpoints (NULL: none) */
    struct config *cfg;           /* after cli_open; owned */
    struct bus *bus;              /* after cli_open; owned */
};

/* An option of a subcommand.  `value` receives the option's argument
 * (borrowed from argv), or "1" for an option without one. */
struct cli_opt {
    const char *name;             /* long name without "--": "limit" */
    char shortname;               /* 'o', or 0 */
    int has_arg;
    const char **value;
};

#define CLI_ARGS_HELP (-2)

/* Parse argv[1..argc) against `opts` (terminated by a {NULL} entry, may be
 * NULL) plus the common options -c/--config, --state-dir, --format, --who,
 * -h/--help, which are stored in c, with getopt_long (so "--limit=5",
 * "--limit 5", "-c FILE", "-cFILE" and unambiguous abbreviations of long
 * names all work).  Options and operands may be mixed; "--" ends the
 * options; "-" is an operand.  Operands go to pos[] (borrowed).
 * Returns their number; CLI_ARGS_HELP after -h (nothing printed); -1 after
 * printing "minyi: CMD: WHY" and the usage line (a usage error) -- also when
 * the operands are fewer than minpos or more than maxpos, or --format is not
 * one of c->formats. */
int cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
             char **pos, int minpos, int maxpos);
/* For a negative cli_args result: after -h print the usage on stdout and
 * return CLI_EXIT_OK, otherwise return CLI_EXIT_USAGE (already printed). */
int cli_args_done(const struct cli *c, int n);
/* Print "usage: minyi USAGE" (c->usage) on f. */
void cli_usage(const struct cli *c, FILE *f);

/* Load the config (c->config_path, c->state_dir) and open the bus; when
 * the config has tcp:// endpoints with CURVE and a key is given (c->key),
 * the bus uses it with the server's public key (the config's
 * "server_public_key", else the .pub file beside "server_key").  Returns 0,
 * or CLI_EXIT_FAIL after printing "minyi: config: ERR" (or "minyi: key: ERR"). */
int cli_open(struct cli *c);
/* Free what cli_open made. NULL-safe, idempotent. */
void cli_close(struct cli *c);

/* Print "minyi: CMD: " + the formatted text + newline on stderr; returns
 * CLI_EXIT_FAIL so callers can `return cli_fail(...)`. */
int cli_fail(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The number option --name given as s (NULL: def) when it is a whole number
 * from lo to hi; otherwise a usage error is printed and -1 returned. */
long cli_opt_num(const struct cli *c, const char *name, const char *s, long def, long lo,
                 long hi);
/* Same as cli_fail, but for a usage problem: also prints the usage line;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Send request q to `endpoint` (proto_call) and wait up to timeout_ms.
 * Returns 0 and the reply in *reply (a JSON object without "v"; caller
 * deletes), or -1: errno ETIMEDOUT when nobody answered, EPROTO when the
 * answer does not decode (proto_reply_decode). */
int cli_call(struct cli *c, const char *endpoint, const struct proto_request *q,
             long timeout_ms, struct cJSON **reply);
/* The same for a submit request: report[0..len) is the member's JSON. */
int cli_call_submit(struct cli *c, const char *report, size_t len, struct cJSON **reply);
/* One query to the archiver (c->cfg->ep.query, the configured timeout):
 * sends q (borrowed).  Returns CLI_EXIT_OK and an {"ok": true} reply in
 * *reply (caller deletes); otherwise prints "minyi: CMD: CODE: DETAIL" (a
 * refusal, CLI_EXIT_FAIL) or "minyi: CMD: archiver did not answer in time
 * (...)" (CLI_EXIT_TIMEOUT) and sets *reply = NULL. */
int cli_query(struct cli *c, const struct proto_request *q, struct cJSON **reply);
/* The timeout line for `daemon`; returns CLI_EXIT_TIMEOUT. */
int cli_timeout(const struct cli *c, const char *daemon);

/* The string member `key` of obj, or def when absent / not a string. */
const char *cli_json_str(const struct cJSON *obj, const char *key, const char *def);
/* The number member `key` of obj, or def. */
double cli_json_num(const struct cJSON *obj, const char *key, double def);
/* A JSON scalar as text for tables and CSV: strings as they are, integral
 * numbers without decimals, others with up to 2 decimals, true/false, ""
 * for null or absent.  Returns v's string or buf (size n). */
const char *cli_json_text(const struct cJSON *v, char *buf, size_t n);
/* Print obj on one line followed by "\n" (JSON Lines). */
void cli_print_json(FILE *f, const struct cJSON *obj);
/* Under --format json: each element of items on stdout as a JSON line, and
 * 1 (printed); otherwise 0, the caller prints its table. */
int cli_print_json_lines(const struct cli *c, const struct cJSON *items);

/* Columns of the terminal on stdout; $COLUMNS when it is not a terminal;
 * 0 (no limit) when neither is known. */
size_t cli_columns(void);

/* --- cli_text.c: pure helpers (unit-tested) --- */

/* Display columns of UTF-8 s: East Asian wide and fullwidth characters
 * count 2, combining marks and controls 0, others 1; an invalid byte 1. */
size_t cli_text_width(const char *s);
/* The longest prefix of s (whole characters) that fits in `cols` columns;
 * when s had to be cut the copy ends with "…" (within cols).  Caller frees. */
char *cli_text_truncate(const char *s, size_t cols);
/* A copy of s with every control character (newline, tab, ...) turned into
 * one space, for one-line table cells.  Caller frees. */
char *cli_text_oneline(const char *s);
/* s as one RFC 4180 CSV field: quoted (inner quotes doubled) when it holds a
 * comma, quote, CR or LF, or starts/ends with a space.  Caller frees. */
char *cli_text_csv(const char *s);
/* s with & < > " ' escaped for HTML text and attributes.  Caller frees. */
char *cli_text_html(const char *s);
/* Parse RFC 3339 ("2026-11-23T06:31:24.512+08:00", "...Z") into *t.
 * Returns 0, or -1 when s is not such a time. */
int cli_text_time(const char *s, time_t *t);
/* A short age for people: "42s", "17m", "5h", "3d"; negative -> "0s". */
void cli_text_age(long seconds, char *buf, size_t n);
/* 1 if s is a month "YYYY-MM" (01-12), else 0. */
int cli_text_month(const char *s);

/* --- cli_table.c: aligned tables --- */

struct cli_table;
/* A table with ncols columns and these headers (copied).  Never NULL;
 * free with cli_table_free. */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Free *t; sets *t = NULL. NULL-safe. */
void cli_table_free(struct cli_table **t);
/* Right-align column col (numbers). */
void cli_table_right(struct cli_table *t, size_t col);
/* Append a row of ncols cells (copied, made one-line; NULL is ""). */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* Number of rows added. */
size_t cli_table_rows(const struct cli_table *t);
/* Print headers and rows, columns two spaces apart and aligned by display
 * width.  maxcols > 0: the last column is truncated so each line fits. */
void cli_table_print(const struct cli_table *t, FILE *f, size_t maxcols);

/* --- subcommands: argv[0] is the subcommand; return the exit status --- */

int cli_up(struct cli *c, int argc, char **argv);       /* cli_up.c */
int cli_submit(struct cli *c, int argc, char **argv);   /* cli_submit.c */
int cli_import(struct cli *c, int argc, char **argv);   /* cli_submit.c */
int cli_pull(struct cli *c, int argc, char **argv);     /* cli_queue.c */
int cli_queue(struct cli *c, int argc, char **argv);    /* cli_queue.c */
int cli_ack(struct cli *c, int argc, char **argv);      /* cli_queue.c */
int cli_release(struct cli *c, int argc, char **argv);  /* cli_queue.c */
int cli_reassign(struct cli *c, int argc, char **argv); /* cli_queue.c */
int cli_show(struct cli *c, int argc, char **argv);     /* cli_queue.c */
int cli_audit(struct cli *c, int argc, char **argv);    /* cli_audit.c */
int cli_status(struct cli *c, int argc, char **argv);   /* cli_status.c */
int cli_overdue(struct cli *c, int argc, char **argv);  /* cli_supervise.c */
int cli_mine(struct cli *c, int argc, char **argv);     /* cli_supervise.c */
int cli_check(struct cli *c, int argc, char **argv);    /* cli_status.c */
int cli_metrics(struct cli *c, int argc, char **argv);  /* cli_metrics.c */
int cli_backup(struct cli *c, int argc, char **argv);   /* cli_backup.c */
int cli_restore(struct cli *c, int argc, char **argv);  /* cli_backup.c */
int cli_passwd(struct cli *c, int argc, char **argv);   /* cli_passwd.c */
int cli_keys(struct cli *c, int argc, char **argv);     /* cli_keys.c */

/* cli_audit_html.c: write the audit object (borrowed) as one self-contained
 * HTML page (inline CSS and SVG, no scripts) to f; `organisation` is used
 * when the audit does not name one.  Returns 0, or -1 if writing failed. */
int cli_audit_html(FILE *f, const struct cJSON *audit, const char *organisation);

#endif
