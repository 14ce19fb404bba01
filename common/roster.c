/* roster.c: the member roster, loaded from members.json.  Lookups are a
 * binary search over ids sorted at load; the file order is kept for output. */
#include "roster.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct roster_index {
    const char *id;
    size_t at;
};

static int roster_cmp(const void *a, const void *b)
{
    return strcmp(((const struct roster_index *)a)->id, ((const struct roster_index *)b)->id);
}

static const char *roster_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int roster_member(struct roster_member *m, const cJSON *j, const char *path, size_t i,
                         char *err, size_t errlen)
{
    const char *id = roster_str(j, "id");
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(j, "active");
    if (!cJSON_IsObject(j) || !id || !*id) {
        snprintf(err, errlen, "%s: members[%zu]: needs an \"id\" string", path, i);
        return -1;
    }
    m->id = xstrdup(id);
    m->name = xstrdup(roster_str(j, "name") ? roster_str(j, "name") : id);
    m->sector = xstrdup(roster_str(j, "sector") ? roster_str(j, "sector") : "");
    m->group = xstrdup(roster_str(j, "group") ? roster_str(j, "group") : "");
    m->active = active ? cJSON_IsTrue(active) : 1;
    xstrlcpy(m->joined, roster_str(j, "joined") ? roster_str(j, "joined") : "", sizeof m->joined);
    xstrlcpy(m->left, roster_str(j, "left") ? roster_str(j, "left") : "", sizeof m->left);
    return 0;
}

static char *roster_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        cap = cap ? cap * 2 : 65536;
        buf = xrealloc(buf, cap);
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (n == cap);
    fclose(f);
    *len = n;
    return buf;
}

int roster_load(const char *path, struct roster **out, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = roster_slurp(path, &len);
    *out = NULL;
    if (!buf) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(buf, len), *j;
    free(buf);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "members");
    if (!cJSON_IsArray(arr)) {
        snprintf(err, errlen, "%s: members: needs a JSON object with a \"members\" array", path);
        cJSON_Delete(root);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    struct roster *r = xcalloc(1, sizeof *r);
    r->members = xcalloc(n + 1, sizeof *r->members);
    r->index = xcalloc(n + 1, sizeof *r->index);
    cJSON_ArrayForEach(j, arr) {
        if (roster_member(&r->members[r->n], j, path, r->n, err, errlen) < 0) {
            cJSON_Delete(root);
            roster_free(&r);
            return -1;
        }
        r->n++;
    }
    cJSON_Delete(root);
    struct roster_index *idx = r->index;
    for (size_t i = 0; i < r->n; i++)
        idx[i] = (struct roster_index){r->members[i].id, i};
    qsort(idx, r->n, sizeof *idx, roster_cmp);
    for (size_t i = 1; i < r->n; i++)
        if (strcmp(idx[i - 1].id, idx[i].id) == 0) {
            snprintf(err, errlen, "%s: members[%zu]: duplicate id \"%s\"", path, idx[i].at,
                     idx[i].id);
            roster_free(&r);
            return -1;
        }
    *out = r;
    return 0;
}

void roster_free(struct roster **rp)
{
    struct roster *r = rp ? *rp : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->members[i].id);
        free(r->members[i].name);
        free(r->members[i].sector);
        free(r->members[i].group);
    }
    free(r->members);
    free(r->index);
    free(r);
    *rp = NULL;
}

const struct roster_member *roster_find(const struct roster *r, const char *id)
{
    if (!r || !id)
        return NULL;
    struct roster_index key = {id, 0}, *hit;
    hit = bsearch(&key, r->index, r->n, sizeof key, roster_cmp);
    return hit ? &r->members[hit->at] : NULL;
}
