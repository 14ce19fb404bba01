/* proto: every message between minyi's processes and its clients, and the
 * only code that builds or reads their frames (proto.c: the pipes and
 * submit; proto_request.c: requests and replies).  docs/protocol.md is its
 * page: sockets, frames, fields, replies and error codes, with examples.
 *
 *   route    collector PUSH -> router PULL       one frame: the report's wire
 *            JSON (report_encode), "v" first
 *   archive  router PUSH -> archiver PULL        six frames: the version, the
 *            route frame as received, committee, tags JSON, best topic,
 *            best category (the last two empty when nothing matched)
 *            route and archive each have a large lane for messages over 8 KB
 *   confirm  archiver PUSH -> collector PULL     {"v", "confirm": [ID...]}
 *   submit   client REQ/DEALER -> collector ROUTER: one report object (no
 *            version: SPEC.md's report is the contract);
 *            reply {"v", "ok": true, "id" [, "duplicate": true]}
 *   request  minyi REQ -> archiver (query) / collector, router (ctl) ROUTER:
 *            {"v", "cmd", fields...}; reply {"v", "ok": true, ...} or
 *            {"v", "ok": false, "error": CODE, "detail": TEXT}
 *
 * Versions.  Every message but the submit request carries PROTO_VERSION:
 * the "v" member of a JSON message (absent means 1, the format before
 * versions were checked), the first frame of an archive message (an old,
 * version-1 archive message is the same five frames without it).  Encoders write PROTO_VERSION; decoders
 * accept PROTO_VERSION_MIN..PROTO_VERSION, so a daemon of this release and
 * one of the release before it understand each other during a rolling
 * upgrade.  Anything else is refused with PROTO_BAD_VERSION and the peer's
 * version, never half-understood; proto_refused logs it once per socket and
 * version and counts it.  Bump PROTO_VERSION whenever a message changes.
 *
 * Decoders are strict: the frame count, every member's name and type,
 * required members, lengths; a refusal says why (struct proto_error).
 *
 * Ownership: an encoder returns text the caller frees; a decoded struct owns
 * what it points to until its _clear (pointers into a struct bus_msg are
 * borrowed from it and documented as such).
 */
#ifndef MINYI_PROTO_H
#define MINYI_PROTO_H
#include "bus.h"
#include "report.h"
#include <stddef.h>

struct proto_reply;

#ifndef PROTO_VERSION
#define PROTO_VERSION 2           /* bumped whenever a message changes */
#endif
#ifndef PROTO_VERSION_MIN
#define PROTO_VERSION_MIN 1       /* the oldest still understood */
#endif

#define PROTO_TOPIC_MAX 256       /* bytes of the best topic / category frames */

enum proto_reason {
    PROTO_OK = 0,
    PROTO_BAD_VERSION,            /* a version this side does not speak */
    PROTO_BAD_FRAMES,             /* wrong number of frames, or an empty one */
    PROTO_BAD_JSON,               /* not one JSON object */
    PROTO_UNKNOWN_FIELD,          /* a member this message does not have */
    PROTO_MISSING_FIELD,          /* a required member absent */
    PROTO_BAD_FIELD,              /* a member of the wrong type, length or form */
};

struct proto_error {
    enum proto_reason reason;
    int version;                  /* the peer's version, when known (else 0) */
    char detail[256];             /* one sentence, no newline */
};

/* The reply code for a reason: "bad_version", "bad_request" (others). */
const char *proto_reason_code(enum proto_reason reason);

/* ---- refusals: logged once per socket and version, all counted ---- */

enum proto_chan { PROTO_CH_ROUTE, PROTO_CH_ARCHIVE, PROTO_CH_CONFIRM, PROTO_CH_QUERY,
                  PROTO_CH_CTL, PROTO_CH_COUNT };

struct proto_peers {
    unsigned long refused;        /* messages of a version not spoken (status) */
    unsigned logged[PROTO_CH_COUNT];  /* versions already logged, one bit each */
};

/* Count a refusal of e on ch; the first one of e->version on ch logs
 * "-: CHANNEL: peer speaks protocol N, this daemon M". */
void proto_refused(struct proto_peers *p, enum proto_chan ch, const struct proto_error *e);

/* ---- route: collector -> router ---- */

