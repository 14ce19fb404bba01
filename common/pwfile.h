/* pwfile: the password file -- one argon2id hash (common/pwhash.h) per
 * principal of the access file that logs in on the web door:
 *
 *   {"passwords": {"M001": "$argon2id$v=19$...", "cj": "$argon2id$..."}}
 *
 * Config key "passwd", by default STATE/passwd.json, mode 0600.  `minyi
 * passwd NAME` writes it (pwfile_set); minyi-web reads it (pwfile_hash),
 * again as soon as it changes, so a new password works at once.  A
 * rewrite keeps the file's owner, group and mode (group read at most):
 * when minyi-web runs under an account of its own, the file is the
 * daemons' with that account's group and mode 0640 (README: Security).  Who a
 * name is -- its role, committees, member id -- is the access file's
 * business (common/access.h), never this file's.
 */
#ifndef MINYI_PWFILE_H
#define MINYI_PWFILE_H
#include <stddef.h>

struct pwfile;

/* A reader of the file at path (absent: no passwords yet).  0 and *out
 * (free with pwfile_free), or -1 with "path: why" in err (it does not
 * parse, or cannot be read). */
int pwfile_open(const char *path, struct pwfile **out, char *err, size_t errlen);
/* Free *p; sets *p = NULL.  NULL-safe. */
void pwfile_free(struct pwfile **p);
/* Copy name's hash into out (outlen >= PWHASH_STRLEN): 0, or -1 when the
 * name has no password.  Reads the file again first when it changed (a bad
 * edit keeps the last good list).  Thread-safe. */
int pwfile_hash(struct pwfile *p, const char *name, char *out, size_t outlen);
/* Set (hash non-NULL) or remove (NULL) name's hash in the file at path,
 * rewritten atomically (mode 0600, or the old file's owner, group and mode
 * with group read at most).  0, or -1 with err. */
int pwfile_set(const char *path, const char *name, const char *hash, char *err, size_t errlen);

#endif
