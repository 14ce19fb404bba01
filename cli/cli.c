/* cli.c: the plumbing every subcommand of `minyi` shares -- argument
 * parsing with the common options, loading the config, one request to a
 * daemon with its timeout, error lines, and small cJSON readers.  What a
 * subcommand does lives in its own cli_*.c file. */
#include "cli.h"
#include "bus.h"
#include "config.h"
#include "curve_client.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CLI_OPTS_MAX 32             /* a subcommand's options and the common ones */
#define CLI_OPT_FIRST 256           /* getopt_long's value for option k: FIRST + k */

static int cli_args_error(const struct cli *c, const char *fmt, const char *arg)
    __attribute__((format(printf, 2, 0)));
static int cli_args_error(const struct cli *c, const char *fmt, const char *arg)
{
    fprintf(stderr, "minyi: %s: ", c->cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    cli_usage(c, stderr);
    return -1;
}

/* getopt_long's tables for the options of lists[0] and lists[1]: every
 * option's long name gives CLI_OPT_FIRST + its index in all[]; a short
 * name gives itself.  Returns the number of options. */
static size_t cli_getopt_tables(const struct cli_opt *const *lists,
                                const struct cli_opt **all, struct option *longopts,
                                char *shortopts)
{
    size_t n = 0, ns = 0;
    shortopts[ns++] = ':';          /* a missing value is ':', not '?' */
    for (int k = 0; k < 2; k++)
        for (const struct cli_opt *o = lists[k]; o && o->name; o++) {
            if (n == CLI_OPTS_MAX)
                abort();            /* a bug: raise CLI_OPTS_MAX */
            all[n] = o;
            longopts[n] = (struct option){o->name, o->has_arg ? required_argument : no_argument,
                                          NULL, CLI_OPT_FIRST + (int)n};
            n++;
            if (o->shortname) {
                shortopts[ns++] = o->shortname;
                if (o->has_arg)
                    shortopts[ns++] = ':';
            }
        }
    longopts[n] = (struct option){0};
    shortopts[ns] = '\0';
    return n;
}

/* Run getopt_long over argv, storing each option's value.  0, or -1
 * (printed).  On return argv[optind..argc) are the operands, in order. */
static int cli_getopt(struct cli *c, int argc, char **argv, const struct cli_opt *const *lists)
{
    const struct cli_opt *all[CLI_OPTS_MAX];
    struct option longopts[CLI_OPTS_MAX + 1];
    char shortopts[2 * CLI_OPTS_MAX + 2];
    size_t n = cli_getopt_tables(lists, all, longopts, shortopts);
    int ch;
    optind = 0;                     /* GNU: start afresh (cli_args may run twice) */
    opterr = 0;                     /* errors are printed our way */
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct cli_opt *o = NULL;
        if (ch >= CLI_OPT_FIRST && (size_t)(ch - CLI_OPT_FIRST) < n)
            o = all[ch - CLI_OPT_FIRST];
        for (size_t k = 0; !o && ch != '?' && ch != ':' && k < n; k++)
            if (all[k]->shortname == ch)
                o = all[k];
        if (ch == ':')
            return cli_args_error(c, "option %s needs a value", argv[optind - 1]);
        if (!o)
            return cli_args_error(c, "unknown option, or a value where none is taken: %s",
                                  argv[optind - 1]);
        *o->value = o->has_arg ? optarg : "1";
    }
    return 0;
}

/* 1 if word is one of the space-separated words of list. */
static int cli_word_in(const char *word, const char *list)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && n > 0 && !strncmp(p, word, n))
            return 1;
        p += len + (p[len] == ' ');
    }
    return 0;
}

int cli_args(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
             char **pos, int minpos, int maxpos)
{
    const char *help = NULL;
    const struct cli_opt common[] = {
        {"config", 'c', 1, &c->config_path}, {"state-dir", 0, 1, &c->state_dir},
        {"format", 0, 1, &c->format},        {"who", 0, 1, &c->who},
        {"key", 0, 1, &c->key},              {"help", 'h', 0, &help},
        {NULL, 0, 0, NULL},
    };
    const struct cli_opt *const lists[2] = {opts, common};
    int npos = 0;
    if (cli_getopt(c, argc, argv, lists) < 0)
        return -1;
    for (int i = optind; i < argc; i++) {
        if (npos >= maxpos)
            return cli_args_error(c, "unexpected argument \"%s\"", argv[i]);
        pos[npos++] = argv[i];
    }
    if (help)
        return CLI_ARGS_HELP;
    if (npos < minpos)
        return cli_args_error(c, "missing argument%s", "");
    if (!c->format)
        c->format = "table";
    if (!cli_word_in(c->format, c->formats ? c->formats : "table"))
        return cli_args_error(c, "unknown --format \"%s\"", c->format);
    c->who_given = c->who != NULL;
    if (!c->who) {
        const char *user = getenv("USER");
        c->who = user && *user ? user : "clerk";
    }
    return npos;
}

int cli_args_done(const struct cli *c, int n)
{
    if (n != CLI_ARGS_HELP)
        return CLI_EXIT_USAGE;
    cli_usage(c, stdout);
    return CLI_EXIT_OK;
}

void cli_usage(const struct cli *c, FILE *f)
{
    fprintf(f, "usage: minyi %s\n", c->usage ? c->usage : c->cmd);
}

