/* test_spool_damage: one flipped byte anywhere in a spool costs at most the
 * record it hit, and that record's id is listed in spool/corrupt/.  200
 * records in one segment, half of them confirmed; a byte flipped at many
 * offsets (headers, lengths, ids, bodies, the .ack file) before a restart or
 * while the spool is open; then every record is either still pending,
 * confirmed before the damage, or named in a corrupt/ note -- never silently
 * gone. */
#include "harness.h"
#include "../../collector/collector_spool.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NREC 200

static char tmpl[] = "/tmp/test_spool_damage.XXXXXX";
static char *root;
static int ncase;
static uint64_t offs[NREC];              /* record i's offset in the segment */

static void make_id(char *id, long n)
{
    snprintf(id, SPOOL_ID_MAX + 1, "20250101-000000-%06d", (int)(n % 1000000));
}

/* A spool of NREC records like the collector's (the wire JSON carries the
 * id too), records 0..NREC/2-1 confirmed.  Returns its directory. */
static const char *build(void)
{
    static char dir[256];
    char err[256], data[256];
    snprintf(dir, sizeof dir, "%s/c%d", root, ncase++);
    struct spool *sp = NULL;
    if (spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err) < 0)
        return printf("# open: %s\n", err), dir;
    for (long i = 0; i < NREC; i++) {
        struct spool_rec r = {0};
        make_id(r.id, i);
        snprintf(data, sizeof data, "{\"id\":\"%s\",\"member\":\"M%03ld\",\"title\":\"t\","
                 "\"body\":\"report number %ld of the damage test\"}", r.id, i % 7, i);
        r.rel = "";
        r.data = data;
        r.len = strlen(data);
        spool_append(sp, &r, err, sizeof err);
        offs[i] = r.off;
    }
    spool_sync(sp, err, sizeof err);
    for (long i = 0; i < NREC / 2; i++) {
        char id[SPOOL_ID_MAX + 1];
        make_id(id, i);
        spool_confirm(sp, 1, id, err, sizeof err);
    }
    spool_close(&sp);
    return dir;
}

static void flip(const char *path, uint64_t at)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return;
    fseek(f, (long)at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)at, SEEK_SET);
    fputc(c ^ 0x01, f);        /* a digit stays a digit: the worst case */
    fclose(f);
}

/* Ids named in every corrupt/NAME.json note of dir into seen[]. */
static void read_notes(const char *dir, char *seen)
{
    char path[400];
    snprintf(path, sizeof path, "%s/corrupt", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        snprintf(path, sizeof path, "%s/corrupt/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        char buf[1 << 16];
        size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[len] = '\0';
        cJSON *o = cJSON_Parse(buf), *id;
        cJSON_ArrayForEach(id, cJSON_GetObjectItem(o, "ids"))
            if (cJSON_IsString(id) && strlen(id->valuestring) == 22)
                seen[atoi(id->valuestring + 16) % NREC] = 1;
        cJSON_Delete(o);
    }
    if (d)
        closedir(d);
}

/* Open dir's spool, take every pending record, and check each of the NREC:
 * pending, confirmed before, or named in a note; at most lost_max fewer
 * pending than before the damage. */
static void account(const char *dir, const char *what, long lost_max)
{
    char err[256], seen[NREC] = {0};
    struct spool *sp = NULL;
    CHECK(spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err) == 0, "%s: open: %s", what,
          err);
    struct spool_rec r;
    int pending = 0;
    while (sp && spool_next_pending(sp, &r, err, sizeof err) == 1) {
        if (strlen(r.id) == 22)
            seen[atoi(r.id + 16) % NREC] = 1;
        pending++;
    }
    spool_close(&sp);
    read_notes(dir, seen);
    long missing = 0;
    for (long i = NREC / 2; i < NREC; i++)
        missing += !seen[i];
    CHECK(missing == 0, "%s: %ld unconfirmed records neither pending nor in corrupt/",
          what, missing);
    CHECK(pending >= NREC / 2 - lost_max, "%s: pending: got %d, want >= %ld", what, pending,
          NREC / 2 - lost_max);
}

