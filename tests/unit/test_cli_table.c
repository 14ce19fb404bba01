/* test_cli_table.c: tables for people line up by display width (a CJK
 * character is two columns), numbers align right, cells stay on one line,
 * and the last column is cut to the terminal width. */
#include "../../cli/cli.h"
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

/* Print t with maxcols into a string (caller frees). */
static char *table_text(const struct cli_table *t, size_t maxcols)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_table_print(t, f, maxcols);
    fclose(f);
    return buf;
}

static void test_alignment(void)
{
    static const char *const headers[] = {"ID", "N", "TITLE"};
    static const char *const rows[][3] = {
        {"M001", "3", "关于公交"},
        {"M0002", "12", "roads"},
        {"张伟", "7", "two\nlines"},
    };
    struct cli_table *t = cli_table_new(3, headers);
    cli_table_right(t, 1);
    for (size_t i = 0; i < 3; i++)
        cli_table_add(t, rows[i]);
    CHECK_INT("rows", cli_table_rows(t), 3);
    char *got = table_text(t, 0);
    CHECK_STR("table", got,
              "ID      N  TITLE\n"
              "M001    3  关于公交\n"
              "M0002  12  roads\n"
              "张伟    7  two lines\n");
    free(got);
    got = table_text(t, 16);               /* 11 columns before TITLE, 5 for it */
    CHECK_STR("truncated", got,
              "ID      N  TITLE\n"
              "M001    3  关于…\n"
              "M0002  12  roads\n"
              "张伟    7  two …\n");
    free(got);
    cli_table_free(&t);
    CHECK(t == NULL, "cli_table_free nulls the pointer");
    cli_table_free(&t);                     /* NULL-safe */
}

static void test_null_cells(void)
{
    static const char *const headers[] = {"A", "B"};
    const char *row[] = {NULL, "x"};
    struct cli_table *t = cli_table_new(2, headers);
    cli_table_add(t, row);
    char *got = table_text(t, 0);
    CHECK_STR("null cell", got, "A  B\n   x\n");
    free(got);
    cli_table_free(&t);
}

int main(void)
{
    test_alignment();
    test_null_cells();
    return harness_done();
}
