/* collector_spool_damage.c: what the spool does with bytes that are not an
 * intact record -- Postfix's `corrupt` queue for a segment log.
 *
 * A record whose checksum fails is skipped: the reader resynchronises on
 * the next intact record (magic, length, checksum and layout all valid), so
 * one damaged record costs that record, never the ones after it.  Only an
 * incomplete record at the very end of the newest segment, with nothing
 * intact after it, is a torn write (an append a crash cut short, which was
 * never answered ok).  Either way the bytes are copied to
 * spool/corrupt/NNNNNNNN.seg@OFFSET beside NNNNNNNN.seg@OFFSET.json, which
 * lists the ids still legible in them, each marked archived or not.
 *
 * A record whose 12-byte header alone was damaged (magic or length) is
 * repaired in place when its stored checksum matches the payload found
 * between it and the next intact record: the checksum covers the payload,
 * so the record is known to be whole.
 *
 * Reading records: collector_spool_disk.c.  Which records a segment holds
 * and which are confirmed: there too. */
#include "collector_spool_impl.h"
#include "fileio.h"
#include "log.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_ID_LEN 22            /* YYYYMMDD-HHMMSS-uuuuuu */

int spool_resync(struct spool *sp, uint32_t seq, uint64_t off, uint64_t limit,
                 uint64_t *next)
{
    struct spool_rec rec;
    for (uint64_t p = off + 1; p + SPOOL_HDR <= limit; p++) {
        const char *h = spool_fetch(sp, seq, p, 4, limit);
        if (!h)
            return errno ? -1 : (*next = limit, 0);
        if (spool_get32(h) != SPOOL_MAGIC)
            continue;
        int rc = spool_read_at(sp, seq, p, limit, &rec);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            *next = p;
            return 0;
        }
    }
    *next = limit;
    return 0;
}

int spool_repair(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end,
                 struct spool_rec *rec)
{
    if (end - off < SPOOL_HDR + SPOOL_FIXED + 2 || end - off > SPOOL_HDR + SPOOL_PAYLOAD_MAX)
        return 1;
    const char *r = spool_fetch(sp, seq, off, (size_t)(end - off), end);
    if (!r)
        return errno ? -1 : 1;
    uint32_t len = (uint32_t)(end - off - SPOOL_HDR), crc = spool_get32(r + 8);
    if (spool_crc32(r + SPOOL_HDR, len) != crc || spool_decode(r + SPOOL_HDR, len, rec) < 0)
        return 1;
    char h[SPOOL_HDR];
    spool_put32(h, SPOOL_MAGIC);
    spool_put32(h + 4, len);
    spool_put32(h + 8, crc);
    char *path = spool_path(sp, seq, "seg");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int rc = fd < 0 || fileio_pwrite_all(fd, h, sizeof h, (off_t)off) < 0 || fdatasync(fd) < 0;
    if (rc)
        log_error("spool: %s: cannot repair the header at offset %llu: %s", path,
                  (unsigned long long)off, strerror(errno));
    else
        log_warn("%s: spool: %08u.seg: damaged header at offset %llu repaired "
                 "(the record's checksum matches: nothing lost)", rec->id, seq,
                 (unsigned long long)off);
    if (fd >= 0)
        close(fd);
    free(path);
    spool_rd_forget(sp, seq);      /* the buffer holds the old header */
    rec->seg = seq;
    rec->off = off;
    return rc ? -1 : 0;
}

/* 1 if p[0..n) starts with an id (YYYYMMDD-HHMMSS-uuuuuu). */
static int spool_is_id(const char *p, size_t n)
{
    if (n < SPOOL_ID_LEN)
        return 0;
    for (int i = 0; i < SPOOL_ID_LEN; i++)
        if (i == 8 || i == 15 ? p[i] != '-' : (p[i] < '0' || p[i] > '9'))
            return 0;
    return 1;
}

/* The id at p as a JSON string, or NULL if p is not an id. */
static cJSON *spool_id_at(const char *p, size_t n)
{
    char id[SPOOL_ID_LEN + 1];
    if (!spool_is_id(p, n))
        return NULL;
    memcpy(id, p, SPOOL_ID_LEN);
    id[SPOOL_ID_LEN] = '\0';
    return cJSON_CreateString(id);
}

/* 1 if a record's id field (NUL-terminated, 20 bytes after its start)
 * begins at buf + p + SPOOL_HDR + 8. */
static int spool_starts_at(const char *buf, size_t n, size_t p)
{
    const char *q = buf + p + SPOOL_HDR + 8;
    return p + SPOOL_HDR + 8 + SPOOL_ID_LEN < n && q[SPOOL_ID_LEN] == '\0' &&
           spool_is_id(q, SPOOL_ID_LEN);
}

/* The record in buf[b, e): {"id": header copy, "json_id": wire JSON copy},
 * whichever are legible (a record carries its id twice, so one flipped
 * byte cannot hide it); NULL if neither is. */