/* Flip one byte at a given place in record k, or in the .ack file. */
static const struct {
    const char *what;
    long rec;                 /* which record */
    long at;                  /* byte within it (-1: the .ack file's line) */
    long lost_max;            /* unconfirmed records it may cost */
} cases[] = {
    {"magic of a pending record", 150, 1, 0},
    {"length of a pending record", 150, 5, 0},
    {"checksum of a pending record", 150, 9, 1},
    {"id field of a pending record", 120, 12 + 8 + 20, 1},
    {"body of a pending record at 40%", 80, 100, 0},
    {"body of a pending record at 75%", 150, 100, 1},
    {"version byte", 130, 12, 1},
    {"last record's body", 199, 90, 1},
    {"last record's length", 199, 6, 0},
    {"first record's magic", 0, 0, 0},
    {"a confirmed record's body", 40, 100, 0},
    {"a line of the .ack file", 30, -1, 0},
};

/* The disk is full (here: corrupt/ cannot be made) when damage is found:
 * the damaged bytes stay in their segment, which is kept even once every
 * intact record in it is confirmed, until a later start copies them. */
static void test_quarantine_fails(void)
{
    const char *dir = build();
    char path[400], err[256];
    snprintf(path, sizeof path, "%s/corrupt", dir);
    FILE *f = fopen(path, "w");          /* a file where the folder should be */
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/00000001.seg", dir);
    flip(path, offs[150] + 100);
    struct spool *sp = NULL;
    CHECK_INT("open", spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err), 0);
    struct spool_rec r;
    int n = 0;
    while (sp && spool_next_pending(sp, &r, err, sizeof err) == 1) {
        spool_confirm(sp, r.seg, r.id, err, sizeof err);
        n++;
    }
    CHECK_INT("the intact ones pending", n, NREC / 2 - 1);
    spool_close(&sp);
    spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err);
    spool_close(&sp);
    CHECK_INT("the segment is kept", access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/corrupt", dir);
    unlink(path);
    spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err);
    spool_close(&sp);
    snprintf(path, sizeof path, "%s/corrupt/00000001.seg@%llu", dir,
             (unsigned long long)offs[150]);
    CHECK_INT("copied once there is room", access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/00000001.seg", dir);
    CHECK_INT("and then the segment goes", access(path, F_OK), -1);
}

/* Damage that happens while the collector runs: found when the reader
 * gets there, quarantined, and the reader goes on at the next record. */
static void test_damage_while_open(void)
{
    char dir[300], path[400], err[256], data[512];
    snprintf(dir, sizeof dir, "%s/c%d", root, ncase++);
    struct spool *sp = NULL;
    CHECK_INT("open", spool_open(dir, 0, NULL, NULL, &sp, err, sizeof err), 0);
    static uint64_t at[2000];
    for (long i = 0; sp && i < 2000; i++) {   /* ~900 KB: more than the read-ahead */
        struct spool_rec r = {0};
        make_id(r.id, i);
        snprintf(data, sizeof data, "{\"id\":\"%s\",\"member\":\"M001\",\"title\":\"t\","
                 "\"body\":\"%0300ld\"}", r.id, i);
        r.rel = "";
        r.data = data;
        r.len = strlen(data);
        spool_append(sp, &r, err, sizeof err);
        at[i] = r.off;
    }
    spool_sync(sp, err, sizeof err);
    snprintf(path, sizeof path, "%s/00000001.seg", dir);
    flip(path, at[1500] + 200);               /* after open, before it is read */
    struct spool_rec r;
    int n = 0, got1500 = 0;
    while (sp && spool_next_pending(sp, &r, err, sizeof err) == 1) {
        got1500 |= !strcmp(r.id, "20250101-000000-001500");
        n++;
    }
    CHECK_INT("every record but the damaged one", n, 1999);
    CHECK_INT("not the damaged one", got1500, 0);
    snprintf(path, sizeof path, "%s/corrupt/00000001.seg@%llu.json", dir,
             (unsigned long long)at[1500]);
    CHECK_INT("its bytes and note in corrupt/", access(path, F_OK), 0);
    CHECK_INT("counted", sp ? spool_damage(sp)->records : 0, 1);
    spool_close(&sp);
}

int main(void)
{
    root = mkdtemp(tmpl);
    if (!root)
        return perror("mkdtemp"), 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *dir = build();
        char path[400];
        snprintf(path, sizeof path, "%s/00000001.%s", dir, cases[i].at < 0 ? "ack" : "seg");
        flip(path, cases[i].at < 0 ? (uint64_t)(cases[i].rec * 32 + 21)
                                   : offs[cases[i].rec] + (uint64_t)cases[i].at);
        account(dir, cases[i].what, cases[i].lost_max);
        account(dir, cases[i].what, cases[i].lost_max);   /* and again: stable */
    }
    test_quarantine_fails();
    test_damage_while_open();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    return harness_done();
}
