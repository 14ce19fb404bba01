/* curve_client: a client's CURVE keys for the config's tcp:// endpoints --
 * its own key pair (a file, common/keys.h) and the server's public key
 * ("server_public_key", else the .pub beside "server_key"), given to the
 * bus for every tcp:// endpoint the config does not call insecure.
 * minyi-web (web.key) and the minyi command (--key, $MINYI_KEY) use it.
 */
#ifndef MINYI_CURVE_CLIENT_H
#define MINYI_CURVE_CLIENT_H
#include <stddef.h>

struct bus;
struct config;

/* Use the key pair at key_path on b's tcp:// sockets when one of uses (the
 * endpoints the client connects to, NULL-terminated) is a tcp:// endpoint
 * the config does not call insecure.  Returns 1 (keys set), 0 (none such:
 * nothing to do), or -1 with err (key_path NULL while CURVE is needed, a
 * key file that does not read, or no server public key). */
int curve_client(const struct config *cfg, const char *const *uses, const char *key_path,
                 struct bus *b, char *err, size_t errlen);

#endif
