/* config.c: loads the one JSON config file.  Every key has a default, so an
 * empty object is a valid config; errors name the file and the key. */
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_DEFAULT "config/minyi.json"
#ifndef CONFIG_SYSTEM                  /* the Makefile's SYSCONFDIR */
#define CONFIG_SYSTEM "/etc/minyi/minyi.json"
#endif

static int config_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int config_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Read a whole file (caller frees); NULL with errno on failure. */
static char *config_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        buf = xrealloc(buf, cap);
    }
    buf[n] = '\0';
    fclose(f);
    *len = n;
    return buf;
}

/* The config file to use: explicit, $MINYI_CONFIG, ./config/minyi.json, the
 * source tree's beside the program (BIN/../config), the installed system's
 * (CONFIG_SYSTEM, /etc/minyi/minyi.json: `make install`, the package), or
 * one shipped under BIN/../share/minyi. */
static char *config_find(const char *path)
{
    if (path)
        return xstrdup(path);
    const char *env = getenv("MINYI_CONFIG");
    if (env && *env)
        return xstrdup(env);
    if (access(CONFIG_DEFAULT, F_OK) == 0)
        return xstrdup(CONFIG_DEFAULT);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *dir = dirname(exe);
        const char *tries[] = {"%s/../config/minyi.json", CONFIG_SYSTEM,
                               "%s/../share/minyi/config/minyi.json"};
        for (size_t i = 0; i < 3; i++) {
            char *p = xasprintf(tries[i], dir);
            if (access(p, F_OK) == 0)
                return p;
            free(p);
        }
    }
    return xstrdup(CONFIG_DEFAULT);
}

/* rel resolved against dir unless absolute (caller frees). */
/* Drop "." and "name/.." components of an absolute path, in place (the
 * folder may not exist yet, so realpath cannot do it). */
static void config_clean_path(char *p)
{
    char *out = p, *in = p;
    while (*in) {
        while (*in == '/')
            in++;
        char *end = in + strcspn(in, "/");
        size_t n = (size_t)(end - in);
        if (n == 1 && in[0] == '.') {
            /* skip */
        } else if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *--out != '/')
                ;
        } else if (n) {
            *out++ = '/';
            memmove(out, in, n);
            out += n;
        }
        in = end;
    }
    if (out == p)
        *out++ = '/';
    *out = '\0';
}

static char *config_resolve(const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return xstrdup(rel);
    char *joined = xasprintf("%s/%s", dir, rel), resolved[PATH_MAX];
    if (realpath(joined, resolved)) {
        free(joined);
        return xstrdup(resolved);
    }
    config_clean_path(joined);         /* does not exist yet: tidy it lexically */
    return joined;
}

static const char *config_str(const cJSON *o, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static int config_check_types(const char *file, const cJSON *root, char *err, size_t errlen)
{
    static const char *const strings[] = {"organisation", "timezone", "state_dir", "rules",
                                          "members", "drop_group", "access", "passwd", NULL};
    for (int i = 0; strings[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, strings[i]);
        if (v && !cJSON_IsString(v))
            return config_err(err, errlen, "%s: %s: must be a string", file, strings[i]);
    }
    return 0;
}

/* "@STATE@" in v stands for the state directory (caller frees). */
static char *config_endpoint(const struct config *c, const char *v)
{
    const char *at = strstr(v, "@STATE@");
    return at ? xasprintf("%.*s%s%s", (int)(at - v), v, c->state_dir, at + 7) : xstrdup(v);
}

/* endpoints.router_ctl may list one control socket per router (several
 * routers side by side); ep.router_ctl stays the first. */
static int config_router_ctls(struct config *c, const cJSON *o, char *err, size_t errlen)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "router_ctl"), *v;
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 1;
    if (list && !cJSON_IsString(list) && (!cJSON_IsArray(list) || n < 1 || n > CONFIG_ROUTERS_MAX))
        return config_err(err, errlen, "%s: endpoints.router_ctl: must be an endpoint or a "
                          "list of 1 to %d (one per router)", c->path, CONFIG_ROUTERS_MAX);
    c->router_ctls = xcalloc((size_t)n + 1, sizeof *c->router_ctls);
    if (!cJSON_IsArray(list)) {
        c->router_ctls[c->nrouters++] = xstrdup(c->ep.router_ctl);
        return 0;
    }
    cJSON_ArrayForEach(v, list) {
        if (!cJSON_IsString(v) || !v->valuestring[0])
            return config_err(err, errlen, "%s: endpoints.router_ctl[%zu]: must be an "
                              "endpoint", c->path, c->nrouters);
        c->router_ctls[c->nrouters++] = config_endpoint(c, v->valuestring);
    }
    free(c->ep.router_ctl);
    c->ep.router_ctl = xstrdup(c->router_ctls[0]);
    return 0;
}

