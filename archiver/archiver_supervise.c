/* archiver_supervise.c: supervision (督办) -- deadlines in calendar days,
 * the overdue listing, queue marks, status counts, the audit's section,
 * and the periodic check that records newly overdue reports.  The SQL is
 * in archiver_store_supervise.c, the notify command in archiver_notify.c.
 * See archiver_supervise.h.
 */
#include "archiver_supervise.h"
#include "archiver_notify.h"
#include "archiver_store.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sv_count {
    char *committee;
    long n;
};

struct supervise {
    struct notify *notify;
    struct sv_count *counts;      /* as of the last check */
    size_t ncounts;
    int64_t next_check_ms;        /* monotonic; 0: at the first tick */
};

/* ---- calendar days ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static long sv_days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long supervise_day(int64_t us)
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&secs, &tm);
    return sv_days_from_civil(tm.tm_year + 1900L, tm.tm_mon + 1L, tm.tm_mday);
}

int64_t supervise_midnight_us(long day)
{
    time_t noon = (time_t)day * 86400 + 43200;   /* a UTC instant on that date */
    struct tm tm;
    gmtime_r(&noon, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000000;
}

/* ---- one report against its deadlines ---- */

struct sv_verdict {
    const char *kind;             /* "take_up", "close", or NULL: not overdue */
    long days;
};

static struct sv_verdict sv_judge(long today, int64_t received_us, int64_t taken_us,
                                  int take_up_days, int close_days)
{
    long day = supervise_day(received_us);
    long close_over = today - (day + close_days);
    long take_over = taken_us > 0 ? 0 : today - (day + take_up_days);
    if (close_over > 0)
        return (struct sv_verdict){"close", close_over};
    if (take_over > 0)
        return (struct sv_verdict){"take_up", take_over};
    return (struct sv_verdict){NULL, 0};
}

/* ---- scanning a committee ---- */

struct sv_scan {
    const struct config *cfg;
    long today;
    int take_up_days, close_days;
    void (*found)(struct sv_scan *x, const struct store_open_row *r, struct sv_verdict v);
    cJSON *list;                  /* supervise_list */
    struct store *st;             /* the check: record new ones */
    int64_t now_us;
    int recorded;                 /* new ones recorded by this check */
};

/* committee's deadlines into x, and today's two cut-offs: a report received
 * before close_us is overdue to close, one received before take_us and
 * never taken up is overdue to take up (sv_judge, in SQL). */
static void sv_cutoffs(struct sv_scan *x, const char *committee, int64_t *close_us,
                       int64_t *take_us)
{
    config_deadlines(x->cfg, committee, &x->take_up_days, &x->close_days);
    *close_us = supervise_midnight_us(x->today - x->close_days);
    *take_us = supervise_midnight_us(x->today - x->take_up_days);
}

static int sv_row(void *arg, const struct store_open_row *r)
{
    struct sv_scan *x = arg;
    struct sv_verdict v = sv_judge(x->today, r->received_us, r->taken_us, x->take_up_days,
                                   x->close_days);
    if (v.kind)
        x->found(x, r, v);
    return 0;
}

/* Pass at most limit of committee's overdue reports (unnoticed: only those
 * not yet recorded) to x->found, oldest first.  0 / -1 with err. */
static int sv_scan_committee(struct store *st, struct sv_scan *x, const char *committee,
                             int unnoticed, int limit, char *err, size_t errlen)
{
    int64_t close_us, take_us;
    sv_cutoffs(x, committee, &close_us, &take_us);
    return store_overdue(st, committee, close_us, take_us, unnoticed, limit, sv_row, x, err,
                         errlen);
}

/* How many of committee's reports are overdue: n, -1 with err. */
static long sv_count_committee(struct store *st, struct sv_scan *x, const char *committee,
                               char *err, size_t errlen)
{
    int64_t close_us, take_us;
    sv_cutoffs(x, committee, &close_us, &take_us);
    return store_overdue_count(st, committee, close_us, take_us, err, errlen);
}

