/* archive_bench.c: minyi-archive-bench, the archiver's storing path alone in
 * one process, without sockets: decode each routed report as the archiver
 * does (report_decode of the collector's JSON, the committee and tags frames
 * copied), store_put it in batches, COMMIT, and build the confirmation.
 * The tags are the default rules' tags of each corpus report (the router's
 * classifier, run once before the clock starts).  Prints one JSON line:
 *   {"reports", "batch", "cpu_us_per_report", "reports_per_s"}
 *
 *   minyi-archive-bench --rules RULES.json --corpus CORPUS.jsonl
 *                       [-n N] [--batch B] [--db PATH] [--noref-every K] [--first F]
 *
 * ARCHIVE_BENCH_PAUSE=1 waits 2 s before the clock starts (perf record -p).
 * Every K-th report has no ref (content dedup path; default 4).  The
 * archive is PATH (default: a new file under /tmp, removed afterwards); the
 * reports are numbered from F (default 0: a second run on the same archive
 * with --first N adds N new reports instead of resending the first ones).
 */
#include "archiver_store.h"
#include "bench_corpus.h"
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct routed_msg {
    char *body, *committee, *tags;
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The corpus's titles and bodies as reports of member M001 (caller frees). */
/* The i-th routed message: corpus report i % n with a unique title, member,
 * ref (unless i % noref == 0) and arrival time, as the router sends it. */
static struct routed_msg bench_msg(struct report *const *corpus, char *const *tags,
                                   size_t n, long i, int noref, int64_t t0)
{
    const struct report *c = corpus[(size_t)i % n];
    struct report *r = report_new();
    char member[16];
    snprintf(member, sizeof member, "M%03ld", 1 + i % 120);
    r->member = xstrdup(member);
    r->title = xasprintf("ab-%ld %.150s", i, c->title);
    r->body = xstrdup(c->body);
    r->ref = noref > 0 && i % noref == 0 ? NULL : xasprintf("ab-%ld", i);
    report_stamp(r, t0 + i * 100);
    struct routed_msg m = {report_encode(r), xstrdup(c->committee),
                           xstrdup(tags[(size_t)i % n])};
    report_free(&r);
    return m;
}

/* Tag every corpus report with rules; returns each one's tags frame. */
static char **bench_tags(const char *rules_path, struct report **corpus, size_t n)
{
    struct rules *rules = NULL;
    struct classify *c = NULL;
    struct rules_errors errs = {0};
    if (rules_load(rules_path, &rules, &errs) < 0 || classify_new(rules, &c, &errs) < 0) {
        fprintf(stderr, "archive-bench: %s\n", errs.n ? errs.v[0] : "rules");
        exit(1);
    }
    char **tags = xcalloc(n, sizeof *tags);
    for (size_t i = 0; i < n; i++) {
        classify_report(c, corpus[i], NULL);
        tags[i] = report_encode_tags(corpus[i]);
    }
    classify_free(&c);
    rules_free(&rules);
    return tags;
}

/* Decode, store and confirm msgs[from..to) in one transaction; 0 / -1. */
static int bench_batch(struct store *s, struct routed_msg *msgs, long from, long to)
{
    char err[512], dup[64];
    struct report *batch[to - from];
    int64_t window = 30LL * 86400 * 1000000;
    if (store_begin(s, err, sizeof err) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    for (long i = from; i < to; i++) {
        struct report_error rerr;
        struct report **r = &batch[i - from];
        if (report_decode(msgs[i].body, strlen(msgs[i].body), r, &rerr) < 0)
            return fprintf(stderr, "decode: %s\n", rerr.detail), -1;
        free((*r)->committee);
        (*r)->committee = xstrdup(msgs[i].committee);
        char *tags = xstrdup(msgs[i].tags);
        struct store_tags st = {tags, NULL, NULL};
        int rc = store_put(s, *r, &st, "routed", NULL, window, (*r)->received_us, dup,
                           sizeof dup, err, sizeof err);
        free(tags);
        if (rc == STORE_ERROR)
            return fprintf(stderr, "%s\n", err), -1;
    }
    if (store_commit(s, err, sizeof err) < 0)
        return fprintf(stderr, "%s\n", err), -1;
    cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "confirm");
    for (long i = from; i < to; i++) {
        cJSON_AddItemToArray(ids, cJSON_CreateString(batch[i - from]->id));
        report_free(&batch[i - from]);
    }
    free(cJSON_PrintUnformatted(o));
    cJSON_Delete(o);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"rules", required_argument, NULL, 'r'},
                                       {"corpus", required_argument, NULL, 'c'},
                                       {"batch", required_argument, NULL, 'b'},
                                       {"db", required_argument, NULL, 'd'},
                                       {"noref-every", required_argument, NULL, 'k'},
                                       {"first", required_argument, NULL, 'f'},
                                       {NULL, 0, NULL, 0}};
    const char *rules_path = "config/rules.json", *corpus_path = NULL, *db = NULL;
    long n = 20000, batch = 256, first = 0;
    mallopt(M_TRIM_THRESHOLD, 8 << 20);   /* as the daemons do (common/daemon.c) */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    int noref = 4, ch;
    while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
        if (ch == 'r') rules_path = optarg;
        else if (ch == 'c') corpus_path = optarg;
        else if (ch == 'b') batch = atol(optarg);
        else if (ch == 'd') db = optarg;
        else if (ch == 'k') noref = atoi(optarg);
        else if (ch == 'f') first = atol(optarg);
        else if (ch == 'n') n = atol(optarg);
        else return 2;
    }
    size_t nc = 0;
    struct report **corpus = corpus_path ? bench_corpus(corpus_path, &nc) : NULL;
    if (!nc || batch < 1 || batch > 100000) {
        fprintf(stderr, "usage: minyi-archive-bench --corpus FILE.jsonl [--rules FILE] "
                        "[-n N] [--batch B] [--db PATH] [--noref-every K] [--first F]\n");
        return 2;
    }
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    char **tags = bench_tags(rules_path, corpus, nc);
    struct routed_msg *msgs = xcalloc((size_t)n, sizeof *msgs);
    for (long i = 0; i < n; i++)
        msgs[i] = bench_msg(corpus, tags, nc, first + i, noref, 1767225600000000LL);
    char tmp[] = "/tmp/archive-bench.XXXXXX", path[64], err[512];
    if (!db && mkdtemp(tmp))
        snprintf(path, sizeof path, "%s/archive.db", tmp);
    struct store *s;
    if (store_open(db ? db : path, &s, err, sizeof err) < 0)
        return fprintf(stderr, "%s\n", err), 1;
    if (getenv("ARCHIVE_BENCH_PAUSE")) {     /* time to attach perf record -p */
        fprintf(stderr, "archive-bench: pid %d, storing in 2 s\n", (int)getpid());
        sleep(2);
    }
    double w0 = bench_now(), c0 = bench_cpu();
    for (long i = 0; i < n; i += batch)
        if (bench_batch(s, msgs, i, i + batch < n ? i + batch : n) < 0)
            return 1;
    double w1 = bench_now(), c1 = bench_cpu();
    store_close(&s);
    printf("{\"reports\": %ld, \"batch\": %ld, \"cpu_us_per_report\": %.1f, "
           "\"reports_per_s\": %.0f}\n", n, batch, (c1 - c0) * 1e6 / (double)n,
           (double)n / (w1 - w0));
    if (!db) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
