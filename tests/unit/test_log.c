/* test_log: a repeated error is logged once, then summarised -- the disk
 * full must not write 12,957 lines in 13 seconds (issue 17). */
#include "harness.h"
#include "log.h"
#include <stdlib.h>
#include <unistd.h>

static char path[] = "/tmp/test_log.XXXXXX";

/* Run the occurrences at times[] (ms; -1: the condition clears at the next
 * time) with stderr in a file, and return what was written (static). */
static const char *run(const long *times, size_t n)
{
    static char out[8192];
    int fd = mkstemp(path), saved = dup(2);
    dup2(fd, 2);
    struct log_repeat r = {.what = "spool: write failed"};
    for (size_t i = 0; i < n; i++)
        if (times[i] < 0)
            log_repeat_clear(&r, times[++i]);
        else
            log_repeat(&r, times[i], "disk full %zu", i);
    log_flush();
    dup2(saved, 2);
    close(saved);
    ssize_t len = pread(fd, out, sizeof out - 1, 0);
    out[len > 0 ? len : 0] = '\0';
    close(fd);
    unlink(path);
    memcpy(path + strlen(path) - 6, "XXXXXX", 6);
    return out;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

int main(void)
{
    log_init("test");
    long burst[1000];
    for (int i = 0; i < 1000; i++)
        burst[i] = 1 + i * 5;                      /* 1,000 errors in 5 s */
    const char *out = run(burst, 1000);
    CHECK_INT("a burst within the window: one line", lines(out), 1);
    CHECK(strstr(out, "disk full 0") != NULL, "the first is the one logged: %s", out);

    const long spread[] = {1, 100, 200, 10001, 10002};
    out = run(spread, 5);
    CHECK_INT("after the window: summary and the next one", lines(out), 3);
    CHECK(strstr(out, "spool: write failed: … 2 more in the last 10 s") != NULL,
          "summary: %s", out);

    const long cleared[] = {1, 2, 3, -1, 4000};
    out = run(cleared, 5);
    CHECK_INT("cleared: the first and the summary", lines(out), 2);
    CHECK(strstr(out, "… 2 more in the last 4 s") != NULL, "summary at clear: %s", out);

    const long once[] = {1, -1, 50};
    out = run(once, 3);
    CHECK_INT("a single error: no summary", lines(out), 1);
    return harness_done();
}
