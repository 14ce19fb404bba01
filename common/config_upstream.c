/* config_upstream.c: the "upstream" part of the config (报送) -- the next
 * level's collector submit socket that reports closed as `forwarded` are
 * delivered to, its query socket the outcomes are read back from, and the
 * ids this organisation files under there.  Errors read "FILE:
 * upstream.KEY: message".  The delivery itself is
 * archiver/archiver_upstream.c's. */
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A non-empty string member, def when absent; -1 with err otherwise. */
static int up_str(const struct config *c, const cJSON *o, const char *key, const char *def,
                  char **out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v && (!cJSON_IsString(v) || !v->valuestring[0])) {
        snprintf(err, errlen, "%s: upstream.%s: must be a non-empty string", c->path, key);
        return -1;
    }
    const char *s = v ? v->valuestring : def;
    const char *at = s ? strstr(s, "@STATE@") : NULL;
    *out = !s ? NULL : at ? xasprintf("%.*s%s%s", (int)(at - s), s, c->state_dir, at + 7)
                          : xstrdup(s);
    return 0;
}

int config_upstream_parse(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    struct config_upstream *u = &c->upstream;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "upstream"), *v;
    u->resend_ms = 5000;
    u->poll_seconds = 60;
    if (!o)
        return 0;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "%s: upstream: must be an object", c->path);
        return -1;
    }
    if (up_str(c, o, "endpoint", NULL, &u->endpoint, err, errlen) < 0 ||
        up_str(c, o, "query", NULL, &u->query, err, errlen) < 0 ||
        up_str(c, o, "member", NULL, &u->member, err, errlen) < 0 ||
        up_str(c, o, "org", c->organisation, &u->org, err, errlen) < 0)
        return -1;
    if (!u->endpoint || !u->member) {
        snprintf(err, errlen, "%s: upstream: needs \"endpoint\" (the next level's submit "
                 "socket) and \"member\" (the id this organisation files under there)", c->path);
        return -1;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "resend_ms")) != NULL) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 10 || v->valuedouble > 3600000) {
            snprintf(err, errlen, "%s: upstream.resend_ms: must be 10 to 3600000", c->path);
            return -1;
        }
        u->resend_ms = v->valueint;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "poll_seconds")) != NULL) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 86400) {
            snprintf(err, errlen, "%s: upstream.poll_seconds: must be 1 to 86400", c->path);
            return -1;
        }
        u->poll_seconds = v->valueint;
    }
    return 0;
}

void config_upstream_free(struct config_upstream *u)
{
    free(u->endpoint);
    free(u->query);
    free(u->member);
    free(u->org);
    memset(u, 0, sizeof *u);
}