/* ---- the periodic check ---- */

/* Each newly overdue report is one transaction (a sync) in the archiver's
 * loop: a check records at most this many and leaves the rest to the next
 * check, so an archive with a large old backlog (an upgrade, an import)
 * does not stall storing and queries for one sync per report (20,000
 * overdue reports held the archiver ~8 s).  Counts and `minyi overdue`
 * cover every overdue report at once; only the record and its notify wait. */
#define SV_RECORD_MAX 64

static void sv_record(struct sv_scan *x, const struct store_open_row *r, struct sv_verdict v)
{
    char err[512];
    if (r->noticed)
        return;
    x->recorded++;
    int64_t next = x->cfg->supervision.notify ? x->now_us : 0;
    int rc = store_notice_add(x->st, r->id, v.kind, (int)v.days, next, x->now_us, err,
                              sizeof err);
    if (rc < 0)
        log_warn("%s: cannot record it overdue: %s; trying at the next check", r->id, err);
    else if (rc > 0)
        log_info("%s: overdue to %s by %ld day%s (committee %s)", r->id,
                 !strcmp(v.kind, "close") ? "close" : "take up", v.days, v.days == 1 ? "" : "s",
                 r->committee);
}

static void sv_set_count(struct supervise *sv, const char *committee, long n)
{
    for (size_t i = 0; i < sv->ncounts; i++)
        if (!strcmp(sv->counts[i].committee, committee)) {
            sv->counts[i].n = n;
            return;
        }
    sv->counts = xrealloc(sv->counts, (sv->ncounts + 1) * sizeof *sv->counts);
    sv->counts[sv->ncounts++] = (struct sv_count){xstrdup(committee), n};
}

/* Count each committee's overdue reports, and record up to SV_RECORD_MAX
 * not recorded yet (the oldest first). */
static void sv_check(struct supervise *sv, struct store *st, const struct config *cfg,
                     const struct rules *rules, int64_t now_us)
{
    struct sv_scan x = {.cfg = cfg, .today = supervise_day(now_us), .found = sv_record,
                        .st = st, .now_us = now_us};
    char err[512];
    for (size_t i = 0; rules && i < rules->ncommittees; i++) {
        const char *c = rules->committees[i].id;
        long n = sv_count_committee(st, &x, c, err, sizeof err);
        if (n < 0 || (x.recorded < SV_RECORD_MAX &&
                      sv_scan_committee(st, &x, c, 1, SV_RECORD_MAX - x.recorded, err,
                                        sizeof err) < 0)) {
            log_warn("supervision: %s: %s; trying at the next check", c, err);
            continue;
        }
        sv_set_count(sv, c, n);
    }
}

struct supervise *supervise_new(void)
{
    struct supervise *sv = xcalloc(1, sizeof *sv);
    sv->notify = notify_new();
    return sv;
}

void supervise_free(struct supervise **svp)
{
    struct supervise *sv = svp ? *svp : NULL;
    if (!sv)
        return;
    notify_free(&sv->notify);
    for (size_t i = 0; i < sv->ncounts; i++)
        free(sv->counts[i].committee);
    free(sv->counts);
    free(sv);
    *svp = NULL;
}

void supervise_tick(struct supervise *sv, struct store *st, const struct config *cfg,
                    const struct rules *rules, int64_t now_us)
{
    int64_t mono = daemon_mono_ms();
    if (mono >= sv->next_check_ms) {
        sv->next_check_ms = mono + cfg->supervision.check_seconds * 1000L;
        sv_check(sv, st, cfg, rules, now_us);
    }
    if (cfg->supervision.notify || notify_running(sv->notify))
        notify_poll(sv->notify, st, cfg, now_us);
}

cJSON *supervise_counts(const struct supervise *sv)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sv->ncounts; i++)
        cJSON_AddNumberToObject(o, sv->counts[i].committee, (double)sv->counts[i].n);
    return o;
}

