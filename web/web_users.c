/* web_users.c: the web door's users file, a JSON file in the state
 * directory by default (web.users):
 *
 *   {"users": [{"name": "M001", "role": "member", "member": "M001",
 *               "password": "$argon2id$..."},
 *              {"name": "chengjian-1", "role": "clerk",
 *               "committees": ["chengjian"], "password": "$argon2id$..."},
 *              {"name": "office", "role": "staff", "password": "$argon2id$..."}]}
 *
 * `minyi-web passwd NAME ROLE [MEMBER | COMMITTEE...]` writes it (mode 0600);
 * the daemon rereads it when it changes, so a new password works at once.
 * This stands in for the access issue's principals file until that lands.
 */
#include "web.h"
#include "fileio.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERS_FILE_MAX (4 << 20)

struct web_users {
    pthread_mutex_t mu;
    char *path;
    struct timespec mtime;
    off_t size;
    struct web_user *u;
    size_t n;
};

static const char *const role_names[] = {"member", "clerk", "staff"};

const char *web_role_name(enum web_role r)
{
    return role_names[r];
}

int web_role_parse(const char *name, enum web_role *r)
{
    for (int i = 0; i < 3; i++)
        if (name && !strcmp(name, role_names[i])) {
            *r = (enum web_role)i;
            return 0;
        }
    return -1;
}

int web_user_has_committee(const struct web_user *u, const char *c)
{
    for (int i = 0; c && i < u->ncommittees; i++)
        if (!strcmp(u->committees[i], c))
            return 1;
    return 0;
}

static int users_str(const cJSON *o, const char *key, char *out, size_t outlen)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    if (!v || !v[0] || strlen(v) >= outlen)
        return -1;
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

/* One entry of the file into *u: 0, or -1 (what is wrong in err). */
static int users_entry(const cJSON *o, struct web_user *u, char *err, size_t errlen)
{
    char role[16];
    memset(u, 0, sizeof *u);
    if (users_str(o, "name", u->name, sizeof u->name) < 0 ||
        users_str(o, "role", role, sizeof role) < 0 || web_role_parse(role, &u->role) < 0 ||
        users_str(o, "password", u->hash, sizeof u->hash) < 0) {
        snprintf(err, errlen, "a user wants a name, a role (member, clerk, staff) and a password");
        return -1;
    }
    if (u->role == WEB_ROLE_MEMBER && users_str(o, "member", u->member, sizeof u->member) < 0) {
        snprintf(err, errlen, "user %s: a member wants \"member\"", u->name);
        return -1;
    }
    const cJSON *c, *cs = cJSON_GetObjectItemCaseSensitive(o, "committees");
    cJSON_ArrayForEach(c, cs) {
        if (u->ncommittees == WEB_COMMITTEES_MAX || !cJSON_IsString(c) ||
            strlen(c->valuestring) >= WEB_NAME_MAX) {
            snprintf(err, errlen, "user %s: committees: at most %d names", u->name,
                     WEB_COMMITTEES_MAX);
            return -1;
        }
        strcpy(u->committees[u->ncommittees++], c->valuestring);
    }
    if (u->role == WEB_ROLE_CLERK && u->ncommittees == 0) {
        snprintf(err, errlen, "user %s: a clerk wants \"committees\"", u->name);
        return -1;
    }
    return 0;
}

/* Parse the file's text into a new array (*out, *n).  0 / -1 with err. */
static int users_parse(const char *text, struct web_user **out, size_t *n, char *err,
                       size_t errlen)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "users"), *o;
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "want {\"users\": [...]}");
        return -1;
    }
    struct web_user *u = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *u);
    cJSON_ArrayForEach(o, list) {
        if (users_entry(o, &u[*n], err, errlen) < 0) {
            free(u);
            cJSON_Delete(root);
            *n = 0;
            return -1;
        }
        (*n)++;
    }
    cJSON_Delete(root);
    *out = u;
    return 0;
}

