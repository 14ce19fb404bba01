/* keys.c: reading and writing CURVE key files (keys.h).  No ZeroMQ here
 * but bus_curve_public, which derives a missing public line. */
#include "keys.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int keys_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int keys_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int keys_z85_ok(const char *s)
{
    static const char z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              ".-:+=^!/*?&<>()[]{}@%$#";
    return s && strlen(s) == BUS_KEY_LEN && strspn(s, z85) == BUS_KEY_LEN;
}

/* "name = value" of one line into slot (if name matches); 1 taken, 0 not
 * this name, -1 a bad value. */
static int keys_line(char *line, const char *name, char *slot)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return 0;
    char *v = line + n;
    v += strspn(v, " \t");
    if (*v++ != '=')
        return 0;
    v += strspn(v, " \t");
    v[strcspn(v, " \t\r\n")] = '\0';
    if (!keys_z85_ok(v))
        return -1;
    memcpy(slot, v, BUS_KEY_LEN + 1);
    return 1;
}

/* A secret key file must be private. 0, or -1 with err. */
static int keys_private(FILE *f, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        return keys_err(err, errlen, "%s: mode %04o: a secret key must be private "
                        "(chmod 600)", path, (unsigned)(st.st_mode & 07777));
    return 0;
}

int keys_read(const char *path, struct bus_curve *k, int need_secret, char *err,
              size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int lineno = 0, rc = 0;
    if (!f)
        return keys_err(err, errlen, "%s: %s", path, strerror(errno));
    k->public_key[0] = k->secret_key[0] = '\0';
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        int a = keys_line(line, "public-key", k->public_key);
        int b = a ? 0 : keys_line(line, "secret-key", k->secret_key);
        if (a < 0 || b < 0 || (a == 0 && b == 0))
            rc = keys_err(err, errlen, "%s:%d: want \"public-key = KEY\" or \"secret-key = "
                          "KEY\" (40 Z85 characters)", path, lineno);
    }
    if (rc == 0 && k->secret_key[0])
        rc = keys_private(f, path, err, errlen);
    fclose(f);
    if (rc < 0)
        return -1;
    if (need_secret && !k->secret_key[0])
        return keys_err(err, errlen, "%s: no secret-key line", path);
    if (!k->public_key[0] && (!k->secret_key[0] ||
                              bus_curve_public(k->secret_key, k->public_key) < 0))
        return keys_err(err, errlen, "%s: no public-key line", path);
    return 0;
}

int keys_write(const char *path, const struct bus_curve *k, int with_secret,
               const char *comment, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, with_secret ? 0600 : 0644);
    if (fd < 0)
        return keys_err(err, errlen, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return keys_err(err, errlen, "%s: %s", path, strerror(errno));
    }
    fchmod(fd, with_secret ? 0600 : 0644);     /* whatever the umask */
    fprintf(f, "# %s\npublic-key = %s\n", comment, k->public_key);
    if (with_secret)
        fprintf(f, "secret-key = %s\n", k->secret_key);
    if (fflush(f) != 0 || fsync(fd) != 0) {
        int e = errno;
        fclose(f);
        unlink(path);
        return keys_err(err, errlen, "%s: %s", path, strerror(e));
    }
    fclose(f);
    return 0;
}

char *keys_pub_path(const char *key_path)
{
    size_t n = strlen(key_path);
    if (n > 4 && strcmp(key_path + n - 4, ".key") == 0)
        return xasprintf("%.*s.pub", (int)(n - 4), key_path);
    return xasprintf("%s.pub", key_path);
}
