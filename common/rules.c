/* rules.c: load and check the routing rules file (JSON via cJSON).
 *
 * Every problem is collected into a struct rules_errors; nothing stops at the
 * first one, so `minyi rules check` can show them all.  Pattern syntax is not
 * checked here (the router's classifier owns PCRE2); only shapes, types,
 * references between committees, categories and topics.
 *
 * Keys not in the format are errors (a typo such as "pattern" must not pass
 * silently), except keys beginning with "_" and "description"/"comment",
 * which are free for people's notes.
 */
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#define RULES_FILE_MAX (16 * 1024 * 1024)
#define RULES_TITLE_WEIGHT 3.0
#define RULES_MIN_SCORE 1.0
#define RULES_TAG_RATIO 0.0          /* keep every tag that reaches min_score */
#define RULES_MAX_TAGS 0             /* no cap */

const char *const rules_category_names[] = {
    "城乡建设", "党务政务", "国土资源", "环境保护", "纪检监察",
    "交通运输", "经济管理", "科技与信息产业", "民政", "农村农业",
    "商贸旅游", "卫生计生", "政法", "教育文体", "劳动和社会保障",
    NULL,
};

/* A parse in progress: the file name for messages and the error list. */
struct rules_ctx {
    const char *name;
    struct rules_errors *errs;
    size_t nerr0;                 /* errs->n when the parse started */
};

void rules_errors_add(struct rules_errors *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    e->v = xrealloc(e->v, (e->n + 1) * sizeof *e->v);
    e->v[e->n++] = s;
}

void rules_errors_clear(struct rules_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = 0;
}

static int rules_is_note_key(const char *key)
{
    return key[0] == '_' || strcmp(key, "description") == 0 ||
           strcmp(key, "comment") == 0;
}

/* Report every key of obj given twice (cJSON would silently use the first). */
static void rules_check_duplicates(struct rules_ctx *x, const cJSON *obj,
                                   const char *where)
{
    for (const cJSON *it = obj->child; it; it = it->next)
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) {
                rules_errors_add(x->errs, "%s: %s%s: duplicate key", x->name, where,
                                 it->string);
                break;
            }
}

/* Report every key of obj not in the NULL-terminated list `known` (NULL:
 * any key), and every duplicate key. */
static void rules_check_keys(struct rules_ctx *x, const cJSON *obj, const char *where,
                             const char *const *known)
{
    rules_check_duplicates(x, obj, where);
    for (const cJSON *it = obj->child; it && known; it = it->next) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], it->string) != 0)
            k++;
        if (!known[k] && !rules_is_note_key(it->string))
            rules_errors_add(x->errs, "%s: %s%s: unknown key", x->name, where,
                             it->string);
    }
}

/* A required (or optional, required=0) non-empty string; owned copy or NULL. */
static char *rules_string(struct rules_ctx *x, const cJSON *obj, const char *key,
                          int required, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required)
            rules_errors_add(x->errs, "%s: %s%s: missing", x->name, where, key);
        return NULL;
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        rules_errors_add(x->errs, "%s: %s%s: must be a non-empty string", x->name,
                         where, key);
        return NULL;
    }
    return xstrdup(v->valuestring);
}

/* An optional number >= min (> min when strict); def when absent. */
static double rules_number(struct rules_ctx *x, const cJSON *obj, const char *key,
                           double def, double min, int strict, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return def;
    if (!cJSON_IsNumber(v) || v->valuedouble < min ||
        (strict && v->valuedouble == min)) {
        rules_errors_add(x->errs, "%s: %s%s: must be a number %s %g", x->name, where,
                         key, strict ? ">" : ">=", min);
        return def;
    }
    return v->valuedouble;
}

/* An optional pattern weight: any non-zero number (negative lowers the
 * topic's score); 1.0 when absent. */
static double rules_weight(struct rules_ctx *x, const cJSON *obj, const char *key,
                           const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 1.0;
    if (!cJSON_IsNumber(v) || v->valuedouble == 0 || !isfinite(v->valuedouble)) {
        rules_errors_add(x->errs, "%s: %s%s: must be a non-zero number", x->name, where, key);
        return 1.0;
    }
    return v->valuedouble;
}

/* An optional number of any sign (a topic's bias); def when absent. */
static double rules_signed(struct rules_ctx *x, const cJSON *obj, const char *key,
                           double def, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        rules_errors_add(x->errs, "%s: %s%s: must be a number", x->name, where, key);
        return def;
    }
    return v->valuedouble;
}