/* (Re)read the file when it changed.  0 / -1 with err (the old list stays). */
static int users_refresh(struct web_users *us, char *err, size_t errlen)
{
    struct stat st;
    if (stat(us->path, &st) < 0) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", us->path, strerror(errno));
            return -1;
        }
        memset(&st, 0, sizeof st);
    }
    if (st.st_mtim.tv_sec == us->mtime.tv_sec && st.st_mtim.tv_nsec == us->mtime.tv_nsec &&
        st.st_size == us->size && us->u)
        return 0;
    char *text = NULL;
    struct web_user *u = NULL;
    size_t n = 0;
    if (st.st_size > USERS_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", us->path, USERS_FILE_MAX);
        return -1;
    }
    if (st.st_size > 0) {
        text = xcalloc(1, (size_t)st.st_size + 1);
        int fd = open(us->path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd < 0 ? -1 : fileio_pread_all(fd, text, (size_t)st.st_size, 0);
        if (fd >= 0)
            close(fd);
        int rc = got < 0 ? -1 : users_parse(text, &u, &n, err, errlen);
        if (got < 0)
            snprintf(err, errlen, "%s: %s", us->path, strerror(errno));
        free(text);
        if (rc < 0)
            return -1;
    }
    free(us->u);
    us->u = u ? u : xcalloc(1, sizeof *u);
    us->n = n;
    us->mtime = st.st_mtim;
    us->size = st.st_size;
    return 0;
}

int web_users_load(const char *path, struct web_users **out, char *err, size_t errlen)
{
    struct web_users *us = xcalloc(1, sizeof *us);
    pthread_mutex_init(&us->mu, NULL);
    us->path = xstrdup(path);
    if (users_refresh(us, err, errlen) < 0) {
        web_users_free(&us);
        *out = NULL;
        return -1;
    }
    *out = us;
    return 0;
}

void web_users_free(struct web_users **up)
{
    struct web_users *us = *up;
    if (!us)
        return;
    pthread_mutex_destroy(&us->mu);
    free(us->path);
    free(us->u);
    free(us);
    *up = NULL;
}

int web_users_find(struct web_users *us, const char *name, struct web_user *out)
{
    char err[256];
    int rc = -1;
    pthread_mutex_lock(&us->mu);
    (void)users_refresh(us, err, sizeof err);   /* a bad edit keeps the last good list */
    for (size_t i = 0; name && i < us->n; i++)
        if (!strcmp(us->u[i].name, name)) {
            *out = us->u[i];
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&us->mu);
    return rc;
}

static cJSON *users_entry_json(const struct web_user *u)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", u->name);
    cJSON_AddStringToObject(o, "role", web_role_name(u->role));
    if (u->role == WEB_ROLE_MEMBER)
        cJSON_AddStringToObject(o, "member", u->member);
    if (u->ncommittees) {
        cJSON *cs = cJSON_AddArrayToObject(o, "committees");
        for (int i = 0; i < u->ncommittees; i++)
            cJSON_AddItemToArray(cs, cJSON_CreateString(u->committees[i]));
    }
    cJSON_AddStringToObject(o, "password", u->hash);
    return o;
}

int web_users_set(const char *path, const struct web_user *user, char *err, size_t errlen)
{
    struct web_users *us;
    if (web_users_load(path, &us, err, errlen) < 0)
        return -1;
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "users");
    for (size_t i = 0; i < us->n; i++)
        if (strcmp(us->u[i].name, user->name))
            cJSON_AddItemToArray(list, users_entry_json(&us->u[i]));
    cJSON_AddItemToArray(list, users_entry_json(user));
    web_users_free(&us);
    char *text = cJSON_Print(root), *tmp = xasprintf("%s.tmp", path);
    cJSON_Delete(root);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd >= 0 && fileio_write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (fd >= 0 && close(fd) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    free(text);
    free(tmp);
    return rc;
}