static int config_endpoints(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    static const struct { const char *key, *sock; size_t off; } eps[] = {
        {"submit", "submit.sock", offsetof(struct config_endpoints, submit)},
        {"route", "route.sock", offsetof(struct config_endpoints, route)},
        {"route_large", "route-large.sock", offsetof(struct config_endpoints, route_large)},
        {"archive", "archive.sock", offsetof(struct config_endpoints, archive)},
        {"archive_large", "archive-large.sock", offsetof(struct config_endpoints, archive_large)},
        {"confirm", "confirm.sock", offsetof(struct config_endpoints, confirm)},
        {"query", "query.sock", offsetof(struct config_endpoints, query)},
        {"collector_ctl", "collector.sock", offsetof(struct config_endpoints, collector_ctl)},
        {"router_ctl", "router.sock", offsetof(struct config_endpoints, router_ctl)},
    };
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "endpoints");
    if (o && !cJSON_IsObject(o))
        return config_err(err, errlen, "%s: endpoints: must be an object", c->path);
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        char **slot = (char **)((char *)&c->ep + eps[i].off);
        const char *v = config_str(o, eps[i].key, NULL);
        if (!v) {
            *slot = xasprintf("ipc://%s/run/%s", c->state_dir, eps[i].sock);
            continue;
        }
        *slot = config_endpoint(c, v);
    }
    if (config_router_ctls(c, o, err, errlen) < 0)
        return -1;
    /* A pipe's two lanes go to the same peers: a pipe moved elsewhere with
     * its large lane left on the default socket would take small reports
     * and hold every large one (and all behind it) for ever. */
    static const char *const lanes[][2] = {{"route", "route_large"},
                                           {"archive", "archive_large"}};
    for (size_t i = 0; i < 2; i++)
        if (!config_str(o, lanes[i][0], NULL) != !config_str(o, lanes[i][1], NULL))
            return config_err(err, errlen,
                              "%s: endpoints: %s and %s must be set together (the ordinary "
                              "and the large lane of one pipe)",
                              c->path, lanes[i][0], lanes[i][1]);
    return 0;
}

static int config_int(const cJSON *o, const char *key, int def, int min, int *out,
                      const char *file, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > 1e9)
        return config_err(err, errlen, "%s: limits.%s: must be a number >= %d", file, key, min);
    *out = (int)v->valuedouble;
    return 0;
}

