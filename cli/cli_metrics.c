/* cli_metrics.c: `minyi metrics` -- every counter `minyi status` knows, as
 * Prometheus text exposition (version 0.0.4), for a monitoring system: a
 * node_exporter textfile collector (`-o FILE`, written whole and renamed
 * into place) or anything that runs a command.  There is no HTTP listener
 * of our own: the web door will serve the same text at /metrics.
 *
 * Asks each daemon {"cmd": "status"} like cli_status.c; a daemon that does
 * not answer is minyi_up{daemon="..."} 0 and has no other series.  Known
 * fields get their name, type and help from the table below; any other
 * numeric field a daemon adds later still appears, as a gauge named after
 * it, so a new counter is never silently missing. */
#include "cli.h"
#include "config.h"
#include "proto.h"
#include "version.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_TIMEOUT_MS 1000
#define METRICS_NDAEMONS 3

static const char *const metrics_daemons[METRICS_NDAEMONS] = {"collector", "router",
                                                              "archiver"};

/* One status field: its daemon, key, Prometheus name, type and help. */
struct metric {
    const char *daemon, *key, *name, *type, *help;
};

static const struct metric metrics_known[] = {
    {"collector", "accepted", "minyi_collector_accepted_total", "counter",
     "Reports accepted and spooled (socket and drop folder)."},
    {"collector", "duplicates", "minyi_collector_duplicates_total", "counter",
     "Socket reports answered as duplicates of an earlier one."},
    {"collector", "rejected", "minyi_collector_rejected_total", "counter",
     "Reports refused, all reasons (see minyi_collector_rejected_by_reason_total)."},
    {"collector", "busy", "minyi_collector_busy_total", "counter",
     "Reports answered busy (to be sent again)."},
    {"collector", "forwarded", "minyi_collector_forwarded_total", "counter",
     "Reports sent to the routers."},
    {"collector", "sent_large", "minyi_collector_sent_large_total", "counter",
     "Sends on the large lane."},
    {"collector", "resent", "minyi_collector_resent_total", "counter",
     "Reports sent again, not confirmed in time."},
    {"collector", "confirmed", "minyi_collector_confirmed_total", "counter",
     "Reports the archiver confirmed as committed."},
    {"collector", "spooled", "minyi_collector_spool_backlog", "gauge",
     "Reports in the spool not yet confirmed."},
    {"collector", "inflight", "minyi_collector_inflight", "gauge",
     "Reports sent and not yet confirmed."},
    {"collector", "segments", "minyi_collector_spool_segments", "gauge",
     "Spool segment files on disk."},
    {"collector", "corrupt.ranges", "minyi_collector_spool_corrupt_ranges_total", "counter",
     "Damaged spool ranges set aside in spool/corrupt/."},
    {"collector", "corrupt.bytes", "minyi_collector_spool_corrupt_bytes_total", "counter",
     "Bytes of damaged spool ranges."},
    {"collector", "corrupt.records_lost", "minyi_collector_spool_records_lost_total", "counter",
     "Reports lost to spool damage (each logged by id)."},
    {"router", "routed", "minyi_router_routed_total", "counter",
     "Reports routed (see minyi_router_routed_by_committee_total)."},
    {"router", "bad", "minyi_router_bad_total", "counter",
     "Messages the router could not decode."},
    {"router", "large_in", "minyi_router_large_in_total", "counter",
     "Messages taken from the large lane."},
    {"router", "large_out", "minyi_router_large_out_total", "counter",
     "Messages sent on the large lane."},
    {"router", "match_limit", "minyi_router_match_limit_total", "counter",
     "Patterns that hit PCRE2's match or depth limit."},
    {"router", "reloads", "minyi_router_rule_reloads_total", "counter",
     "Rules reloads that succeeded."},
    {"router", "reload_failures", "minyi_router_rule_reload_failures_total", "counter",
     "Rules reloads refused (the old rules were kept)."},
    {"router", "topics", "minyi_router_topics", "gauge", "Topics in the loaded rules."},
    {"collector", "proto_refused", "minyi_collector_proto_refused_total", "counter",
     "Messages of a protocol version the collector does not speak."},
    {"router", "proto_refused", "minyi_router_proto_refused_total", "counter",
     "Messages of a protocol version the router does not speak."},
    {"archiver", "proto_refused", "minyi_archiver_proto_refused_total", "counter",
     "Messages of a protocol version the archiver does not speak."},
    {"archiver", "stored", "minyi_archiver_stored_total", "counter",
     "Reports stored in the archive."},
    {"archiver", "already", "minyi_archiver_already_total", "counter",
     "Reports the archive already had (resends)."},
    {"archiver", "duplicates", "minyi_archiver_duplicates_total", "counter",
     "Reports dropped as duplicates of an earlier one."},
    {"archiver", "failed_batches", "minyi_archiver_failed_batches_total", "counter",
     "Archive transactions that failed (retried)."},
    {"archiver", "bad", "minyi_archiver_bad_total", "counter",
     "Messages the archiver could not decode."},
    {"archiver", "large", "minyi_archiver_large_total", "counter",
     "Messages taken from the large lane."},
    {"archiver", "total", "minyi_archiver_reports", "gauge", "Reports in the archive."},
    {"archiver", "backups", "minyi_archiver_backups_total", "counter",
     "Online copies of the archive made (minyi backup)."},
    {"archiver", "retained", "minyi_archiver_retention_deleted_total", "counter",
     "Closed reports exported and deleted by retention."},
};
#define METRICS_NKNOWN (sizeof metrics_known / sizeof metrics_known[0])

