/* archiver_audit.c: a month's audit (see archiver_audit.h).
 *
 * Three grouped counts per member (the month, the quarter to date, the
 * year to date) are the base of everything about people: members, their
 * groups and sectors, quotas and points.  Committees, topics, the trend
 * and the outcomes are one grouped count each.  Quota rules without an id
 * apply to every member (group, sector) on its own; in the "quotas" list
 * such a rule is one entry whose count is how many of them meet it ("of"
 * says how many there are) and which is met when all do.  Members who left
 * before the audited month are listed but not held to quotas.
 */
#include "archiver_audit.h"
#include "archiver_store.h"
#include "config.h"
#include "roster.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P_MONTH, P_QUARTER, P_YEAR, P_N };          /* periods */
/* per member: reports, their outcomes here, and forwarded ones adopted by
 * the next level (N_UP) and the one above it (N_UP2) */
enum { N_COUNT, N_ADOPTED, N_FORWARDED, N_FILED, N_DECLINED, N_UP, N_UP2, N_N };

struct audit_member {
    long long n[P_N][N_N];        /* per period: count and outcomes */
};

struct audit {
    const struct config *cfg;
    const struct roster *roster;
    const struct rules *rules;
    char month[16], from[P_N][16];  /* the audited month; first month of each period */
    struct audit_member *m;       /* per roster member, in roster order */
    long long org[P_N];           /* every report, members in the roster or not */
    cJSON *list;                  /* the array being filled (callbacks) */
};

static int audit_period(const char *p)
{
    return !strcmp(p, "month") ? P_MONTH : !strcmp(p, "quarter") ? P_QUARTER : P_YEAR;
}

/* "YYYY-MM" valid?  Then the first months of its quarter and year. */
static int audit_months(struct audit *a, const char *month)
{
    int y, mo, n = 0;
    if (sscanf(month, "%4d-%2d%n", &y, &mo, &n) != 2 || n != 7 || strlen(month) != 7 ||
        mo < 1 || mo > 12 || y < 1970)
        return -1;
    snprintf(a->month, sizeof a->month, "%04d-%02d", y % 10000, mo % 100);
    snprintf(a->from[P_MONTH], 16, "%s", a->month);
    snprintf(a->from[P_QUARTER], 16, "%04d-%02d", y % 10000, ((mo - 1) / 3 * 3 + 1) % 100);
    snprintf(a->from[P_YEAR], 16, "%04d-01", y % 10000);
    return 0;
}

/* One (month, member) group of the year: into the member's month, quarter
 * and year counts, the organisation's, and the trend. */
static void audit_member_row(void *arg, const char *month, const char *member,
                             const long long *n, int nn)
{
    struct audit *a = arg;
    cJSON *e;
    cJSON_ArrayForEach(e, a->list)
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "month")), month))
            cJSON_SetNumberValue(cJSON_GetObjectItem(e, "count"),
                                 cJSON_GetNumberValue(cJSON_GetObjectItem(e, "count")) + (double)n[0]);
    const struct roster_member *m = member ? roster_find(a->roster, member) : NULL;
    for (int p = 0; p < P_N; p++) {
        if (strcmp(month, a->from[p]) < 0 || strcmp(month, a->month) > 0)
            continue;
        a->org[p] += n[0];
        if (!m)
            continue;
        struct audit_member *am = &a->m[m - a->roster->members];
        for (int i = 0; i < nn && i < N_UP; i++)
            am->n[p][i] += n[i];
    }
}

/* One (month, member) group of forwarded reports adopted higher up: into
 * the member's period counts (points only; the reports were counted). */
static void audit_upstream_row(void *arg, const char *month, const char *member,
                               const long long *n, int nn)
{
    struct audit *a = arg;
    const struct roster_member *m = member ? roster_find(a->roster, member) : NULL;
    for (int p = 0; m && nn >= 2 && p < P_N; p++) {
        if (strcmp(month, a->from[p]) < 0 || strcmp(month, a->month) > 0)
            continue;
        struct audit_member *am = &a->m[m - a->roster->members];
        am->n[p][N_UP] += n[0];
        am->n[p][N_UP2] += n[1];
    }
}

static double audit_points(const struct config *cfg, const long long *n)
{
    const struct config_points *p = &cfg->points;
    return p->report * (double)n[N_COUNT] + p->adopted * (double)n[N_ADOPTED] +
           p->forwarded * (double)n[N_FORWARDED] + p->filed * (double)n[N_FILED] +
           p->declined * (double)n[N_DECLINED] + p->upstream_adopted * (double)n[N_UP] +
           p->upstream2_adopted * (double)n[N_UP2];
}

