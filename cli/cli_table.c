/* cli_table.c: aligned tables for people.  Columns are sized by display
 * width (a CJK character is two columns), numbers may be right-aligned, and
 * the last column -- usually a title -- is cut to the terminal width.
 * Formats for scripts (JSON, CSV) do not come through here. */
#include "cli.h"
#include "xmalloc.h"
#include <stdlib.h>
#include <string.h>

struct cli_table {
    size_t ncols;
    char **headers;               /* ncols */
    int *right;                   /* ncols flags */
    char **cells;                 /* nrows * ncols */
    size_t nrows, cap;
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
    struct cli_table *t = xcalloc(1, sizeof *t);
    t->ncols = ncols;
    t->headers = xcalloc(ncols, sizeof *t->headers);
    t->right = xcalloc(ncols, sizeof *t->right);
    for (size_t i = 0; i < ncols; i++)
        t->headers[i] = cli_text_oneline(headers[i]);
    return t;
}

void cli_table_free(struct cli_table **tp)
{
    struct cli_table *t = tp ? *tp : NULL;
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        free(t->headers[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->headers);
    free(t->right);
    free(t->cells);
    free(t);
    *tp = NULL;
}

void cli_table_right(struct cli_table *t, size_t col)
{
    if (col < t->ncols)
        t->right[col] = 1;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++)
        row[i] = cli_text_oneline(cells[i] ? cells[i] : "");
    t->nrows++;
}

size_t cli_table_rows(const struct cli_table *t)
{
    return t->nrows;
}

/* Print one cell padded to `width` columns (no padding after the last). */
static void cli_table_cell(FILE *f, const char *s, size_t width, int right, int last)
{
    size_t w = cli_text_width(s);
    size_t pad = w < width ? width - w : 0;
    if (right)
        fprintf(f, "%*s%s", (int)pad, "", s);
    else
        fprintf(f, "%s%*s", s, last ? 0 : (int)pad, "");
}

static void cli_table_line(const struct cli_table *t, FILE *f, char *const *row,
                           const size_t *width, size_t maxcols)
{
    size_t used = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        int last = i + 1 == t->ncols;
        if (i > 0)
            fputs("  ", f);
        if (last && maxcols > 0) {
            char *cut = cli_text_truncate(row[i], maxcols > used ? maxcols - used : 0);
            cli_table_cell(f, cut, width[i], t->right[i], last);
            free(cut);
        } else {
            cli_table_cell(f, row[i], width[i], t->right[i], last);
        }
        used += width[i] + 2;
    }
    fputc('\n', f);
}

void cli_table_print(const struct cli_table *t, FILE *f, size_t maxcols)
{
    size_t *width = xcalloc(t->ncols, sizeof *width);
    for (size_t i = 0; i < t->ncols; i++)
        width[i] = cli_text_width(t->headers[i]);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t w = cli_text_width(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    cli_table_line(t, f, t->headers, width, maxcols);
    for (size_t r = 0; r < t->nrows; r++)
        cli_table_line(t, f, t->cells + r * t->ncols, width, maxcols);
    free(width);
}
