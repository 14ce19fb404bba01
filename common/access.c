/* access.c: the principals file and the decisions made with it (access.h).
 * Nothing here talks to a socket: the daemons hand it the peer of a
 * received message and act on the answer. */
#include "access.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct access {
    char *path;                   /* NULL: no file configured */
    struct access_principal *p;
    size_t n;
    struct access_principal local;    /* the daemons' account and root */
    struct access_principal daemon;   /* the server key's holder (access_set_daemon_key) */
    struct timespec mtime;
    off_t size;
    int exists;
    long long checked_ms;
    unsigned long forbidden;      /* refusals counted by the daemon */
};

void access_count_forbidden(struct access *a)
{
    a->forbidden++;
}

unsigned long access_forbidden(const struct access *a)
{
    return a->forbidden;
}

static const char *const role_names[] = {"member", "clerk", "staff", "admin", "gateway",
                                         "daemon"};

const char *access_role_name(enum access_role role)
{
    return (unsigned)role < sizeof role_names / sizeof role_names[0] ? role_names[role] : "?";
}

int access_role_parse(const char *name, enum access_role *role)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (name && strcmp(name, role_names[i]) == 0) {
            *role = (enum access_role)i;
            return 0;
        }
    return -1;
}

static int access_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int access_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void principals_free(struct access_principal *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < p[i].ncommittees; k++)
            free(p[i].committees[k]);
        free(p[i].committees);
        free(p[i].uids);
    }
    free(p);
}

/* "uids": [N...] and "users": [NAME...] into p->uids. */
static int principal_uids(const cJSON *j, struct access_principal *p, const char *where,
                          char *err, size_t errlen)
{
    const cJSON *uids = cJSON_GetObjectItemCaseSensitive(j, "uids");
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(j, "users"), *u;
    p->uids = xcalloc((size_t)cJSON_GetArraySize(uids) + (size_t)cJSON_GetArraySize(users) + 1,
                      sizeof *p->uids);
    cJSON_ArrayForEach(u, uids) {
        if (!cJSON_IsNumber(u) || u->valuedouble < 0)
            return access_err(err, errlen, "%s: uids: want account numbers", where);
        p->uids[p->nuids++] = (uid_t)u->valuedouble;
    }
    cJSON_ArrayForEach(u, users) {
        struct passwd *pw = cJSON_IsString(u) ? getpwnam(u->valuestring) : NULL;
        if (!pw)
            return access_err(err, errlen, "%s: users: no account \"%.64s\"", where,
                              cJSON_IsString(u) ? u->valuestring : "?");
        p->uids[p->nuids++] = pw->pw_uid;
    }
    return 0;
}

static int principal_committees(const cJSON *j, struct access_principal *p, const char *where,
                                char *err, size_t errlen)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "committees"), *c;
    if (p->role != ACCESS_CLERK)
        return 0;
    if (!cJSON_IsArray(cs) || cJSON_GetArraySize(cs) == 0)
        return access_err(err, errlen, "%s: a clerk needs \"committees\"", where);
    p->committees = xcalloc((size_t)cJSON_GetArraySize(cs), sizeof *p->committees);
    cJSON_ArrayForEach(c, cs) {
        if (!cJSON_IsString(c))
            return access_err(err, errlen, "%s: committees: want names", where);
        p->committees[p->ncommittees++] = xstrdup(c->valuestring);
    }
    return 0;
}

static int principal_parse(const cJSON *j, struct access_principal *p, const char *where,
                           char *err, size_t errlen)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "name"));
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "role"));
    const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "key"));
    const char *member = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "member"));
    if (!name || !*name || strlen(name) >= sizeof p->name)
        return access_err(err, errlen, "%s: want a \"name\" of 1-63 bytes", where);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (access_role_parse(role, &p->role) < 0)
        return access_err(err, errlen, "%s: role is member, clerk, staff, admin, gateway "
                          "or daemon", where);
    if (key && strlen(key) != ACCESS_KEY_LEN)
        return access_err(err, errlen, "%s: key: want %d Z85 characters", where,
                          ACCESS_KEY_LEN);
    snprintf(p->key, sizeof p->key, "%s", key ? key : "");
    snprintf(p->member, sizeof p->member, "%s", member ? member : name);
    return principal_committees(j, p, where, err, errlen) < 0 ? -1
           : principal_uids(j, p, where, err, errlen);
}