/* A member who left before the audited month is not held to quotas. */
static int audit_held(const struct audit *a, const struct roster_member *m)
{
    char first[24];
    snprintf(first, sizeof first, "%s-01", a->month);
    return m->active || !m->left[0] || strcmp(m->left, first) >= 0;
}

/* Does this quota rule apply to scope/id? */
static int audit_applies(const struct config_quota *q, const char *scope, const char *id)
{
    return !strcmp(q->scope, scope) && (!q->id || (id && !strcmp(q->id, id)));
}

/* Quota columns for one entity: "quota" (the first rule's minimum and
 * period) and "met" (every applicable rule met), from its period counts. */
static void audit_quota_cols(const struct audit *a, cJSON *o, const char *scope,
                             const char *id, const long long *count, int held)
{
    const struct config_quota *first = NULL;
    int met = 1;
    for (size_t i = 0; i < a->cfg->nquotas; i++) {
        const struct config_quota *q = &a->cfg->quotas[i];
        if (!audit_applies(q, scope, id))
            continue;
        first = first ? first : q;
        met &= count[audit_period(q->period)] >= q->min;
    }
    if (!first || !held) {
        cJSON_AddNullToObject(o, "quota");
        cJSON_AddNullToObject(o, "met");
        return;
    }
    cJSON_AddNumberToObject(o, "quota", first->min);
    cJSON_AddStringToObject(o, "quota_period", first->period);
    cJSON_AddBoolToObject(o, "met", met);
}

static cJSON *audit_members(struct audit *a)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < a->roster->n; i++) {
        const struct roster_member *m = &a->roster->members[i];
        const struct audit_member *am = &a->m[i];
        long long counts[P_N] = {am->n[P_MONTH][0], am->n[P_QUARTER][0], am->n[P_YEAR][0]};
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "member", m->id);
        cJSON_AddStringToObject(o, "name", m->name);
        cJSON_AddStringToObject(o, "sector", m->sector);
        cJSON_AddStringToObject(o, "group", m->group);
        cJSON_AddBoolToObject(o, "active", m->active);
        cJSON_AddNumberToObject(o, "count", (double)counts[P_MONTH]);
        cJSON_AddNumberToObject(o, "adopted", (double)am->n[P_MONTH][N_ADOPTED]);
        cJSON_AddNumberToObject(o, "adopted_upstream",
                                (double)(am->n[P_MONTH][N_UP] + am->n[P_MONTH][N_UP2]));
        cJSON_AddNumberToObject(o, "ytd", (double)counts[P_YEAR]);
        audit_quota_cols(a, o, "member", m->id, counts, audit_held(a, m));
        cJSON_AddNumberToObject(o, "points", audit_points(a->cfg, am->n[P_MONTH]));
        cJSON_AddNumberToObject(o, "points_ytd", audit_points(a->cfg, am->n[P_YEAR]));
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* Groups or sectors: the members' counts summed, in first-seen order. */
static cJSON *audit_units(struct audit *a, const char *scope)
{
    size_t n = a->roster->n, nu = 0;
    const char **name = xcalloc(n + 1, sizeof *name);
    long long (*count)[P_N] = xcalloc(n + 1, sizeof *count);
    int *members = xcalloc(n + 1, sizeof *members);
    for (size_t i = 0; i < n; i++) {
        const struct roster_member *m = &a->roster->members[i];
        const char *u = !strcmp(scope, "group") ? m->group : m->sector;
        size_t k = 0;
        while (k < nu && strcmp(name[k], u) != 0)
            k++;
        if (k == nu)
            name[nu++] = u;
        members[k] += audit_held(a, m);
        for (int p = 0; p < P_N; p++)
            count[k][p] += a->m[i].n[p][N_COUNT];
    }
    cJSON *list = cJSON_CreateArray();
    for (size_t k = 0; k < nu; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, scope, name[k]);
        cJSON_AddNumberToObject(o, "count", (double)count[k][P_MONTH]);
        cJSON_AddNumberToObject(o, "ytd", (double)count[k][P_YEAR]);
        cJSON_AddNumberToObject(o, "members", members[k]);
        audit_quota_cols(a, o, scope, name[k], count[k], 1);
        cJSON_AddItemToArray(list, o);
    }
    free(name);
    free(count);
    free(members);
    return list;
}

/* The reports of a member, group or sector in period p. */
static long long audit_unit_count(const struct audit *a, const char *scope, const char *id,
                                  int p)
{
    long long c = 0;
    for (size_t k = 0; id && k < a->roster->n; k++) {
        const struct roster_member *m = &a->roster->members[k];
        const char *u = !strcmp(scope, "member") ? m->id
                        : !strcmp(scope, "group") ? m->group : m->sector;
        if (!strcmp(u, id))
            c += a->m[k].n[p][N_COUNT];
    }
    return c;
}

