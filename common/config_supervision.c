/* config_supervision.c: the "supervision" part of the config (督办) --
 * each committee's deadlines to take up and to close a report, and the
 * office's notify command.  Loaded by config_load with the rest; errors
 * read "FILE: supervision.KEY: message".  What is overdue is decided in
 * archiver/archiver_supervise.c, not here. */
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPERVISION_DAYS_MAX 3650

/* A whole number member `key` of o in [lo, hi], def when absent; -1 with
 * err when present and not such a number. */
static int sv_int(const struct config *c, const cJSON *o, const char *where, const char *key,
                  int def, int lo, int hi, int *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
        v->valuedouble != (double)(int)v->valuedouble) {
        snprintf(err, errlen, "%s: %s%s: must be a whole number from %d to %d", c->path,
                 where, key, lo, hi);
        return -1;
    }
    *out = v->valueint;
    return 0;
}

/* supervision.committees: {"ID": {"take_up_days", "close_days"}}. */
static int sv_committees(struct config *c, const cJSON *o, char *err, size_t errlen)
{
    struct config_supervision *s = &c->supervision;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "committees"), *e;
    if (!list)
        return 0;
    if (!cJSON_IsObject(list)) {
        snprintf(err, errlen, "%s: supervision.committees: must be an object", c->path);
        return -1;
    }
    s->committees = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *s->committees);
    cJSON_ArrayForEach(e, list) {
        struct config_deadline *d = &s->committees[s->ncommittees];
        char where[160];
        snprintf(where, sizeof where, "supervision.committees.%.100s.", e->string);
        if (!cJSON_IsObject(e)) {
            snprintf(err, errlen, "%s: %.150s: must be an object", c->path, where);
            return -1;
        }
        d->committee = xstrdup(e->string);
        s->ncommittees++;
        if (sv_int(c, e, where, "take_up_days", s->take_up_days, 0, SUPERVISION_DAYS_MAX,
                   &d->take_up_days, err, errlen) < 0 ||
            sv_int(c, e, where, "close_days", s->close_days, 0, SUPERVISION_DAYS_MAX,
                   &d->close_days, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* supervision.notify: ["PROGRAM", "ARG", ...]; a relative PROGRAM with a
 * slash is relative to the config file, a bare name is looked up in PATH. */
static int sv_notify(struct config *c, const cJSON *o, char *err, size_t errlen)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "notify"), *v;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1) {
        snprintf(err, errlen, "%s: supervision.notify: must be a list of strings, the "
                 "program first (it is run without a shell)", c->path);
        return -1;
    }
    char **argv = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *argv);
    size_t n = 0;
    c->supervision.notify = argv;
    cJSON_ArrayForEach(v, a) {
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            snprintf(err, errlen, "%s: supervision.notify: item %zu: must be a non-empty "
                     "string", c->path, n + 1);
            return -1;
        }
        const char *s = v->valuestring;
        argv[n] = n == 0 && s[0] != '/' && strchr(s, '/') ? xasprintf("%s/%s", c->dir, s)
                                                           : xstrdup(s);
        n++;
    }
    return 0;
}

int config_supervision_parse(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    struct config_supervision *s = &c->supervision;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "supervision");
    if (o && !cJSON_IsObject(o)) {
        snprintf(err, errlen, "%s: supervision: must be an object", c->path);
        return -1;
    }
    if (sv_int(c, o, "supervision.", "take_up_days", 5, 0, SUPERVISION_DAYS_MAX,
               &s->take_up_days, err, errlen) < 0 ||
        sv_int(c, o, "supervision.", "close_days", 30, 0, SUPERVISION_DAYS_MAX,
               &s->close_days, err, errlen) < 0 ||
        sv_int(c, o, "supervision.", "check_seconds", 60, 1, 86400, &s->check_seconds, err,
               errlen) < 0 ||
        sv_int(c, o, "supervision.", "notify_timeout_seconds", 30, 1, 3600,
               &s->notify_timeout_seconds, err, errlen) < 0 ||
        sv_int(c, o, "supervision.", "notify_retry_seconds", 300, 1, 86400,
               &s->notify_retry_seconds, err, errlen) < 0)
        return -1;
    return sv_committees(c, o, err, errlen) < 0 ? -1 : sv_notify(c, o, err, errlen);
}

void config_supervision_free(struct config_supervision *s)
{
    for (size_t i = 0; i < s->ncommittees; i++)
        free(s->committees[i].committee);
    free(s->committees);
    for (size_t i = 0; s->notify && s->notify[i]; i++)
        free(s->notify[i]);
    free(s->notify);
    memset(s, 0, sizeof *s);
}

void config_deadlines(const struct config *c, const char *committee, int *take_up_days,
                      int *close_days)
{
    const struct config_supervision *s = &c->supervision;
    *take_up_days = s->take_up_days;
    *close_days = s->close_days;
    for (size_t i = 0; committee && i < s->ncommittees; i++)
        if (!strcmp(s->committees[i].committee, committee)) {
            *take_up_days = s->committees[i].take_up_days;
            *close_days = s->committees[i].close_days;
        }
}
