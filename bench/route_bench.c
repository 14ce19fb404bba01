/* route_bench.c: minyi-route-bench, the router's work on one core: for
 * each report of a corpus, classify it and print its tags frame
 * (classify_report + report_encode_tags, what minyi-router does between
 * receiving and sending).  Time is this thread's CPU time, so the figure is
 * reports per second of one core even on a busy machine.  Runs the given
 * rules file, its first 15 topics, and the file grown to 100 and 1,000
 * topics, and prints one JSON line:
 *   {"topics", "reports_per_s", "topics_15_reports_per_s",
 *    "topics_100_reports_per_s", "topics_1000_reports_per_s", "tagged_share",
 *    "tags_per_report", "tags_per_report_1000", "tags_bytes_per_report",
 *    "scan_only_reports_per_s", "scan_only_1000_reports_per_s"}
 * The scan-only figures are the Hyperscan pass alone: the router's ceiling.
 *
 * A synthetic topic has 10 patterns of two words each, like the default
 * rules; its words are Han character pairs of the corpus drawn uniformly
 * from those found in at least 2 and at most 0.5% of its reports.  A large rule set is a fine
 * one: its topics are narrower than the 65 broad default ones, so a report
 * matches a few of them, not most.  (Pairs drawn by frequency, as an
 * earlier version did, are words like "建议" and "问题" that match every
 * report: ~900 tags a report, which no office would write.)
 *
 *   minyi-route-bench --rules RULES.json --corpus CORPUS.jsonl [--seconds S]
 */
#include "bench_corpus.h"
#include "report.h"
#include "classify.h"
#include "hash.h"
#include "prefilter.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Distinct Han character pairs (6 bytes of UTF-8) and the number of
 * reports each is in: an open-addressing table. */
struct bench_vocab {
    char (*key)[7];
    unsigned *df, *last;
    size_t cap, n;
};

static int bench_han_pair(const unsigned char *p)
{
    return p[0] >= 0xE4 && p[0] <= 0xE9 && p[3] >= 0xE4 && p[3] <= 0xE9;
}

static void bench_vocab_add(struct bench_vocab *v, const char *w, unsigned report)
{
    size_t i = hash_fnv1a(HASH_FNV_OFFSET, w, 6) & (v->cap - 1);
    while (v->df[i] && memcmp(v->key[i], w, 6) != 0)
        i = (i + 1) & (v->cap - 1);
    if (!v->df[i]) {
        memcpy(v->key[i], w, 6);
        v->key[i][6] = '\0';
        v->n++;
    }
    if (v->last[i] != report + 1) {     /* once per report */
        v->df[i]++;
        v->last[i] = report + 1;
    }
}

/* The pairs in 2 reports to 0.5% of the corpus's reports, in table order (fixed). */
static char **bench_words(struct report **corpus, size_t n, size_t *nwords)
{
    struct bench_vocab v = {.cap = 1 << 21};
    v.key = xcalloc(v.cap, sizeof *v.key);
    v.df = xcalloc(v.cap, sizeof *v.df);
    v.last = xcalloc(v.cap, sizeof *v.last);
    for (size_t r = 0; r < n && v.n < v.cap / 2; r++) {
        const unsigned char *b = (const unsigned char *)corpus[r]->body;
        for (size_t at = 0, len = strlen((const char *)b); at + 6 <= len; at++)
            if (bench_han_pair(b + at))
                bench_vocab_add(&v, (const char *)b + at, (unsigned)r);
    }
    char **w = NULL;
    *nwords = 0;
    for (size_t i = 0; i < v.cap; i++)
        if (v.df[i] >= 2 && v.df[i] * 200 <= n) {
            w = xrealloc(w, (*nwords + 1) * sizeof *w);
            w[(*nwords)++] = xstrdup(v.key[i]);
        }
    free(v.key), free(v.df), free(v.last);
    return w;
}

