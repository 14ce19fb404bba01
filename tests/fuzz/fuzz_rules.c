/* fuzz_rules.c: libFuzzer target for the rules loader and the classifier's
 * compiler -- a hostile rules file must be refused with messages, never
 * crash; one that loads is used to classify a fixed report (bounded). */
#include "report.h"
#include "router_classify.h"
#include "rules.h"
#include "xmalloc.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rules *rules = NULL;
    struct rules_errors errs = {0};
    struct classify *c = NULL;
    if (rules_parse("fuzz.json", (const char *)data, size, &rules, &errs) == 0 &&
        classify_new(rules, &c, &errs) == 0) {
        struct report *r = report_new();
        r->member = xstrdup("M001");
        r->title = xstrdup("关于小区物业乱收费的问题 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
        r->body = xstrdup("物业公司擅自提高收费标准。PM2.5 超标，公交线路太少。aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac");
        classify_report(c, r, NULL);
        report_free(&r);
        classify_free(&c);
    }
    rules_errors_clear(&errs);
    rules_free(&rules);
    return 0;
}