static int config_limits(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "limits");
    struct config_limits *l = &c->limits;
    int maxb;
    if (o && !cJSON_IsObject(o))
        return config_err(err, errlen, "%s: limits: must be an object", c->path);
    if (config_int(o, "max_report_bytes", 65536, 256, &maxb, c->path, err, errlen) < 0 ||
        config_int(o, "lease_seconds", 1800, 1, &l->lease_seconds, c->path, err, errlen) < 0 ||
        config_int(o, "batch_max", 2048, 1, &l->batch_max, c->path, err, errlen) < 0 ||
        config_int(o, "resend_ms", 5000, 10, &l->resend_ms, c->path, err, errlen) < 0 ||
        config_int(o, "inflight_max", 20000, 1, &l->inflight_max, c->path, err, errlen) < 0 ||
        config_int(o, "hwm", 1000, 1, &l->hwm, c->path, err, errlen) < 0 ||
        config_int(o, "rescan_ms", 2000, 50, &l->rescan_ms, c->path, err, errlen) < 0 ||
        config_int(o, "dedup_days", 30, 0, &l->dedup_days, c->path, err, errlen) < 0 ||
        config_int(o, "request_timeout_ms", 5000, 10, &l->request_timeout_ms, c->path, err,
                   errlen) < 0)
        return -1;
    l->max_report_bytes = (size_t)maxb;
    return 0;
}

static int config_quota(struct config_quota *q, const cJSON *j, const char *file, int i,
                        char *err, size_t errlen)
{
    static const char *const scopes[] = {"member", "group", "sector", "org", NULL};
    static const char *const periods[] = {"month", "quarter", "year", NULL};
    const char *scope = config_str(j, "scope", ""), *period = config_str(j, "period", "");
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(j, "min");
    int ok_scope = 0, ok_period = 0;
    for (int k = 0; scopes[k]; k++)
        ok_scope |= strcmp(scope, scopes[k]) == 0;
    for (int k = 0; periods[k]; k++)
        ok_period |= strcmp(period, periods[k]) == 0;
    if (!ok_scope)
        return config_err(err, errlen, "%s: quotas[%d].scope: must be member, group, sector or org", file, i);
    if (!ok_period)
        return config_err(err, errlen, "%s: quotas[%d].period: must be month, quarter or year", file, i);
    if (!cJSON_IsNumber(min) || min->valuedouble < 0)
        return config_err(err, errlen, "%s: quotas[%d].min: must be a number >= 0", file, i);
    xstrlcpy(q->scope, scope, sizeof q->scope);
    xstrlcpy(q->period, period, sizeof q->period);
    q->id = xstrdup(config_str(j, "id", NULL));
    q->min = (int)min->valuedouble;
    return 0;
}

static int config_quotas(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "quotas"), *j;
    if (!a) {                          /* SPEC.md's examples are the default */
        c->quotas = xcalloc(2, sizeof *c->quotas);
        c->nquotas = 2;
        strcpy(c->quotas[0].scope, "member"), strcpy(c->quotas[0].period, "year");
        c->quotas[0].min = 1;
        strcpy(c->quotas[1].scope, "org"), strcpy(c->quotas[1].period, "month");
        c->quotas[1].min = 5;
        return 0;
    }
    if (!cJSON_IsArray(a))
        return config_err(err, errlen, "%s: quotas: must be an array", c->path);
    c->quotas = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *c->quotas);
    cJSON_ArrayForEach(j, a) {
        if (config_quota(&c->quotas[c->nquotas], j, c->path, (int)c->nquotas, err, errlen) < 0)
            return -1;
        c->nquotas++;
    }
    return 0;
}

static int config_points(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    static const struct { const char *key; size_t off; double def; } pts[] = {
        {"report", offsetof(struct config_points, report), 1},
        {"adopted", offsetof(struct config_points, adopted), 3},
        {"forwarded", offsetof(struct config_points, forwarded), 5},
        {"filed", offsetof(struct config_points, filed), 0},
        {"declined", offsetof(struct config_points, declined), 0},
        {"upstream_adopted", offsetof(struct config_points, upstream_adopted), 3},
        {"upstream2_adopted", offsetof(struct config_points, upstream2_adopted), 5},
    };
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "points");
    if (o && !cJSON_IsObject(o))
        return config_err(err, errlen, "%s: points: must be an object", c->path);
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, pts[i].key);
        double *slot = (double *)((char *)&c->points + pts[i].off);
        if (v && !cJSON_IsNumber(v))
            return config_err(err, errlen, "%s: points.%s: must be a number", c->path, pts[i].key);
        *slot = v ? v->valuedouble : pts[i].def;
    }
    return 0;
}

