/* archiver_import.c: `minyi import` -- an office's past records into the
 * archive (see import_batch in archiver_query.h).
 *
 * Each report needs member, title, body and received_at (RFC 3339); id,
 * committee, topics and outcome are optional.  Without an id one is made
 * from the received time: its seconds, and as microseconds the given ones
 * or, when the time has none, a hash of the content -- so importing the
 * same file twice finds every report already there.  Without a committee
 * the report waits in the triage committee's queue.  An outcome stores it
 * closed.  Reports of members not in the roster are refused.
 */
#include "archiver_query.h"
#include "archiver_store.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "report.h"
#include "roster.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void import_error(cJSON *errors, int index, const char *code, const char *detail)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "index", index);
    cJSON_AddStringToObject(e, "error", code);
    cJSON_AddStringToObject(e, "detail", detail);
    cJSON_AddItemToArray(errors, e);
}

/* Decode and complete one item into *out; 0, or -1 with code and detail. */
static int import_decode(struct query_ctx *q, const cJSON *item, struct report **out,
                         const char **outcome, const char **code, char *detail, size_t len)
{
    struct report_error rerr;
    char *text = cJSON_PrintUnformatted(item);
    int rc = report_decode(text, strlen(text), out, &rerr);
    free(text);
    *code = "bad_field";
    if (rc < 0) {
        *code = report_reason_name(rerr.reason);
        snprintf(detail, len, "%s", rerr.detail);
        return -1;
    }
    struct report *r = *out;
    const cJSON *oc = cJSON_GetObjectItemCaseSensitive(item, "outcome");
    *outcome = cJSON_IsString(oc) ? oc->valuestring : NULL;
    int64_t us = report_time_to_us(r->received_at[0] ? r->received_at : NULL);
    if (us < 0) {
        *code = r->received_at[0] ? "bad_field" : "missing_field";
        snprintf(detail, len, "\"received_at\" must be an RFC 3339 time");
    } else if (!roster_find(q->roster, r->member)) {
        *code = "unknown_member";
        snprintf(detail, len, "member %.64s is not in the roster", r->member);
    } else if (r->committee && !rules_committee(q->rules, r->committee)) {
        snprintf(detail, len, "no committee \"%.64s\" in the rules file", r->committee);
    } else if (*outcome && strcmp(*outcome, "adopted") && strcmp(*outcome, "forwarded") &&
               strcmp(*outcome, "filed") && strcmp(*outcome, "declined")) {
        snprintf(detail, len, "outcome is adopted, forwarded, filed or declined");
    } else {
        char id[REPORT_ID_LEN + 1];
        xstrlcpy(id, r->id, sizeof id);
        if (!id[0] && us % 1000000 == 0)
            us += (int64_t)(report_content_key(r) % 1000000u);
        report_stamp(r, us);          /* received_at in the configured zone */
        if (id[0])
            xstrlcpy(r->id, id, sizeof r->id);
        r->received_us = us;
        r->source = REPORT_SOURCE_IMPORT;
        if (!r->committee)
            r->committee = xstrdup(q->rules ? q->rules->triage : "");
        return 0;
    }
    report_free(out);
    return -1;
}

cJSON *import_batch(struct query_ctx *q, const cJSON *reports, char *err, size_t errlen)
{
    cJSON *o = cJSON_CreateObject(), *errors = cJSON_CreateArray();
    const cJSON *item;
    long imported = 0, dups = 0;
    int index = 0;
    int64_t window = (int64_t)q->cfg->limits.dedup_days * 86400 * 1000000;
    if (store_begin(q->store, err, errlen) < 0) {
        cJSON_Delete(o);
        cJSON_Delete(errors);
        return NULL;
    }
    cJSON_ArrayForEach(item, reports) {
        struct report *r = NULL;
        const char *outcome = NULL, *code = NULL;
        char detail[256], dup[64];
        if (import_decode(q, item, &r, &outcome, &code, detail, sizeof detail) < 0) {
            import_error(errors, index++, code, detail);
            continue;
        }
        int rc = store_put(q->store, r, NULL, "imported", outcome, window, daemon_now_us(), dup,
                           sizeof dup, err, errlen);
        report_free(&r);
        index++;
        if (rc == STORE_ERROR) {
            store_rollback(q->store);
            cJSON_Delete(o);
            cJSON_Delete(errors);
            return NULL;
        }
        imported += rc == STORE_OK;
        dups += rc != STORE_OK;
    }
    if (store_commit(q->store, err, errlen) < 0) {
        cJSON_Delete(o);
        cJSON_Delete(errors);
        return NULL;
    }
    log_info("import: %ld imported, %ld already there, %d refused", imported, dups,
             cJSON_GetArraySize(errors));
    cJSON_AddNumberToObject(o, "imported", (double)imported);
    cJSON_AddNumberToObject(o, "duplicates", (double)dups);
    cJSON_AddItemToObject(o, "errors", errors);
    return o;
}
