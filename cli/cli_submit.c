/* cli_submit.c: getting reports in -- `minyi submit` sends report files one
 * by one to the collector's submit socket (validation happens there, so
 * the bytes go as they are); `minyi import` loads historical reports from
 * JSON Lines into the archiver in batches. */
#include "cli.h"
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_BATCH 200                     /* reports per import request */
#define IMPORT_BATCH_BYTES (1u << 20)        /* ... or this many bytes of JSON */

/* Read at most max + 1 bytes of path ("-": stdin) into *buf (caller frees).
 * Returns 0, or -1 with errno. */
static int submit_read(const char *path, size_t max, char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return -1;
    *buf = xmalloc(max + 2);
    errno = 0;
    *len = fread(*buf, 1, max + 1, f);
    int failed = ferror(f), saved = errno ? errno : EIO;
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(*buf);
        *buf = NULL;
        errno = saved;
        return -1;
    }
    (*buf)[*len] = '\0';
    return 0;
}

/* Print the collector's answer for one file; returns the file's status. */
static int submit_answer(struct cli *c, const char *file, cJSON *reply)
{
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
    const char *id = cli_json_str(reply, "id", "");
    if (!strcmp(c->format, "json")) {
        cJSON_AddStringToObject(reply, "file", file);
        cli_print_json(stdout, reply);
    } else if (ok) {
        printf("%s\t%s\n", id, file);
    }
    if (!ok) {
        const char *detail = cli_json_str(reply, "detail", "");
        cli_fail(c, "%s: %s%s%s", file, cli_json_str(reply, "error", "internal"),
                 *detail ? ": " : "", detail);
        return CLI_EXIT_FAIL;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "duplicate")))
        fprintf(stderr, "minyi: submit: %s: duplicate of %s\n", file, id);
    return CLI_EXIT_OK;
}

static int submit_one(struct cli *c, const char *file)
{
    size_t max = c->cfg->limits.max_report_bytes, len;
    char *buf;
    cJSON *reply;
    if (submit_read(file, max, &buf, &len) < 0)
        return cli_fail(c, "%s: %s", file, strerror(errno));
    if (len > max) {
        free(buf);
        return cli_fail(c, "%s: too_large: more than %zu bytes", file, max);
    }
    int rc = cli_call_submit(c, buf, len, &reply);
    int saved = errno;
    free(buf);
    if (rc < 0)
        return saved == EPROTO ? cli_fail(c, "%s: collector: malformed reply", file)
                               : cli_timeout(c, "collector");
    rc = submit_answer(c, file, reply);
    cJSON_Delete(reply);
    return rc;
}

int cli_submit(struct cli *c, int argc, char **argv)
{
    char **pos = xcalloc((size_t)argc + 1, sizeof *pos);
    int n = cli_args(c, argc, argv, NULL, pos, 1, argc), rc = CLI_EXIT_OK;
    if (n < 0) {
        free(pos);
        return cli_args_done(c, n);
    }
    if ((rc = cli_open(c)) == CLI_EXIT_OK) {
        for (int i = 0; i < n; i++) {
            int one = submit_one(c, pos[i]);
            if (one == CLI_EXIT_TIMEOUT) {
                rc = one;             /* the next ones would wait in vain */
                break;
            }
            if (one != CLI_EXIT_OK)
                rc = CLI_EXIT_FAIL;
        }
    }
    free(pos);
    return rc;
}

/* An import in progress: the pending batch and the running totals. */
struct import {
    const char *file;
    cJSON *batch;                 /* array of report objects */
    long *lines;                  /* line number of each batch entry */
    size_t n, bytes;
    long imported, duplicates, errors;
};

/* The archiver's per-report errors: [{"index", "error", "detail"}, ...]
 * (index into the batch; "line" is accepted too), or just a count. */
static void import_errors(struct cli *c, struct import *im, const cJSON *errors)
{
    const cJSON *e;
    if (cJSON_IsNumber(errors)) {
        im->errors += errors->valueint;
        return;
    }
    cJSON_ArrayForEach(e, errors) {
        double index = cli_json_num(e, "index", -1);
        long line = index >= 0 && index < (double)im->n ? im->lines[(size_t)index]
                                                        : (long)cli_json_num(e, "line", 0);
        const char *detail = cli_json_str(e, "detail", "");
        cli_fail(c, "%s:%ld: %s%s%s", im->file, line,
                 cJSON_IsString(e) ? e->valuestring : cli_json_str(e, "error", "internal"),
                 *detail ? ": " : "", detail);
        im->errors++;
    }
}

/* Send the pending batch.  Returns CLI_EXIT_OK, or the status to stop with. */
static int import_flush(struct cli *c, struct import *im)
{
    if (im->n == 0)
        return CLI_EXIT_OK;
    struct proto_request req = {.cmd = PROTO_CMD_IMPORT, .reports = im->batch};
    cJSON *reply;
    int rc = cli_query(c, &req, &reply);
    cJSON_Delete(im->batch);
    if (rc == CLI_EXIT_OK) {
        im->imported += (long)cli_json_num(reply, "imported", 0);
        im->duplicates += (long)cli_json_num(reply, "duplicates", 0);
        import_errors(c, im, cJSON_GetObjectItemCaseSensitive(reply, "errors"));
        cJSON_Delete(reply);
    }
    im->batch = cJSON_CreateArray();
    im->n = im->bytes = 0;
    return rc;
}

/* Take one line: blank lines are skipped, non-objects are errors. */
static int import_line(struct cli *c, struct import *im, const char *line, size_t len,
                       long lineno)
{
    if (strspn(line, " \t\r\n") == len)
        return CLI_EXIT_OK;
    cJSON *obj = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        cli_fail(c, "%s:%ld: bad_json: not a JSON object", im->file, lineno);
        im->errors++;
        return CLI_EXIT_OK;
    }
    cJSON_AddItemToArray(im->batch, obj);
    im->lines[im->n++] = lineno;
    im->bytes += len;
    if (im->n < IMPORT_BATCH && im->bytes < IMPORT_BATCH_BYTES)
        return CLI_EXIT_OK;
    return import_flush(c, im);
}

static int import_file(struct cli *c, struct import *im, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && (len = getline(&line, &cap, f)) >= 0)
        rc = import_line(c, im, line, (size_t)len, ++lineno);
    if (rc == CLI_EXIT_OK && ferror(f))
        rc = cli_fail(c, "%s: %s", im->file, strerror(errno));
    if (rc == CLI_EXIT_OK)
        rc = import_flush(c, im);
    free(line);
    return rc;
}

int cli_import(struct cli *c, int argc, char **argv)
{
    char *pos[1];
    int n = cli_args(c, argc, argv, NULL, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    FILE *f = strcmp(pos[0], "-") ? fopen(pos[0], "r") : stdin;
    if (!f)
        return cli_fail(c, "%s: %s", pos[0], strerror(errno));
    struct import im = {.file = pos[0], .batch = cJSON_CreateArray(),
                        .lines = xcalloc(IMPORT_BATCH, sizeof(long))};
    rc = import_file(c, &im, f);
    if (f != stdin)
        fclose(f);
    cJSON_Delete(im.batch);
    free(im.lines);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!strcmp(c->format, "json"))
        printf("{\"imported\":%ld,\"duplicates\":%ld,\"errors\":%ld}\n", im.imported,
               im.duplicates, im.errors);
    else
        printf("imported %ld, duplicates %ld, errors %ld\n", im.imported, im.duplicates,
               im.errors);
    return im.errors ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
