/* web_session.c: the web door's sessions and the slowdown of failed logins,
 * both in memory (a restart logs everyone out; nobody's password is ever
 * kept).  One mutex guards both tables; the HTTP threads share them.
 *
 * A session is a random token (the cookie) with a second random token for
 * CSRF (sent back by the page in X-CSRF-Token), the user as at login, and
 * two clocks: idle (used_ms) and absolute (created_ms).
 *
 * Failed logins are counted per user name and per client address; after
 * THROTTLE_FREE failures each further one doubles the wait (1 s, 2 s, ...
 * THROTTLE_MAX_S), during which a login is answered 429 without looking at
 * the password.  A success forgets the user's failures (not the address's).
 */
#include "web.h"
#include "daemon.h"
#include "pwhash.h"
#include "xmalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSIONS_MAX 4096
#define THROTTLE_SLOTS 1024
#define THROTTLE_FREE 3
#define THROTTLE_MAX_S 60
#define THROTTLE_FORGET_MS (15 * 60 * 1000)

struct throttle {
    char key[WEB_NAME_MAX + 4];   /* "u:NAME" or "a:ADDRESS"; "" free */
    int fails;
    int64_t until_ms, last_ms;
};

struct web_sessions {
    pthread_mutex_t mu;
    int64_t idle_ms, max_ms;
    struct web_session s[SESSIONS_MAX];   /* token "" = free */
    struct throttle t[THROTTLE_SLOTS];
};

struct web_sessions *web_sessions_new(int64_t idle_ms, int64_t max_ms)
{
    struct web_sessions *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->idle_ms = idle_ms;
    s->max_ms = max_ms;
    return s;
}

void web_sessions_free(struct web_sessions **sp)
{
    if (!*sp)
        return;
    pthread_mutex_destroy(&(*sp)->mu);
    free(*sp);
    *sp = NULL;
}

/* 32 random bytes as base64url (43 characters). */
static void session_token(char out[WEB_TOKEN_LEN + 1])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[33] = {0};
    pwhash_random(r, 32);
    int k = 0;
    for (int i = 0; i < 33 && k < WEB_TOKEN_LEN; i += 3) {
        unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 | r[i + 2];
        for (int j = 18; j >= 0 && k < WEB_TOKEN_LEN; j -= 6)
            out[k++] = b64[(v >> j) & 63];
    }
    out[k] = '\0';
}

static int session_dead(const struct web_sessions *s, const struct web_session *x, int64_t now)
{
    return now - x->used_ms >= s->idle_ms || now - x->created_ms >= s->max_ms;
}

void web_sessions_start(struct web_sessions *s, const struct web_user *user,
                        struct web_session *out)
{
    int64_t now = daemon_mono_ms();
    pthread_mutex_lock(&s->mu);
    struct web_session *slot = &s->s[0];
    for (int i = 0; i < SESSIONS_MAX; i++) {
        struct web_session *x = &s->s[i];
        if (!x->token[0] || session_dead(s, x, now)) {
            slot = x;
            break;
        }
        if (x->used_ms < slot->used_ms)
            slot = x;                  /* full: the least recently used goes */
    }
    memset(slot, 0, sizeof *slot);
    session_token(slot->token);
    session_token(slot->csrf);
    slot->user = *user;
    memset(slot->user.hash, 0, sizeof slot->user.hash);
    slot->created_ms = slot->used_ms = now;
    *out = *slot;
    pthread_mutex_unlock(&s->mu);
}

/* The slot of token, or NULL.  Called with the lock held. */
static struct web_session *session_find(struct web_sessions *s, const char *token)
{
    if (!token || strlen(token) != WEB_TOKEN_LEN)
        return NULL;
    for (int i = 0; i < SESSIONS_MAX; i++)
        if (s->s[i].token[0] && pwhash_equal(s->s[i].token, token, WEB_TOKEN_LEN))
            return &s->s[i];
    return NULL;
}

int web_sessions_get(struct web_sessions *s, const char *token, struct web_session *out)
{
    int64_t now = daemon_mono_ms();
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    struct web_session *x = session_find(s, token);
    if (x && session_dead(s, x, now)) {
        memset(x, 0, sizeof *x);
    } else if (x) {
        x->used_ms = now;
        *out = *x;
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void web_sessions_end(struct web_sessions *s, const char *token)
{
    pthread_mutex_lock(&s->mu);
    struct web_session *x = session_find(s, token);
    if (x)
        memset(x, 0, sizeof *x);
    pthread_mutex_unlock(&s->mu);
}

int web_sessions_expire(struct web_sessions *s)
{
    int64_t now = daemon_mono_ms();
    int live = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < SESSIONS_MAX; i++) {
        struct web_session *x = &s->s[i];
        if (x->token[0] && session_dead(s, x, now))
            memset(x, 0, sizeof *x);
        live += x->token[0] != '\0';
    }
    pthread_mutex_unlock(&s->mu);
    return live;
}

/* ---- failed logins ---- */

/* The slot of key; a free or forgotten one when create, else NULL.  Lock held. */
static struct throttle *throttle_slot(struct web_sessions *s, const char *kind,
                                      const char *name, int create, int64_t now)
{
    char key[sizeof s->t[0].key];
    snprintf(key, sizeof key, "%s:%s", kind, name ? name : "");
    struct throttle *spare = NULL;
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        struct throttle *t = &s->t[i];
        if (!strcmp(t->key, key))
            return t;
        if (!spare || t->last_ms < spare->last_ms)
            spare = t;                 /* the slot unused longest */
    }
    if (!create)
        return NULL;
    memset(spare, 0, sizeof *spare);
    snprintf(spare->key, sizeof spare->key, "%s", key);
    spare->last_ms = now;
    return spare;
}

static int throttle_left_s(const struct throttle *t, int64_t now)
{
    if (!t || t->until_ms <= now)
        return 0;
    return (int)((t->until_ms - now + 999) / 1000);
}

int web_throttle_wait(struct web_sessions *s, const char *user, const char *addr)
{
    int64_t now = daemon_mono_ms();
    pthread_mutex_lock(&s->mu);
    int a = throttle_left_s(throttle_slot(s, "u", user, 0, now), now);
    int b = throttle_left_s(throttle_slot(s, "a", addr, 0, now), now);
    pthread_mutex_unlock(&s->mu);
    return a > b ? a : b;
}

static void throttle_count(struct throttle *t, int64_t now)
{
    if (now - t->last_ms > THROTTLE_FORGET_MS)
        t->fails = 0;
    t->fails++;
    t->last_ms = now;
    if (t->fails > THROTTLE_FREE) {
        int shift = t->fails - THROTTLE_FREE - 1;
        int64_t wait = shift >= 6 ? THROTTLE_MAX_S : (int64_t)1 << shift;
        t->until_ms = now + (wait > THROTTLE_MAX_S ? THROTTLE_MAX_S : wait) * 1000;
    }
}

void web_throttle_fail(struct web_sessions *s, const char *user, const char *addr)
{
    int64_t now = daemon_mono_ms();
    pthread_mutex_lock(&s->mu);
    throttle_count(throttle_slot(s, "u", user, 1, now), now);
    throttle_count(throttle_slot(s, "a", addr, 1, now), now);
    pthread_mutex_unlock(&s->mu);
}

void web_throttle_ok(struct web_sessions *s, const char *user)
{
    int64_t now = daemon_mono_ms();
    pthread_mutex_lock(&s->mu);
    struct throttle *t = throttle_slot(s, "u", user, 0, now);
    if (t)
        memset(t, 0, sizeof *t);
    pthread_mutex_unlock(&s->mu);
}
