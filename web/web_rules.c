/* web_rules.c: `rules test` for the web door -- which committee a text
 * would go to and why, with the router's own classifier (common/classify.c).
 * The rules are compiled at the first request, not at start (compiling
 * takes seconds and most days nobody asks), and dropped at SIGHUP so the
 * next request sees the rules file as it is then.  The classifier's scratch
 * space is one per compiled set: requests take turns under w->rules_lock.
 */
#include "web.h"
#include "classify.h"
#include "config.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Load and compile the rules when they are not.  0 / -1 with err.  Locked. */
static int rules_ready(struct web *w, char *err, size_t errlen)
{
    struct rules_errors errs = {0};
    if (w->classify)
        return 0;
    if (rules_load(w->cfg->rules_path, &w->rules, &errs) == 0 &&
        classify_new(w->rules, &w->classify, &errs) == 0) {
        rules_errors_clear(&errs);
        return 0;
    }
    snprintf(err, errlen, "the rules file does not load: %s",
             errs.n ? errs.v[0] : w->cfg->rules_path);
    rules_errors_clear(&errs);
    rules_free(&w->rules);
    return -1;
}

static const struct rules_topic *rules_topic_of(const struct rules *r, const char *id)
{
    for (size_t k = 0; k < r->ntopics; k++)
        if (!strcmp(r->topics[k].id, id))
            return &r->topics[k];
    return NULL;
}

/* {"committee", "committee_name", "tags": [{topic, name, category,
 * committee, score, hits: [{field, offset, text}]}]} of a classified report. */
static cJSON *rules_json(const struct rules *r, const struct report *rep)
{
    cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();
    const struct rules_committee *cm = rules_committee(r, rep->committee);
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "committee", rep->committee ? rep->committee : "");
    cJSON_AddStringToObject(o, "committee_name", cm ? cm->name : "");
    cJSON_AddItemToObject(o, "tags", tags);
    for (size_t i = 0; i < rep->ntags; i++) {
        const struct report_tag *t = &rep->tags[i];
        const struct rules_topic *tp = rules_topic_of(r, t->topic);
        cJSON *jt = cJSON_CreateObject(), *hits = cJSON_CreateArray();
        cJSON_AddStringToObject(jt, "topic", t->topic);
        cJSON_AddStringToObject(jt, "name", tp ? tp->name : "");
        cJSON_AddStringToObject(jt, "category", tp ? tp->category : "");
        cJSON_AddStringToObject(jt, "committee", tp ? tp->committee : "");
        cJSON_AddNumberToObject(jt, "score", t->score);
        for (size_t h = 0; h < t->nhits; h++) {
            cJSON *jh = cJSON_CreateObject();
            cJSON_AddStringToObject(jh, "field", t->hits[h].field);
            cJSON_AddNumberToObject(jh, "offset", t->hits[h].offset);
            cJSON_AddStringToObject(jh, "text", t->hits[h].text);
            cJSON_AddItemToArray(hits, jh);
        }
        cJSON_AddItemToObject(jt, "hits", hits);
        cJSON_AddItemToArray(tags, jt);
    }
    return o;
}

cJSON *web_rules_test(struct web *w, const char *title, const char *body, char *err,
                      size_t errlen)
{
    cJSON *o = NULL;
    pthread_mutex_lock(&w->rules_lock);
    if (rules_ready(w, err, errlen) == 0) {
        struct report *rep = report_new();
        rep->title = xstrdup(title ? title : "");
        rep->body = xstrdup(body ? body : "");
        classify_report(w->classify, rep, NULL);
        o = rules_json(w->rules, rep);
        report_free(&rep);
    }
    pthread_mutex_unlock(&w->rules_lock);
    return o;
}

void web_rules_drop(struct web *w)
{
    pthread_mutex_lock(&w->rules_lock);
    classify_free(&w->classify);
    rules_free(&w->rules);
    pthread_mutex_unlock(&w->rules_lock);
}
