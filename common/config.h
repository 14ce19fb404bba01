/* config: the one JSON config file (config/minyi.json by default).
 *
 *   {
 *     "organisation": "A市政协",
 *     "timezone": "Asia/Shanghai",
 *     "state_dir": "../var",          default: "var" beside the config file
 *     "rules": "rules.json",          relative paths are relative to this file
 *     "members": "members.json",
 *     "endpoints": {"submit": "ipc://@STATE@/run/submit.sock", ...},
 *     "limits": {"max_report_bytes": 65536, "lease_seconds": 1800, ...},
 *     "quotas": [{"scope": "member", "period": "year", "min": 1},
 *                {"scope": "org", "period": "month", "min": 5}],
 *     "points": {"report": 1, "adopted": 3, "forwarded": 5, "filed": 0, "declined": 0},
 *     "supervision": {"take_up_days": 5, "close_days": 30,
 *                     "committees": {"jingji": {"take_up_days": 3, "close_days": 20}},
 *                     "notify": ["/usr/local/bin/office-sms", "--to", "office"]},
 *     "retention": {"closed_days": 1825, "export_dir": "retention"}
 *   }
 *
 * Every key is optional; defaults are documented in the README.  "@STATE@" in
 * an endpoint stands for the state directory.  Errors read "FILE: KEY: message".
 *
 * Ownership: config_load returns a struct config freed with config_free(&c).
 */
#ifndef MINYI_CONFIG_H
#define MINYI_CONFIG_H
#include <stddef.h>

struct config_quota {
    char scope[8];                /* member | group | sector | org */
    char *id;                     /* NULL: every member/group/sector */
    char period[8];               /* month | quarter | year */
    int min;
};

struct config_endpoints {
    char *submit;                 /* collector ROUTER: members submit here */
    char *route;                  /* collector PUSH -> routers PULL */
    char *route_large;            /* the same, the large lane */
    char *archive;                /* routers PUSH -> archiver PULL */
    char *archive_large;          /* the same, the large lane */
    char *confirm;                /* archiver PUSH -> collector PULL */
    char *query;                  /* archiver ROUTER: the minyi command */
    char *collector_ctl;          /* collector ROUTER: status */
    char *router_ctl;             /* router ROUTER: status, reload (the first router's;
                                     config.router_ctls lists them all) */
};

struct config_limits {
    size_t max_report_bytes;      /* 65536 */
    int lease_seconds;            /* default lease for pull: 1800 */
    int batch_max;                /* reports per archive transaction: 512 */
    int resend_ms;                /* resend an unconfirmed report after: 5000 */
    int inflight_max;             /* reports sent but unconfirmed: 20000 */
    int hwm;                      /* ZeroMQ high-water mark: 1000 */
    int rescan_ms;                /* drop folder rescan period: 2000 */
    int dedup_days;               /* content duplicates window: 30 */
    int request_timeout_ms;       /* minyi waits this long for a daemon: 5000 */
};

/* Retention: closed reports older than closed_days leave the archive,
 * exported first to JSON Lines in export_dir (the archiver; README). */
struct config_retention {
    int closed_days;              /* 0: keep every report (the default) */
    char *export_dir;             /* absolute; relative names are in the state dir */
};

/* The web door (minyi-web): "web": {"listen", "tls_cert", "tls_key", "key",
 * "idle_minutes", "max_hours"}. */
struct config_web {
    char *listen;                 /* "127.0.0.1:8080" (HOST:PORT; port 0: any free one) */
    char *tls_cert, *tls_key;     /* PEM files, both or neither (NULL: plain HTTP) */
    char *key;                    /* its CURVE key pair for tcp:// endpoints, the
                                     gateway's (minyi keys new web gateway), or NULL */
    int idle_minutes;             /* a session unused this long ends: 30 */
    int max_hours;                /* a session ends this long after login: 12 */
};

struct config_points {
    double report, adopted, forwarded, filed, declined;
    double upstream_adopted;      /* 报送: adopted by the next level up: 3 */
    double upstream2_adopted;     /* adopted by the level above that: 5 */
};