/* The rule in words, as the office says it: "每位委员每年至少 1 篇". */
static void audit_rule_text(const struct config_quota *q, char *out, size_t len)
{
    static const char *const per[] = {"每月", "每季度", "每年"};
    const char *who = !strcmp(q->scope, "member") ? "委员"
                      : !strcmp(q->scope, "group") ? "活动组" : "界别";
    const char *each = !strcmp(q->scope, "member") ? "每位" : "每个";
    const char *p = per[audit_period(q->period)];
    if (!strcmp(q->scope, "org"))
        snprintf(out, len, "全会%s至少 %d 篇", p, q->min);
    else if (q->id)
        snprintf(out, len, "%s %.64s %s至少 %d 篇", who, q->id, p, q->min);
    else
        snprintf(out, len, "%s%s%s至少 %d 篇", each, who, p, q->min);
}

/* One "quotas" entry per rule: {rule, scope, id, period, min, count, met, of}. */
static cJSON *audit_quotas(struct audit *a, const cJSON *members, const cJSON *groups,
                           const cJSON *sectors)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < a->cfg->nquotas; i++) {
        const struct config_quota *q = &a->cfg->quotas[i];
        int p = audit_period(q->period);
        long long count = 0, of = 0;
        if (!strcmp(q->scope, "org")) {
            count = a->org[p];
        } else {
            const cJSON *e, *rows = !strcmp(q->scope, "member") ? members
                                    : !strcmp(q->scope, "group") ? groups : sectors;
            const char *key = !strcmp(q->scope, "member") ? "member" : q->scope;
            cJSON_ArrayForEach(e, rows) {
                const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(e, key));
                if (!audit_applies(q, q->scope, id) ||
                    cJSON_IsNull(cJSON_GetObjectItem(e, "met")))
                    continue;
                long long c = audit_unit_count(a, q->scope, id, p);
                of++;
                count += q->id ? c : c >= q->min;
            }
        }
        int met = q->id || !strcmp(q->scope, "org") ? count >= q->min : count == of;
        char rule[200];
        audit_rule_text(q, rule, sizeof rule);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "rule", rule);
        cJSON_AddStringToObject(o, "scope", q->scope);
        cJSON_AddStringToObject(o, "id", q->id ? q->id : !strcmp(q->scope, "org") ? "" : "*");
        cJSON_AddStringToObject(o, "period", q->period);
        cJSON_AddNumberToObject(o, "min", q->min);
        cJSON_AddNumberToObject(o, "count", (double)count);
        if (!q->id && strcmp(q->scope, "org"))
            cJSON_AddNumberToObject(o, "of", (double)of);
        cJSON_AddBoolToObject(o, "met", met);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* ---- the grouped counts that are not about people ---- */

static void audit_committee_row(void *arg, const char *key, const char *key2,
                                const long long *n, int nn)
{
    struct audit *a = arg;
    (void)key2;
    (void)nn;
    cJSON *o = NULL, *e;
    cJSON_ArrayForEach(e, a->list)
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "committee")), key))
            o = e;
    if (!o) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "committee", key);
        cJSON_AddStringToObject(o, "name", "");
        cJSON_AddNumberToObject(o, "count", 0);
        cJSON_AddNumberToObject(o, "open", 0);
        cJSON_AddNumberToObject(o, "closed", 0);
        cJSON_AddItemToArray(a->list, o);
    }
    cJSON_SetNumberValue(cJSON_GetObjectItem(o, "count"), (double)n[0]);
    cJSON_SetNumberValue(cJSON_GetObjectItem(o, "open"), (double)(n[1] + n[2]));
    cJSON_SetNumberValue(cJSON_GetObjectItem(o, "closed"), (double)n[3]);
}

static void audit_topic_row(void *arg, const char *key, const char *key2, const long long *n,
                            int nn)
{
    struct audit *a = arg;
    (void)nn;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "topic", key);
    for (size_t i = 0; a->rules && i < a->rules->ntopics; i++)
        if (!strcmp(a->rules->topics[i].id, key))
            cJSON_AddStringToObject(o, "name", a->rules->topics[i].name);
    cJSON_AddStringToObject(o, "category", key2 ? key2 : "");
    cJSON_AddNumberToObject(o, "count", (double)n[0]);
    cJSON_AddItemToArray(a->list, o);
}