/* ---- the listing ---- */

/* Each committee gives its oldest `limit` (store_overdue); sv_sorted keeps
 * the oldest `limit` of them all. */
static void sv_collect(struct sv_scan *x, const struct store_open_row *r, struct sv_verdict v)
{
    cJSON *o = cJSON_CreateObject();
    struct report stamp = {0};
    report_stamp(&stamp, r->received_us);
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "member", r->member);
    cJSON_AddStringToObject(o, "title", r->title);
    cJSON_AddStringToObject(o, "committee", r->committee);
    cJSON_AddStringToObject(o, "state", r->state);
    cJSON_AddStringToObject(o, "received_at", stamp.received_at);
    cJSON_AddNumberToObject(o, "received_us", (double)r->received_us);
    cJSON_AddStringToObject(o, "overdue", v.kind);
    cJSON_AddNumberToObject(o, "days", (double)v.days);
    cJSON_AddNumberToObject(o, "take_up_days", x->take_up_days);
    cJSON_AddNumberToObject(o, "close_days", x->close_days);
    cJSON_AddItemToArray(x->list, o);
}

static int sv_by_received(const void *a, const void *b)
{
    double x = cJSON_GetNumberValue(cJSON_GetObjectItem(*(cJSON *const *)a, "received_us"));
    double y = cJSON_GetNumberValue(cJSON_GetObjectItem(*(cJSON *const *)b, "received_us"));
    return x < y ? -1 : x > y;
}

/* list sorted oldest first, cut to limit, without the sort key. */
static cJSON *sv_sorted(cJSON *list, int limit)
{
    int n = cJSON_GetArraySize(list), i = 0;
    cJSON **v = xcalloc((size_t)n + 1, sizeof *v), *e, *out = cJSON_CreateArray();
    while ((e = list->child) != NULL)
        v[i++] = cJSON_DetachItemViaPointer(list, e);
    qsort(v, (size_t)n, sizeof *v, sv_by_received);
    for (i = 0; i < n; i++) {
        cJSON_DeleteItemFromObject(v[i], "received_us");
        if (i < limit)
            cJSON_AddItemToArray(out, v[i]);
        else
            cJSON_Delete(v[i]);
    }
    free(v);
    cJSON_Delete(list);
    return out;
}

cJSON *supervise_list(struct store *st, const struct config *cfg, const struct rules *rules,
                      const char *committee, int limit, int64_t now_us, char *err,
                      size_t errlen)
{
    struct sv_scan x = {.cfg = cfg, .today = supervise_day(now_us), .found = sv_collect,
                        .list = cJSON_CreateArray()};
    for (size_t i = 0; rules && i < rules->ncommittees; i++) {
        const char *c = rules->committees[i].id;
        if (committee && strcmp(committee, c))
            continue;
        if (sv_scan_committee(st, &x, c, 0, limit, err, errlen) < 0) {
            cJSON_Delete(x.list);
            return NULL;
        }
    }
    return sv_sorted(x.list, limit);
}

void supervise_mark(struct store *st, const struct config *cfg, const char *committee,
                    cJSON *reports, int64_t now_us)
{
    int take_up_days, close_days;
    long today = supervise_day(now_us);
    cJSON *r;
    config_deadlines(cfg, committee, &take_up_days, &close_days);
    cJSON_ArrayForEach(r, reports) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(r, "id"));
        int64_t received =
            report_time_to_us(cJSON_GetStringValue(cJSON_GetObjectItem(r, "received_at")));
        if (!id || received <= 0)
            continue;
        struct sv_verdict v = sv_judge(today, received, store_taken_us(st, id), take_up_days,
                                       close_days);
        if (!v.kind)
            continue;
        cJSON_AddStringToObject(r, "overdue", v.kind);
        cJSON_AddNumberToObject(r, "overdue_days", (double)v.days);
    }
}