/* 督办: how many calendar days (in the organisation's timezone) a committee
 * has to take up (first lease) and to close a report, counted from the day
 * it was received: received on day D with 5 days, it is overdue from day
 * D+6.  0 days: the same day. */
struct config_deadline {
    char *committee;
    int take_up_days, close_days;
};

struct config_supervision {
    int take_up_days, close_days; /* every committee not listed: 5, 30 */
    struct config_deadline *committees;
    size_t ncommittees;
    int check_seconds;            /* the archiver looks for new overdue reports: 60 */
    char **notify;                /* argv (NULL-terminated) run once per report that
                                     becomes overdue, + ID COMMITTEE KIND DAYS; or NULL */
    int notify_timeout_seconds;   /* a notify still running is killed after: 30 */
    int notify_retry_seconds;     /* a failed notify is run again after: 300 */
};

/* 报送: the next level up (NULL endpoint: none). */
struct config_upstream {
    char *endpoint;               /* its collector's submit socket */
    char *query;                  /* its archiver's query socket (outcomes), or NULL */
    char *member;                 /* the member id this organisation files under there */
    char *org;                    /* this organisation's id in refs (default: organisation) */
    int resend_ms;                /* a delivery not acknowledged is tried again after: 5000 */
    int poll_seconds;             /* outcomes are asked for every: 60 */
    char *key;                    /* CURVE over tcp://: this level's key pair file (made by
                                     the next level's `minyi keys new`), absolute; or NULL */
    char *server_public_key;      /* the next level's server public key (Z85), or NULL */
    char *server_key;             /* or the file holding it (its server.pub), absolute */
    int insecure;                 /* tcp:// without CURVE (the next level runs insecure) */
};

struct config {
    char *path;                   /* the config file, absolute */
    char *dir;                    /* its folder, absolute */
    char *organisation;
    char *timezone;               /* "Asia/Shanghai" */
    char *state_dir;              /* absolute */
    char *rules_path;             /* absolute */
    char *members_path;           /* absolute */
    char *drop_group;             /* group that may file into drop/, or NULL */
    char *access_path;            /* the principals file (access.h), absolute */
    char *passwd_path;            /* the password file (pwfile.h): STATE/passwd.json */
    unsigned insecure;            /* "insecure": bit i set: the i-th endpoint name
                                     (config_endpoint_list) runs tcp:// without CURVE,
                                     its clients being the admin */
    char *server_key;             /* the daemons' CURVE key pair file, absolute
                                     (default STATE/keys/server.key) */
    char *server_public_key;      /* "server_public_key": Z85, for clients, or NULL */
    struct config_endpoints ep;
    struct config_limits limits;
    struct config_quota *quotas;
    size_t nquotas;
    struct config_points points;
    struct config_supervision supervision;
    struct config_upstream upstream;
    char **router_ctls;           /* endpoints.router_ctl: one control socket per router */
    size_t nrouters;              /* at least 1; ep.router_ctl is router_ctls[0] */
    struct config_retention retention;
    struct config_web web;
};

/* Routers side by side at most (endpoints.router_ctl as a list). */
#define CONFIG_ROUTERS_MAX 8

/* Lanes.  Each pipe (collector -> routers, routers -> archiver) has two:
 * a message of at most CONFIG_LANE_SMALL bytes travels on the ordinary lane,
 * whose queues hold limits.hwm messages (1,000 × 8 KB = 8 MB), a bigger one
 * on the large lane, whose queues hold config_large_hwm() messages
 * (CONFIG_LANE_LARGE_BYTES of the largest reports; towards the archiver
 * each also carries its tags, a few KB).  ZeroMQ counts messages, not
 * bytes; the lanes bound every queue in bytes while the everyday small
 * reports keep deep queues (and large archive batches).  A pipe's two
 * endpoints are set together or not at all (config_load checks). */
