/* cli_keys.c: `minyi keys` -- CURVE key pairs and the principals file.
 *
 *   keys server                              the server's key pair (made once)
 *   keys new NAME ROLE [COMMITTEE...|MEMBER]  a key pair, registered as NAME
 *   keys list                                the principals and their keys
 *   keys revoke NAME                         NAME is nobody from now on
 *
 * Key files live beside the server's (STATE/keys/ by default): NAME.key
 * (both parts, 0600: hand it to the client) and NAME.pub.  The principals
 * file (config "access") is rewritten whole through a temporary file and
 * rename; the daemons read it again within a second, so a new or revoked
 * key takes effect without a restart.  File formats: keys.h, access.h. */
#include "access.h"
#include "cli.h"
#include "config.h"
#include "keys.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The folder of the server's key: where every key file goes (caller frees). */
static char *keys_dir(const struct config *cfg)
{
    char *copy = xstrdup(cfg->server_key);
    char *dir = xstrdup(dirname(copy));
    free(copy);
    return dir;
}

/* Run as root for daemons running as their own user: what is made here
 * belongs to the state directory's owner, so the daemons can read it. */
static void keys_chown(const struct cli *c, const char *path)
{
    struct stat st;
    if (geteuid() == 0 && stat(c->cfg->state_dir, &st) == 0 && st.st_uid != 0 &&
        chown(path, st.st_uid, (gid_t)-1) < 0)
        fprintf(stderr, "minyi: keys: %s: chown: %s\n", path, strerror(errno));
}

/* The state directory (with its modes, as the daemons make it) and dir. */
static int keys_mkdir(const struct cli *c, const char *dir)
{
    char err[1024];
    if (config_make_state_dirs(c->cfg, err, sizeof err) < 0)
        return cli_fail(c, "%s", err);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return cli_fail(c, "%s: %s", dir, strerror(errno));
    keys_chown(c, dir);
    return CLI_EXIT_OK;
}

/* A name that is safe as a file name and not a built-in principal's. */
static int keys_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < ACCESS_NAME_MAX && name[0] != '.' && name[0] != '-' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
               n && strcmp(name, "server") && strcmp(name, "local") && strcmp(name, "daemon");
}

/* The principals file as a tree ({"principals": []} when absent), or NULL
 * after printing why. */
static cJSON *keys_load_access(const struct cli *c)
{
    const char *path = c->cfg->access_path;
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
        return cJSON_Parse("{\"principals\": []}");
    if (!f) {
        cli_fail(c, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, got, m);
    fclose(f);
    fclose(m);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "principals"))) {
        cJSON_Delete(root);
        cli_fail(c, "%s: want {\"principals\": [...]}", path);
        return NULL;
    }
    return root;
}

/* Write the tree back: a temporary file beside it, then rename. */
static int keys_save_access(const struct cli *c, const cJSON *root)
{
    const char *path = c->cfg->access_path;
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    char *text = cJSON_Print(root);
    struct stat old;
    int had = stat(path, &old) == 0;
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
             fsync(fileno(f)) == 0 && fchmod(fileno(f), had ? old.st_mode & 0777 : 0640) == 0;
    if (ok && had && geteuid() == 0 && fchown(fileno(f), old.st_uid, old.st_gid) < 0)
        ok = 0;                        /* the daemons' user must still read it */
    if (ok && !had)
        keys_chown(c, tmp);
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) < 0)
        ok = 0;
    int e = errno;
    if (!ok)
        unlink(tmp);
    free(text);
    free(tmp);
    return ok ? CLI_EXIT_OK : cli_fail(c, "%s: %s", path, strerror(e));
}

/* The principal named name that is not revoked, or NULL. */
static cJSON *keys_find(cJSON *root, const char *name)
{
    cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root, "principals")) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name"));
        if (n && !strcmp(n, name) &&
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "revoked")))
            return p;
    }
    return NULL;
}

/* Make a key pair and write DIR/NAME.key (0600) and DIR/NAME.pub; a
 * revoked principal's old files of that name are replaced. */
