/* daemon: the skeleton every minyi daemon runs on.
 *
 * daemon_main parses the common options (-c FILE, --state-dir DIR, -n, -h),
 * loads the config, sets the timezone, creates the state folders, installs
 * signal handlers (SIGINT/SIGTERM: stop after the current step; SIGHUP:
 * reload; SIGPIPE ignored), calls ops->open, logs the fixed line "ready"
 * (the line tests and `minyi up` wait for), then calls ops->step until asked
 * to stop, and finally ops->close.
 *
 *   -n   check the config (and whatever ops->check checks) and exit 0 / 1.
 *   --instance N   one of several routers side by side (d->instance).
 *
 * Exit status: 0 after a clean stop; 1 when the config or open fails (one
 * line on stderr: "minyi-NAME: WHAT: WHY"); 2 on a usage error.
 */
#ifndef MINYI_DAEMON_H
#define MINYI_DAEMON_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct bus;
struct bus_msg;
struct daemon;
struct access;

struct daemon_ops {
    const char *name;             /* "collector" -> program "minyi-collector" */
    /* Optional: extra checks for -n (e.g. compile the rules). 0 / -1 + err. */
    int (*check)(struct daemon *d, char *err, size_t errlen);
    /* Bind sockets, open files.  0, or -1 with err (the daemon exits 1). */
    int (*open)(struct daemon *d, char *err, size_t errlen);
    /* One turn of the loop: wait at most timeout_ms, handle what is ready. */
    void (*step)(struct daemon *d, long timeout_ms);
    /* Optional: SIGHUP arrived. */
    void (*reload)(struct daemon *d);
    /* Release everything open made. */
    void (*close)(struct daemon *d);
    /* 1: only connects (minyi-web): the skeleton gives its bus no server
     * CURVE keys; the daemon sets its own client key (curve_client.h). */
    int client;
};

struct daemon {
    const struct daemon_ops *ops;
    struct config *cfg;           /* owned by the skeleton */
    struct bus *bus;              /* owned by the skeleton */
    void *state;                  /* the daemon's own, borrowed */
    const char *program;          /* "minyi-collector" ("minyi-router-2": instance 2) */
    int instance;                 /* --instance N: which of several routers, from 1 */
    struct access *access;        /* the principals (access.h), owned by the skeleton,
                                     read again when the file changes */
};

/* The ZAP domain of the pipes between daemons (route, archive, confirm and
 * their large lanes): over tcp:// only daemon keys may connect to them. */
#define DAEMON_ZAP_PIPE "pipe"

/* May the sender of m do act (access.h)?  0, or -1: the refusal is
 * counted, logged as "-: forbidden: WHY" and its detail left in why. */
int daemon_allow(struct daemon *d, const struct bus_msg *m, int act, const char *committee,
                 const char *member, char *why, size_t whylen);
struct access_principal;
/* The same for a request that may act for someone: when the sender is a
 * gateway, the person it names (who; or, for a submit without who, the
 * member principal of member) must be a person of the access file and may
 * do act itself (access_may_as).  0 and *acting (the sender, or the person;
 * borrowed until the next request), or -1 as daemon_allow. */
int daemon_allow_for(struct daemon *d, const struct bus_msg *m, const char *who, int act,
                     const char *committee, const char *member, char *why, size_t whylen,
                     const struct access_principal **acting);

/* Run a daemon. `state` is stored in d->state. Returns the exit status. */
int daemon_main(int argc, char **argv, const struct daemon_ops *ops, void *state);

/* 1 once SIGINT/SIGTERM arrived (a step may end early when it sees it). */
int daemon_stopping(void);

/* Wall clock in µs since the epoch (in builds with MINYI_TEST_CLOCK, the
 * default for `make`, plus the seconds in the file $MINYI_TEST_CLOCK names;
 * `make TEST_CLOCK=0` builds without it, for packages); monotonic clock in µs and in ms (for
 * timeouts and durations anywhere in minyi, daemons or not). */
int64_t daemon_now_us(void);
int64_t daemon_mono_us(void);
int64_t daemon_mono_ms(void);

#endif