static int config_timezone(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const char *tz = config_str(root, "timezone", "Asia/Shanghai");
    char *zfile = xasprintf("/usr/share/zoneinfo/%s", tz);
    int known = tz[0] != '\0' && strstr(tz, "..") == NULL && access(zfile, R_OK) == 0;
    free(zfile);
    if (!known && strcmp(tz, "UTC") != 0 && strcmp(tz, "Asia/Shanghai") != 0)
        return config_err(err, errlen, "%s: timezone: unknown zone \"%s\"", c->path, tz);
    c->timezone = xstrdup(tz);
    return 0;
}

static int config_web(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "web");
    struct config_web *w = &c->web;
    if (o && !cJSON_IsObject(o))
        return config_err(err, errlen, "%s: web: must be an object", c->path);
    w->listen = xstrdup(config_str(o, "listen", "127.0.0.1:8080"));
    const char *cert = config_str(o, "tls_cert", NULL), *key = config_str(o, "tls_key", NULL),
               *curve = config_str(o, "key", NULL);
    w->tls_cert = cert ? config_resolve(c->dir, cert) : NULL;
    w->tls_key = key ? config_resolve(c->dir, key) : NULL;
    w->key = !curve ? NULL : !strncmp(curve, "@STATE@/", 8)
                                 ? xasprintf("%s/%s", c->state_dir, curve + 8)
                                 : config_resolve(c->dir, curve);
    if (!w->tls_cert != !w->tls_key)
        return config_err(err, errlen, "%s: web: tls_cert and tls_key go together", c->path);
    if (!strchr(w->listen, ':'))
        return config_err(err, errlen, "%s: web.listen: want HOST:PORT", c->path);
    if (config_int(o, "idle_minutes", 30, 1, &w->idle_minutes, c->path, err, errlen) < 0 ||
        config_int(o, "max_hours", 12, 1, &w->max_hours, c->path, err, errlen) < 0)
        return -1;
    return 0;
}

/* "retention": {"closed_days": N, "export_dir": DIR (relative: in the state
 * dir, where the archiver may write)}; absent: keep everything. */
static int config_retention(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "retention");
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(o, "closed_days");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "export_dir");
    if (o && !cJSON_IsObject(o))
        return config_err(err, errlen, "%s: retention: must be an object", c->path);
    if (days && (!cJSON_IsNumber(days) || days->valuedouble < 1 || days->valuedouble > 36500))
        return config_err(err, errlen, "%s: retention.closed_days: must be a number of days, "
                          "1 to 36500", c->path);
    if (dir && (!cJSON_IsString(dir) || !*dir->valuestring))
        return config_err(err, errlen, "%s: retention.export_dir: must be a folder", c->path);
    const char *d = dir ? dir->valuestring : "retention";
    c->retention.closed_days = days ? (int)days->valuedouble : 0;
    c->retention.export_dir = d[0] == '/' ? xstrdup(d) : xasprintf("%s/%s", c->state_dir, d);
    return 0;
}