static int rules_category_known(const char *name)
{
    for (size_t i = 0; rules_category_names[i]; i++)
        if (strcmp(rules_category_names[i], name) == 0)
            return 1;
    return 0;
}

static void rules_parse_committees(struct rules_ctx *x, const cJSON *root,
                                   struct rules *r)
{
    static const char *const known[] = {"id", "name", NULL};
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "committees");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        rules_errors_add(x->errs, "%s: committees: %s", x->name,
                         arr ? "must be a non-empty array" : "missing");
        return;
    }
    r->committees = xcalloc((size_t)cJSON_GetArraySize(arr), sizeof *r->committees);
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        char where[48];
        snprintf(where, sizeof where, "committees[%zu].", i);
        if (!cJSON_IsObject(c)) {
            rules_errors_add(x->errs, "%s: committees[%zu]: must be an object", x->name, i);
            continue;
        }
        rules_check_keys(x, c, where, known);
        char *id = rules_string(x, c, "id", 1, where);
        char *name = rules_string(x, c, "name", 1, where);
        if (id && !rules_id_ok(id)) {
            rules_errors_add(x->errs, "%s: committees[%zu]: id \"%.64s\" is not 1-%d of "
                             "a-z, 0-9, _ and -", x->name, i, id, RULES_ID_MAX);
            free(id);
            id = NULL;
        } else if (id && rules_committee(r, id)) {
            rules_errors_add(x->errs, "%s: committees[%zu]: duplicate id \"%s\"", x->name,
                             i, id);
            free(id);
            id = NULL;
        }
        if (!id) {
            free(name);
            continue;
        }
        r->committees[r->ncommittees].id = id;
        r->committees[r->ncommittees++].name = name ? name : xstrdup(id);
    }
}

static void rules_parse_categories(struct rules_ctx *x, const cJSON *root,
                                   struct rules *r)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "categories");
    if (!obj)
        return;
    if (!cJSON_IsObject(obj)) {
        rules_errors_add(x->errs, "%s: categories: must be an object", x->name);
        return;
    }
    rules_check_keys(x, obj, "categories.", NULL);
    r->categories = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof *r->categories);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (rules_is_note_key(c->string))
            continue;
        if (!rules_category_known(c->string)) {
            rules_errors_add(x->errs, "%s: categories.%s: unknown category", x->name,
                             c->string);
            continue;
        }
        if (!cJSON_IsString(c) || !rules_committee(r, c->valuestring)) {
            rules_errors_add(x->errs, "%s: categories.%s: must name a committee",
                             x->name, c->string);
            continue;
        }
        r->categories[r->ncategories].name = xstrdup(c->string);
        r->categories[r->ncategories++].committee = xstrdup(c->valuestring);
    }
}

/* One pattern: "re" or {"re": "...", "w": 2.5}.  0 / -1 (message added). */
static int rules_parse_pattern(struct rules_ctx *x, const cJSON *p, const char *where,
                               struct rules_pattern *out)
{
    static const char *const known[] = {"re", "w", NULL};
    out->w = 1.0;
    if (cJSON_IsString(p)) {
        out->re = xstrdup(p->valuestring);
    } else if (cJSON_IsObject(p)) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s: ", where);
        rules_check_keys(x, p, sub, known);
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(p, "re");
        if (cJSON_IsString(re))
            out->re = xstrdup(re->valuestring);
        else
            rules_errors_add(x->errs, "%s: %s: \"re\" must be a string", x->name, where);
        out->w = rules_weight(x, p, "w", sub);
    } else {
        rules_errors_add(x->errs, "%s: %s: must be a string or {\"re\", \"w\"}", x->name,
                         where);
        return -1;
    }
    if (out->re && out->re[0] == '\0')
        rules_errors_add(x->errs, "%s: %s: empty pattern", x->name, where);
    return out->re ? 0 : -1;
}

/* A topic's "patterns" or "exclude" array; `label` is "pattern" / "exclude". */
static struct rules_pattern *rules_parse_patterns(struct rules_ctx *x, const cJSON *t,
                                                  const char *key, const char *label,
                                                  const char *tname, size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(t, key);
    *n = 0;
    if (!arr)
        return NULL;
    if (!cJSON_IsArray(arr)) {
        rules_errors_add(x->errs, "%s: topic %s: %s: must be an array", x->name, tname,
                         key);
        return NULL;
    }
    struct rules_pattern *v = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *v);
    size_t i = 0;
    for (const cJSON *p = arr->child; p; p = p->next, i++) {
        char where[128];
        snprintf(where, sizeof where, "topic %s: %s %zu", tname, label, i + 1);
        if (rules_parse_pattern(x, p, where, &v[*n]) == 0)
            (*n)++;
    }
    return v;
}

