/* config_upstream.c: the "upstream" part of the config (报送) -- the next
 * level's collector submit socket that reports closed as `forwarded` are
 * delivered to, its query socket the outcomes are read back from, and the
 * ids this organisation files under there, and the CURVE keys of a tcp://
 * link (read by the archiver at start).  Errors read "FILE:
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

/* A file name (@STATE@ already replaced) relative to the config's folder. */
static void up_path(const struct config *c, char **path)
{
    char *k = *path;
    if (k && k[0] != '/') {
        *path = xasprintf("%s/%s", c->dir, k);
        free(k);
    }
}

/* CURVE on a tcp:// link: both keys, 40 Z85 characters for the server's,
 * unless "insecure".  0 / -1 with err. */
static int up_curve(const struct config *c, const cJSON *o, struct config_upstream *u,
                    char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "insecure");
    int tcp = !strncmp(u->endpoint, "tcp://", 6) || (u->query && !strncmp(u->query, "tcp://", 6));
    if (v && !cJSON_IsBool(v)) {
        snprintf(err, errlen, "%s: upstream.insecure: must be true or false", c->path);
        return -1;
    }
    u->insecure = cJSON_IsTrue(v);
    if (up_str(c, o, "key", NULL, &u->key, err, errlen) < 0 ||
        up_str(c, o, "server_public_key", NULL, &u->server_public_key, err, errlen) < 0 ||
        up_str(c, o, "server_key", NULL, &u->server_key, err, errlen) < 0)
        return -1;
    up_path(c, &u->key);
    up_path(c, &u->server_key);
    if (u->server_public_key && strlen(u->server_public_key) != 40) {
        snprintf(err, errlen, "%s: upstream.server_public_key: must be 40 Z85 characters (the "
                 "public-key line of the next level's server.pub)", c->path);
        return -1;
    }
    if (tcp && !u->insecure && (!u->key || (!u->server_public_key && !u->server_key))) {
        snprintf(err, errlen, "%s: upstream: a tcp:// link needs \"key\" (this level's key "
                 "pair, from `minyi keys new` at the next level) and \"server_key\" (the "
                 "next level's server.pub) or \"server_public_key\", or \"insecure\": true",
                 c->path);
        return -1;
    }
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
    return up_curve(c, o, u, err, errlen);
}

void config_upstream_free(struct config_upstream *u)
{
    free(u->endpoint);
    free(u->query);
    free(u->member);
    free(u->org);
    free(u->key);
    free(u->server_public_key);
    free(u->server_key);
    memset(u, 0, sizeof *u);
}