static int config_parse(struct config *c, const char *buf, size_t len, const char *state_dir,
                        char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(buf, len);
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return config_err(err, errlen, "%s: not a JSON object", c->path);
    }
    if (config_check_types(c->path, root, err, errlen) < 0)
        goto out;
    c->organisation = xstrdup(config_str(root, "organisation", "政协"));
    if (!state_dir || !*state_dir)
        state_dir = getenv("MINYI_STATE_DIR");
    if (!state_dir || !*state_dir)
        state_dir = config_str(root, "state_dir", "var");
    c->state_dir = state_dir[0] == '/' ? xstrdup(state_dir) : config_resolve(c->dir, state_dir);
    c->rules_path = config_resolve(c->dir, config_str(root, "rules", "rules.json"));
    c->members_path = config_resolve(c->dir, config_str(root, "members", "members.json"));
    c->drop_group = xstrdup(config_str(root, "drop_group", NULL));
    c->access_path = config_resolve(c->dir, config_str(root, "access", "access.json"));
    c->passwd_path = config_str(root, "passwd", NULL)
                         ? config_resolve(c->dir, config_str(root, "passwd", NULL))
                         : config_state_path(c, "passwd.json");
    if (config_timezone(c, root, err, errlen) < 0 || config_endpoints(c, root, err, errlen) < 0 ||
        config_limits(c, root, err, errlen) < 0 || config_quotas(c, root, err, errlen) < 0 ||
        config_points(c, root, err, errlen) < 0 || config_retention(c, root, err, errlen) < 0 ||
        config_supervision_parse(c, root, err, errlen) < 0 ||
        config_upstream_parse(c, root, err, errlen) < 0 || config_web(c, root, err, errlen) < 0 ||
        config_curve_parse(c, root, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int config_load(const char *path, const char *state_dir, struct config **out, char *err,
                size_t errlen)
{
    char *file = config_find(path), abs[PATH_MAX];
    size_t len = 0;
    *out = NULL;
    char *buf = config_slurp(file, &len);
    if (!buf || !realpath(file, abs)) {
        config_err(err, errlen, "%s: %s", file, strerror(errno));
        free(file);
        free(buf);
        return -1;
    }
    free(file);
    struct config *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(abs);
    c->dir = xstrdup(dirname(abs));
    char *sd = NULL;                   /* --state-dir is relative to the cwd */
    if (state_dir && *state_dir) {
        char cwd[PATH_MAX];
        sd = state_dir[0] == '/' || !getcwd(cwd, sizeof cwd) ? xstrdup(state_dir)
                                                             : xasprintf("%s/%s", cwd, state_dir);
    }
    int rc = config_parse(c, buf, len, sd, err, errlen);
    free(sd);
    free(buf);
    if (rc < 0) {
        config_free(&c);
        return -1;
    }
    *out = c;
    return 0;
}

int config_large_hwm(const struct config *c)
{
    long hwm = CONFIG_LANE_LARGE_BYTES / (long)c->limits.max_report_bytes;
    if (hwm < 8)
        hwm = 8;
    return hwm < c->limits.hwm ? (int)hwm : c->limits.hwm;
}

void config_free(struct config **cp)
{
    struct config *c = cp ? *cp : NULL;
    if (!c)
        return;
    char **eps[] = {&c->ep.submit,        &c->ep.route, &c->ep.route_large,
                    &c->ep.archive,       &c->ep.archive_large, &c->ep.confirm,
                    &c->ep.query,         &c->ep.collector_ctl, &c->ep.router_ctl};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        free(*eps[i]);
    for (size_t i = 0; i < c->nquotas; i++)
        free(c->quotas[i].id);
    free(c->quotas);
    config_supervision_free(&c->supervision);
    config_upstream_free(&c->upstream);
    for (size_t i = 0; i < c->nrouters; i++)
        free(c->router_ctls[i]);
    free(c->router_ctls);
    free(c->retention.export_dir);
    free(c->path);
    free(c->dir);
    free(c->organisation);
    free(c->timezone);
    free(c->state_dir);
    free(c->rules_path);
    free(c->members_path);
    free(c->drop_group);
    free(c->access_path);
    free(c->passwd_path);
    free(c->server_key);
    free(c->server_public_key);
    free(c->web.listen);
    free(c->web.tls_cert);
    free(c->web.tls_key);
    free(c->web.key);
    free(c);
    *cp = NULL;
}

/* A folder of the state directory and the mode the daemons keep it at:
 * the state directory is only searchable by its group (to reach drop/ and
 * run/), drop/ is setgid and group-writable (Postfix's maildrop), run/
 * lets the group reach the sockets, the rest is the daemons' own. */
struct config_dir {
    const char *rel;
    mode_t mode;
    int group;                    /* gets drop_group, if configured */
};

static const struct config_dir config_dirs[] = {
    {"", 0710, 1},        {"drop", 02770, 1}, {"drop/rejected", 0700, 0},
    {"spool", 0700, 0},   {"run", 02750, 1},
};

/* Files the daemons keep private whatever mode an older version gave them. */
static const char *const config_private_files[] = {
    "archive.db", "archive.db-wal", "archive.db-shm", "dedup.log", "dedup.idx", NULL};

/* Make path a folder of mode d->mode (and group gid unless -1); refuse a
 * symbolic link, a non-folder and a world-writable folder, which anyone
 * could fill or rename things in (e.g. move run/submit.sock aside). */
static int config_mkdir(const char *path, const struct config_dir *d, gid_t gid, char *err,
                        size_t errlen)
{
    struct stat st;
    if (mkdir(path, d->mode & 0777) < 0 && errno != EEXIST)
        return config_err(err, errlen, "%s: %s", path, strerror(errno));
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return config_err(err, errlen, "%s: not a folder", path);
    if (st.st_mode & S_IWOTH)
        return config_err(err, errlen, "%s: world-writable, refusing to use it (chmod o-w)",
                          path);
    if (gid != (gid_t)-1 && st.st_gid != gid && chown(path, (uid_t)-1, gid) < 0)
        return config_err(err, errlen, "%s: cannot give it group %u: %s", path,
                          (unsigned)gid, strerror(errno));
    if ((st.st_mode & 07777) != d->mode && chmod(path, d->mode) < 0)
        return config_err(err, errlen, "%s: cannot set mode %04o: %s", path,
                          (unsigned)d->mode, strerror(errno));
    return 0;
}

/* The gid of drop_group, (gid_t)-1 if none is configured, or -1 with err. */
static int config_drop_gid(const struct config *c, gid_t *gid, char *err, size_t errlen)
{
    *gid = (gid_t)-1;
    if (!c->drop_group)
        return 0;
    struct group *g = getgrnam(c->drop_group);
    if (!g)
        return config_err(err, errlen, "%s: drop_group: no group \"%s\"", c->path,
                          c->drop_group);
    *gid = g->gr_gid;
    return 0;
}

int config_make_state_dirs(const struct config *c, char *err, size_t errlen)
{
    gid_t gid;
    if (config_drop_gid(c, &gid, err, errlen) < 0)
        return -1;
    /* mkdir -p for the state directory's parents */
    char *p = xstrdup(c->state_dir);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    free(p);
    for (size_t i = 0; i < sizeof config_dirs / sizeof config_dirs[0]; i++) {
        const struct config_dir *d = &config_dirs[i];
        char *path = config_state_path(c, d->rel);
        int rc = config_mkdir(path, d, d->group ? gid : (gid_t)-1, err, errlen);
        free(path);
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; config_private_files[i]; i++) {
        char *path = config_state_path(c, config_private_files[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
            chmod(path, st.st_mode & 0700);
        free(path);
    }
    return 0;
}

void config_apply_timezone(const struct config *c)
{
    char *zfile = xasprintf("/usr/share/zoneinfo/%s", c->timezone);
    /* Without tzdata, China Standard Time (no DST since 1991) still works. */
    if (access(zfile, R_OK) != 0 && strcmp(c->timezone, "Asia/Shanghai") == 0)
        setenv("TZ", "CST-8", 1);
    else
        setenv("TZ", c->timezone, 1);
    free(zfile);
    tzset();
}

char *config_state_path(const struct config *c, const char *rel)
{
    return *rel ? xasprintf("%s/%s", c->state_dir, rel) : xstrdup(c->state_dir);
}
