/* test_supervise.c: calendar days in the organisation's timezone -- the
 * arithmetic every deadline (督办) rests on. */
#include "archiver_supervise.h"
#include "harness.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* µs of a UTC time */
static int64_t utc_us(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000000;
}

static void test_days(const char *tz, const int64_t *at, const long *want, size_t n)
{
    setenv("TZ", tz, 1);
    tzset();
    for (size_t i = 0; i < n; i++) {
        long got = supervise_day(at[i]);
        CHECK(got == want[i], "%s case %zu: got day %ld, want %ld", tz, i, got, want[i]);
        int64_t m = supervise_midnight_us(got);
        CHECK(m <= at[i] && at[i] - m < 86400LL * 1000000 && supervise_day(m) == got &&
                  supervise_day(m - 1) == got - 1,
              "%s case %zu: midnight %lld does not start day %ld", tz, i, (long long)m, got);
    }
}

int main(void)
{
    const long d0 = 20454;   /* 2026-01-01 */
    /* Shanghai is UTC+8: 16:00 UTC is already the next local day */
    const int64_t sh_at[] = {utc_us(2026, 1, 1, 0, 0), utc_us(2026, 1, 1, 15, 59),
                             utc_us(2026, 1, 1, 16, 0), utc_us(2025, 12, 31, 16, 0),
                             utc_us(2026, 3, 1, 12, 0)};
    const long sh_want[] = {d0, d0, d0 + 1, d0, d0 + 59};
    test_days("Asia/Shanghai", sh_at, sh_want, sizeof sh_want / sizeof sh_want[0]);
    /* a zone with daylight saving: the day of the change is still one day */
    const int64_t ny_at[] = {utc_us(2026, 3, 8, 4, 59), utc_us(2026, 3, 8, 5, 0),
                             utc_us(2026, 3, 9, 3, 59), utc_us(2026, 3, 9, 4, 0)};
    const long ny_want[] = {d0 + 65, d0 + 66, d0 + 66, d0 + 67};
    test_days("America/New_York", ny_at, ny_want, sizeof ny_want / sizeof ny_want[0]);
    return harness_done();
}