/* Parse text into a table; 0, or -1 with err. */
static int access_parse(const char *path, const char *text, struct access_principal **out,
                        size_t *nout, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "principals"), *j;
    int rc = 0;
    *out = NULL;
    *nout = 0;
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(root);
        return access_err(err, errlen, "%s: want {\"principals\": [...]}", path);
    }
    struct access_principal *p = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *p);
    size_t n = 0;
    cJSON_ArrayForEach(j, list) {
        char where[600];
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "revoked")))
            continue;                  /* minyi keys revoke: kept for the record only */
        snprintf(where, sizeof where, "%s: principal %zu", path, n + 1);
        rc = principal_parse(j, &p[n++], where, err, errlen);
        for (size_t i = 0; rc == 0 && i + 1 < n; i++)
            if (strcmp(p[i].name, p[n - 1].name) == 0)
                rc = access_err(err, errlen, "%s: name \"%s\" twice", where, p[i].name);
        if (rc < 0)
            break;
    }
    cJSON_Delete(root);
    if (rc < 0) {
        principals_free(p, n);
        return -1;
    }
    *out = p;
    *nout = n;
    return 0;
}

/* Read the file (absent: an empty table). 0, or -1 with err. */
static int access_read(struct access *a, char *err, size_t errlen)
{
    struct stat st;
    struct access_principal *p = NULL;
    size_t n = 0;
    if (!a->path || stat(a->path, &st) < 0) {
        if (a->path && errno != ENOENT)
            return access_err(err, errlen, "%s: %s", a->path, strerror(errno));
        memset(&st, 0, sizeof st);
        a->exists = 0;
    } else {
        FILE *f = fopen(a->path, "r");
        char *text = f ? xcalloc(1, (size_t)st.st_size + 1) : NULL;
        size_t got = f ? fread(text, 1, (size_t)st.st_size, f) : 0;
        if (f)
            fclose(f);
        int rc = !f ? access_err(err, errlen, "%s: %s", a->path, strerror(errno))
                    : access_parse(a->path, text, &p, &n, err, errlen);
        (void)got;
        free(text);
        if (rc < 0)
            return -1;
        a->exists = 1;
    }
    principals_free(a->p, a->n);
    a->p = p;
    a->n = n;
    a->mtime = st.st_mtim;
    a->size = st.st_size;
    return 0;
}

struct access *access_load(const char *path, char *err, size_t errlen)
{
    struct access *a = xcalloc(1, sizeof *a);
    a->path = path ? xstrdup(path) : NULL;
    snprintf(a->local.name, sizeof a->local.name, "local");
    a->local.role = ACCESS_ADMIN;
    snprintf(a->daemon.name, sizeof a->daemon.name, "daemon");
    a->daemon.role = ACCESS_DAEMON;
    if (access_read(a, err, errlen) < 0)
        access_free(&a);
    return a;
}

void access_free(struct access **ap)
{
    if (!ap || !*ap)
        return;
    principals_free((*ap)->p, (*ap)->n);
    free((*ap)->path);
    free(*ap);
    *ap = NULL;
}

int access_refresh(struct access *a, long long now_ms, char *err, size_t errlen)
{
    struct stat st;
    if (!a->path || now_ms - a->checked_ms < 1000)
        return 0;
    a->checked_ms = now_ms;
    int exists = stat(a->path, &st) == 0;
    if (exists == a->exists && (!exists || (st.st_mtim.tv_sec == a->mtime.tv_sec &&
                                            st.st_mtim.tv_nsec == a->mtime.tv_nsec &&
                                            st.st_size == a->size)))
        return 0;
    return access_read(a, err, errlen) < 0 ? -1 : 1;
}

const struct access_principal *access_by_uid(const struct access *a, uid_t uid)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < a->p[i].nuids; k++)
            if (a->p[i].uids[k] == uid)
                return &a->p[i];
    return uid == 0 || uid == geteuid() ? &a->local : NULL;
}

void access_set_daemon_key(struct access *a, const char *z85)
{
    snprintf(a->daemon.key, sizeof a->daemon.key, "%s", z85);
}

const struct access_principal *access_by_key(const struct access *a, const char *z85)
{
    if (!z85 || !*z85)
        return NULL;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->p[i].key, z85) == 0)
            return &a->p[i];
    return a->daemon.key[0] && strcmp(a->daemon.key, z85) == 0 ? &a->daemon : NULL;
}

const struct access_principal *access_by_name(const struct access *a, const char *name)
{
    for (size_t i = 0; name && i < a->n; i++)
        if (strcmp(a->p[i].name, name) == 0)
            return &a->p[i];
    return name && strcmp(name, a->local.name) == 0 ? &a->local : NULL;
}

