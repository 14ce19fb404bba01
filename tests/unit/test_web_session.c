/* test_web_session: the web door's sessions (tokens, idle and absolute
 * timeouts, logout) and the slowdown of failed logins; the status a reason
 * code maps to. */
#include "harness.h"
#include "pwhash.h"
#include "web.h"
#include <string.h>
#include <time.h>

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static struct web_user user(const char *name)
{
    struct web_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.hash, sizeof u.hash, "$argon2id$secret");
    return u;
}

static void test_tokens(void)
{
    struct web_sessions *s = web_sessions_new(60000, 60000);
    struct web_user u = user("M001");
    struct web_session a, b, got;
    web_sessions_start(s, &u, &a);
    web_sessions_start(s, &u, &b);
    CHECK_INT("token length", strlen(a.token), WEB_TOKEN_LEN);
    CHECK(strcmp(a.token, b.token) && strcmp(a.token, a.csrf), "tokens differ");
    CHECK(strspn(a.token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              WEB_TOKEN_LEN, "token is base64url: %s", a.token);
    CHECK_INT("a session is found", web_sessions_get(s, a.token, &got), 0);
    CHECK_STR("its user", got.user.name, "M001");
    CHECK_STR("its hash is not kept", got.user.hash, "");
    CHECK_INT("a wrong token is not", web_sessions_get(s, "x", &got), -1);
    web_sessions_end(s, a.token);
    CHECK_INT("logout ends it", web_sessions_get(s, a.token, &got), -1);
    CHECK_INT("the other stays", web_sessions_get(s, b.token, &got), 0);
    web_sessions_free(&s);
    CHECK(s == NULL, "free NULLs the pointer");
}

static void test_timeouts(void)
{
    struct web_user u = user("cj");
    struct web_session a, got;
    struct web_sessions *s = web_sessions_new(40, 60000);
    web_sessions_start(s, &u, &a);
    nap_ms(80);
    CHECK_INT("idle past the timeout: ended", web_sessions_get(s, a.token, &got), -1);
    web_sessions_free(&s);
    /* 60 ms of use inside a 1 s absolute limit: a loaded machine's late
     * wake-ups stay far inside it (100 ms failed once under make test) */
    s = web_sessions_new(60000, 1000);
    web_sessions_start(s, &u, &a);
    for (int i = 0; i < 3; i++) {
        nap_ms(20);
        CHECK_INT("used: alive", web_sessions_get(s, a.token, &got), 0);
    }
    nap_ms(1000);
    CHECK_INT("past the absolute timeout: ended however used", web_sessions_get(s, a.token, &got), -1);
    CHECK_INT("expire counts what is left", web_sessions_expire(s), 0);
    web_sessions_free(&s);
}

static void test_throttle(void)
{
    struct web_sessions *s = web_sessions_new(60000, 60000);
    for (int i = 0; i < 3; i++) {
        CHECK_INT("the first failures cost nothing", web_throttle_wait(s, "jk", "10.0.0.1"), 0);
        web_throttle_fail(s, "jk", "10.0.0.1");
    }
    CHECK_INT("three failures: no wait yet", web_throttle_wait(s, "jk", "10.0.0.2"), 0);
    web_throttle_fail(s, "jk", "10.0.0.1");
    CHECK_INT("the fourth: the user waits 1 s", web_throttle_wait(s, "jk", "10.0.0.2"), 1);
    CHECK_INT("the address too", web_throttle_wait(s, "cj", "10.0.0.1"), 1);
    CHECK_INT("others do not", web_throttle_wait(s, "cj", "10.0.0.2"), 0);
    for (int i = 0; i < 20; i++)
        web_throttle_fail(s, "jk", "10.0.0.3");
    CHECK_INT("the wait is capped at 60 s", web_throttle_wait(s, "jk", "10.0.0.9"), 60);
    web_throttle_ok(s, "jk");
    CHECK_INT("a success forgets the user's failures", web_throttle_wait(s, "jk", "10.0.0.9"), 0);
    web_sessions_free(&s);
}

static void test_status_of(void)
{
    static const struct { const char *code; int status; } cases[] = {
        {"bad_json", 400}, {"bad_field", 400}, {"missing_field", 400}, {"unknown_member", 400},
        {"bad_request", 400}, {"unauthenticated", 401}, {"forbidden", 403}, {"csrf", 403},
        {"not_found", 404}, {"conflict", 409}, {"too_large", 413}, {"slow_down", 429},
        {"busy", 503}, {"internal", 503}, {"unavailable", 503},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(web_status_of(cases[i].code) == cases[i].status, "%s: got %d, want %d",
              cases[i].code, web_status_of(cases[i].code), cases[i].status);
}

static void test_pwhash(void)
{
    char h[PWHASH_STRLEN];
    CHECK_INT("init", pwhash_init(), 0);
    CHECK_INT("hash", pwhash_hash("correct horse", h), 0);
    CHECK(!strncmp(h, "$argon2id$", 10), "argon2id: %s", h);
    CHECK_INT("the right password", pwhash_verify(h, "correct horse"), 1);
    CHECK_INT("a wrong one", pwhash_verify(h, "correct horsf"), 0);
    CHECK_INT("no hash", pwhash_verify(NULL, "x"), 0);
    CHECK_INT("a malformed hash", pwhash_verify("$2y$10$abc", "x"), 0);
}

int main(void)
{
    pwhash_init();
    test_tokens();
    test_timeouts();
    test_throttle();
    test_status_of();
    test_pwhash();
    return harness_done();
}
