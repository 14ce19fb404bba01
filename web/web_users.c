/* web_users.c: who may log in on the web door.  A web user is a principal
 * of the access file (common/access.h: "member", "clerk", "staff" or
 * "admin", with its member id or committees) that has a password in the
 * password file (common/pwfile.h, written by `minyi passwd NAME`).  Both
 * files are read again when they change, so a new user, a new password or
 * a removed principal counts at the next login.  Gateways, daemons and the
 * local admin never log in here.
 */
#include "web.h"
#include "access.h"
#include "config.h"
#include "daemon.h"
#include "pwfile.h"
#include "xmalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct web_users {
    pthread_mutex_t mu;           /* guards access (refreshed in place) */
    struct access *access;
    struct pwfile *pw;
};

static const char *const role_names[] = {"member", "clerk", "staff"};

const char *web_role_name(enum web_role r)
{
    return role_names[r];
}

int web_user_has_committee(const struct web_user *u, const char *c)
{
    for (int i = 0; c && i < u->ncommittees; i++)
        if (!strcmp(u->committees[i], c))
            return 1;
    return 0;
}

int web_users_load(const struct config *cfg, struct web_users **out, char *err, size_t errlen)
{
    struct web_users *us = xcalloc(1, sizeof *us);
    pthread_mutex_init(&us->mu, NULL);
    *out = NULL;
    us->access = access_load(cfg->access_path, err, errlen);
    if (!us->access || pwfile_open(cfg->passwd_path, &us->pw, err, errlen) < 0) {
        web_users_free(&us);
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
    access_free(&us->access);
    pwfile_free(&us->pw);
    free(us);
    *up = NULL;
}

/* The web view of principal p into *u: 0, or -1 when p never logs in here. */
static int users_of_principal(const struct access_principal *p, struct web_user *u)
{
    memset(u, 0, sizeof *u);
    switch (p->role) {
    case ACCESS_MEMBER: u->role = WEB_ROLE_MEMBER; break;
    case ACCESS_CLERK: u->role = WEB_ROLE_CLERK; break;
    case ACCESS_STAFF:
    case ACCESS_ADMIN: u->role = WEB_ROLE_STAFF; break;
    default: return -1;
    }
    snprintf(u->name, sizeof u->name, "%s", p->name);
    if (p->role == ACCESS_MEMBER)
        snprintf(u->member, sizeof u->member, "%s", p->member);
    for (size_t i = 0; i < p->ncommittees && u->ncommittees < WEB_COMMITTEES_MAX; i++)
        snprintf(u->committees[u->ncommittees++], WEB_NAME_MAX, "%s", p->committees[i]);
    return 0;
}

int web_users_find(struct web_users *us, const char *name, struct web_user *out)
{
    char err[512];
    int rc = -1;
    pthread_mutex_lock(&us->mu);
    (void)access_refresh(us->access, daemon_mono_ms(), err, sizeof err);  /* bad: keep the old */
    const struct access_principal *p = access_by_name(us->access, name);
    if (p && strcmp(name, "local") != 0 && users_of_principal(p, out) == 0)
        rc = pwfile_hash(us->pw, name, out->hash, sizeof out->hash);
    pthread_mutex_unlock(&us->mu);
    return rc;
}