static cJSON *spool_record_in(const char *buf, size_t b, size_t e, int start)
{
    static const char key[] = "\"id\":\"";
    cJSON *h = start ? spool_id_at(buf + b + SPOOL_HDR + 8, e - b - SPOOL_HDR - 8) : NULL;
    const char *q = memmem(buf + b, e - b, key, 6);
    cJSON *j = q ? spool_id_at(q + 6, e - (size_t)(q + 6 - buf)) : NULL;
    if (!h && !j)
        return NULL;
    cJSON *r = cJSON_CreateObject();
    if (h)
        cJSON_AddItemToObject(r, "id", h);
    if (j)
        cJSON_AddItemToObject(r, "json_id", j);
    return r;
}

/* The records legible in buf: one object each (spool_record_in), split
 * where a record's id field is found.  Returns a JSON array (caller frees). */
static cJSON *spool_records_in(const char *buf, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    size_t b = 0;
    int start = spool_starts_at(buf, n, 0);
    for (size_t p = 1; p <= n; p++) {
        if (p < n && !spool_starts_at(buf, n, p))
            continue;
        cJSON *r = spool_record_in(buf, b, p, start);
        if (r)
            cJSON_AddItemToArray(a, r);
        b = p;
        start = 1;
    }
    return a;
}

/* 1 if the archive confirmed record r: every legible copy of its id is
 * in acks (a damaged copy must not pass for another, confirmed id). */
static int spool_record_archived(const cJSON *r, const struct spool_acks *acks)
{
    const cJSON *h = cJSON_GetObjectItem(r, "id"), *j = cJSON_GetObjectItem(r, "json_id");
    return acks && (!h || spool_acks_has(acks, h->valuestring)) &&
           (!j || spool_acks_has(acks, j->valuestring));
}

/* Write n bytes to path, created (never overwritten: O_EXCL).  0, 1 if it
 * is there already, -1 (errno). */
static int spool_write_new(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return errno == EEXIST ? 1 : -1;
    int rc = fileio_write_all(fd, p, n) < 0 || fdatasync(fd) < 0 ? -1 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* The quarantine note: {"segment", "offset", "bytes", "kind", "records":
 * [{"id", "json_id", "archived"}], "ids": every legible id}.  Records the
 * archive had already confirmed cost nothing; *lost counts the others. */
static char *spool_note(uint32_t seq, uint64_t off, size_t n, int torn, cJSON *recs,
                        const struct spool_acks *acks, size_t *lost)
{
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *r, *e;
    char seg[16];
    snprintf(seg, sizeof seg, "%08u.seg", seq);
    cJSON_AddStringToObject(o, "segment", seg);
    cJSON_AddNumberToObject(o, "offset", (double)off);
    cJSON_AddNumberToObject(o, "bytes", (double)n);
    cJSON_AddStringToObject(o, "kind", torn ? "torn" : "corrupt");
    *lost = 0;
    cJSON_ArrayForEach(r, recs) {
        int done = spool_record_archived(r, acks);
        cJSON_AddBoolToObject(r, "archived", done);
        *lost += !done;
        cJSON_ArrayForEach(e, r)
            if (cJSON_IsString(e))
                cJSON_AddItemToArray(ids, cJSON_CreateString(e->valuestring));
    }
    cJSON_AddItemToObject(o, "records", cJSON_Duplicate(recs, 1));
    cJSON_AddItemToObject(o, "ids", ids);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* Read bytes [off, end) of segment seq into a new buffer (caller frees). */
static char *spool_slurp(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end)
{
    char *path = spool_path(sp, seq, "seg");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    char *buf = xmalloc(end - off + 1);
    if (fd < 0 || fileio_pread_all(fd, buf, (size_t)(end - off), (off_t)off) < 0) {
        free(buf);
        buf = NULL;
    }
    if (fd >= 0)
        close(fd);
    return buf;
}

/* Hand every id of the unconfirmed records of recs (a note's "records")
 * to the lost hook. */
static void spool_tell_lost(struct spool *sp, const cJSON *recs)
{
    const cJSON *r, *e;
    if (!sp->hooks.lost)
        return;
    cJSON_ArrayForEach(r, recs)
        if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "archived")))
            cJSON_ArrayForEach(e, r)
                if (cJSON_IsString(e))
                    sp->hooks.lost(sp->hooks.arg, e->valuestring, NULL);
}