/* The route message for r: report_encode(r) (caller frees), the text the
 * collector spools and sends as it is. */
char *proto_route_encode(const struct report *r);
/* Send one route message (text as proto_route_encode made it).  dontwait:
 * EAGAIN at the high-water mark.  0 / -1 with errno. */
int proto_route_send(struct bus_sock *s, const char *text, size_t len, int dontwait);

struct proto_route {
    int version;
    const char *text;             /* the frame, borrowed from the bus_msg */
    size_t len;
    struct report *r;             /* owned; not validated (a daemon wrote it) */
};
/* Decode a route message.  0, or -1 with err (x is then empty). */
int proto_route_decode(const struct bus_msg *m, struct proto_route *x, struct proto_error *err);
/* Free x->r; NULL-safe. */
void proto_route_clear(struct proto_route *x);

/* ---- archive: router -> archiver ---- */

/* Send the archive message for route message `route` (as received) that
 * was classified into r: committee, tags JSON (`tags`, tlen bytes), best tag.
 * Blocks at the high-water mark; a signal retries unless stop() says to
 * stop (stop may be NULL).  0 / -1 with errno. */
int proto_archive_send(struct bus_sock *s, const struct proto_route *route,
                       const struct report *r, const char *tags, size_t tlen,
                       int (*stop)(void));

struct proto_archive {
    int version;
    size_t bytes;                 /* the message's size, all frames (set even on -1) */
    struct report *r;             /* owned, validated, with id and committee */
    char *tags;                   /* owned: the tags JSON, stored as it is */
    char *topic, *category;       /* owned: the best tag's, or NULL */
};
/* Decode an archive message.  0, or -1 with err; x->r may hold the report
 * (for its id in a log line) when a later frame was refused. */
int proto_archive_decode(const struct bus_msg *m, struct proto_archive *x,
                         struct proto_error *err);
/* Free everything in x and zero it; NULL-safe. */
void proto_archive_clear(struct proto_archive *x);

/* ---- confirm: archiver -> collector ---- */

/* Which archive confirms: its generation (made when it was created) and
 * the transactions it has committed -- so that the collector sees an
 * archive replaced or restored from an older copy (collector_epoch.h). */
struct proto_epoch {
    const char *generation;       /* 1-32 lowercase hex digits */
    long long commits;
};
/* {"v", "confirm": ids [, "archive": {"generation", "commits"}]} (e may be
 * NULL; caller frees).  An empty ids with e tells the collector which
 * archive it now feeds (the archiver's first message). */
char *proto_confirm_encode(const char *const *ids, size_t n, const struct proto_epoch *e);
/* Send proto_confirm_encode(ids, n, e) without blocking.  0 / -1 with errno. */
int proto_confirm_send(struct bus_sock *s, const char *const *ids, size_t n,
                       const struct proto_epoch *e);

struct proto_confirm {
    int version;
    size_t n;
    const char **ids;             /* owned array; the strings live in tree */
    int has_epoch;                /* "archive" was there (not from older archivers) */
    struct proto_epoch epoch;     /* its generation lives in tree */
    struct cJSON *tree;
};
/* Decode a confirmation; every id must be a report id.  0 / -1 with err. */
int proto_confirm_decode(const struct bus_msg *m, struct proto_confirm *c,
                         struct proto_error *err);
/* Free c's contents; NULL-safe. */
void proto_confirm_clear(struct proto_confirm *c);

/* ---- submit: client -> collector ---- */

/* Decode a submit request: one frame, one report object exactly as SPEC.md
 * says (report_parse_submission).  It carries no version: the report's
 * fields are the user contract, and "v", a field minyi writes, is refused
 * like the others.  0 and *out (caller frees), or -1 with err (the SPEC
 * reason code). */
int proto_submit_decode(const struct bus_msg *m, size_t max_bytes, struct report **out,
                        struct report_error *err);
/* The submit reply: accepted (err NULL or err->reason REPORT_OK) with id
 * and duplicate, or refused with err's code and detail.  Caller frees. */
char *proto_submit_reply(const char *id, int duplicate, const struct report_error *err);

/* Pipelined submit over a DEALER socket: [tag][""][report], where tag
 * (any bytes, e.g. a sequence number) comes back in front of the reply so
 * that answers can be matched to requests.  0 / -1 with errno. */
