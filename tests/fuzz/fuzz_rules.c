/* fuzz_rules.c: libFuzzer target for the rules loader and the classifier's
 * compiler -- a hostile rules file must be refused with messages, never
 * crash; one that loads classifies two fixed reports (bounded), and the
 * Hyperscan prefilter must give exactly what plain PCRE2 gives (a
 * difference aborts: differential fuzzing of common/prefilter.c). */
#include "report.h"
#include "classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct report *classify(struct classify *c, const char *title, const char *body)
{
    struct report *r = report_new();
    r->member = xstrdup("M001");
    r->title = xstrdup(title);
    r->body = xstrdup(body);
    classify_report(c, r, NULL);
    return r;
}

static void same_or_abort(const struct report *a, const struct report *b)
{
    if (strcmp(a->committee, b->committee) || a->ntags != b->ntags)
        abort();
    for (size_t i = 0; i < a->ntags; i++) {
        const struct report_tag *x = &a->tags[i], *y = &b->tags[i];
        if (strcmp(x->topic, y->topic) || x->score != y->score || x->nhits != y->nhits)
            abort();
        for (size_t k = 0; k < x->nhits; k++)
            if (x->hits[k].offset != y->hits[k].offset || x->hits[k].pattern != y->hits[k].pattern ||
                strcmp(x->hits[k].text, y->hits[k].text) || strcmp(x->hits[k].field, y->hits[k].field))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const texts[][2] = {
        {"关于小区物业乱收费的问题 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
         "物业公司擅自提高收费标准。PM2.5 超标，公交线路太少。aaaaaaaaaaaaaaaaaaaaaaaaaaac"},
        {"APP Web site 5G 公交公交公交公交", "app 网速 abab ABAB 2026 ｗｅｂ straße \xE2\x84\xAA kelvin 的的的"},
    };
    struct rules *rules = NULL;
    struct rules_errors errs = {0};
    struct classify *c = NULL, *plain = NULL;
    if (rules_parse("fuzz.json", (const char *)data, size, &rules, &errs) == 0 &&
        classify_new(rules, &c, &errs) == 0) {
        setenv("MINYI_NO_PREFILTER", "1", 1);
        classify_new(rules, &plain, &errs);
        unsetenv("MINYI_NO_PREFILTER");
        for (size_t i = 0; plain && i < 2; i++) {
            struct report *a = classify(c, texts[i][0], texts[i][1]);
            struct report *b = classify(plain, texts[i][0], texts[i][1]);
            same_or_abort(a, b);
            report_free(&a);
            report_free(&b);
        }
        classify_free(&c);
        classify_free(&plain);
    }
    rules_errors_clear(&errs);
    rules_free(&rules);
    return 0;
}
