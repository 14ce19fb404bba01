/* fuzz_decode: libFuzzer target over the drop-file path: bytes ->
 * collector_decode_text -> report_parse_submission / report_parse_text.
 *
 *   tests/fuzz/run.sh 600 decode     (or by hand:)
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Icollector \
 *     -Icommon common/xmalloc.c common/log.c common/report.c \
 *     common/report_parse.c common/report_utf8.c collector/collector_decode.c \
 *     tests/fuzz/fuzz_decode.c $(pkg-config --cflags --libs libcjson) -o build/fuzz_decode
 *   build/fuzz_decode -max_total_time=60 tests/fuzz/corpus/decode
 *
 * Properties checked besides memory safety: the decoder's output is valid
 * UTF-8 without NUL or byte-order mark, at most twice the input (GB18030
 * FE xx becomes 4 UTF-8 bytes); a rejection always carries a reason and a
 * one-line detail; an accepted report passes report_validate and survives
 * report_encode / report_decode.
 */
#include "collector_decode.h"
#include "report.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_error(const struct report_error *err)
{
    assert(err->reason != REPORT_OK);
    assert(memchr(err->detail, '\0', sizeof err->detail) != NULL);
    assert(strchr(err->detail, '\n') == NULL);
}

static void fuzz_check_report(const struct report *r)
{
    struct report_error err;
    struct report *back = NULL;
    assert(report_validate(r, &err) == 0);
    char *js = report_encode(r);
    assert(report_decode(js, strlen(js), &back, &err) == 0);
    assert(strcmp(back->title, r->title) == 0 && strcmp(back->body, r->body) == 0);
    report_free(&back);
    free(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct report_error err = {REPORT_OK, ""};
    struct report *r = NULL;
    char *out = NULL;
    size_t outlen = 0;
    if (collector_decode_text(buf, size, &out, &outlen, &err) == 0) {
        assert(report_utf8_valid(out, outlen) && out[outlen] == '\0');
        assert(!memchr(out, '\0', outlen) && outlen <= 2 * size);
        assert(outlen < 3 || memcmp(out, "\xEF\xBB\xBF", 3) != 0);
        free(out);
    } else {
        assert(out == NULL);
        fuzz_check_error(&err);
    }
    for (int kind = 0; kind < 2; kind++) {
        enum collector_decode_kind k = kind ? COLLECTOR_DECODE_TEXT : COLLECTOR_DECODE_JSON;
        if (collector_decode_report(k, "M001", buf, size, REPORT_MAX_BYTES, &r, &err) == 0) {
            assert(r->source == REPORT_SOURCE_DROP);
            fuzz_check_report(r);
            report_free(&r);
        } else {
            assert(r == NULL);
            fuzz_check_error(&err);
        }
    }
    return 0;
}
