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
#include "rules_explain.h"
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
        o = rules_explain(w->rules, rep);
        cJSON_AddBoolToObject(o, "ok", 1);
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
