/* load.c: minyi-load, the load generator behind `make fault` and
 * `make bench`.  It files N unique reports (each with its own `ref`, title
 * prefix and member) either over the submit socket -- several DEALER
 * clients, many requests in flight, a correlation frame per request, a
 * resend after a timeout (the same ref, so the collector answers the first
 * id) -- or as files written atomically into a drop folder.
 *
 *   minyi-load -e ENDPOINT -n N [-j CLIENTS] [-w WINDOW] [-r RATE] [-p PREFIX]
 *              [--corpus FILE.jsonl] [--acked FILE] [--timeout MS]
 *   minyi-load --drop DIR -n N [-r RATE] [-p PREFIX] [--corpus FILE.jsonl]
 *
 * Prints one JSON line: {"sent","acked","failed","resent","seconds",
 * "reports_per_s","ack_p50_ms","ack_p99_ms"}.  --acked writes "REF<TAB>ID"
 * for every acknowledged report. */
#include "bus.h"
#include "keys.h"
#include "proto.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct load_opts {
    const char *endpoint, *drop, *prefix, *corpus, *acked;
    const char *key, *server_key;      /* CURVE: the client's key file, the server's .pub */
    long n, rate;
    int clients, window, timeout_ms, members;
};

struct load_req {
    int64_t sent_us, first_us;
    long slot;                         /* its place in run->flight while in flight */
    int client;
    unsigned char state;               /* 0 waiting, 1 in flight, 2 done */
    char id[32];
};

struct load_corpus {
    char **title, **body;
    char **jtitle, **jbody;            /* JSON-escaped once: title without its
                                          quotes (cut to 150 bytes), body with */
    size_t n;
};

static int64_t load_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void load_corpus_read(const char *path, struct load_corpus *c)
{
    static const char *const t[] = {"关于小区物业乱收费的问题", "建议增开公交线路",
                                    "工地夜间施工噪音扰民", "拖欠农民工工资问题亟待解决"};
    static const char *const b[] = {"物业公司擅自提高收费标准，业主意见很大，建议有关部门加强监管。",
                                    "居民出行不便，早晚高峰等车时间长，建议优化线路和站点设置。",
                                    "附近工地每天晚上十点以后还在施工，严重影响居民休息。",
                                    "某工地拖欠工资半年，工人多次讨要无果，建议劳动监察部门介入。"};
    FILE *f = path ? fopen(path, "r") : NULL;
    char *line = NULL;
    size_t cap = 0;
    c->title = xcalloc(4, sizeof(char *));
    c->body = xcalloc(4, sizeof(char *));
    while (f && getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *ti = cJSON_GetObjectItem(o, "title"), *bo = cJSON_GetObjectItem(o, "body");
        if (cJSON_IsString(ti) && cJSON_IsString(bo)) {
            c->title = xrealloc(c->title, (c->n + 1) * sizeof(char *));
            c->body = xrealloc(c->body, (c->n + 1) * sizeof(char *));
            c->title[c->n] = xstrdup(ti->valuestring);
            c->body[c->n++] = xstrdup(bo->valuestring);
        }
        cJSON_Delete(o);
    }
    free(line);
    if (f)
        fclose(f);
    for (; c->n < 4 && !path; c->n++) {
        c->title[c->n] = xstrdup(t[c->n]);
        c->body[c->n] = xstrdup(b[c->n]);
    }
}

/* s as a JSON string (quoted), cut to max bytes on a character boundary. */
static char *load_json_string(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *cut = xstrndup(s, n);
    cJSON *j = cJSON_CreateString(cut);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    free(cut);
    return out;
}

/* Escape every title and body once: the client's work per request is then
 * a few copies, so that it takes as little as it can of the CPU it shares
 * with the pipeline it measures. */
static void load_corpus_escape(struct load_corpus *c)
{
    c->jtitle = xcalloc(c->n, sizeof *c->jtitle);
    c->jbody = xcalloc(c->n, sizeof *c->jbody);
    for (size_t i = 0; i < c->n; i++) {
        char *t = load_json_string(c->title[i], 150);
        t[strlen(t) - 1] = '\0';      /* without its quotes */
        c->jtitle[i] = xstrdup(t + 1);
        free(t);
        c->jbody[i] = load_json_string(c->body[i], (size_t)-1);
    }
}