static void audit_outcome_row(void *arg, const char *key, const char *key2,
                              const long long *n, int nn)
{
    struct audit *a = arg;
    (void)key2;
    (void)nn;
    cJSON_AddNumberToObject(a->list, key, (double)n[0]);
}

static cJSON *audit_committees(struct audit *a, struct store *s, char *err, size_t errlen)
{
    a->list = cJSON_CreateArray();
    for (size_t i = 0; a->rules && i < a->rules->ncommittees; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "committee", a->rules->committees[i].id);
        cJSON_AddStringToObject(o, "name", a->rules->committees[i].name);
        cJSON_AddNumberToObject(o, "count", 0);
        cJSON_AddNumberToObject(o, "open", 0);
        cJSON_AddNumberToObject(o, "closed", 0);
        cJSON_AddItemToArray(a->list, o);
    }
    if (store_count(s, STORE_BY_COMMITTEE, a->month, a->month, audit_committee_row, a, err,
                    errlen) < 0) {
        cJSON_Delete(a->list);
        return NULL;
    }
    return a->list;
}

/* The 12 months ending at the audited one, zeros included (filled by
 * audit_member_row); first gets the first of them. */
static cJSON *audit_trend(struct audit *a, char first[16])
{
    int y, mo;
    sscanf(a->month, "%4d-%2d", &y, &mo);
    cJSON *list = cJSON_CreateArray();
    for (int k = 11; k >= 0; k--) {
        int t = y * 12 + (mo - 1) - k;
        char m[16];
        snprintf(m, sizeof m, "%04d-%02d", (t / 12) % 10000, (t % 12 + 1) % 100);
        if (k == 11)
            memcpy(first, m, 16);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "month", m);
        cJSON_AddNumberToObject(o, "count", 0);
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

/* One pass over the 12 months ending at the audited one (they include
 * the year and the quarter to date): members, organisation, trend. */
static int audit_count_members(struct audit *a, struct store *s, cJSON *trend,
                               const char *first, char *err, size_t errlen)
{
    a->list = trend;
    if (store_count(s, STORE_BY_MONTH_MEMBER, first, a->month, audit_member_row, a, err,
                    errlen) < 0)
        return -1;
    return store_count(s, STORE_BY_MONTH_MEMBER_UPSTREAM, first, a->month, audit_upstream_row,
                       a, err, errlen);
}

/* Everything not about people; 0 / -1. */
static int audit_rest(struct audit *a, struct store *s, cJSON *o, char *err, size_t errlen)
{
    cJSON *x;
    if (!(x = audit_committees(a, s, err, errlen)))
        return -1;
    cJSON_AddItemToObject(o, "committees", x);
    a->list = cJSON_AddArrayToObject(o, "topics");
    if (store_count(s, STORE_BY_TOPIC, a->month, a->month, audit_topic_row, a, err, errlen) < 0)
        return -1;
    a->list = cJSON_AddObjectToObject(o, "outcomes");
    return store_count(s, STORE_BY_OUTCOME, a->month, a->month, audit_outcome_row, a, err,
                       errlen);
}

cJSON *audit_build(struct store *s, const struct config *cfg, const struct roster *roster,
                   const struct rules *rules, const char *month, char *err, size_t errlen)
{
    struct audit a = {.cfg = cfg, .roster = roster, .rules = rules};
    char now[8];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m", &tm);
    if (audit_months(&a, month ? month : now) < 0) {
        snprintf(err, errlen, "bad month \"%.16s\": want YYYY-MM", month);
        return NULL;
    }
    a.m = xcalloc(roster->n + 1, sizeof *a.m);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "month", a.month);
    cJSON_AddStringToObject(o, "timezone", cfg->timezone);
    cJSON_AddStringToObject(o, "organisation", cfg->organisation ? cfg->organisation : "");
    char first[16];
    cJSON *trend = audit_trend(&a, first);
    cJSON_AddItemToObject(o, "trend", trend);
    int rc = audit_count_members(&a, s, trend, first, err, errlen);
    if (rc == 0) {
        cJSON_AddNumberToObject(o, "total", (double)a.org[P_MONTH]);
        cJSON_AddNumberToObject(o, "ytd", (double)a.org[P_YEAR]);
        cJSON *members = audit_members(&a), *groups = audit_units(&a, "group");
        cJSON *sectors = audit_units(&a, "sector");
        cJSON_AddItemToObject(o, "quotas", audit_quotas(&a, members, groups, sectors));
        cJSON_AddItemToObject(o, "members", members);
        cJSON_AddItemToObject(o, "groups", groups);
        cJSON_AddItemToObject(o, "sectors", sectors);
        rc = audit_rest(&a, s, o, err, errlen);
    }
    free(a.m);
    if (rc < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