/* ---- the audit's section ---- */

struct sv_closed {
    const struct config *cfg;
    const struct rules *rules;
    double **days;                /* per committee of the rules: days to close */
    size_t *n, *cap, *in_time;
};

static void sv_closed_row(void *arg, const char *committee, int64_t received_us,
                          int64_t closed_us)
{
    struct sv_closed *x = arg;
    int take_up_days, close_days;
    for (size_t i = 0; committee && i < x->rules->ncommittees; i++) {
        if (strcmp(x->rules->committees[i].id, committee))
            continue;
        if (x->n[i] == x->cap[i]) {
            x->cap[i] = x->cap[i] ? 2 * x->cap[i] : 64;
            x->days[i] = xrealloc(x->days[i], x->cap[i] * sizeof *x->days[i]);
        }
        x->days[i][x->n[i]++] = (double)(closed_us - received_us) / 86400e6;
        config_deadlines(x->cfg, committee, &take_up_days, &close_days);
        x->in_time[i] += supervise_day(closed_us) <= supervise_day(received_us) + close_days;
        return;
    }
}

static int sv_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One committee's row of the section. */
static cJSON *sv_audit_row(const struct config *cfg, const char *committee, long overdue,
                           double *days, size_t n, size_t in_time)
{
    int take_up_days, close_days;
    cJSON *o = cJSON_CreateObject();
    config_deadlines(cfg, committee, &take_up_days, &close_days);
    cJSON_AddStringToObject(o, "committee", committee);
    cJSON_AddNumberToObject(o, "take_up_days", take_up_days);
    cJSON_AddNumberToObject(o, "close_days", close_days);
    cJSON_AddNumberToObject(o, "overdue", (double)overdue);
    cJSON_AddNumberToObject(o, "closed", (double)n);
    cJSON_AddNumberToObject(o, "closed_in_time", (double)in_time);
    if (n) {
        qsort(days, n, sizeof *days, sv_cmp_double);
        double median = n % 2 ? days[n / 2] : (days[n / 2 - 1] + days[n / 2]) / 2;
        cJSON_AddNumberToObject(o, "median_days_to_close", (double)(long)(median * 10 + 0.5) / 10);
        cJSON_AddNumberToObject(o, "in_time_share",
                                (double)(long)(1000.0 * (double)in_time / (double)n + 0.5) / 1000);
    } else {
        cJSON_AddNullToObject(o, "median_days_to_close");
        cJSON_AddNullToObject(o, "in_time_share");
    }
    return o;
}

cJSON *supervise_audit(struct store *st, const struct config *cfg, const struct rules *rules,
                       const char *month, int64_t now_us, char *err, size_t errlen)
{
    size_t nc = rules ? rules->ncommittees : 0;
    struct sv_closed x = {cfg, rules, xcalloc(nc + 1, sizeof(double *)),
                          xcalloc(nc + 1, sizeof(size_t)), xcalloc(nc + 1, sizeof(size_t)),
                          xcalloc(nc + 1, sizeof(size_t))};
    struct sv_scan scan = {.cfg = cfg, .today = supervise_day(now_us)};
    long overdue;
    cJSON *out = NULL;
    if (nc && store_closed_in(st, month, month, sv_closed_row, &x, err, errlen) < 0)
        goto done;
    out = cJSON_CreateArray();
    for (size_t i = 0; i < nc; i++) {
        overdue = sv_count_committee(st, &scan, rules->committees[i].id, err, errlen);
        if (overdue < 0) {
            cJSON_Delete(out);
            out = NULL;
            goto done;
        }
        cJSON_AddItemToArray(out, sv_audit_row(cfg, rules->committees[i].id, overdue,
                                               x.days[i], x.n[i], x.in_time[i]));
    }
done:
    for (size_t i = 0; i < nc; i++)
        free(x.days[i]);
    free(x.days);
    free(x.n);
    free(x.cap);
    free(x.in_time);
    return out;
}
