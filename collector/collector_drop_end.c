/* collector_drop_end.c: the end of a drop file, as the collector decides:
 * set aside in drop/rejected/ (drop_end_reject) or removed once its report is
 * in the archive (drop_end_remove).  Reading and watching is collector_drop.c's.
 *
 * A rejected file keeps its bytes and gets a sibling
 *   {"file": REL, "reason": CODE, "detail": TEXT, "at": RFC 3339}
 * Nothing in rejected/ is ever replaced: the reason file is linked in with
 * link(2), the file moved with renameat2(RENAME_NOREPLACE), and a taken name
 * gets a number ("a.json" -> "a.2.json").  The reason file is written first,
 * so a crash in between leaves a reason without a file, never a file without
 * its reason.
 *
 * drop_end_remove does not fsync the folder: the archive already holds the
 * report, and a file that reappears after a crash is a content (or ref)
 * duplicate, answered with the first id and stored once.  A per-report
 * fsync would cost a disk flush per file in a burst.
 */
#include "collector_drop_end.h"
#include "collector_drop.h"
#include "fileio.h"
#include "log.h"
#include "report.h"
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

#define DROP_END_NAME_MAX 200        /* bytes of a rejected file's name */
#define DROP_END_TRIES 10000

/* s with every byte that is not part of valid UTF-8 replaced by U+FFFD, so
 * that the reason file is valid JSON whatever the file was called. */
static char *drop_end_clean(const char *s)
{
    size_t len = strlen(s), o = 0;
    char *out = xmalloc(3 * len + 1);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (n <= len - i && report_utf8_valid(s + i, n)) {
            memcpy(out + o, s + i, n);
            o += n, i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3, i++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Now as RFC 3339 in the local zone: 2026-03-01T09:30:00+08:00. */
static void drop_end_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    long off = tm.tm_gmtoff / 60;
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60,
             labs(off) % 60);
}

static char *drop_end_reason(const struct drop_file *f, const struct report_error *err)
{
    char at[40], *file = drop_end_clean(f->rel), *detail = drop_end_clean(err->detail);
    drop_end_now(at, sizeof at);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "reason", report_reason_name(err->reason));
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddStringToObject(o, "at", at);
    char *js = cJSON_PrintUnformatted(o), *line = xasprintf("%s\n", js);
    cJSON_free(js);
    cJSON_Delete(o);
    free(file);
    free(detail);
    return line;
}

/* The name in rejected/: MEMBER/NAME flattened to MEMBER-NAME, cut to
 * DROP_END_NAME_MAX bytes, and for i > 0 numbered before the extension
 * ("a.json" -> "a.2.json") so that nothing is overwritten. */
static char *drop_end_name(const char *rel, int i)
{
    char *flat = xstrndup(rel, DROP_END_NAME_MAX), *p, *out;
    if ((p = strchr(flat, '/')))
        *p = '-';
    if (i == 0)
        return flat;
    char *dot = strrchr(flat, '.');
    if (dot && dot > flat) {
        *dot = '\0';
        out = xasprintf("%s.%d.%s", flat, i + 1, dot + 1);
    } else {
        out = xasprintf("%s.%d", flat, i + 1);
    }
    free(flat);
    return out;
}

/* Write text to rejected/name without ever replacing a file there:
 * 0, 1 if name is taken, -1 on error (errno). */
static int drop_end_write_new(int rejfd, const char *name, const char *text)
{
    static const char tmp[] = ".reason.json.tmp";
    size_t len = strlen(text);
    int fd = openat(rejfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                    0644);
    if (fd < 0)
        return -1;
    int ok = fileio_write_all(fd, text, len) == 0 && fdatasync(fd) == 0;
    close(fd);
    int rc = ok ? linkat(rejfd, tmp, rejfd, name, 0) : -1;
    int saved = errno;
    unlinkat(rejfd, tmp, 0);
    errno = saved;
    return rc == 0 ? 0 : ok && errno == EEXIST ? 1 : -1;
}

/* rename(2) that never replaces: renameat2 where the file system has it. */
static int drop_end_rename_new(int dirfd, int rejfd, const char *rel, const char *name)
{
    if (renameat2(dirfd, rel, rejfd, name, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    struct stat st;
    if (fstatat(rejfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(dirfd, rel, rejfd, name);
}

/* Write rname, then move rel to name: 0, 1 if either name is taken, -2 if
 * rel is gone, or -1 (errno). */
static int drop_end_place(int dirfd, int rejfd, const char *rel, const char *name,
                          const char *rname, const char *json)
{
    int w = drop_end_write_new(rejfd, rname, json);
    if (w != 0)
        return w;
    if (drop_end_rename_new(dirfd, rejfd, rel, name) == 0)
        return 0;
    int saved = errno;
    unlinkat(rejfd, rname, 0);
    errno = saved;
    return saved == EEXIST ? 1 : saved == ENOENT ? -2 : -1;
}

int drop_end_reject(int dirfd, int rejfd, const char *dir, const struct drop_file *f,
                    const struct report_error *err)
{
    struct stat st;
    if (fstatat(dirfd, f->rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != f->dev ||
        st.st_ino != f->ino) {
        log_debug("drop/%s: gone or replaced before it could be set aside", f->rel);
        return 0;
    }
    char *json = drop_end_reason(f, err), *name = NULL;
    int rc = 1;
    for (int i = 0; i < DROP_END_TRIES && rc == 1; i++) {
        free(name);
        name = drop_end_name(f->rel, i);
        char *rname = xasprintf("%s.reason.json", name);
        rc = drop_end_place(dirfd, rejfd, f->rel, name, rname, json);
        free(rname);
    }
    if (rc == 0)
        log_info("drop/%s: rejected: %s: %s", f->rel, report_reason_name(err->reason),
                 err->detail);
    else if (rc == -2)
        rc = 0;                       /* taken away meanwhile: nothing to set aside */
    else
        log_error("drop/%s: cannot set aside as %s/rejected/%s: %s", f->rel, dir, name,
                  rc < 0 ? strerror(errno) : "every numbered name is taken");
    free(name);
    free(json);
    return rc == 0 ? 0 : -1;
}

int drop_end_remove(int dirfd, const char *rel, dev_t dev, ino_t ino)
{
    struct stat st;
    if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        log_warn("drop/%s: cannot remove: %s", rel, strerror(errno));
        return -1;
    }
    if (st.st_dev != dev || st.st_ino != ino) {
        log_info("drop/%s: not removed: replaced by a newer file", rel);
        return 0;
    }
    if (unlinkat(dirfd, rel, 0) < 0 && errno != ENOENT) {
        log_warn("drop/%s: cannot remove: %s", rel, strerror(errno));
        return -1;
    }
    return 0;
}