const struct access_principal *access_of_msg(const struct access *a, const struct bus_msg *m)
{
    if (m->user_id[0])
        return access_by_key(a, m->user_id);
    return m->peer_uid >= 0 ? access_by_uid(a, (uid_t)m->peer_uid) : NULL;
}

const char *access_name(const struct access_principal *p)
{
    return p ? p->name : "nobody";
}

int access_may_act_for(const struct access_principal *p)
{
    return p && (p->role == ACCESS_STAFF || p->role == ACCESS_ADMIN ||
                 p->role == ACCESS_GATEWAY);
}

static int access_clerk_of(const struct access_principal *p, const char *committee)
{
    for (size_t i = 0; committee && i < p->ncommittees; i++)
        if (strcmp(p->committees[i], committee) == 0)
            return 1;
    return 0;
}

/* The member and clerk rules (others are decided by role alone). */
static int access_may_own(const struct access_principal *p, enum access_act act,
                          const char *committee, const char *member)
{
    if (p->role == ACCESS_MEMBER)
        return (act == ACCESS_SUBMIT || act == ACCESS_SHOW) && member &&
               strcmp(member, p->member) == 0;
    if (p->role == ACCESS_CLERK)
        return act == ACCESS_CHANGE ||
               ((act == ACCESS_QUEUE || act == ACCESS_SHOW) && access_clerk_of(p, committee));
    return 0;
}

int access_may(const struct access_principal *p, enum access_act act, const char *committee,
               const char *member, char *why, size_t whylen)
{
    int ok;
    if (!p) {
        snprintf(why, whylen, "not a known principal");
        return -1;
    }
    switch (p->role) {
    case ACCESS_ADMIN:
    case ACCESS_STAFF: ok = 1; break;
    case ACCESS_GATEWAY: ok = act == ACCESS_AUDIT || act == ACCESS_STATUS; break;
    case ACCESS_DAEMON: ok = act == ACCESS_STATUS; break;
    default: ok = access_may_own(p, act, committee, member); break;
    }
    if (ok)
        return 0;
    if (p->role == ACCESS_MEMBER && member)
        snprintf(why, whylen, "%s (member) may not act as member %.64s", p->name, member);
    else if (p->role == ACCESS_CLERK && committee)
        snprintf(why, whylen, "%s (clerk) is not a clerk of %.64s", p->name, committee);
    else
        snprintf(why, whylen, "%s (%s) may not do this", p->name, access_role_name(p->role));
    return -1;
}

/* ---- a gateway acting for a person ---- */

static int access_is_person(const struct access_principal *p)
{
    return p->role == ACCESS_MEMBER || p->role == ACCESS_CLERK || p->role == ACCESS_STAFF ||
           p->role == ACCESS_ADMIN;
}

const struct access_principal *access_person(const struct access *a, const char *name)
{
    for (size_t i = 0; name && i < a->n; i++)
        if (strcmp(a->p[i].name, name) == 0)
            return access_is_person(&a->p[i]) ? &a->p[i] : NULL;
    return NULL;
}

const struct access_principal *access_member_person(const struct access *a, const char *member)
{
    for (size_t i = 0; member && i < a->n; i++)
        if (a->p[i].role == ACCESS_MEMBER && strcmp(a->p[i].member, member) == 0)
            return &a->p[i];
    return NULL;
}

/* What a gateway may do for the person it names (never manage). */
static int access_gateway_may(enum access_act act)
{
    return act == ACCESS_SUBMIT || act == ACCESS_QUEUE || act == ACCESS_CHANGE ||
           act == ACCESS_SHOW || act == ACCESS_AUDIT || act == ACCESS_STATUS;
}

int access_may_as(const struct access_principal *sender, const struct access_principal *as,
                  enum access_act act, const char *committee, const char *member, char *why,
                  size_t whylen)
{
    if (!sender || !as || as == sender)
        return access_may(sender, act, committee, member, why, whylen);
    if (sender->role != ACCESS_GATEWAY || !access_gateway_may(act)) {
        snprintf(why, whylen, "%s (%s) may not do this for %s", sender->name,
                 access_role_name(sender->role), as->name);
        return -1;
    }
    if (access_may(as, act, committee, member, why, whylen) == 0)
        return 0;
    size_t n = strlen(why);
    snprintf(why + n, whylen - n, " (through gateway %s)", sender->name);
    return -1;
}