int proto_submit_send(struct bus_sock *s, const void *tag, size_t taglen, const char *report,
                      size_t len);
/* Decode a reply received on such a DEALER socket: *tag points at the
 * echoed tag in m (borrowed).  0, or -1 with err. */
int proto_submit_reply_decode(const struct bus_msg *m, const void **tag, size_t *taglen,
                              struct proto_reply *r, struct proto_error *err);

/* ---- requests: minyi -> archiver (query), collector and router (ctl) ---- */

enum proto_cmd {
    PROTO_CMD_NONE = 0,
    PROTO_CMD_PULL, PROTO_CMD_QUEUE, PROTO_CMD_ACK, PROTO_CMD_RELEASE,
    PROTO_CMD_REASSIGN, PROTO_CMD_SHOW, PROTO_CMD_AUDIT, PROTO_CMD_IMPORT,
    PROTO_CMD_HISTORY, PROTO_CMD_STATUS, PROTO_CMD_RELOAD, PROTO_CMD_CHECK,
    PROTO_CMD_BACKUP,             /* archiver_upkeep.c answers it when the copy ends */
    PROTO_CMD_MINE,               /* a member's own reports (minyi mine, the web door) */
    PROTO_CMD_OVERDUE,
    PROTO_CMD_COUNT
};

/* One request.  Strings are NULL and numbers 0 when absent; which members
 * each command has (and needs) is proto.c's table, docs/protocol.md's. */
struct proto_request {
    int version;
    enum proto_cmd cmd;
    const char *committee, *id, *outcome, *note, *who, *month, *since_id;
    const char *after;            /* queue: list after this report (the next page) */
    const char *path;             /* backup: the copy's absolute path */
    const char *member;           /* mine: the roster id */
    long limit, lease;            /* whole numbers >= 1 */
    struct cJSON *reports;        /* import: an array of report objects */
    struct cJSON *tree;           /* decoded: owns all of the above */
};

/* The command's name ("pull", ...), or "?" */
const char *proto_cmd_name(enum proto_cmd cmd);
/* The request's JSON text (caller frees); q->reports is borrowed. */
char *proto_request_encode(const struct proto_request *q);
/* Decode JSON text into q.  0, or -1 with err (q empty). */
int proto_request_decode(const char *buf, size_t len, struct proto_request *q,
                         struct proto_error *err);
/* The same for a received message: exactly one body frame. */
int proto_request_decode_msg(const struct bus_msg *m, struct proto_request *q,
                             struct proto_error *err);
/* Free q's tree and zero q; NULL-safe. */
void proto_request_clear(struct proto_request *q);

/* ---- replies ---- */

/* {"v", "ok": true} and the members of o (consumed; NULL for none).
 * Caller frees the text. */
char *proto_reply_ok(struct cJSON *o);
/* {"v", "ok": false, "error": code, "detail": ...}.  Caller frees. */
char *proto_reply_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The refusal of a request that did not decode (code from err). */
char *proto_reply_refusal(const struct proto_error *err);
/* Answer the sender of req on a ROUTER socket.  0 / -1 with errno. */
int proto_reply_send(struct bus_sock *s, const struct bus_msg *req, const char *text);

struct proto_reply {
    int version;
    int ok;
    const char *error, *detail;   /* when !ok, in tree */
    struct cJSON *tree;           /* the whole reply; members beside "v" and "ok" */
};
/* Decode a reply.  0, or -1 with err.  An {"ok": false} reply decodes. */
int proto_reply_decode(const char *buf, size_t len, struct proto_reply *r,
                       struct proto_error *err);
/* Free r's tree and zero r; NULL-safe. */
void proto_reply_clear(struct proto_reply *r);

/* One request and its reply over a fresh REQ socket.  0 and r, or -1:
 * errno ETIMEDOUT (no answer in time) or EPROTO (a reply that does not
 * decode, err says why). */
int proto_call(struct bus *b, const char *endpoint, const struct proto_request *q,
               long timeout_ms, struct proto_reply *r, struct proto_error *err);
/* The same for a submit request: report is the member's JSON text. */
int proto_submit_call(struct bus *b, const char *endpoint, const char *report, size_t len,
                      long timeout_ms, struct proto_reply *r, struct proto_error *err);

#endif
