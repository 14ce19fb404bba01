/* config_curve.c: the config's CURVE part -- which tcp:// endpoints run
 * without keys ("insecure"), where the server's key pair is ("server_key")
 * and the server's public key for clients that do not have the pair
 * ("server_public_key").  Reading the key files is keys.c's; refusing a
 * daemon whose tcp:// endpoint has no keys is daemon.c's. */
#include "config.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The endpoint names of the config, in config_endpoint_list's order. */
static const char *const ep_names[CONFIG_NENDPOINTS] = {
    "submit", "route", "route_large", "archive", "archive_large", "confirm", "query",
    "collector_ctl", "router_ctl"};

/* "insecure": true (every endpoint) or a list of endpoint names. */
static int curve_insecure(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "insecure"), *e;
    c->insecure = 0;
    if (!v || cJSON_IsFalse(v))
        return 0;
    if (cJSON_IsTrue(v)) {
        c->insecure = (1u << CONFIG_NENDPOINTS) - 1;
        return 0;
    }
    if (!cJSON_IsArray(v))
        goto bad;
    cJSON_ArrayForEach(e, v) {
        int found = 0;
        for (int i = 0; i < CONFIG_NENDPOINTS && cJSON_IsString(e); i++)
            if (strcmp(e->valuestring, ep_names[i]) == 0) {
                c->insecure |= 1u << i;
                found = 1;
            }
        if (!found)
            goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen, "%s: insecure: want true or a list of endpoint names (submit, "
             "route, route_large, archive, archive_large, confirm, query, collector_ctl, "
             "router_ctl)", c->path);
    return -1;
}

int config_curve_parse(struct config *c, const cJSON *root, char *err, size_t errlen)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(root, "server_key");
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(root, "server_public_key");
    if (curve_insecure(c, root, err, errlen) < 0)
        return -1;
    if (key && (!cJSON_IsString(key) || !key->valuestring[0])) {
        snprintf(err, errlen, "%s: server_key: must be a file name", c->path);
        return -1;
    }
    if (pub && (!cJSON_IsString(pub) || strlen(pub->valuestring) != 40)) {
        snprintf(err, errlen, "%s: server_public_key: must be 40 Z85 characters (the "
                 "public-key line of the server's key)", c->path);
        return -1;
    }
    const char *k = key ? key->valuestring : NULL;
    const char *at = k ? strstr(k, "@STATE@") : NULL;
    c->server_key = !k ? xasprintf("%s/keys/server.key", c->state_dir)
                    : at ? xasprintf("%.*s%s%s", (int)(at - k), k, c->state_dir, at + 7)
                    : k[0] == '/' ? xstrdup(k) : xasprintf("%s/%s", c->dir, k);
    c->server_public_key = pub ? xstrdup(pub->valuestring) : NULL;
    return 0;
}

size_t config_endpoint_list(const struct config *c, int which, const char **eps,
                            const char **names, size_t max)
{
    const char *const all[CONFIG_NENDPOINTS - 1] = {
        c->ep.submit, c->ep.route, c->ep.route_large, c->ep.archive, c->ep.archive_large,
        c->ep.confirm, c->ep.query, c->ep.collector_ctl};
    size_t n = 0;
    for (size_t i = 0; i < CONFIG_NENDPOINTS - 1 + c->nrouters; i++) {
        size_t k = i < CONFIG_NENDPOINTS - 1 ? i : CONFIG_NENDPOINTS - 1;
        const char *ep = i < CONFIG_NENDPOINTS - 1 ? all[i] : c->router_ctls[i - k];
        int tcp = ep && strncmp(ep, "tcp://", 6) == 0;
        int plain = (c->insecure >> k) & 1;
        if (!tcp || n == max || (which == CONFIG_EP_PLAIN) != plain)
            continue;
        eps[n] = ep;
        if (names)
            names[n] = ep_names[k];
        n++;
    }
    return n;
}