static int keys_make(const struct cli *c, const char *name, const char *comment,
                     struct bus_curve *k, char **key_path)
{
    char err[1024];
    char *dir = keys_dir(c->cfg);
    int rc = keys_mkdir(c, dir);
    *key_path = xasprintf("%s/%s.key", dir, name);
    char *pub = keys_pub_path(*key_path);
    free(dir);
    memset(k, 0, sizeof *k);
    if (rc == CLI_EXIT_OK && bus_curve_keypair(k->public_key, k->secret_key) < 0)
        rc = cli_fail(c, "cannot make a CURVE key pair (ZeroMQ without CURVE?)");
    if (rc == CLI_EXIT_OK && (keys_write(*key_path, k, 1, comment, err, sizeof err) < 0 ||
                              keys_write(pub, k, 0, comment, err, sizeof err) < 0))
        rc = cli_fail(c, "%s", err);
    if (rc == CLI_EXIT_OK) {
        keys_chown(c, *key_path);
        keys_chown(c, pub);
    }
    free(pub);
    return rc;
}

/* keys server: make the server's pair once; print its public key. */
static int keys_server(struct cli *c)
{
    char err[1024];
    struct bus_curve k;
    char *pub = keys_pub_path(c->cfg->server_key);
    int rc = CLI_EXIT_OK;
    if (access(c->cfg->server_key, F_OK) == 0) {
        if (keys_read(c->cfg->server_key, &k, 1, err, sizeof err) < 0)
            rc = cli_fail(c, "%s", err);
    } else {
        char *dir = keys_dir(c->cfg);
        rc = keys_mkdir(c, dir);
        free(dir);
        memset(&k, 0, sizeof k);
        if (rc == CLI_EXIT_OK && bus_curve_keypair(k.public_key, k.secret_key) < 0)
            rc = cli_fail(c, "cannot make a CURVE key pair (ZeroMQ without CURVE?)");
        if (rc == CLI_EXIT_OK &&
            (keys_write(c->cfg->server_key, &k, 1, "minyi server key: the daemons' own",
                        err, sizeof err) < 0 ||
             keys_write(pub, &k, 0, "minyi server public key: clients need it", err,
                        sizeof err) < 0))
            rc = cli_fail(c, "%s", err);
        if (rc == CLI_EXIT_OK) {
            keys_chown(c, c->cfg->server_key);
            keys_chown(c, pub);
            fprintf(stderr, "minyi: keys: made %s (secret, 0600) and %s\n", c->cfg->server_key,
                    pub);
        }
    }
    if (rc == CLI_EXIT_OK)
        printf("%s\n", k.public_key);
    free(pub);
    return rc;
}

/* The principal's JSON for keys new: role, key, its committees or member. */
static cJSON *keys_principal(const char *name, enum access_role role, char **args, int nargs,
                             const char *key)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "role", access_role_name(role));
    if (role == ACCESS_CLERK) {
        cJSON *cs = cJSON_AddArrayToObject(p, "committees");
        for (int i = 0; i < nargs; i++)
            cJSON_AddItemToArray(cs, cJSON_CreateString(args[i]));
    } else if (role == ACCESS_MEMBER && nargs == 1) {
        cJSON_AddStringToObject(p, "member", args[0]);
    }
    cJSON_AddStringToObject(p, "key", key);
    return p;
}

