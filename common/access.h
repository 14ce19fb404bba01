/* access: who may do what.  The principals file (config key "access",
 * default access.json beside the config) lists every principal:
 *
 *   {"principals": [
 *     {"name": "li",     "role": "clerk", "committees": ["jiaoke"], "users": ["li"]},
 *     {"name": "M001",   "role": "member", "uids": [1001]},
 *     {"name": "office", "role": "staff", "users": ["wang"]},
 *     {"name": "web",    "role": "gateway", "key": "Z85 CURVE public key"}]}
 *
 * A principal is reached by the Unix account of an ipc:// peer ("uids",
 * or "users" resolved when the file is read) or by its CURVE public key
 * ("key", 40 Z85 characters) over tcp:// with CURVE (bus.h: the ZAP
 * handler lets only listed keys connect, and only daemon keys onto the
 * pipes between daemons).  A principal with "revoked": true (minyi keys
 * revoke) is kept in the file for the record and is nobody.  The holder of
 * the server's key pair is the built-in daemon "daemon".  A member principal's name is its
 * roster id unless "member" says otherwise.  The daemons' own account and
 * root are always the admin "local", so a fresh state directory needs no
 * file.  Anyone else not listed is nobody: every request is forbidden.
 *
 * The file is read again when it changes (access_refresh), so a revoked key
 * or account loses its rights without a restart.  This module decides; the
 * daemons ask it at each request and answer "forbidden" with its reason.
 */
#ifndef MINYI_ACCESS_H
#define MINYI_ACCESS_H
#include "bus.h"
#include <stddef.h>
#include <sys/types.h>

enum access_role {
    ACCESS_MEMBER, ACCESS_CLERK, ACCESS_STAFF, ACCESS_ADMIN, ACCESS_GATEWAY, ACCESS_DAEMON
};

/* What a request asks to do (one per command family). */
enum access_act {
    ACCESS_SUBMIT,                /* file a report (as a member) */
    ACCESS_QUEUE,                 /* queue, pull: a committee's work */
    ACCESS_CHANGE,                /* ack, release, reassign: a leased report */
    ACCESS_SHOW,                  /* one report */
    ACCESS_AUDIT,                 /* audit, history (rules learn) */
    ACCESS_STATUS,                /* status of a daemon */
    ACCESS_MANAGE,                /* rules reload, import, roster */
};

#define ACCESS_NAME_MAX 64
#define ACCESS_KEY_LEN 40         /* Z85 text of a CURVE public key */

struct access_principal {
    char name[ACCESS_NAME_MAX];
    enum access_role role;
    char member[ACCESS_NAME_MAX]; /* member: its roster id */
    char **committees;            /* clerk: its committees */
    size_t ncommittees;
    uid_t *uids;
    size_t nuids;
    char key[ACCESS_KEY_LEN + 1]; /* "" when none */
};

struct access;

/* Read the principals file at path (NULL or a missing file: only the local
 * admin).  Returns the table (free with access_free), or NULL with
 * "FILE: principal N: message" in err. */
struct access *access_load(const char *path, char *err, size_t errlen);
/* Free *a; sets *a = NULL. NULL-safe. */
void access_free(struct access **a);
/* Read the file again if it changed since (at most once a second, now_ms
 * monotonic).  1 reloaded, 0 unchanged, -1 the new file is bad (err; the
 * old table stays). */
int access_refresh(struct access *a, long long now_ms, char *err, size_t errlen);

/* Count one refusal (status shows it as "forbidden"); the count so far. */
void access_count_forbidden(struct access *a);
unsigned long access_forbidden(const struct access *a);

/* Lookups: the principal, borrowed from a until the next refresh, or NULL. */
const struct access_principal *access_by_uid(const struct access *a, uid_t uid);
const struct access_principal *access_by_key(const struct access *a, const char *z85);
const struct access_principal *access_by_name(const struct access *a, const char *name);
/* The server's public key (Z85): its holder is the principal "daemon". */
void access_set_daemon_key(struct access *a, const char *z85);
/* The principal behind a received message: its CURVE user id (the
 * client's public key) or its ipc:// peer's uid.  NULL: nobody. */
const struct access_principal *access_of_msg(const struct access *a, const struct bus_msg *m);

/* May p do act?  committee: the committee acted on (ACCESS_QUEUE; NULL
 * otherwise); member: the report's member (ACCESS_SUBMIT, ACCESS_SHOW).
 * 0 allowed, -1 with the reason in why (p NULL: nobody). */
int access_may(const struct access_principal *p, enum access_act act, const char *committee,
               const char *member, char *why, size_t whylen);
/* 1 if p may name another acting person ("who"): staff, admin, gateway. */
int access_may_act_for(const struct access_principal *p);
/* A gateway (the web door) acts for a person it authenticated, named in
 * "who" (or, for a submit, by the report's member id): the request must be
 * one a gateway may pass on (never manage) and one the person may do
 * itself.  A gateway alone may only read the audit and status.
 * access_person: the member, clerk, staff or admin principal called name in
 * the file (never "local", a gateway or a daemon), or NULL.
 * access_member_person: the member principal of roster id member, or NULL.
 * Both borrowed from a until the next refresh. */
const struct access_principal *access_person(const struct access *a, const char *name);
const struct access_principal *access_member_person(const struct access *a, const char *member);
/* May sender, acting as `as` (sender itself, or the person a gateway
 * names), do act?  0, or -1 with the reason in why. */
int access_may_as(const struct access_principal *sender, const struct access_principal *as,
                  enum access_act act, const char *committee, const char *member, char *why,
                  size_t whylen);
/* The principal's name for logs ("nobody" for NULL). */
const char *access_name(const struct access_principal *p);
/* "member", "clerk", ... */
const char *access_role_name(enum access_role role);
/* Parse a role name.  0 and *role, or -1. */
int access_role_parse(const char *name, enum access_role *role);

#endif
