/* test_pwfile: the password file -- set, find, replace, remove, mode 0600,
 * read again when it changes, a bad file refused with its path. */
#include "harness.h"
#include "pwfile.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define H1 "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaDE"
#define H2 "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaDI"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/test_pwfile.XXXXXX", path[256], err[512], h[128];
    struct pwfile *p;
    struct stat st;
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/passwd.json", dir);

    CHECK_INT("an absent file opens (no passwords)", pwfile_open(path, &p, err, sizeof err), 0);
    CHECK_INT("nobody has one", pwfile_hash(p, "M001", h, sizeof h), -1);
    CHECK_INT("set M001", pwfile_set(path, "M001", H1, err, sizeof err), 0);
    CHECK_INT("set cj", pwfile_set(path, "cj", H2, err, sizeof err), 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600: %o",
          (unsigned)(st.st_mode & 0777));
    CHECK_INT("the reader sees the change", pwfile_hash(p, "M001", h, sizeof h), 0);
    CHECK_STR("M001's hash", h, H1);
    CHECK_INT("replace M001", pwfile_set(path, "M001", H2, err, sizeof err), 0);
    CHECK_INT("found", pwfile_hash(p, "M001", h, sizeof h), 0);
    CHECK_STR("the new hash", h, H2);
    chmod(path, 0644);
    CHECK_INT("rewrite a file others could read", pwfile_set(path, "cj", H1, err, sizeof err), 0);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "its group keeps read, others "
          "not: %o", (unsigned)(st.st_mode & 0777));
    CHECK_INT("remove cj", pwfile_set(path, "cj", NULL, err, sizeof err), 0);
    CHECK_INT("cj has none", pwfile_hash(p, "cj", h, sizeof h), -1);
    CHECK_INT("a NULL name has none", pwfile_hash(p, NULL, h, sizeof h), -1);
    CHECK_INT("too small a buffer: none", pwfile_hash(p, "M001", h, 8), -1);

    write_text(path, "{\"passwords\": {\"M001\": \"plain text\"}}");
    CHECK_INT("a bad edit keeps the last good list", pwfile_hash(p, "M001", h, sizeof h), 0);
    pwfile_free(&p);
    CHECK_INT("a plain password is refused", pwfile_open(path, &p, err, sizeof err), -1);
    CHECK(strstr(err, path) && strstr(err, "argon2id"), "err names the file: %s", err);
    write_text(path, "[1, 2]");
    CHECK_INT("not an object: refused", pwfile_open(path, &p, err, sizeof err), -1);
    CHECK_INT("nor can one be set", pwfile_set(path, "M001", H1, err, sizeof err), -1);
    pwfile_free(&p);
    unlink(path);
    rmdir(dir);
    return harness_done();
}