/* The i-th report: unique ref and title, a member of the roster. */
static char *load_report(const struct load_opts *o, const struct load_corpus *c, long i)
{
    char ref[96];
    size_t k = (size_t)i % c->n;
    snprintf(ref, sizeof ref, "%s-%ld", o->prefix, i);
    return xasprintf("{\"member\":\"M%03ld\",\"title\":\"%s %s\",\"body\":%s,\"ref\":\"%s\"}",
                     1 + i % o->members, ref, c->jtitle[k], c->jbody[k], ref);
}

static int load_drop(const struct load_opts *o, const struct load_corpus *c)
{
    int64_t t0 = load_now_us();
    for (long i = 0; i < o->n; i++) {
        while (o->rate > 0 && (load_now_us() - t0) * o->rate < i * 1000000LL)
            usleep(200);
        char *json = load_report(o, c, i);
        char *tmp = xasprintf("%s/.%s-%ld.json.tmp", o->drop, o->prefix, i);
        char *dst = xasprintf("%s/%s-%ld.json", o->drop, o->prefix, i);
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(json, f) < 0 || fclose(f) != 0 || rename(tmp, dst) < 0) {
            perror(tmp);
            return 1;
        }
        free(json), free(tmp), free(dst);
    }
    double secs = (double)(load_now_us() - t0) / 1e6;
    printf("{\"sent\":%ld,\"seconds\":%.3f,\"reports_per_s\":%.0f}\n", o->n, secs, o->n / secs);
    return 0;
}

struct load_run {
    const struct load_opts *o;
    const struct load_corpus *c;
    struct bus_sock **sock;
    struct load_req *req;
    long *flight;                      /* indices in flight */
    long nflight, next, done, failed, resent;
    long *retry, nretry;               /* indices to send again */
    int64_t *lat_us;
    long nlat;
    int64_t t0;
};

static void load_send(struct load_run *run, long i, int client)
{
    char *json = load_report(run->o, run->c, i);
    uint64_t seq = (uint64_t)i;
    proto_submit_send(run->sock[client], &seq, sizeof seq, json, strlen(json));
    free(json);
    struct load_req *r = &run->req[i];
    r->sent_us = load_now_us();
    if (!r->first_us)
        r->first_us = r->sent_us;
    r->client = client;
    r->state = 1;
    r->slot = run->nflight;
    run->flight[run->nflight++] = i;
}

/* Take i out of the in-flight list. */
static void load_unflight(struct load_run *run, long i)
{
    long k = run->req[i].slot;
    if (k < 0 || k >= run->nflight || run->flight[k] != i)
        return;
    run->flight[k] = run->flight[--run->nflight];
    run->req[run->flight[k]].slot = k;
    run->req[i].slot = -1;
}

static void load_on_reply(struct load_run *run, const struct bus_msg *m)
{
    uint64_t seq;
    const void *tag;
    size_t taglen;
    struct proto_reply rep;
    struct proto_error perr;
    if (proto_submit_reply_decode(m, &tag, &taglen, &rep, &perr) < 0)
        return;
    if (taglen != sizeof seq)
        goto done;
    memcpy(&seq, tag, sizeof seq);
    if (seq >= (uint64_t)run->o->n || run->req[seq].state != 1)
        goto done;                     /* a late answer to a resent request */
    struct load_req *r = &run->req[seq];
    const cJSON *j = rep.tree, *ok = cJSON_GetObjectItem(j, "ok"), *id = cJSON_GetObjectItem(j, "id");
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    load_unflight(run, (long)seq);
    if (cJSON_IsTrue(ok) && cJSON_IsString(id)) {
        snprintf(r->id, sizeof r->id, "%s", id->valuestring);
        r->state = 2;
        run->done++;
        run->lat_us[run->nlat++] = load_now_us() - r->first_us;
    } else if (cJSON_IsString(e) && strcmp(e->valuestring, "busy") == 0) {
        r->state = 0;
        run->retry[run->nretry++] = (long)seq;
    } else {
        fprintf(stderr, "minyi-load: report %llu refused: %s: %s\n", (unsigned long long)seq,
                rep.error ? rep.error : "?", rep.detail ? rep.detail : "");
        r->state = 2;
        run->failed++;
    }
done:
    proto_reply_clear(&rep);
}