/* The rules file grown (or cut) to `want` topics, adding synthetic ones. */
static struct rules *bench_grow(const char *path, size_t want, char **words, size_t nwords)
{
    FILE *f = fopen(path, "r");
    static char buf[1 << 22];
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[len] = '\0';
    cJSON *root = cJSON_Parse(buf), *topics = cJSON_GetObjectItem(root, "topics");
    unsigned seed = 42;
    while ((size_t)cJSON_GetArraySize(topics) > want)
        cJSON_DeleteItemFromArray(topics, cJSON_GetArraySize(topics) - 1);
    for (size_t i = (size_t)cJSON_GetArraySize(topics); i < want; i++) {
        cJSON *t = cJSON_CreateObject(), *pats = cJSON_AddArrayToObject(t, "patterns");
        char id[32];
        snprintf(id, sizeof id, "synthetic_%zu", i);
        cJSON_AddStringToObject(t, "id", id);
        cJSON_AddStringToObject(t, "name", id);
        cJSON_AddStringToObject(t, "category", rules_category_names[i % 15]);
        for (int p = 0; p < 10; p++) {
            const char *w1 = words[rand_r(&seed) % nwords];
            const char *w2 = words[rand_r(&seed) % nwords];
            char *alt = xasprintf("%s|%s", w1, w2);
            cJSON_AddItemToArray(pats, cJSON_CreateString(alt));
            free(alt);
        }
        cJSON_AddItemToArray(topics, t);
    }
    char *json = cJSON_PrintUnformatted(root);
    struct rules *r = NULL;
    struct rules_errors errs = {0};
    if (rules_parse(path, json, strlen(json), &r, &errs) < 0)
        fprintf(stderr, "route-bench: %s\n", errs.n ? errs.v[0] : "rules");
    rules_errors_clear(&errs);
    free(json);
    cJSON_Delete(root);
    return r;
}

/* Reports per second over at least `seconds`. */
static double bench_rate(struct rules *rules, struct report **corpus, size_t n, double seconds,
                         double *tagged, double *tags, double *bytes)
{
    struct classify *c = NULL;
    struct rules_errors errs = {0};
    struct classify_stats st = {0};
    if (!rules || classify_new(rules, &c, &errs) < 0) {
        fprintf(stderr, "route-bench: %s\n", errs.n ? errs.v[0] : "no rules");
        rules_errors_clear(&errs);
        return 0;
    }
    double t0 = bench_now(), t;
    size_t done = 0, ntags = 0, nbytes = 0;
    do {
        for (size_t i = 0; i < n; i++) {
            classify_report(c, corpus[i], &st);
            char *frame = report_encode_tags(corpus[i]);
            nbytes += strlen(frame);
            free(frame);
            ntags += corpus[i]->ntags;
        }
        done += n;
        t = bench_now();
    } while (t - t0 < seconds);
    *tags = (double)ntags / (double)done;
    if (bytes)
        *bytes = (double)nbytes / (double)done;
    if (tagged)
        *tagged = (double)st.tagged / (double)st.reports;
    classify_free(&c);
    return (double)done / (t - t0);
}

/* Reports per second of the Hyperscan pass alone (prefilter_scan of title
 * and body, match callbacks included, nothing scored or printed): the
 * ceiling of the router's rate with these rules. */
