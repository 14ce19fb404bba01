/* cli_passwd.c: `minyi passwd NAME` -- set the web password of a principal
 * of the access file (common/access.h), read from stdin's first line, kept
 * as an argon2id hash in the password file (common/pwfile.h, config
 * "passwd", STATE/passwd.json).  --remove takes it away.  Who NAME is and
 * what it may do stays the access file's: a name not in it, or a gateway or
 * daemon (which never log in), is refused.  Needs no daemon running. */
#include "access.h"
#include "cli.h"
#include "config.h"
#include "pwfile.h"
#include "pwhash.h"
#include <stdio.h>
#include <string.h>

#define PASSWD_MIN 8
#define PASSWD_MAX 1024

/* The password on stdin's first line into buf: 0, or -1 (none, too short
 * or too long). */
static int passwd_read(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return strlen(buf) >= PASSWD_MIN && strlen(buf) <= PASSWD_MAX ? 0 : -1;
}

/* NAME must be a person of the access file: 0, or a printed failure. */
static int passwd_principal(struct cli *c, const char *name, enum access_role *role)
{
    char err[1024];
    struct access *a = access_load(c->cfg->access_path, err, sizeof err);
    if (!a)
        return cli_fail(c, "%s", err);
    const struct access_principal *p = access_by_name(a, name);
    int rc = CLI_EXIT_OK;
    if (!p || !strcmp(name, "local"))
        rc = cli_fail(c, "%s: no principal \"%s\" (add it with its role first; README: "
                      "Security)", c->cfg->access_path, name);
    else if (p->role == ACCESS_GATEWAY || p->role == ACCESS_DAEMON)
        rc = cli_fail(c, "%s is a %s: it never logs in", name, access_role_name(p->role));
    else
        *role = p->role;
    access_free(&a);
    return rc;
}

int cli_passwd(struct cli *c, int argc, char **argv)
{
    const char *remove = NULL;
    const struct cli_opt opts[] = {{"remove", 0, 0, &remove}, {NULL, 0, 0, NULL}};
    char *pos[1], err[1024] = "", pw[PASSWD_MAX + 2], hash[PWHASH_STRLEN];
    enum access_role role = ACCESS_MEMBER;
    int n = cli_args(c, argc, argv, opts, pos, 1, 1), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if (!remove && (rc = passwd_principal(c, pos[0], &role)) != CLI_EXIT_OK)
        return rc;
    if (!remove && passwd_read(pw, sizeof pw) < 0)
        return cli_fail(c, "want a password of %d-%d characters on stdin's first line",
                        PASSWD_MIN, PASSWD_MAX);
    if (!remove && (pwhash_init() < 0 || pwhash_hash(pw, hash) < 0))
        return cli_fail(c, "argon2id: out of memory");
    memset(pw, 0, sizeof pw);
    if (config_make_state_dirs(c->cfg, err, sizeof err) < 0 ||
        pwfile_set(c->cfg->passwd_path, pos[0], remove ? NULL : hash, err, sizeof err) < 0)
        return cli_fail(c, "%s", err);
    if (remove)
        printf("%s: no password any more\n", pos[0]);
    else
        printf("%s (%s) can log in on the web\n", pos[0], access_role_name(role));
    return CLI_EXIT_OK;
}
