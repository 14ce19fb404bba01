/* fuzz_report.c: libFuzzer target for member input -- report_parse_submission
 * and report_parse_text -- and the wire round trip of what they accept.
 * A report that parses must encode, decode and validate again. */
#include "report.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct report *r = NULL, *back = NULL;
    struct report_error err;
    if (report_parse_submission((const char *)data, size, REPORT_MAX_BYTES, &r, &err) == 0) {
        report_stamp(r, 1780000000000000LL);
        char *wire = report_encode(r);
        if (report_decode(wire, strlen(wire), &back, &err) < 0)
            abort();                   /* what we accepted must survive the wire */
        if (strcmp(back->title, r->title) != 0 || strcmp(back->body, r->body) != 0)
            abort();
        free(wire);
        report_free(&back);
    }
    report_free(&r);
    if (report_parse_text("M001", (const char *)data, size, &r, &err) == 0 &&
        report_validate(r, &err) < 0)
        abort();
    report_free(&r);
    return 0;
}
