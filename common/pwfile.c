/* pwfile.c: the password file (pwfile.h). */
#include "pwfile.h"
#include "fileio.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PWFILE_MAX (4 << 20)

struct pwfile {
    pthread_mutex_t mu;
    char *path;
    struct timespec mtime;        /* with size and inode: the version read; the */
    off_t size;                   /* inode, since two rewrites of one size can fall */
    ino_t ino;                    /* in one clock tick (a new hash of the same length) */
    int read;                     /* read at least once */
    cJSON *passwords;             /* {"NAME": "HASH", ...} */
};

/* The "passwords" object of text (a new tree), or NULL with err. */
static cJSON *pwfile_parse(const char *path, const char *text, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(text), *pw = cJSON_DetachItemFromObjectCaseSensitive(root,
                                                                                   "passwords");
    const cJSON *e;
    cJSON_Delete(root);
    if (!cJSON_IsObject(pw)) {
        cJSON_Delete(pw);
        snprintf(err, errlen, "%s: want {\"passwords\": {NAME: HASH, ...}}", path);
        return NULL;
    }
    cJSON_ArrayForEach(e, pw)
        if (!cJSON_IsString(e) || strncmp(e->valuestring, "$argon2id$", 10) != 0) {
            snprintf(err, errlen, "%s: %.64s: want an argon2id hash", path, e->string);
            cJSON_Delete(pw);
            return NULL;
        }
    return pw;
}

/* Read the file at path into a new "passwords" tree (absent: empty); *st
 * its stat (zeros when absent).  NULL with err. */
static cJSON *pwfile_read(const char *path, struct stat *st, char *err, size_t errlen)
{
    if (stat(path, st) < 0) {
        memset(st, 0, sizeof *st);
        if (errno == ENOENT)
            return cJSON_CreateObject();
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (st->st_size > PWFILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, PWFILE_MAX);
        return NULL;
    }
    char *text = xcalloc(1, (size_t)st->st_size + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd < 0 ? -1 : fileio_pread_all(fd, text, (size_t)st->st_size, 0);
    int saved = errno;
    if (fd >= 0)
        close(fd);
    cJSON *pw = NULL;
    if (got < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(saved));
    else
        pw = pwfile_parse(path, text, err, errlen);
    free(text);
    return pw;
}

/* Read the file again when it changed: 0, or -1 with err (the old list stays). */
static int pwfile_refresh(struct pwfile *p, char *err, size_t errlen)
{
    struct stat st;
    if (p->read && stat(p->path, &st) == 0 && st.st_mtim.tv_sec == p->mtime.tv_sec &&
        st.st_mtim.tv_nsec == p->mtime.tv_nsec && st.st_size == p->size && st.st_ino == p->ino)
        return 0;
    cJSON *pw = pwfile_read(p->path, &st, err, errlen);
    if (!pw)
        return -1;
    cJSON_Delete(p->passwords);
    p->passwords = pw;
    p->mtime = st.st_mtim;
    p->size = st.st_size;
    p->ino = st.st_ino;
    p->read = 1;
    return 0;
}

int pwfile_open(const char *path, struct pwfile **out, char *err, size_t errlen)
{
    struct pwfile *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->path = xstrdup(path);
    *out = NULL;
    if (pwfile_refresh(p, err, errlen) < 0) {
        pwfile_free(&p);
        return -1;
    }
    *out = p;
    return 0;
}

void pwfile_free(struct pwfile **pp)
{
    struct pwfile *p = pp ? *pp : NULL;
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    cJSON_Delete(p->passwords);
    free(p->path);
    free(p);
    *pp = NULL;
}

int pwfile_hash(struct pwfile *p, const char *name, char *out, size_t outlen)
{
    char err[256];
    int rc = -1;
    pthread_mutex_lock(&p->mu);
    (void)pwfile_refresh(p, err, sizeof err);
    const char *h = name ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->passwords,
                                                                                  name))
                         : NULL;
    if (h && strlen(h) < outlen) {
        memcpy(out, h, strlen(h) + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Write text to path through path.tmp: 0600, or the old file's owner, group
 * and mode (group read at most).  0 / -1. */
static int pwfile_write(const char *path, const char *text, const struct stat *old)
{
    char *tmp = xasprintf("%s.tmp", path);
    mode_t mode = old->st_ino ? (old->st_mode & 0640) | 0600 : 0600;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = fd >= 0 && fchmod(fd, mode) == 0 &&
             (!old->st_ino || (old->st_uid == geteuid() && old->st_gid == getegid()) ||
              fchown(fd, old->st_uid, old->st_gid) == 0) &&
             fileio_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -1, saved = errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1, saved = errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    errno = saved;
    return rc;
}

int pwfile_set(const char *path, const char *name, const char *hash, char *err, size_t errlen)
{
    struct stat st;
    cJSON *pw = pwfile_read(path, &st, err, errlen);
    if (!pw)
        return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(pw, name);
    if (hash)
        cJSON_AddStringToObject(pw, name, hash);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "passwords", pw);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = pwfile_write(path, text, &st);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    free(text);
    return rc;
}
