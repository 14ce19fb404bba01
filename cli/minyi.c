/* minyi.c: main() of the one command for people -- finds the subcommand
 * behind the global options, hands it its arguments, and returns its exit
 * status (SPEC.md: 0 done, 1 failed, 2 usage, 3 no answer in time).
 * Each subcommand lives in its own cli_*.c file; `minyi rules` belongs to
 * cli_rules.c. */
#include "cli.h"
#include "cli_rules.h"
#include "log.h"
#include "version.h"
#include "xmalloc.h"
#include <stdlib.h>
#include <string.h>

struct minyi_cmd {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);   /* NULL: rules */
    const char *usage;
    const char *formats;
    const char *summary;
};

static const struct minyi_cmd minyi_cmds[] = {
    {"up", cli_up, "up [--routers N]", "table",
     "start the three daemons, restart one that dies"},
    {"submit", cli_submit, "submit FILE... | -", "table json",
     "send reports to the collector; prints ID<TAB>FILE for each accepted one"},
    {"pull", cli_pull, "pull COMMITTEE [--limit N] [--lease SECONDS]", "table json",
     "lease up to N (10) of the committee's oldest open reports"},
    {"queue", cli_queue, "queue COMMITTEE [--limit N]", "table json",
     "list the committee's open reports, oldest first"},
    {"ack", cli_ack, "ack ID --outcome adopted|forwarded|filed|declined [--note TEXT]",
     "table json", "close a report with an outcome"},
    {"release", cli_release, "release ID", "table json", "give a lease back"},
    {"reassign", cli_reassign, "reassign ID COMMITTEE", "table json",
     "move a report to another committee's queue"},
    {"show", cli_show, "show ID", "table json", "the whole record of a report"},
    {"audit", cli_audit, "audit [--month YYYY-MM] [--format table|csv|json|html] [-o FILE]",
     "table csv json html", "the month's counts against the quotas"},
    {"import", cli_import, "import FILE.jsonl", "table json",
     "load historical reports, each with its own received_at"},
    {"rules", NULL, "rules check | test TEXT | eval FILE.jsonl | learn FILE.jsonl | reload",
     NULL, "check, explain, score, learn or reload the routing rules"},
    {"overdue", cli_overdue, "overdue [COMMITTEE] [--limit N]", "table json",
     "reports past the committee's deadline to take up or to close, oldest first"},
    {"mine", cli_mine, "mine MEMBER [--limit N]", "table json",
     "the member's reports: state, committee, outcome, note, upstream status, points"},
    {"status", cli_status, "status", "table json",
     "each daemon up or down, its counters, the queue depths"},
    {"check", cli_check, "check", "table json",
     "PRAGMA integrity_check of the archive; exit 1 when it is damaged"},
    {"metrics", cli_metrics, "metrics [-o FILE]", "table",
     "every status counter as Prometheus text (FILE: written whole, then renamed)"},
    {"backup", cli_backup, "backup FILE [--timeout SECONDS]", "table json",
     "a consistent copy of the archive, made by the archiver while reports flow"},
    {"passwd", cli_passwd, "passwd NAME [--remove]", "table",
     "set the web password of NAME (a principal of the access file), read from stdin"},
    {"restore", cli_restore, "restore FILE", "table",
     "put a backup in place of the archive (the daemons stopped)"},
    {"keys", cli_keys, "keys server | new NAME ROLE [COMMITTEE...|MEMBER] | list | revoke NAME",
     "table json", "CURVE keys for tcp:// and the principals they stand for"},
};
#define MINYI_NCMDS (sizeof minyi_cmds / sizeof minyi_cmds[0])

static void minyi_help(FILE *f)
{
    fputs("usage: minyi [-c FILE] [--state-dir DIR] COMMAND [ARGS] [--format json] "
          "[--who NAME]\n\ncommands:\n", f);
    for (size_t i = 0; i < MINYI_NCMDS; i++)
        fprintf(f, "  minyi %s\n      %s\n", minyi_cmds[i].usage, minyi_cmds[i].summary);
    fputs("\n  -c FILE          config (default $MINYI_CONFIG, else config/minyi.json)\n"
          "  --state-dir DIR  state directory (default $MINYI_STATE_DIR, else the config's)\n"
          "  --format json    JSON for scripts (JSON Lines for lists); default a table\n"
          "  --who NAME       who pulls, acks, releases, reassigns (default $USER); given,\n"
          "                   every request names it (a gateway acts for NAME)\n"
          "  --key FILE       CURVE key pair for tcp:// endpoints (default $MINYI_KEY)\n"
          "  --version        print the version and exit\n"
          "exit status: 0 done, 1 failed or refused, 2 usage error, 3 a daemon did not "
          "answer in time\n", f);
}