static double bench_scan_rate(const struct rules *rules, struct report **corpus, size_t n,
                              double seconds)
{
    struct prefilter *p = rules ? prefilter_new(rules) : NULL;
    struct prefilter_result res[2] = {{0}};
    if (!p)
        return 0;
    double t0 = bench_now(), t;
    size_t done = 0;
    do {
        for (size_t i = 0; i < n; i++) {
            const char *f[2] = {corpus[i]->title ? corpus[i]->title : "",
                                corpus[i]->body ? corpus[i]->body : ""};
            for (int k = 0; k < 2; k++)
                prefilter_scan(p, f[k], strlen(f[k]), &res[k]);
        }
        done += n;
        t = bench_now();
    } while (t - t0 < seconds);
    prefilter_result_free(&res[0]);
    prefilter_result_free(&res[1]);
    prefilter_free(&p);
    return (double)done / (t - t0);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"rules", required_argument, NULL, 'r'},
                                       {"corpus", required_argument, NULL, 'c'},
                                       {"seconds", required_argument, NULL, 's'},
                                       {NULL, 0, NULL, 0}};
    const char *rules_path = "config/rules.json", *corpus_path = NULL;
    mallopt(M_TRIM_THRESHOLD, 8 << 20);   /* as the daemons do (common/daemon.c) */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    double seconds = 3, tagged = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 'r') rules_path = optarg;
        else if (ch == 'c') corpus_path = optarg;
        else if (ch == 's') seconds = atof(optarg);
        else return 2;
    }
    size_t n = 0;
    struct report **corpus = corpus_path ? bench_corpus(corpus_path, &n) : NULL;
    struct rules *base = NULL;
    struct rules_errors errs = {0};
    if (n == 0 || rules_load(rules_path, &base, &errs) < 0) {
        fprintf(stderr, "usage: minyi-route-bench --rules RULES.json --corpus CORPUS.jsonl\n");
        return 2;
    }
    size_t nwords = 0;
    char **words = bench_words(corpus, n, &nwords);
    if (nwords == 0) {
        fprintf(stderr, "route-bench: the corpus is too small for synthetic topics\n");
        return 2;
    }
    struct rules *r15 = bench_grow(rules_path, 15, words, nwords);
    struct rules *r100 = bench_grow(rules_path, 100, words, nwords);
    struct rules *r1000 = bench_grow(rules_path, 1000, words, nwords);
    double tags, tags15, tags100, tags1000, bytes = 0;
    const char *only = getenv("ROUTE_BENCH_ONLY");  /* "base" or "1000": profiling */
    int all = !only || !*only;
    double base_rate = all || strcmp(only, "base") == 0
                           ? bench_rate(base, corpus, n, seconds, &tagged, &tags, &bytes) : 0;
    double rate15 = all ? bench_rate(r15, corpus, n, seconds, NULL, &tags15, NULL) : 0;
    double rate100 = all ? bench_rate(r100, corpus, n, seconds, NULL, &tags100, NULL) : 0;
    double rate1000 = all || strcmp(only, "1000") == 0
                          ? bench_rate(r1000, corpus, n, seconds, NULL, &tags1000, NULL) : 0;
    double scan = all || strcmp(only, "base") == 0 ? bench_scan_rate(base, corpus, n, seconds) : 0;
    double scan1000 = all || strcmp(only, "1000") == 0 ? bench_scan_rate(r1000, corpus, n, seconds)
                                                         : 0;
    printf("{\"topics\":%zu,\"reports_per_s\":%.0f,\"topics_15_reports_per_s\":%.0f,"
           "\"topics_100_reports_per_s\":%.0f,"
           "\"topics_1000_reports_per_s\":%.0f,\"tagged_share\":%.3f,"
           "\"tags_per_report\":%.1f,\"tags_per_report_1000\":%.1f,"
           "\"tags_bytes_per_report\":%.0f,\"synthetic_words\":%zu,"
           "\"scan_only_reports_per_s\":%.0f,\"scan_only_1000_reports_per_s\":%.0f}\n",
           base->ntopics, base_rate, rate15, rate100, rate1000, tagged, tags,
           rate1000 > 0 ? tags1000 : 0, bytes, nwords, scan, scan1000);
    for (size_t i = 0; i < nwords; i++)
        free(words[i]);
    free(words);
    rules_free(&base), rules_free(&r15), rules_free(&r100), rules_free(&r1000);
    for (size_t i = 0; i < n; i++)
        report_free(&corpus[i]);
    free(corpus);
    return 0;
}