int spool_refiled(struct spool *sp, const char *lost_id, const char *new_id, char *err,
                  size_t errlen)
{
    char *path = xasprintf("%s/corrupt/refiled", sp->dir);
    char *line = xasprintf("%s %s\n", lost_id, new_id);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int rc = fd < 0 || fileio_write_all(fd, line, strlen(line)) < 0 || fdatasync(fd) < 0;
    if (rc)
        snprintf(err, errlen, "spool: %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(line);
    free(path);
    return rc ? -1 : 0;
}

/* corrupt/refiled, "LOST NEW" lines, to the lost hook. */
static void spool_refiled_load(struct spool *sp, const char *dir)
{
    char *path = xasprintf("%s/refiled", dir);
    FILE *f = fopen(path, "re");
    char line[2 * SPOOL_ID_MAX + 8], lost[SPOOL_ID_MAX + 1], again[SPOOL_ID_MAX + 1];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%31s %31s", lost, again) == 2)
            sp->hooks.lost(sp->hooks.arg, lost, again);
    if (f)
        fclose(f);
    free(path);
}

void spool_notes_load(struct spool *sp)
{
    char *dir = xasprintf("%s/corrupt", sp->dir);
    DIR *d = sp->hooks.lost ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t cap = 0;
        ssize_t len = f ? getdelim(&text, &cap, '\0', f) : -1;
        cJSON *o = len > 0 ? cJSON_ParseWithLength(text, (size_t)len) : NULL;
        if (!o)
            log_warn("spool: %s: not a note this collector wrote, ignored", path);
        spool_tell_lost(sp, cJSON_GetObjectItem(o, "records"));
        cJSON_Delete(o);
        free(text);
        if (f)
            fclose(f);
        free(path);
    }
    if (d) {
        closedir(d);
        spool_refiled_load(sp, dir);   /* after the notes: what was filed again */
    }
    free(dir);
}

/* One line per record the archive had not confirmed, starting with its
 * id, so that `grep ID` finds what became of it. */
static void spool_log_lost(const cJSON *recs, uint32_t seq, uint64_t off, const char *where)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, recs) {
        if (cJSON_IsTrue(cJSON_GetObjectItem(r, "archived")))
            continue;
        const cJSON *h = cJSON_GetObjectItem(r, "id"), *j = cJSON_GetObjectItem(r, "json_id");
        const char *id = h ? h->valuestring : j->valuestring;
        const char *other = h && j && strcmp(h->valuestring, j->valuestring) ? j->valuestring
                                                                            : NULL;
        log_error("%s%s%s: lost: its spool record in %08u.seg at offset %llu is damaged; "
                  "the bytes are in %s (the member must file it again)", id,
                  other ? " or " : "", other ? other : "", seq, (unsigned long long)off,
                  where);
    }
}

uint64_t spool_skip_known(const struct spool *sp, uint32_t seq, uint64_t off)
{
    for (size_t i = 0; i < sp->nskips; i++)
        if (sp->skips[i].seq == seq && sp->skips[i].off == off)
            return sp->skips[i].end;
    return 0;
}

/* Remember a quarantined range, so that the reader passes it silently. */
static void spool_skip_add(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end)
{
    sp->skips = xrealloc(sp->skips, (sp->nskips + 1) * sizeof *sp->skips);
    sp->skips[sp->nskips++] = (struct spool_skip){seq, off, end};
}

int spool_quarantine(struct spool *sp, uint32_t seq, uint64_t off, uint64_t end,
                     const struct spool_acks *acks, int torn)
{
    char *dir = xasprintf("%s/corrupt", sp->dir);
    char *raw = xasprintf("%s/%08u.seg@%llu", dir, seq, (unsigned long long)off);
    char *json = xasprintf("%s.json", raw);
    char *buf = spool_slurp(sp, seq, off, end);
    size_t n = (size_t)(end - off), lost = 0;
    cJSON *recs = buf ? spool_records_in(buf, n) : cJSON_CreateArray();
    size_t nrecs = (size_t)cJSON_GetArraySize(recs);
    char *note = spool_note(seq, off, n, torn, recs, acks, &lost);
    int rc = mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
    if (rc == 0 && buf)
        rc = spool_write_new(raw, buf, n);
    if (rc == 0)
        rc = spool_write_new(json, note, strlen(note));
    if (!buf)
        rc = -1;
    if (rc < 0)
        log_error("spool: %s: cannot keep the damaged bytes: %s (the segment is kept "
                  "until they are)", raw, strerror(errno));
    if (torn)
        log_warn("spool: %08u.seg: incomplete record at offset %llu, the end of the newest "
                 "segment: a write cut short by a crash, never answered ok; %zu bytes "
                 "moved to %s", seq, (unsigned long long)off, n, raw);
    else
        log_error("spool: %08u.seg: %zu damaged bytes at offset %llu skipped: %zu records "
                  "legible in them, %zu of them not yet archived (lost); copied to %s",
                  seq, n, (unsigned long long)off, nrecs, lost, raw);
    if (!torn) {
        spool_log_lost(recs, seq, off, raw);
        spool_tell_lost(sp, recs);
    }
    if (!torn)
        spool_skip_add(sp, seq, off, end);
    if (rc >= 0) {
        sp->damage.ranges++;
        sp->damage.bytes += n;
        sp->damage.records += torn ? 0 : nrecs ? lost : 1;  /* none legible: one at least */
    }
    cJSON_Delete(recs);
    free(note);
    free(buf);
    free(json);
    free(raw);
    free(dir);
    return rc < 0 ? -1 : 0;
}

const struct spool_damage *spool_damage(const struct spool *sp)
{
    return &sp->damage;
}
