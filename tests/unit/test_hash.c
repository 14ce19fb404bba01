/* test_hash.c: the one FNV-1a (common/hash.c) against the published test
 * vectors, and the duplicate keys built on it, which live on disk, against
 * values computed once by an independent implementation. */
#include "harness.h"
#include "hash.h"
#include "report.h"
#include <stdlib.h>
#include <string.h>

int main(void)
{
    static const struct {
        const char *s;
        unsigned long long want;
    } vectors[] = {{"", 0xcbf29ce484222325ULL}, {"a", 0xaf63dc4c8601ec8cULL},
                   {"foobar", 0x85944171f73967e8ULL}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *s = vectors[i].s;
        CHECK(hash_fnv1a_str(HASH_FNV_OFFSET, s) == vectors[i].want, "fnv1a(\"%s\")", s);
        CHECK(hash_fnv1a(HASH_FNV_OFFSET, s, strlen(s)) == vectors[i].want,
              "fnv1a(\"%s\", len)", s);
    }
    CHECK(hash_fnv1a(hash_fnv1a_str(HASH_FNV_OFFSET, "foo"), "bar", 3) == 0x85944171f73967e8ULL,
          "fnv1a continues from h");

    struct report *r = report_new();
    r->member = strdup("M001");
    r->title = strdup("标题");
    r->body = strdup("正文");
    r->ref = strdup("2026-017");
    CHECK(report_content_key(r) == 0x2c3cf6315516014dULL, "content key unchanged: got %llx",
          (unsigned long long)report_content_key(r));
    CHECK(report_ref_key(r) == 0x6db32c48c376efa6ULL, "ref key unchanged: got %llx",
          (unsigned long long)report_ref_key(r));
    report_free(&r);
    return harness_done();
}
