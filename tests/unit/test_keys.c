/* test_keys.c: CURVE key files -- written and read back, the secret file
 * private (0600) and refused when others may read it, malformed lines named
 * by line, a missing public line derived, the .pub name beside a .key. */
#include "keys.h"
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/minyi-test-keys.XXXXXX";

static const char *path_of(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void write_text(const char *name, const char *text, mode_t mode)
{
    FILE *f = fopen(path_of(name), "w");
    fputs(text, f);
    fclose(f);
    chmod(path_of(name), mode);
}

struct bad_case {
    const char *text, *want;
};

static const struct bad_case bad_cases[] = {
    {"public-key = short\n", ":1: want"},
    {"# fine\nsecret = 0000000000000000000000000000000000000000\n", ":2: want"},
    {"public-key = 000000000000000000000000000000000000000\"\n", ":1: want"},
    {"# nothing\n", "no secret-key line"},
};

int main(void)
{
    char err[1024];
    struct bus_curve k, r;
    if (!mkdtemp(dir))
        return 1;
    memset(&k, 0, sizeof k);
    bus_curve_keypair(k.public_key, k.secret_key);
    CHECK(keys_write(path_of("a.key"), &k, 1, "test key", err, sizeof err) == 0, "write: %s", err);
    CHECK(keys_write(path_of("a.pub"), &k, 0, "test key", err, sizeof err) == 0, "pub: %s", err);
    struct stat st;
    CHECK(stat(path_of("a.key"), &st) == 0 && (st.st_mode & 0777) == 0600, "the pair is 0600");
    CHECK(stat(path_of("a.pub"), &st) == 0 && (st.st_mode & 0777) == 0644, "the .pub is 0644");
    CHECK(keys_write(path_of("a.key"), &k, 1, "again", err, sizeof err) < 0 &&
          strstr(err, "exists"), "an existing key file is never overwritten: %s", err);
    CHECK(keys_read(path_of("a.key"), &r, 1, err, sizeof err) == 0, "read: %s", err);
    CHECK_STR("public read back", r.public_key, k.public_key);
    CHECK_STR("secret read back", r.secret_key, k.secret_key);
    CHECK(keys_read(path_of("a.pub"), &r, 0, err, sizeof err) == 0 && !r.secret_key[0] &&
          !strcmp(r.public_key, k.public_key), "the .pub: public only: %s", err);
    CHECK(keys_read(path_of("a.pub"), &r, 1, err, sizeof err) < 0 &&
          strstr(err, "no secret-key"), "the .pub where a pair is needed: %s", err);
    chmod(path_of("a.key"), 0644);
    CHECK(keys_read(path_of("a.key"), &r, 1, err, sizeof err) < 0 && strstr(err, "0644") &&
          strstr(err, "private"), "a secret others may read is refused: %s", err);
    char text[200];
    snprintf(text, sizeof text, "secret-key = %s\n", k.secret_key);
    write_text("s.key", text, 0600);
    CHECK(keys_read(path_of("s.key"), &r, 1, err, sizeof err) == 0 &&
          !strcmp(r.public_key, k.public_key), "a missing public line is derived: %s", err);
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        write_text("bad.key", bad_cases[i].text, 0600);
        int rc = keys_read(path_of("bad.key"), &r, 1, err, sizeof err);
        CHECK(rc < 0 && strstr(err, bad_cases[i].want), "bad case %zu: got \"%s\", want \"%s\"",
              i, err, bad_cases[i].want);
    }
    CHECK(keys_read(path_of("none.key"), &r, 0, err, sizeof err) < 0 &&
          strstr(err, "No such file"), "a missing file: %s", err);
    char *pub = keys_pub_path("/x/keys/li.key");
    CHECK_STR(".key -> .pub", pub, "/x/keys/li.pub");
    free(pub);
    pub = keys_pub_path("/x/server");
    CHECK_STR("other names get .pub added", pub, "/x/server.pub");
    free(pub);
    CHECK(keys_z85_ok(k.public_key) && !keys_z85_ok("abc") &&
          !keys_z85_ok("000000000000000000000000000000000000000\""), "Z85 check");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return harness_done();
}