static int keys_new(struct cli *c, char **pos, int npos)
{
    enum access_role role;
    const char *name = pos[1];
    if (npos < 3 || !keys_name_ok(name))
        return cli_usage_error(c, "keys new NAME ROLE: NAME is 1-63 letters, digits, '.', "
                               "'_' or '-' (not server, local or daemon)");
    if (access_role_parse(pos[2], &role) < 0)
        return cli_usage_error(c, "role is member, clerk, staff, admin, gateway or daemon");
    int nargs = npos - 3;
    if ((role == ACCESS_CLERK && nargs < 1) || (role == ACCESS_MEMBER && nargs > 1) ||
        (role != ACCESS_CLERK && role != ACCESS_MEMBER && nargs > 0))
        return cli_usage_error(c, "a clerk takes its committees, a member at most its roster "
                               "id, other roles nothing more");
    cJSON *root = keys_load_access(c);
    if (!root)
        return CLI_EXIT_FAIL;
    if (keys_find(root, name)) {
        cJSON_Delete(root);
        return cli_fail(c, "%s: already a principal (keys revoke %s first)", name, name);
    }
    char comment[200], *key_path = NULL;
    struct bus_curve k;
    snprintf(comment, sizeof comment, "minyi CURVE key of %s (%s): keep the secret part secret",
             name, access_role_name(role));
    char *dir = keys_dir(c->cfg);
    char *old = xasprintf("%s/%s.key", dir, name), *oldpub = keys_pub_path(old);
    unlink(old);                       /* a revoked principal's, if any */
    unlink(oldpub);
    free(dir), free(old), free(oldpub);
    int rc = keys_make(c, name, comment, &k, &key_path);
    if (rc == CLI_EXIT_OK) {
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(root, "principals"),
                             keys_principal(name, role, pos + 3, nargs, k.public_key));
        rc = keys_save_access(c, root);
    }
    if (rc == CLI_EXIT_OK)
        printf("%s\t%s\t%s\t%s\n", name, access_role_name(role), k.public_key, key_path);
    free(key_path);
    cJSON_Delete(root);
    return rc;
}

static int keys_revoke(struct cli *c, const char *name)
{
    cJSON *root = keys_load_access(c);
    if (!root)
        return CLI_EXIT_FAIL;
    cJSON *p = keys_find(root, name);
    if (!p) {
        cJSON_Delete(root);
        return cli_fail(c, "%s: no such principal (or already revoked)", name);
    }
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    cJSON_AddBoolToObject(p, "revoked", 1);
    cJSON_AddStringToObject(p, "revoked_at", when);
    int rc = keys_save_access(c, root);
    cJSON_Delete(root);
    if (rc == CLI_EXIT_OK)
        printf("%s: revoked (the daemons refuse it within a second)\n", name);
    return rc;
}

/* What a principal may act on, for the list: committees, member or "". */
static void keys_scope(const cJSON *p, char *buf, size_t len)
{
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(p, "committees"), *e;
    const char *member = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "member"));
    size_t off = 0;
    buf[0] = '\0';
    cJSON_ArrayForEach(e, cs)
        if (cJSON_IsString(e) && off < len)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
                                    e->valuestring);
    if (!cs && member)
        snprintf(buf, len, "%s", member);
}

static int keys_list(struct cli *c)
{
    cJSON *root = keys_load_access(c), *p;
    if (!root)
        return CLI_EXIT_FAIL;
    static const char *const head[] = {"NAME", "ROLE", "SCOPE", "KEY", "STATE"};
    struct cli_table *t = cli_table_new(5, head);
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root, "principals")) {
        if (!strcmp(c->format, "json")) {
            char *line = cJSON_PrintUnformatted(p);
            printf("%s\n", line);
            free(line);
            continue;
        }
        char scope[256];
        keys_scope(p, scope, sizeof scope);
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "key"));
        const char *cells[] = {
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "role")), scope,
            key ? key : "(account)",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "revoked")) ? "revoked" : "active"};
        cells[0] = cells[0] ? cells[0] : "?";
        cells[1] = cells[1] ? cells[1] : "?";
        cli_table_add(t, cells);
    }
    if (strcmp(c->format, "json"))
        cli_table_print(t, stdout, 0);
    cli_table_free(&t);
    cJSON_Delete(root);
    return CLI_EXIT_OK;
}

int cli_keys(struct cli *c, int argc, char **argv)
{
    char *pos[64];
    int n = cli_args(c, argc, argv, NULL, pos, 1, 64), rc;
    if (n < 0)
        return cli_args_done(c, n);
    c->key = "";                       /* files only: no client key wanted */
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    const char *verb = pos[0];
    if (!strcmp(verb, "server") && n == 1)
        return keys_server(c);
    if (!strcmp(verb, "new"))
        return keys_new(c, pos, n);
    if (!strcmp(verb, "list") && n == 1)
        return keys_list(c);
    if (!strcmp(verb, "revoke") && n == 2)
        return keys_revoke(c, pos[1]);
    return cli_usage_error(c, "unknown keys command");
}
