/* archiver_feedback.c: a member's own reports and what became of them
 * (minyi mine).  The SQL is store_member_reports; this file shapes the
 * answer and counts the points.  See archiver_feedback.h. */
#include "archiver_feedback.h"
#include "archiver_store.h"
#include "config.h"
#include "report.h"
#include <cjson/cJSON.h>
#include <string.h>

double feedback_points(const struct config *cfg, const char *outcome)
{
    const struct config_points *p = &cfg->points;
    double extra = !outcome                       ? 0
                 : !strcmp(outcome, "adopted")    ? p->adopted
                 : !strcmp(outcome, "forwarded")  ? p->forwarded
                 : !strcmp(outcome, "filed")      ? p->filed
                 : !strcmp(outcome, "declined")   ? p->declined
                                                  : 0;
    return p->report + extra;
}

struct fb_ctx {
    struct store *st;
    const struct config *cfg;
    cJSON *list;
    double points;
};

static void fb_time(cJSON *o, const char *key, int64_t us)
{
    struct report stamp = {0};
    if (us <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    report_stamp(&stamp, us);
    cJSON_AddStringToObject(o, key, stamp.received_at);
}

static void fb_text(cJSON *o, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void fb_row(void *arg, const struct store_mine_row *r)
{
    struct fb_ctx *x = arg;
    cJSON *o = cJSON_CreateObject();
    double points = feedback_points(x->cfg, r->outcome);
    fb_text(o, "id", r->id);
    fb_text(o, "title", r->title);
    fb_text(o, "committee", r->committee);
    fb_text(o, "state", r->state);
    fb_text(o, "outcome", r->outcome);
    fb_text(o, "note", r->note);
    fb_time(o, "received_at", r->received_us);
    fb_time(o, "closed_at", r->closed_us);
    char state[16], upid[64], upout[16], upout2[16];
    if (store_upstream_of(x->st, r->id, state, upid, upout, upout2) == 1) {
        cJSON *u = cJSON_AddObjectToObject(o, "upstream");
        cJSON_AddStringToObject(u, "status", state);
        fb_text(u, "upstream_id", upid[0] ? upid : NULL);
        fb_text(u, "outcome", upout[0] ? upout : NULL);
        fb_text(u, "further", upout2[0] ? upout2 : NULL);
        if (!strcmp(upout, "adopted"))
            points += x->cfg->points.upstream_adopted;
        if (!strcmp(upout2, "adopted"))
            points += x->cfg->points.upstream2_adopted;
    } else {
        cJSON_AddNullToObject(o, "upstream");
    }
    cJSON_AddNumberToObject(o, "points", points);
    x->points += points;
    cJSON_AddItemToArray(x->list, o);
}

cJSON *feedback_mine(struct store *st, const struct config *cfg, const char *member, int limit,
                     char *err, size_t errlen)
{
    struct fb_ctx x = {st, cfg, cJSON_CreateArray(), 0};
    if (store_member_reports(st, member, limit, fb_row, &x, err, errlen) < 0) {
        cJSON_Delete(x.list);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "member", member);
    cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(x.list));
    cJSON_AddNumberToObject(o, "points", x.points);
    cJSON_AddItemToObject(o, "reports", x.list);
    return o;
}