/* The client's CURVE keys for the config's tcp:// endpoints (cli_open). */
static int cli_curve(struct cli *c)
{
    const char *eps[CONFIG_EP_MAX + 1] = {0};
    char err[1024];
    const char *key = c->key ? c->key : getenv("MINYI_KEY");
    if (!key || !*key)
        return CLI_EXIT_OK;           /* ipc://, or no key: the daemons will say */
    config_endpoint_list(c->cfg, CONFIG_EP_CURVE, eps, NULL, CONFIG_EP_MAX);
    if (curve_client(c->cfg, eps, key, c->bus, err, sizeof err) < 0) {
        fprintf(stderr, "minyi: key: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_open(struct cli *c)
{
    char err[1024] = "";
    if (config_load(c->config_path, c->state_dir, &c->cfg, err, sizeof err) < 0) {
        fprintf(stderr, "minyi: config: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    config_apply_timezone(c->cfg);
    c->bus = bus_new();
    return cli_curve(c);
}

void cli_close(struct cli *c)
{
    bus_destroy(&c->bus);
    config_free(&c->cfg);
}

static void cli_vline(const struct cli *c, const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    for (char *p = line; *p; p++)     /* the contract is one line */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "minyi: %s: %s\n", c->cmd, line);
}

int cli_fail(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vline(c, fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vline(c, fmt, ap);
    va_end(ap);
    cli_usage(c, stderr);
    return CLI_EXIT_USAGE;
}

long cli_opt_num(const struct cli *c, const char *name, const char *s, long def, long lo,
                 long hi)
{
    char *end;
    if (!s)
        return def;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        cli_usage_error(c, "--%s: want a number from %ld to %ld, not \"%s\"", name, lo, hi, s);
        return -1;
    }
    return v;
}

int cli_timeout(const struct cli *c, const char *daemon)
{
    const char *eps[CONFIG_EP_MAX];
    int curve = c->cfg && config_endpoint_list(c->cfg, CONFIG_EP_CURVE, eps, NULL,
                                               CONFIG_EP_MAX) > 0;
    const char *key = c->key ? c->key : getenv("MINYI_KEY");
    fprintf(stderr, "minyi: %s: %s did not answer in time (is it running? try `minyi status`%s)\n",
            c->cmd, daemon,
            !curve ? "" : key && *key ? "; over tcp:// is your key registered and not revoked?"
                                      : "; over tcp:// give your key: --key FILE or $MINYI_KEY");
    return CLI_EXIT_TIMEOUT;
}

/* The decoded reply's tree, without its version, handed to the caller. */
static cJSON *cli_reply_tree(struct proto_reply *r)
{
    cJSON *tree = r->tree;
    cJSON_DeleteItemFromObjectCaseSensitive(tree, "v");
    r->tree = NULL;
    return tree;
}

int cli_call(struct cli *c, const char *endpoint, const struct proto_request *q,
             long timeout_ms, cJSON **reply)
{
    struct proto_reply r;
    struct proto_error err;
    struct proto_request named;
    *reply = NULL;
    if (c->who_given && !q->who) {        /* a gateway acting for someone names them */
        named = *q;
        named.who = c->who;
        q = &named;
    }
    if (proto_call(c->bus, endpoint, q, timeout_ms, &r, &err) < 0)
        return -1;
    *reply = cli_reply_tree(&r);
    return 0;
}

int cli_call_submit(struct cli *c, const char *report, size_t len, cJSON **reply)
{
    struct proto_reply r;
    struct proto_error err;
    *reply = NULL;
    if (proto_submit_call(c->bus, c->cfg->ep.submit, report, len,
                          c->cfg->limits.request_timeout_ms, &r, &err) < 0)
        return -1;
    *reply = cli_reply_tree(&r);
    return 0;
}

int cli_query(struct cli *c, const struct proto_request *q, cJSON **reply)
{
    int rc = cli_call(c, c->cfg->ep.query, q, c->cfg->limits.request_timeout_ms, reply);
    int saved = errno;
    if (rc < 0)
        return saved == EPROTO ? cli_fail(c, "archiver: malformed reply") : cli_timeout(c, "archiver");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*reply, "ok")))
        return CLI_EXIT_OK;
    const char *code = cli_json_str(*reply, "error", "internal");
    const char *detail = cli_json_str(*reply, "detail", "");
    if (*detail)
        cli_fail(c, "%s: %s", code, detail);
    else
        cli_fail(c, "%s", code);
    cJSON_Delete(*reply);
    *reply = NULL;
    return CLI_EXIT_FAIL;
}

const char *cli_json_str(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

double cli_json_num(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

const char *cli_json_text(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (!cJSON_IsNumber(v) || n == 0)
        return "";
    double d = v->valuedouble;
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(buf, n, "%lld", (long long)d);
        return buf;
    }
    snprintf(buf, n, "%.2f", d);
    char *end = buf + strlen(buf);
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        end[-1] = '\0';
    return buf;
}

void cli_print_json(FILE *f, const cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    fputs(text, f);
    fputc('\n', f);
    free(text);
}

int cli_print_json_lines(const struct cli *c, const cJSON *items)
{
    const cJSON *r;
    if (strcmp(c->format, "json"))
        return 0;
    cJSON_ArrayForEach(r, items)
        cli_print_json(stdout, r);
    return 1;
}

size_t cli_columns(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 ? (size_t)n : 0;
}
