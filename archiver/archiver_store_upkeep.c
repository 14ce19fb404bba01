/* archiver_store_upkeep.c: the store's upkeep -- an online copy of the
 * archive through SQLite's backup API (minyi backup), and retention (closed
 * reports older than the configured age leave the archive).  Part of the
 * store module: it alone, with archiver_store*.c, includes sqlite3.h.
 *
 * The copy is made by the archiver's own connection, a few pages at a time
 * between batches; SQLite carries every change that connection makes
 * meanwhile into the copy, so it is the archive as of the step that
 * finished it, never a mix.  It is written to FILE.tmp and renamed to FILE
 * only when complete. */
#include "archiver_store_impl.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store_backup {
    sqlite3 *dest;
    sqlite3_backup *b;
    char *path, *tmp;
};

void store_backup_finish(struct store_backup **bp)
{
    struct store_backup *b = *bp;
    if (!b)
        return;
    if (b->b)
        sqlite3_backup_finish(b->b);
    sqlite3_close(b->dest);
    if (b->tmp)
        unlink(b->tmp);           /* gone already after a rename */
    free(b->path);
    free(b->tmp);
    free(b);
    *bp = NULL;
}

int store_backup_start(struct store *s, const char *path, struct store_backup **out,
                       char *err, size_t errlen)
{
    struct store_backup *b = xcalloc(1, sizeof *b);
    b->path = xstrdup(path);
    b->tmp = xasprintf("%s.tmp", path);
    *out = NULL;
    unlink(b->tmp);               /* left by a copy that never finished */
    if (sqlite3_open_v2(b->tmp, &b->dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_EXCLUSIVE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", b->tmp, b->dest ? sqlite3_errmsg(b->dest)
                                                        : "cannot open");
        store_backup_finish(&b);
        return -1;
    }
    b->b = sqlite3_backup_init(b->dest, "main", s->db, "main");
    if (!b->b) {
        snprintf(err, errlen, "%s: %s", b->tmp, sqlite3_errmsg(b->dest));
        store_backup_finish(&b);
        return -1;
    }
    *out = b;
    return 0;
}

/* Make the finished copy durable and give it its name. */
static int store_backup_publish(struct store_backup *b, char *err, size_t errlen)
{
    sqlite3_backup_finish(b->b);
    b->b = NULL;
    if (sqlite3_errcode(b->dest) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", b->tmp, sqlite3_errmsg(b->dest));
        return -1;
    }
    sqlite3_close(b->dest);       /* the backup committed with a full sync */
    b->dest = NULL;
    if (rename(b->tmp, b->path) < 0) {
        snprintf(err, errlen, "%s: %s", b->path, strerror(errno));
        return -1;
    }
    char *dir = xstrdup(b->path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);          /* the rename itself */
        close(fd);
    }
    free(dir);
    return 0;
}

int store_backup_step(struct store_backup *b, int pages, long *done, long *total, char *err,
                      size_t errlen)
{
    int rc = sqlite3_backup_step(b->b, pages);
    *total = sqlite3_backup_pagecount(b->b);
    *done = *total - sqlite3_backup_remaining(b->b);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return 0;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: %s", b->tmp, sqlite3_errstr(rc));
        return -1;
    }
    return store_backup_publish(b, err, errlen) < 0 ? -1 : 1;
}

/* ---- retention ---- */

cJSON *store_expired(struct store *s, int64_t before_us, int limit, char *err, size_t errlen)
{
    static const char sql[] = "SELECT id FROM reports WHERE state = 'closed' "
                              "AND closed_us < ?1 ORDER BY closed_us, id LIMIT ?2";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
        store_err(s, err, errlen, "retention");
        return NULL;
    }
    sqlite3_bind_int64(q, 1, before_us);
    sqlite3_bind_int(q, 2, limit);
    cJSON *a = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cJSON *r = store_show(s, (const char *)sqlite3_column_text(q, 0), err, errlen);
        if (!r)
            break;
        cJSON_AddItemToArray(a, r);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_err(s, err, errlen, "retention");
        rc = SQLITE_ROW;
    }
    if (rc == SQLITE_ROW) {       /* an error, from the loop or store_show */
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

int store_forget(struct store *s, const char *id, char *err, size_t errlen)
{
    static const char *const sql[] = {
        "DELETE FROM history WHERE report_id = ?1 AND EXISTS "
        "(SELECT 1 FROM reports WHERE id = ?1 AND state = 'closed')",
        "DELETE FROM reports WHERE id = ?1 AND state = 'closed'",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
            store_err(s, err, errlen, "retention");
            return -1;
        }
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE) {
            store_err(s, err, errlen, "retention");
            return -1;
        }
    }
    return 0;
}
