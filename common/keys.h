/* keys: CURVE key files (the ZeroMQ side is bus.c's; this is only files).
 *
 * A key file is text, one "NAME = VALUE" a line, '#' starts a comment:
 *
 *   # minyi CURVE key of li (clerk): keep the secret part secret
 *   public-key = 40 Z85 characters
 *   secret-key = 40 Z85 characters
 *
 * NAME.key holds both parts and is mode 0600; NAME.pub only the public one
 * (what a server or a client on another machine needs).  A file holding a
 * secret key that its group or others may read is refused, as ssh does.
 * The server's pair is STATE/keys/server.key unless the config's
 * "server_key" names another file (config.h).
 */
#ifndef MINYI_KEYS_H
#define MINYI_KEYS_H
#include "bus.h"
#include <stddef.h>

/* Read path into k->public_key and k->secret_key (server_key untouched).
 * need_secret: a file without "secret-key" is an error.  A secret key
 * without its public line gets it computed.  0, or -1 with "FILE: why". */
int keys_read(const char *path, struct bus_curve *k, int need_secret, char *err,
              size_t errlen);
/* Write k's public key (and its secret key if with_secret; the file is then
 * 0600, else 0644) to path, which must not exist yet; comment is the
 * first line's text.  0, or -1 with "FILE: why". */
int keys_write(const char *path, const struct bus_curve *k, int with_secret,
               const char *comment, char *err, size_t errlen);
/* The public key file beside a pair's: "DIR/NAME.key" -> "DIR/NAME.pub"
 * (caller frees). */
char *keys_pub_path(const char *key_path);
/* 1 if s is 40 Z85 characters. */
int keys_z85_ok(const char *s);

#endif