#define CONFIG_LANE_SMALL 8192
/* Every socket caps what one message and one connection may hold, so no
 * client can make a daemon grow: a message between daemons (a report and
 * its tags) is at most CONFIG_PIPE_MSG_MAX; a control request (status,
 * reload) CONFIG_CTL_MSG_MAX; and a ROUTER socket queues at most
 * CONFIG_CTL_HWM requests of one connection (more wait on its side, or,
 * for a larger message, ZeroMQ drops the connection unread). */
#define CONFIG_PIPE_MSG_MAX (1L << 20)
#define CONFIG_CTL_MSG_MAX 65536L
#define CONFIG_CTL_HWM 4
#define CONFIG_LANE_LARGE_BYTES (8L << 20)
/* 1 if a message of len bytes goes on the large lane. */
static inline int config_lane_large(size_t len) { return len > CONFIG_LANE_SMALL; }
/* The large lane's high-water mark: CONFIG_LANE_LARGE_BYTES over
 * limits.max_report_bytes, at least 8, at most limits.hwm. */
int config_large_hwm(const struct config *c);

/* Load `path` (NULL: $MINYI_CONFIG, else config/minyi.json).  `state_dir`
 * overrides the file's (NULL: $MINYI_STATE_DIR, else the file's, else "var"
 * beside it).  Returns 0 and *out, or -1 with "FILE: KEY: message" in err. */
int config_load(const char *path, const char *state_dir, struct config **out,
                char *err, size_t errlen);
struct cJSON;
#define CONFIG_NENDPOINTS 9
/* The most endpoints config_endpoint_list can give (every router's ctl). */
#define CONFIG_EP_MAX (CONFIG_NENDPOINTS - 1 + CONFIG_ROUTERS_MAX)
/* Which tcp:// endpoints config_endpoint_list gives. */
#define CONFIG_EP_CURVE 0         /* those that need CURVE keys */
#define CONFIG_EP_PLAIN 1         /* those the config calls insecure */
/* config_curve.c: the tcp:// endpoints of c of kind `which` (every router's
 * control socket included) into eps[] and their config names ("submit",
 * "router_ctl") into names[] (may be NULL), both borrowed; at most max.
 * Returns how many. */
size_t config_endpoint_list(const struct config *c, int which, const char **eps,
                            const char **names, size_t max);
/* config_curve.c: parse "insecure", "server_key" and "server_public_key".
 * 0, or -1 with "FILE: KEY: message". */
int config_curve_parse(struct config *c, const struct cJSON *root, char *err, size_t errlen);
/* Free *c; sets *c = NULL. NULL-safe. */
void config_free(struct config **c);
/* Create the state directory and its drop/, drop/rejected/, spool/, run/
 * folders, or bring existing ones to their modes (state 0710, drop 2770,
 * run 2750, the rest 0700; the first three get drop_group if set), and
 * make the archive and duplicate files private (0600).  Returns 0, or -1
 * with err (a world-writable folder, a symbolic link, an unknown group). */
int config_make_state_dirs(const struct config *c, char *err, size_t errlen);
/* Set TZ for this process from c->timezone (localtime_r then uses it). */
void config_apply_timezone(const struct config *c);
/* config_supervision.c: parse root's "supervision" into c->supervision.
 * 0, or -1 with "FILE: supervision.KEY: message" in err. */
int config_supervision_parse(struct config *c, const struct cJSON *root, char *err,
                             size_t errlen);
/* Free what config_supervision_parse made and zero *s. */
void config_supervision_free(struct config_supervision *s);
/* config_upstream.c: parse root's "upstream" into c->upstream.  0, or -1
 * with "FILE: upstream.KEY: message". */
int config_upstream_parse(struct config *c, const struct cJSON *root, char *err, size_t errlen);
/* Free what config_upstream_parse made and zero *u. */
void config_upstream_free(struct config_upstream *u);
/* The deadlines (days) of committee: its own, else the defaults. */
void config_deadlines(const struct config *c, const char *committee, int *take_up_days,
                      int *close_days);
/* An absolute path inside the state directory (caller frees). */
char *config_state_path(const struct config *c, const char *rel);

#endif
