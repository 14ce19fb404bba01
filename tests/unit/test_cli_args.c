/* test_cli_args.c: every minyi subcommand parses its arguments the same
 * way -- options and operands mixed, the common options (-c, --state-dir,
 * --format, --who, -h) everywhere, "--" and "-" as usual; a usage problem
 * is reported (-1, exit 2), never guessed around. */
#include "../../cli/cli.h"
#include "harness.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

struct args_case {
    const char *argv[10];
    int minpos, maxpos;
    int want;                     /* cli_args result */
    const char *pos0, *limit, *config, *state, *format, *who;
};

static const struct args_case args_cases[] = {
    {{"pull", "jiaoke", NULL}, 1, 1, 1, "jiaoke", NULL, NULL, NULL, "table", "tester"},
    {{"pull", "jiaoke", "--limit", "2", "--format", "json", NULL}, 1, 1, 1, "jiaoke", "2",
     NULL, NULL, "json", "tester"},
    {{"pull", "--limit=5", "-c", "/x/minyi.json", "jiaoke", NULL}, 1, 1, 1, "jiaoke", "5",
     "/x/minyi.json", NULL, "table", "tester"},
    {{"pull", "-c/y.json", "--state-dir=/s", "--who", "李", "k", NULL}, 1, 1, 1, "k", NULL,
     "/y.json", "/s", "table", "李"},
    {{"submit", "--", "-weird-name.json", NULL}, 1, 5, 1, "-weird-name.json", NULL, NULL, NULL,
     "table", "tester"},
    {{"submit", "-", NULL}, 1, 5, 1, "-", NULL, NULL, NULL, "table", "tester"},
    {{"pull", "--help", NULL}, 1, 1, CLI_ARGS_HELP, NULL, NULL, NULL, NULL, NULL, NULL},
    {{"pull", "-h", "jiaoke", NULL}, 1, 1, CLI_ARGS_HELP, "jiaoke", NULL, NULL, NULL, NULL, NULL},
    {{"pull", "--bogus", "jiaoke", NULL}, 1, 1, -1, NULL, NULL, NULL, NULL, NULL, NULL},
    {{"pull", "jiaoke", "--limit", NULL}, 1, 1, -1, "jiaoke", NULL, NULL, NULL, NULL, NULL},
    {{"pull", NULL}, 1, 1, -1, NULL, NULL, NULL, NULL, NULL, NULL},
    {{"pull", "a", "b", NULL}, 1, 1, -1, "a", NULL, NULL, NULL, NULL, NULL},
    {{"pull", "a", "--format", "xml", NULL}, 1, 1, -1, "a", NULL, NULL, NULL, NULL, NULL},
    {{"pull", "a", "--help=yes", NULL}, 1, 1, -1, "a", NULL, NULL, NULL, NULL, NULL},
    {{"pull", "a", "-x", NULL}, 1, 1, -1, "a", NULL, NULL, NULL, NULL, NULL},
    /* getopt_long: unambiguous abbreviations, options after operands */
    {{"pull", "--lim", "7", "k", "--form=json", NULL}, 1, 1, 1, "k", "7", NULL, NULL, "json",
     "tester"},
    {{"pull", "k", "--", "--limit", NULL}, 1, 2, 2, "k", NULL, NULL, NULL, "table", "tester"},
};

static void test_args(const struct args_case *tc, size_t i)
{
    const char *limit = NULL;
    const struct cli_opt opts[] = {{"limit", 0, 1, &limit}, {NULL, 0, 0, NULL}};
    struct cli c = {.cmd = tc->argv[0], .usage = "test", .formats = "table json"};
    char *argv[10], *pos[5] = {NULL};
    int argc = 0;
    while (tc->argv[argc]) {
        argv[argc] = (char *)tc->argv[argc];
        argc++;
    }
    char what[64];
    snprintf(what, sizeof what, "case %zu result", i);
    CHECK_INT(what, cli_args(&c, argc, argv, opts, pos, tc->minpos, tc->maxpos), tc->want);
    if (tc->want < 0)
        return;
    snprintf(what, sizeof what, "case %zu", i);
    CHECK_STR(what, pos[0], tc->pos0);
    CHECK_STR(what, limit, tc->limit);
    CHECK_STR(what, c.config_path, tc->config);
    CHECK_STR(what, c.state_dir, tc->state);
    CHECK_STR(what, c.format, tc->format);
    CHECK_STR(what, c.who, tc->who);
}

static void test_json_text(void)
{
    static const struct { double v; const char *want; } cases[] = {
        {3, "3"}, {0, "0"}, {-2, "-2"}, {9.5, "9.5"}, {2.25, "2.25"}, {1.0 / 3, "0.33"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        cJSON *n = cJSON_CreateNumber(cases[i].v);
        CHECK_STR("number cell", cli_json_text(n, buf, sizeof buf), cases[i].want);
        cJSON_Delete(n);
    }
    char buf[8];
    CHECK_STR("absent cell", cli_json_text(NULL, buf, sizeof buf), "");
}

int main(void)
{
    setenv("USER", "tester", 1);
    for (size_t i = 0; i < sizeof args_cases / sizeof args_cases[0]; i++)
        test_args(&args_cases[i], i);
    test_json_text();
    return harness_done();
}
