/* archiver_upkeep.c: the archiver's backups and retention (see the header).
 * Both run between batches on the archiver's one thread, in slices small
 * enough that reports keep flowing: a backup copies UPKEEP_BACKUP_PAGES
 * pages a turn (8 MB at the archive's 32 KB pages), retention handles
 * UPKEEP_RETAIN_MAX reports a transaction. */
#include "archiver_upkeep.h"
#include "archiver_store.h"
#include "config.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UPKEEP_BACKUP_PAGES 256
#define UPKEEP_RETAIN_MAX 1000
#define UPKEEP_RETAIN_EVERY_MS (3600 * 1000)

/* Answer req with a reply's text (proto_reply_ok / _error) and free it. */
static void upkeep_answer(struct bus_sock *sock, struct bus_msg *req, char *reply)
{
    if (proto_reply_send(sock, req, reply) < 0)
        log_warn("backup: cannot answer the client: %s", strerror(errno));
    free(reply);
}

void upkeep_backup_request(struct upkeep *u, struct store *s, struct bus_sock *sock,
                           struct bus_msg *m, const char *path)
{
    char err[600];
    if (u->backup) {
        upkeep_answer(sock, m, proto_reply_error("busy", "a backup to %s is being made",
                                                 u->path));
        return;
    }
    if (store_damaged(s)) {
        upkeep_answer(sock, m, proto_reply_error("internal", "the archive is damaged (%s): "
                                                 "restore it from a backup", store_damaged(s)));
        return;
    }
    if (!path || path[0] != '/') {
        upkeep_answer(sock, m, proto_reply_error("bad_request", "want an absolute \"path\""));
        return;
    }
    if (store_backup_start(s, path, &u->backup, err, sizeof err) < 0) {
        log_warn("backup: %s", err);
        upkeep_answer(sock, m, proto_reply_error("internal", "%s", err));
        return;
    }
    u->req = *m;                  /* ours now: answered when the copy ends */
    memset(m, 0, sizeof *m);
    u->path = xstrdup(path);
    u->started_ms = daemon_mono_ms();
    log_info("backup: copying the archive to %s", path);
}

int upkeep_busy(const struct upkeep *u)
{
    return u->backup != NULL;
}

/* The copy ended (rc 1 done, -1 failed): answer and forget it. */
static void upkeep_backup_end(struct upkeep *u, struct store *s, struct bus_sock *sock, int rc,
                              long pages, const char *err)
{
    char *reply;
    if (rc > 0) {
        char why[256];
        cJSON *st = store_status(s, why, sizeof why);
        double total = st ? cJSON_GetObjectItemCaseSensitive(st, "total")->valuedouble : -1;
        cJSON_Delete(st);
        long ms = (long)(daemon_mono_ms() - u->started_ms);
        log_info("backup: %s: %ld pages, %.0f reports, %ld ms", u->path, pages, total, ms);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", u->path);
        cJSON_AddNumberToObject(o, "pages", (double)pages);
        cJSON_AddNumberToObject(o, "reports", total);
        cJSON_AddNumberToObject(o, "ms", (double)ms);
        u->backups++;
        reply = proto_reply_ok(o);
    } else {
        log_error("backup: %s", err);
        reply = proto_reply_error("internal", "%s", err);
    }
    upkeep_answer(sock, &u->req, reply);
    bus_msg_clear(&u->req);
    store_backup_finish(&u->backup);
    free(u->path);
    u->path = NULL;
}

static void upkeep_backup_step(struct upkeep *u, struct store *s, struct bus_sock *sock)
{
    char err[600] = "";
    long done = 0, total = 0;
    int rc = store_backup_step(u->backup, UPKEEP_BACKUP_PAGES, &done, &total, err, sizeof err);
    if (rc != 0)
        upkeep_backup_end(u, s, sock, rc, total, err);
}

/* Append the records to DIR/closed-YYYY-MM-DD.jsonl and sync it. 0 / -1. */
static int upkeep_export(const char *dir, const cJSON *records, char *path, size_t pathlen)
{
    time_t now = time(NULL);
    struct tm tm;
    char day[16];
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(path, pathlen, "%s/closed-%s.jsonl", dir, day);
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    const cJSON *r;
    int rc = 0;
    cJSON_ArrayForEach(r, records) {
        char *line = cJSON_PrintUnformatted(r);
        size_t n = strlen(line);
        line = xrealloc(line, n + 2);
        line[n++] = '\n';
        rc |= fileio_write_all(fd, line, n);
        free(line);
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = -1;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

/* Export, then delete, up to UPKEEP_RETAIN_MAX expired reports.  Returns
 * how many left the archive, or -1 (logged; tried again next time). */
static int upkeep_retain(struct upkeep *u, struct store *s, const struct config *cfg)
{
    char err[600], path[4200];
    int64_t before = daemon_now_us() - (int64_t)cfg->retention.closed_days * 86400 * 1000000;
    cJSON *records = store_expired(s, before, UPKEEP_RETAIN_MAX, err, sizeof err), *r;
    int n = cJSON_GetArraySize(records);
    if (!records || n == 0) {
        if (!records)
            log_error("retention: %s", err);
        cJSON_Delete(records);
        return records ? 0 : -1;
    }
    if (upkeep_export(cfg->retention.export_dir, records, path, sizeof path) < 0) {
        log_error("retention: %s: %s; nothing deleted", path, strerror(errno));
        cJSON_Delete(records);
        return -1;
    }
    int rc = store_begin(s, err, sizeof err);
    cJSON_ArrayForEach(r, records) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (rc == 0 && store_forget(s, cJSON_GetStringValue(id), err, sizeof err) < 0)
            rc = -1;
    }
    if (rc == 0)
        rc = store_commit(s, err, sizeof err);
    else
        store_rollback(s);
    if (rc < 0)
        log_error("retention: %s; nothing deleted (exported again next time)", err);
    else
        log_info("retention: %d closed reports older than %d days exported to %s and deleted",
                 n, cfg->retention.closed_days, path);
    cJSON_Delete(records);
    if (rc == 0)
        u->retained += (unsigned long)n;
    return rc < 0 ? -1 : n;
}

void upkeep_step(struct upkeep *u, struct store *s, struct bus_sock *sock,
                 const struct config *cfg)
{
    if (u->backup)
        upkeep_backup_step(u, s, sock);
    int64_t now = daemon_mono_ms();
    if (!cfg->retention.closed_days || now < u->next_retention_ms)
        return;
    /* a full slice means more may wait: come back at the next turn */
    int n = upkeep_retain(u, s, cfg);
    u->next_retention_ms = now + (n == UPKEEP_RETAIN_MAX ? 0 : UPKEEP_RETAIN_EVERY_MS);
}

void upkeep_cancel(struct upkeep *u, struct bus_sock *sock, const char *why)
{
    if (!u->backup)
        return;
    log_error("backup: %s: abandoned: %s", u->path, why);
    upkeep_answer(sock, &u->req, proto_reply_error("internal", "the copy to %s was abandoned: "
                                                   "%s", u->path, why));
    bus_msg_clear(&u->req);
    store_backup_finish(&u->backup);
    free(u->path);
    u->path = NULL;
}

void upkeep_close(struct upkeep *u, struct bus_sock *sock)
{
    upkeep_cancel(u, sock, "the archiver stopped before it was complete");
}
