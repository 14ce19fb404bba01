/* curve_client.c: a client's CURVE keys (curve_client.h). */
#include "curve_client.h"
#include "bus.h"
#include "config.h"
#include "keys.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURVE_CLIENT_EPS (CONFIG_NENDPOINTS + CONFIG_ROUTERS_MAX + 1)

/* The server's public key into k->server_key: 0, or -1 with err. */
static int curve_client_server(const struct config *cfg, struct bus_curve *k, char *err,
                               size_t errlen)
{
    struct bus_curve server = {0};
    char why[600];
    if (cfg->server_public_key) {
        snprintf(k->server_key, sizeof k->server_key, "%s", cfg->server_public_key);
        return 0;
    }
    char *pub = keys_pub_path(cfg->server_key);
    int rc = keys_read(pub, &server, 0, why, sizeof why);
    free(pub);
    if (rc < 0) {
        snprintf(err, errlen, "the server's public key: %s (set \"server_public_key\" in the "
                 "config)", why);
        return -1;
    }
    memcpy(k->server_key, server.public_key, sizeof k->server_key);
    return 0;
}

/* The first of uses that is tcp:// and not in plain, or NULL. */
static const char *curve_client_needed(const char *const *uses, const char *const *plain)
{
    for (size_t i = 0; uses[i]; i++) {
        int insecure = 0;
        for (size_t j = 0; plain[j]; j++)
            insecure |= !strcmp(uses[i], plain[j]);
        if (!strncmp(uses[i], "tcp://", 6) && !insecure)
            return uses[i];
    }
    return NULL;
}

int curve_client(const struct config *cfg, const char *const *uses, const char *key_path,
                 struct bus *b, char *err, size_t errlen)
{
    const char *plain[CURVE_CLIENT_EPS] = {0};
    struct bus_curve k = {0};
    char why[600];
    config_endpoint_list(cfg, CONFIG_EP_PLAIN, plain, NULL, CURVE_CLIENT_EPS - 1);
    const char *need = curve_client_needed(uses, plain);
    if (!need)
        return 0;
    if (!key_path) {
        snprintf(err, errlen, "%s needs a CURVE key: give this client one (minyi keys new)",
                 need);
        return -1;
    }
    if (keys_read(key_path, &k, 1, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (curve_client_server(cfg, &k, err, errlen) < 0)
        return -1;
    bus_set_curve(b, &k, plain);
    return 1;
}
