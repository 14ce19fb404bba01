/* bench_corpus.c: the corpus reader of bench_corpus.h. */
#include "bench_corpus.h"
#include "report.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

struct report **bench_corpus(const char *path, size_t *n)
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
