/* harness.h: a tiny table-friendly test harness.  Each failed check prints
 * "FAIL file:line: what: got X, want Y"; harness_done() prints the closing
 * "N passed, N failed" line that tests/run.sh adds up. */
#ifndef MINYI_HARNESS_H
#define MINYI_HARNESS_H
#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            harness_passed++;                                             \
        } else {                                                          \
            harness_failed++;                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                   \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

#define CHECK_INT(what, got, want)                                        \
    do {                                                                  \
        long long g_ = (long long)(got), w_ = (long long)(want);          \
        CHECK(g_ == w_, "%s: got %lld, want %lld", what, g_, w_);         \
    } while (0)

#define CHECK_STR(what, got, want)                                        \
    do {                                                                  \
        const char *g_ = (got), *w_ = (want);                             \
        CHECK((g_ == NULL && w_ == NULL) ||                               \
                  (g_ && w_ && strcmp(g_, w_) == 0),                      \
              "%s: got \"%s\", want \"%s\"", what, g_ ? g_ : "(null)",    \
              w_ ? w_ : "(null)");                                        \
    } while (0)

static inline int harness_done(void)
{
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

#endif
