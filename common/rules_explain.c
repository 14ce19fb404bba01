/* rules_explain.c: a classified report's tags explained as JSON, for the
 * CLI's and the web door's rules test (see rules_explain.h). */
#include "rules_explain.h"
#include "report.h"
#include "rules.h"
#include <cjson/cJSON.h>
#include <string.h>

static const struct rules_topic *explain_topic(const struct rules *r, const char *id)
{
    for (size_t k = 0; k < r->ntopics; k++)
        if (!strcmp(r->topics[k].id, id))
            return &r->topics[k];
    return NULL;
}

/* The hits of tag t (of topic tp, or NULL when the rules lack it). */
static cJSON *explain_hits(const struct rules_topic *tp, const struct report_tag *t)
{
    cJSON *hits = cJSON_CreateArray();
    for (size_t h = 0; h < t->nhits; h++) {
        const struct report_hit *x = &t->hits[h];
        const struct rules_pattern *p =
            tp && x->pattern >= 0 && (size_t)x->pattern < tp->npatterns ? &tp->patterns[x->pattern]
                                                                         : NULL;
        cJSON *jh = cJSON_CreateObject();
        cJSON_AddStringToObject(jh, "field", x->field);
        cJSON_AddNumberToObject(jh, "pattern", x->pattern);
        cJSON_AddStringToObject(jh, "re", p ? p->re : "");
        cJSON_AddNumberToObject(jh, "w", p ? p->w : 1);
        cJSON_AddNumberToObject(jh, "offset", x->offset);
        cJSON_AddStringToObject(jh, "text", x->text);
        cJSON_AddItemToArray(hits, jh);
    }
    return hits;
}

cJSON *rules_explain(const struct rules *r, const struct report *rep)
{
    cJSON *o = cJSON_CreateObject(), *tags = cJSON_CreateArray();
    const struct rules_committee *cm = rules_committee(r, rep->committee);
    cJSON_AddStringToObject(o, "committee", rep->committee ? rep->committee : "");
    cJSON_AddStringToObject(o, "committee_name", cm ? cm->name : "");
    cJSON_AddItemToObject(o, "tags", tags);
    for (size_t i = 0; i < rep->ntags; i++) {
        const struct report_tag *t = &rep->tags[i];
        const struct rules_topic *tp = explain_topic(r, t->topic);
        cJSON *jt = cJSON_CreateObject();
        cJSON_AddStringToObject(jt, "topic", t->topic);
        cJSON_AddStringToObject(jt, "name", tp ? tp->name : "");
        cJSON_AddStringToObject(jt, "category", tp && tp->category ? tp->category : "");
        cJSON_AddStringToObject(jt, "committee", tp && tp->committee ? tp->committee : "");
        cJSON_AddNumberToObject(jt, "score", t->score);
        cJSON_AddNumberToObject(jt, "bias", tp ? tp->bias : 0);
        cJSON_AddItemToObject(jt, "hits", explain_hits(tp, t));
        cJSON_AddItemToArray(tags, jt);
    }
    return o;
}