/* Fields shown some other way (labels, histograms) or not numbers to show. */
static const char *const metrics_skip[] = {"ok", "daemon", "batches", "batch_reports",
                                           "now_us", "rejected_by", "routed_by", "sync",
                                           "queues", NULL};

static void metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped, as the format wants. */
static void metrics_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void metrics_value(FILE *f, double v)
{
    fprintf(f, " %.17g\n", v);
}

/* The series of one object {LABEL: N, ...} as name{label="LABEL"} N. */
static void metrics_by(FILE *f, const cJSON *obj, const char *name, const char *label,
                       const char *help)
{
    const cJSON *v;
    metrics_head(f, name, "counter", help);
    cJSON_ArrayForEach(v, obj) {
        if (!cJSON_IsNumber(v))
            continue;
        fprintf(f, "%s{%s=\"", name, label);
        metrics_label(f, v->string);
        fputs("\"}", f);
        metrics_value(f, v->valuedouble);
    }
}

/* The archiver's queues: open, leased and the oldest one's age, per committee. */
static void metrics_queues(FILE *f, const cJSON *reply)
{
    static const char *const keys[] = {"open", "leased"};
    const cJSON *queues = cJSON_GetObjectItemCaseSensitive(reply, "queues"), *q;
    double now = cli_json_num(reply, "now_us", 0);
    for (int k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "minyi_archiver_queue_%s", keys[k]);
        metrics_head(f, name, "gauge", k ? "Leased reports per committee queue."
                                         : "Open reports per committee queue.");
        cJSON_ArrayForEach(q, queues) {
            fprintf(f, "%s{committee=\"", name);
            metrics_label(f, q->string);
            fputs("\"}", f);
            metrics_value(f, cli_json_num(q, keys[k], 0));
        }
    }
    metrics_head(f, "minyi_archiver_queue_oldest_age_seconds", "gauge",
                 "Age of the oldest open or leased report per committee queue.");
    cJSON_ArrayForEach(q, queues) {
        double oldest = cli_json_num(q, "oldest_us", 0);
        fputs("minyi_archiver_queue_oldest_age_seconds{committee=\"", f);
        metrics_label(f, q->string);
        fputs("\"}", f);
        metrics_value(f, oldest > 0 && now > oldest ? (now - oldest) / 1e6 : 0);
    }
}

/* The spool's group syncs: status's quarter-millisecond buckets summed into
 * a few cumulative ones. */