/* The committee of a topic: its own, else its category's. */
static void rules_topic_committee(struct rules_ctx *x, const cJSON *t, struct rules *r,
                                  struct rules_topic *tp, const char *tname)
{
    char where[128];
    snprintf(where, sizeof where, "topic %s: ", tname);
    tp->committee = rules_string(x, t, "committee", 0, where);
    if (tp->committee) {
        if (!rules_committee(r, tp->committee))
            rules_errors_add(x->errs, "%s: topic %s: committee: unknown committee \"%s\"",
                             x->name, tname, tp->committee);
        return;
    }
    if (cJSON_GetObjectItemCaseSensitive(t, "committee") || !tp->category ||
        !rules_category_known(tp->category))
        return;
    const char *c = rules_category_committee(r, tp->category);
    if (c)
        tp->committee = xstrdup(c);
    else
        rules_errors_add(x->errs,
                         "%s: topic %s: committee: not set, and category %s has no committee",
                         x->name, tname, tp->category);
}

static void rules_parse_topic(struct rules_ctx *x, const cJSON *t, size_t i,
                              struct rules *r)
{
    static const char *const known[] = {"id", "name", "category", "committee", "weight",
                                        "bias", "patterns", "exclude", NULL};
    char tname[96], where[128];
    struct rules_topic *tp = &r->topics[r->ntopics++];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
    if (cJSON_IsString(id) && id->valuestring[0])
        snprintf(tname, sizeof tname, "%s", id->valuestring);
    else
        snprintf(tname, sizeof tname, "#%zu", i + 1);
    snprintf(where, sizeof where, "topic %s: ", tname);
    rules_check_keys(x, t, where, known);
    tp->id = rules_string(x, t, "id", 1, where);
    for (size_t k = 0; tp->id && k + 1 < r->ntopics; k++)
        if (r->topics[k].id && strcmp(r->topics[k].id, tp->id) == 0)
            rules_errors_add(x->errs, "%s: topic %s: duplicate id", x->name, tname);
    tp->name = rules_string(x, t, "name", 1, where);
    tp->category = rules_string(x, t, "category", 1, where);
    if (tp->category && !rules_category_known(tp->category))
        rules_errors_add(x->errs, "%s: topic %s: category: unknown category \"%s\"",
                         x->name, tname, tp->category);
    rules_topic_committee(x, t, r, tp, tname);
    tp->weight = rules_number(x, t, "weight", 1.0, 0.0, 1, where);
    tp->bias = rules_signed(x, t, "bias", 0.0, where);
    if (!cJSON_GetObjectItemCaseSensitive(t, "patterns"))
        rules_errors_add(x->errs, "%s: topic %s: patterns: missing", x->name, tname);
    tp->patterns = rules_parse_patterns(x, t, "patterns", "pattern", tname, &tp->npatterns);
    tp->excludes = rules_parse_patterns(x, t, "exclude", "exclude", tname, &tp->nexcludes);
}

static void rules_parse_topics(struct rules_ctx *x, const cJSON *root, struct rules *r)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "topics");
    if (!cJSON_IsArray(arr)) {
        rules_errors_add(x->errs, "%s: topics: %s", x->name,
                         arr ? "must be an array" : "missing");
        return;
    }
    r->topics = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *r->topics);
    size_t i = 0;
    for (const cJSON *t = arr->child; t; t = t->next, i++) {
        if (cJSON_IsObject(t))
            rules_parse_topic(x, t, i, r);
        else
            rules_errors_add(x->errs, "%s: topics[%zu]: must be an object", x->name, i);
    }
}