/* Requests without an answer after the timeout go out again. */
static void load_timeouts(struct load_run *run)
{
    int64_t now = load_now_us(), limit = (int64_t)run->o->timeout_ms * 1000;
    for (long k = 0; k < run->nflight;) {
        long i = run->flight[k];
        if (now - run->req[i].sent_us < limit) {
            k++;
            continue;
        }
        run->flight[k] = run->flight[--run->nflight];
        run->req[run->flight[k]].slot = k;
        run->req[i].slot = -1;
        run->req[i].state = 0;
        run->retry[run->nretry++] = i;
        run->resent++;
    }
}

static void load_fill(struct load_run *run)
{
    const struct load_opts *o = run->o;
    long cap = (long)o->clients * o->window;
    while (run->nflight < cap) {
        long i;
        if (run->nretry)
            i = run->retry[--run->nretry];
        else if (run->next < o->n &&
                 (o->rate <= 0 || (load_now_us() - run->t0) * o->rate >= run->next * 1000000LL))
            i = run->next++;
        else
            break;
        load_send(run, i, (int)(i % o->clients));
    }
}

/* How long to wait for replies: until the next send is due in rate mode
 * (requests go out evenly spaced, not in bursts), else up to 20 ms. */
static long load_wait_ms(const struct load_run *run)
{
    const struct load_opts *o = run->o;
    if (o->rate <= 0 || run->next >= o->n || run->nflight >= (long)o->clients * o->window)
        return 20;
    int64_t due = run->t0 + run->next * 1000000LL / o->rate, now = load_now_us();
    long ms = due > now ? (long)((due - now + 999) / 1000) : 0;
    return ms < 20 ? ms : 20;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void load_report_stats(struct load_run *run)
{
    double secs = (double)(load_now_us() - run->t0) / 1e6;
    qsort(run->lat_us, (size_t)run->nlat, sizeof(int64_t), cmp_i64);
    double p50 = run->nlat ? run->lat_us[run->nlat / 2] / 1000.0 : 0;
    double p90 = run->nlat ? run->lat_us[(run->nlat * 9) / 10] / 1000.0 : 0;
    double p99 = run->nlat ? run->lat_us[(run->nlat * 99) / 100] / 1000.0 : 0;
    double p999 = run->nlat ? run->lat_us[(run->nlat * 999) / 1000] / 1000.0 : 0;
    printf("{\"sent\":%ld,\"acked\":%ld,\"failed\":%ld,\"resent\":%ld,\"seconds\":%.3f,"
           "\"reports_per_s\":%.0f,\"ack_p50_ms\":%.3f,\"ack_p90_ms\":%.3f,"
           "\"ack_p99_ms\":%.3f,\"ack_p999_ms\":%.3f}\n",
           run->o->n, run->done, run->failed, run->resent, secs, run->done / secs, p50, p90,
           p99, p999);
    if (run->o->acked) {
        FILE *f = fopen(run->o->acked, "w");
        for (long i = 0; f && i < run->o->n; i++)
            if (run->req[i].id[0])
                fprintf(f, "%s-%ld\t%s\n", run->o->prefix, i, run->req[i].id);
        if (f)
            fclose(f);
    }
}

static int load_socket(const struct load_opts *o, const struct load_corpus *c)
{
    struct bus *b = bus_new();
    struct load_run run = {.o = o, .c = c};
    char err[1024];
    if (o->key) {                      /* tcp:// with CURVE */
        struct bus_curve k, server;
        if (keys_read(o->key, &k, 1, err, sizeof err) < 0 ||
            keys_read(o->server_key ? o->server_key : "", &server, 0, err, sizeof err) < 0) {
            fprintf(stderr, "minyi-load: %s\n", err);
            return 1;
        }
        memcpy(k.server_key, server.public_key, sizeof k.server_key);
        bus_set_curve(b, &k, NULL);
    }
    run.sock = xcalloc((size_t)o->clients, sizeof *run.sock);
    run.req = xcalloc((size_t)o->n, sizeof *run.req);
    run.flight = xcalloc((size_t)o->clients * (size_t)o->window + 1, sizeof(long));
    run.retry = xcalloc((size_t)o->n + 1, sizeof(long));
    run.lat_us = xcalloc((size_t)o->n + 1, sizeof(int64_t));
    struct bus_poll *items = xcalloc((size_t)o->clients, sizeof *items);
    for (int k = 0; k < o->clients; k++) {
        struct bus_opts bo = {.linger_ms = 0, .hwm = 100000};
        run.sock[k] = bus_open(b, BUS_DEALER, o->endpoint, 0, &bo, err, sizeof err);
        if (!run.sock[k]) {
            fprintf(stderr, "minyi-load: %s\n", err);
            return 1;
        }
        items[k] = (struct bus_poll){.sock = run.sock[k], .fd = -1};
    }
    run.t0 = load_now_us();
    while (run.done + run.failed < o->n) {
        load_fill(&run);
        bus_poll(items, (size_t)o->clients, load_wait_ms(&run));
        for (int k = 0; k < o->clients; k++) {
            struct bus_msg m;
            while (bus_recv(run.sock[k], &m, 1) == 0) {
                load_on_reply(&run, &m);
                bus_msg_clear(&m);
            }
        }
        load_timeouts(&run);
    }
    load_report_stats(&run);
    for (int k = 0; k < o->clients; k++)
        bus_close(&run.sock[k]);
    bus_destroy(&b);
    free(run.sock), free(run.req), free(run.flight), free(run.retry), free(run.lat_us);
    free(items);
    return run.failed ? 1 : 0;
}

static void load_usage(void)
{
    fprintf(stderr, "usage: minyi-load (-e ENDPOINT | --drop DIR) -n N [-j CLIENTS] [-w WINDOW]\n"
                    "       [-r RATE] [-p PREFIX] [-m MEMBERS] [--corpus FILE.jsonl]\n"
                    "       [--acked FILE] [--timeout MS] [--key FILE --server-key FILE.pub]\n");
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"drop", required_argument, NULL, 'D'}, {"corpus", required_argument, NULL, 'C'},
        {"acked", required_argument, NULL, 'A'}, {"timeout", required_argument, NULL, 'T'},
        {"key", required_argument, NULL, 'K'},  {"server-key", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0}};
    struct load_opts o = {.prefix = "load", .n = 1000, .clients = 4, .window = 64,
                          .timeout_ms = 3000, .members = 120};
    int ch;
    while ((ch = getopt_long(argc, argv, "e:n:j:w:r:p:m:", lo, NULL)) != -1) {
        switch (ch) {
        case 'e': o.endpoint = optarg; break;
        case 'n': o.n = atol(optarg); break;
        case 'j': o.clients = atoi(optarg); break;
        case 'w': o.window = atoi(optarg); break;
        case 'r': o.rate = atol(optarg); break;
        case 'p': o.prefix = optarg; break;
        case 'm': o.members = atoi(optarg); break;
        case 'D': o.drop = optarg; break;
        case 'C': o.corpus = optarg; break;
        case 'A': o.acked = optarg; break;
        case 'T': o.timeout_ms = atoi(optarg); break;
        case 'K': o.key = optarg; break;
        case 'S': o.server_key = optarg; break;
        default: load_usage(); return 2;
        }
    }
    if ((!o.endpoint && !o.drop) || o.n <= 0 || o.clients <= 0 || o.clients > 64 ||
        o.window <= 0 || o.members <= 0) {
        load_usage();
        return 2;
    }
    struct load_corpus c = {0};
    load_corpus_read(o.corpus, &c);
    if (c.n == 0) {
        fprintf(stderr, "minyi-load: %s: no reports with title and body\n", o.corpus);
        return 1;
    }
    load_corpus_escape(&c);
    int rc = o.drop ? load_drop(&o, &c) : load_socket(&o, &c);
    for (size_t i = 0; i < c.n; i++)
        free(c.title[i]), free(c.body[i]), free(c.jtitle[i]), free(c.jbody[i]);
    free(c.title), free(c.body), free(c.jtitle), free(c.jbody);
    return rc;
}