static void metrics_sync(FILE *f, const cJSON *sync)
{
    static const int edges[] = {1, 2, 4, 10, 20, 40, 100};      /* in 250 µs */
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(sync, "hist_250us");
    int n = cJSON_GetArraySize(hist);
    double count = cli_json_num(sync, "count", 0), cum = 0;
    const char *name = "minyi_collector_spool_sync_seconds";
    metrics_head(f, name, "histogram", "The spool's group syncs (write and fdatasync).");
    for (size_t e = 0, i = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (; (int)i < edges[e] && (int)i < n && i < 127; i++)
            cum += cJSON_GetArrayItem(hist, (int)i)->valuedouble;
        fprintf(f, "%s_bucket{le=\"%g\"} %.17g\n", name, edges[e] * 0.00025, cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %.17g\n", name, count);
    fprintf(f, "%s_sum %.17g\n%s_count %.17g\n", name,
            cli_json_num(sync, "sum_ms", 0) / 1000.0, name, count);
}

/* The archiver's transactions by how many reports each held. */
static void metrics_batches(FILE *f, const cJSON *reply)
{
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(reply, "batch_hist_pow2");
    int n = cJSON_GetArraySize(hist);
    double cum = 0;
    const char *name = "minyi_archiver_batch_reports";
    metrics_head(f, name, "histogram", "Reports per archive transaction.");
    for (int i = 0; i < n - 1; i++) {
        cum += cJSON_GetArrayItem(hist, i)->valuedouble;
        fprintf(f, "%s_bucket{le=\"%d\"} %.17g\n", name, 1 << i, cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %.17g\n", name, cli_json_num(reply, "batches", 0));
    fprintf(f, "%s_sum %.17g\n%s_count %.17g\n", name, cli_json_num(reply, "batch_reports", 0),
            name, cli_json_num(reply, "batches", 0));
}

static const struct metric *metrics_find(const char *daemon, const char *key)
{
    for (size_t i = 0; i < METRICS_NKNOWN; i++)
        if (!strcmp(metrics_known[i].daemon, daemon) && !strcmp(metrics_known[i].key, key))
            return &metrics_known[i];
    return NULL;
}

/* One number of a daemon's reply: "key", or "object.key" one level down. */
static void metrics_field(FILE *f, const char *daemon, const char *key, double value)
{
    const struct metric *m = metrics_find(daemon, key);
    char name[128], help[160];
    snprintf(name, sizeof name, "minyi_%s_%s", daemon, key);
    for (char *p = name; *p; p++)
        if (*p == '.')
            *p = '_';
    snprintf(help, sizeof help, "The %s's status field %s.", daemon, key);
    metrics_head(f, m ? m->name : name, m ? m->type : "gauge", m ? m->help : help);
    fputs(m ? m->name : name, f);
    metrics_value(f, value);
}

/* Every plain number of one daemon's reply, and of its objects one level
 * down; the objects with labels or buckets go to their helpers. */
static void metrics_daemon(FILE *f, const char *daemon, const cJSON *reply)
{
    const cJSON *v, *w;
    cJSON_ArrayForEach(v, reply) {
        int skip = 0;
        for (int i = 0; metrics_skip[i]; i++)
            skip |= !strcmp(v->string, metrics_skip[i]);
        if (skip)
            continue;
        if (cJSON_IsNumber(v))
            metrics_field(f, daemon, v->string, v->valuedouble);
        else if (cJSON_IsObject(v))
            cJSON_ArrayForEach(w, v) {
                char key[128];
                snprintf(key, sizeof key, "%s.%s", v->string, w->string);
                if (cJSON_IsNumber(w))
                    metrics_field(f, daemon, key, w->valuedouble);
            }
    }
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(reply, "rejected_by");
    if (cJSON_IsObject(by))
        metrics_by(f, by, "minyi_collector_rejected_by_reason_total", "reason",
                   "Reports refused, by reason code.");
    if (cJSON_IsObject(by = cJSON_GetObjectItemCaseSensitive(reply, "routed_by")))
        metrics_by(f, by, "minyi_router_routed_by_committee_total", "committee",
                   "Reports routed, by committee.");
    if (cJSON_IsObject(by = cJSON_GetObjectItemCaseSensitive(reply, "sync")))
        metrics_sync(f, by);
    if (!strcmp(daemon, "archiver")) {
        metrics_queues(f, reply);
        metrics_batches(f, reply);
    }
}

static void metrics_print(FILE *f, cJSON *const *replies)
{
    metrics_head(f, "minyi_up", "gauge", "1 if the daemon answered its status request.");
    for (int i = 0; i < METRICS_NDAEMONS; i++)
        fprintf(f, "minyi_up{daemon=\"%s\"} %d\n", metrics_daemons[i], replies[i] != NULL);
    metrics_head(f, "minyi_build_info", "gauge", "The version of the minyi command.");
    fputs("minyi_build_info{version=\"", f);
    metrics_label(f, version_string());
    fputs("\"} 1\n", f);
    for (int i = 0; i < METRICS_NDAEMONS; i++)
        if (replies[i])
            metrics_daemon(f, metrics_daemons[i], replies[i]);
}

/* Write to path through path.tmp and rename, so a reader never sees half. */
static int metrics_write_file(const struct cli *c, const char *path, cJSON *const *replies)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = CLI_EXIT_OK;
    if (!f) {
        rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
    } else {
        metrics_print(f, replies);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f))
            rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
        if (fclose(f) != 0 && rc == CLI_EXIT_OK)
            rc = cli_fail(c, "%s: %s", tmp, strerror(errno));
        if (rc == CLI_EXIT_OK && rename(tmp, path) != 0)
            rc = cli_fail(c, "%s: %s", path, strerror(errno));
        if (rc != CLI_EXIT_OK)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}

int cli_metrics(struct cli *c, int argc, char **argv)
{
    static const struct proto_request req = {.cmd = PROTO_CMD_STATUS};
    const char *out = NULL;
    const struct cli_opt opts[] = {{"output", 'o', 1, &out}, {NULL, 0, 0, NULL}};
    cJSON *replies[METRICS_NDAEMONS] = {NULL, NULL, NULL};
    int n = cli_args(c, argc, argv, opts, NULL, 0, 0), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    const char *endpoints[METRICS_NDAEMONS] = {c->cfg->ep.collector_ctl, c->cfg->ep.router_ctl,
                                               c->cfg->ep.query};
    long timeout = c->cfg->limits.request_timeout_ms < METRICS_TIMEOUT_MS
                 ? c->cfg->limits.request_timeout_ms : METRICS_TIMEOUT_MS;
    for (int i = 0; i < METRICS_NDAEMONS; i++)
        if (cli_call(c, endpoints[i], &req, timeout, &replies[i]) == 0 &&
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(replies[i], "ok")))
            cJSON_Delete(replies[i]), replies[i] = NULL;
    if (out)
        rc = metrics_write_file(c, out, replies);
    else
        metrics_print(stdout, replies);
    for (int i = 0; i < METRICS_NDAEMONS; i++)
        cJSON_Delete(replies[i]);
    return rc;
}
