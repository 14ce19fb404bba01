/* cli_backup.c: `minyi backup FILE` and `minyi restore FILE`.
 *
 * backup asks the archiver -- the archive's only SQLite user -- to copy the
 * archive to FILE while reports keep flowing (SQLite's backup API, a few
 * pages between batches; archiver_upkeep.c) and waits for the answer.  FILE
 * is written by the archiver, so it must be somewhere the archiver may
 * write (under the systemd unit: below /var/lib/minyi).
 *
 * restore puts a copy back, on a stopped system: it refuses while the
 * archiver answers, checks that FILE is an SQLite database, moves the
 * archive (and its -wal and -shm) aside as archive.db.before-restore-TIME,
 * and copies FILE in through archive.db.tmp, synced and renamed.  It copies
 * bytes and never opens the database: `minyi-archiver` checks it at start. */
#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "proto.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_TIMEOUT_S 3600
#define RESTORE_PROBE_MS 1000

/* FILE made absolute against the current folder (which must exist), for
 * the archiver, whose current folder is not ours.  Caller frees; NULL. */
static char *backup_abs(const char *file)
{
    char *d = xstrdup(file), *b = xstrdup(file), dir[PATH_MAX];
    char *out = realpath(dirname(d), dir) ? xasprintf("%s/%s", dir, basename(b)) : NULL;
    free(d);
    free(b);
    return out;
}

int cli_backup(struct cli *c, int argc, char **argv)
{
    const char *secs = NULL;
    const struct cli_opt opts[] = {{"timeout", 0, 1, &secs}, {NULL, 0, 0, NULL}};
    char *pos[1];
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    long timeout = secs ? strtol(secs, NULL, 10) : BACKUP_TIMEOUT_S;
    if (timeout <= 0)
        return cli_usage_error(c, "--timeout wants a number of seconds");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    char *path = backup_abs(pos[0]);
    if (!path)
        return cli_fail(c, "%s: %s", pos[0], strerror(errno));
    const struct proto_request req = {.cmd = PROTO_CMD_BACKUP, .path = path};
    cJSON *reply = NULL;
    if (cli_call(c, c->cfg->ep.query, &req, timeout * 1000, &reply) < 0)
        rc = errno == EPROTO ? cli_fail(c, "archiver: malformed reply")
                             : cli_timeout(c, "archiver");
    else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")))
        rc = cli_fail(c, "%s: %s", cli_json_str(reply, "error", "internal"),
                      cli_json_str(reply, "detail", ""));
    else if (!strcmp(c->format, "json"))
        cli_print_json(stdout, reply);
    else
        printf("%s: %.0f reports, %.0f pages, %.1f s\n", path,
               cli_json_num(reply, "reports", 0), cli_json_num(reply, "pages", 0),
               cli_json_num(reply, "ms", 0) / 1000.0);
    cJSON_Delete(reply);
    free(path);
    return rc;
}

/* 0 if path starts like an SQLite 3 database, else -1 with why. */
static int restore_check(const char *path, const char **why)
{
    static const char magic[16] = "SQLite format 3";   /* and its NUL */
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int got = fd < 0 ? -1 : fileio_pread_all(fd, head, sizeof head, 0);
    *why = fd < 0 ? strerror(errno) : "not an SQLite database";
    if (fd >= 0)
        close(fd);
    return got == 0 && !memcmp(head, magic, sizeof magic) ? 0 : -1;
}

/* Copy src to dst (created; owned like the state folder when we are root,
 * so the archiver's user can write it), synced.  0 / -1 with errno. */
static int restore_copy(const char *src, const char *dst, const char *state_dir)
{
    struct stat st;
    char buf[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
    ssize_t n = out < 0 ? -1 : 0;
    while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (fileio_write_all(out, buf, (size_t)n) < 0) {
            n = -1;
            break;
        }
    if (n == 0 && geteuid() == 0 && stat(state_dir, &st) == 0 &&
        fchown(out, st.st_uid, st.st_gid) < 0)
        n = -1;
    if (n == 0 && fsync(out) < 0)
        n = -1;
    int saved = errno;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    errno = saved;
    return n == 0 ? 0 : -1;
}

/* fsync a folder (a rename in it).  0 / -1 with errno. */
static int restore_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || fsync(fd) < 0 ? -1 : 0;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return rc;
}

/* Move archive.db and its -wal and -shm aside with suffix; 0 / -1. */
static int restore_move_aside(const char *db, const char *suffix)
{
    static const char *const ext[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *from = xasprintf("%s%s", db, ext[i]);
        char *to = xasprintf("%s.%s%s", db, suffix, ext[i]);
        int rc = rename(from, to) < 0 && errno != ENOENT ? -1 : 0;
        free(from);
        free(to);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int cli_restore(struct cli *c, int argc, char **argv)
{
    char *pos[1];
    const char *why;
    cJSON *reply = NULL;
    int n = cli_args(c, argc, argv, NULL, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    static const struct proto_request probe = {.cmd = PROTO_CMD_STATUS};
    if (cli_call(c, c->cfg->ep.query, &probe, RESTORE_PROBE_MS, &reply) == 0) {
        cJSON_Delete(reply);
        return cli_fail(c, "the archiver is running: stop it first "
                        "(systemctl stop minyi.target, or stop minyi up)");
    }
    if (restore_check(pos[0], &why) < 0)
        return cli_fail(c, "%s: %s", pos[0], why);
    char *db = config_state_path(c->cfg, "archive.db"), *tmp = xasprintf("%s.tmp", db);
    char suffix[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(suffix, sizeof suffix, "before-restore-%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
    if (restore_copy(pos[0], tmp, c->cfg->state_dir) < 0)
        rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
    else if (restore_move_aside(db, suffix) < 0)
        rc = cli_fail(c, "%s: cannot move it aside: %s", db, strerror(errno));
    else if (rename(tmp, db) < 0)
        rc = cli_fail(c, "%s: %s", db, strerror(errno));
    else
        printf("restored %s to %s (the archive before it, if any: %s.%s)\n", pos[0], db, db,
               suffix);
    if (rc != CLI_EXIT_OK)
        unlink(tmp);
    else if (restore_sync_dir(c->cfg->state_dir) < 0)
        rc = cli_fail(c, "%s: %s", c->cfg->state_dir, strerror(errno));
    free(tmp);
    free(db);
    return rc;
}