/* version, triage, title_weight, min_score, tag_ratio, max_tags. */
static void rules_parse_top(struct rules_ctx *x, const cJSON *root, struct rules *r)
{
    static const char *const known[] = {"version", "triage", "title_weight", "min_score",
                                        "tag_ratio", "max_tags", "committees", "categories",
                                        "topics", NULL};
    rules_check_keys(x, root, "", known);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (v && !(cJSON_IsNumber(v) && v->valuedouble == 1))
        rules_errors_add(x->errs, "%s: version: must be 1", x->name);
    r->title_weight = rules_number(x, root, "title_weight", RULES_TITLE_WEIGHT, 0, 0, "");
    r->min_score = rules_number(x, root, "min_score", RULES_MIN_SCORE, 0, 0, "");
    r->tag_ratio = rules_number(x, root, "tag_ratio", RULES_TAG_RATIO, 0, 0, "");
    if (r->tag_ratio > 1)
        rules_errors_add(x->errs, "%s: tag_ratio: must be a number from 0 to 1", x->name);
    double max_tags = rules_number(x, root, "max_tags", RULES_MAX_TAGS, 0, 0, "");
    if (max_tags != (double)(size_t)max_tags || max_tags > 1000)
        rules_errors_add(x->errs, "%s: max_tags: must be a whole number from 0 to 1000", x->name);
    else
        r->max_tags = (size_t)max_tags;
    r->triage = rules_string(x, root, "triage", 1, "");
    if (r->triage && r->ncommittees && !rules_committee(r, r->triage))
        rules_errors_add(x->errs, "%s: triage: unknown committee \"%s\"", x->name,
                         r->triage);
}

/* The line and column of byte `off` in buf, for JSON syntax errors. */
static void rules_position(const char *buf, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

int rules_parse(const char *name, const char *buf, size_t len, struct rules **out,
                struct rules_errors *errs)
{
    struct rules_ctx x = {name, errs, errs->n};
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(buf, len);
    if (!cJSON_IsObject(root)) {
        if (root) {
            rules_errors_add(errs, "%s: json: the file must hold one object", name);
        } else {
            const char *at = cJSON_GetErrorPtr();
            size_t off = at && at >= buf && at <= buf + len ? (size_t)(at - buf) : 0;
            int line, col;
            rules_position(buf, off, &line, &col);
            rules_errors_add(errs, "%s: json: syntax error at line %d, column %d", name,
                             line, col);
        }
        cJSON_Delete(root);
        return -1;
    }
    struct rules *r = xcalloc(1, sizeof *r);
    r->path = xstrdup(name);
    rules_parse_committees(&x, root, r);
    rules_parse_categories(&x, root, r);
    rules_parse_top(&x, root, r);
    rules_parse_topics(&x, root, r);
    cJSON_Delete(root);
    if (errs->n > x.nerr0) {
        rules_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int rules_load(const char *path, struct rules **out, struct rules_errors *errs)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rules_errors_add(errs, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap && cap < RULES_FILE_MAX)
            buf = xrealloc(buf, cap *= 2);
        else if (len == cap)
            break;
    }
    int bad = ferror(f) || len == RULES_FILE_MAX;
    int saved = errno;
    fclose(f);
    if (bad) {
        rules_errors_add(errs, "%s: cannot read: %s", path,
                         len == RULES_FILE_MAX ? "file too large" : strerror(saved));
        free(buf);
        return -1;
    }
    int rc = rules_parse(path, buf, len, out, errs);
    free(buf);
    return rc;
}

static void rules_free_patterns(struct rules_pattern *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].re);
    free(v);
}

void rules_free(struct rules **rp)
{
    struct rules *r = rp ? *rp : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->ntopics; i++) {
        struct rules_topic *t = &r->topics[i];
        free(t->id);
        free(t->name);
        free(t->committee);
        free(t->category);
        rules_free_patterns(t->patterns, t->npatterns);
        rules_free_patterns(t->excludes, t->nexcludes);
    }
    for (size_t i = 0; i < r->ncommittees; i++) {
        free(r->committees[i].id);
        free(r->committees[i].name);
    }
    for (size_t i = 0; i < r->ncategories; i++) {
        free(r->categories[i].name);
        free(r->categories[i].committee);
    }
    free(r->topics);
    free(r->committees);
    free(r->categories);
    free(r->triage);
    free(r->path);
    free(r);
    *rp = NULL;
}

int rules_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > RULES_ID_MAX || id[0] == '_' || id[0] == '-')
        return 0;
    return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

const struct rules_committee *rules_committee(const struct rules *r, const char *id)
{
    for (size_t i = 0; id && i < r->ncommittees; i++)
        if (strcmp(r->committees[i].id, id) == 0)
            return &r->committees[i];
    return NULL;
}

const char *rules_category_committee(const struct rules *r, const char *category)
{
    for (size_t i = 0; category && i < r->ncategories; i++)
        if (strcmp(r->categories[i].name, category) == 0)
            return r->categories[i].committee;
    return NULL;
}
