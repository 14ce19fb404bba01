/* route_bench.c: minyi-route-bench, the router's classifier alone on one
 * core.  Classifies a corpus with the given rules file, then with that file
 * grown to 100 and 1,000 topics (synthetic topics whose keywords are
 * character pairs drawn from the corpus itself, so some of them match), and
 * prints one JSON line:
 *   {"topics", "patterns", "reports_per_s", "topics_100_reports_per_s",
 *    "topics_1000_reports_per_s", "tagged_share"}
 *
 *   minyi-route-bench --rules RULES.json --corpus CORPUS.jsonl [--seconds S]
 */
#include "report.h"
#include "router_classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct report **bench_corpus(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    struct report **v = NULL;
    *n = 0;
    while (f && getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItem(o, "title"), *b = cJSON_GetObjectItem(o, "body");
        if (cJSON_IsString(t) && cJSON_IsString(b)) {
            struct report *r = report_new();
            r->member = xstrdup("M001");
            r->title = xstrdup(t->valuestring);
            r->body = xstrdup(b->valuestring);
            v = xrealloc(v, (*n + 1) * sizeof *v);
            v[(*n)++] = r;
        }
        cJSON_Delete(o);
    }
    free(line);
    if (f)
        fclose(f);
    return v;
}

/* A CJK character pair from the corpus, as a pattern string. */
static char *bench_word(struct report **corpus, size_t n, unsigned *seed)
{
    for (;;) {
        const char *b = corpus[rand_r(seed) % n]->body;
        size_t len = strlen(b), at = rand_r(seed) % (len ? len : 1);
        while (at < len && ((unsigned char)b[at] & 0xC0) == 0x80)
            at++;                      /* to a character boundary */
        if (at + 6 <= len && (unsigned char)b[at] >= 0xE4 && (unsigned char)b[at] <= 0xE9 &&
            (unsigned char)b[at + 3] >= 0xE4 && (unsigned char)b[at + 3] <= 0xE9)
            return xstrndup(b + at, 6);
    }
}

/* The rules file grown to `want` topics with synthetic ones. */
static struct rules *bench_grow(const char *path, size_t want, struct report **corpus,
                                size_t n)
{
    FILE *f = fopen(path, "r");
    static char buf[1 << 22];
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[len] = '\0';
    cJSON *root = cJSON_Parse(buf), *topics = cJSON_GetObjectItem(root, "topics");
    unsigned seed = 42;
    for (size_t i = (size_t)cJSON_GetArraySize(topics); i < want; i++) {
        cJSON *t = cJSON_CreateObject(), *pats = cJSON_AddArrayToObject(t, "patterns");
        char id[32];
        snprintf(id, sizeof id, "synthetic_%zu", i);
        cJSON_AddStringToObject(t, "id", id);
        cJSON_AddStringToObject(t, "name", id);
        cJSON_AddStringToObject(t, "category", rules_category_names[i % 15]);
        for (int p = 0; p < 10; p++) {
            char *w1 = bench_word(corpus, n, &seed), *w2 = bench_word(corpus, n, &seed);
            char *alt = xasprintf("%s%s|%s", w1, w2, w2);
            cJSON_AddItemToArray(pats, cJSON_CreateString(alt));
            free(w1), free(w2), free(alt);
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
                         double *tagged)
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
    size_t done = 0;
    do {
        for (size_t i = 0; i < n; i++)
            classify_report(c, corpus[i], &st);
        done += n;
        t = bench_now();
    } while (t - t0 < seconds);
    if (tagged)
        *tagged = (double)st.tagged / (double)st.reports;
    classify_free(&c);
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
    struct rules *r100 = bench_grow(rules_path, 100, corpus, n);
    struct rules *r1000 = bench_grow(rules_path, 1000, corpus, n);
    double base_rate = bench_rate(base, corpus, n, seconds, &tagged);
    double rate100 = bench_rate(r100, corpus, n, seconds, NULL);
    double rate1000 = bench_rate(r1000, corpus, n, seconds, NULL);
    printf("{\"topics\":%zu,\"reports_per_s\":%.0f,\"topics_100_reports_per_s\":%.0f,"
           "\"topics_1000_reports_per_s\":%.0f,\"tagged_share\":%.3f}\n",
           base->ntopics, base_rate, rate100, rate1000, tagged);
    rules_free(&base), rules_free(&r100), rules_free(&r1000);
    for (size_t i = 0; i < n; i++)
        report_free(&corpus[i]);
    free(corpus);
    return 0;
}