/* 1 if a is a global option that takes its value from the next word. */
static int minyi_takes_value(const char *a)
{
    return !strcmp(a, "-c") || !strcmp(a, "--config") || !strcmp(a, "--state-dir") ||
           !strcmp(a, "--format") || !strcmp(a, "--who") || !strcmp(a, "--key");
}

/* Index of the subcommand in argv (skipping global options), or argc. */
static int minyi_find_command(int argc, char **argv)
{
    int i = 1;
    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0' && strcmp(argv[i], "--"))
        i += minyi_takes_value(argv[i]) ? 2 : 1;
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    return i < argc ? i : argc;
}

/* argv for the subcommand: its name, the global options, then its own --
 * or, for `rules` (whose verb must come first), its own, then the global
 * options (before a "--"). */
static char **minyi_sub_argv(int argc, char **argv, int at, int globals_last, int *subc)
{
    char **sub = xcalloc((size_t)argc + 1, sizeof *sub);
    int n = 0, end = at + 1;
    sub[n++] = argv[at];
    if (globals_last)
        while (end < argc && strcmp(argv[end], "--"))
            sub[n++] = argv[end++];
    for (int i = 1; i < at; i++)
        if (strcmp(argv[i], "--"))
            sub[n++] = argv[i];
    for (int i = end; i < argc; i++)
        sub[n++] = argv[i];
    *subc = n;
    return sub;
}

/* `minyi rules ...`: take -c/--state-dir out (the config is ours to load),
 * leave the rest, including --format, to cli_rules. */
static int minyi_rules(struct cli *c, int argc, char **argv)
{
    char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
    int n = 0, rc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "-c") || !strcmp(a, "--config") ? &c->config_path
                          : !strcmp(a, "--state-dir") ? &c->state_dir
                          : !strcmp(a, "--key") ? &c->key : NULL;
        if (!strcmp(a, "--")) {
            while (i < argc)
                rest[n++] = argv[i++];
        } else if (slot && i + 1 < argc) {
            *slot = argv[++i];
        } else if (!strncmp(a, "--config=", 9) || !strncmp(a, "--state-dir=", 12)) {
            *(a[2] == 'c' ? &c->config_path : &c->state_dir) = strchr(a, '=') + 1;
        } else {
            rest[n++] = argv[i];
        }
    }
    rc = cli_open(c);
    if (rc == CLI_EXIT_OK)
        rc = cli_rules(n, rest, c->cfg, c->bus);
    free(rest);
    return rc;
}

static int minyi_run(const struct minyi_cmd *cmd, int argc, char **argv)
{
    struct cli c = {.cmd = cmd->name, .usage = cmd->usage, .formats = cmd->formats};
    int rc = cmd->run ? cmd->run(&c, argc, argv) : minyi_rules(&c, argc, argv);
    cli_close(&c);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "minyi: %s: cannot write the output\n", cmd->name);
        return rc ? rc : CLI_EXIT_FAIL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    log_init("minyi");
    int at = minyi_find_command(argc, argv), subc;
    const char *name = at < argc ? argv[at] : NULL;
    for (int i = 1; i < at; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            minyi_help(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--version")) {
            version_print(stdout, "minyi");
            return CLI_EXIT_OK;
        }
    if (!name) {
        minyi_help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(name, "help")) {
        minyi_help(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < MINYI_NCMDS; i++) {
        if (strcmp(name, minyi_cmds[i].name))
            continue;
        char **sub = minyi_sub_argv(argc, argv, at, !minyi_cmds[i].run, &subc);
        int rc = minyi_run(&minyi_cmds[i], subc, sub);
        free(sub);
        return rc;
    }
    fprintf(stderr, "minyi: unknown command \"%s\" (try `minyi help`)\n", name);
    return CLI_EXIT_USAGE;
}
