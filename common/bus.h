/* bus: the only module that talks to ZeroMQ.
 *
 * Patterns used by minyi:
 *   PUSH/PULL      collector -> router -> archiver, archiver -> collector (confirm)
 *   ROUTER         servers (submit, query, ctl) answering REQ or DEALER clients
 *   REQ            the minyi command (bus_request)
 *
 * A received message is all its frames.  For a ROUTER socket the frames up to
 * and including the last empty frame (REQ clients) -- or just the identity
 * frame (DEALER clients without a delimiter) -- are the envelope; the rest is
 * the body.  bus_reply copies the envelope so either kind of client gets its
 * answer.
 *
 * CURVE (tcp:// only; ipc:// is protected by the filesystem and SO_PEERCRED):
 * a context given keys with bus_set_curve uses them on every tcp:// socket it
 * opens -- a bind is a CURVE server with its own secret key, a connect a
 * client with its key pair and the server's public key -- except the
 * endpoints listed as plain ("insecure" in the config).  bus_opts.curve
 * overrides the context's keys for one socket (e.g. a link to another
 * organisation's server).  A process that binds CURVE sockets calls bus_zap:
 * every handshake is then put to its lookup, from bus_poll in the thread
 * that called bus_zap, and a client refused there never gets a message in.
 * An accepted client's messages carry its public key (Z85) in user_id, so
 * the code that decides looks the key up again at each request (a key
 * revoked after connecting loses its rights at its next request).
 *
 * Ownership: bus_new/bus_open return objects freed with bus_destroy(&b) /
 * bus_close(&s), which NULL the pointer.  A struct bus_msg owns its frames
 * until bus_msg_clear.  Functions return 0 / -1; on -1 errno is set
 * (EAGAIN: would block; ETIMEDOUT: no answer in time; EPROTO: malformed).
 */
#ifndef MINYI_BUS_H
#define MINYI_BUS_H
#include <stddef.h>

struct bus;
struct bus_sock;

enum bus_type { BUS_PUSH, BUS_PULL, BUS_ROUTER, BUS_DEALER, BUS_REQ };

#define BUS_KEY_LEN 40            /* a CURVE key as Z85 text */

/* CURVE keys, each BUS_KEY_LEN Z85 characters + NUL ("" when not used). */
struct bus_curve {
    char public_key[BUS_KEY_LEN + 1];  /* own public key (clients) */
    char secret_key[BUS_KEY_LEN + 1];  /* own secret key (servers and clients) */
    char server_key[BUS_KEY_LEN + 1];  /* the server's public key (clients) */
};

struct bus_opts {
    int hwm;                      /* send and receive high-water mark; 0 = default */
    int rcvhwm;                   /* the receive one instead, if > 0 */
    long maxmsgsize;              /* ZMQ_MAXMSGSIZE; 0 = unlimited */
    int linger_ms;                /* on close; default 0 */
    int shared;                   /* ipc:// bind: socket file 0770 (run/'s group may
                                     connect), else 0700 (the daemons' user only) */
    const struct bus_curve *curve;  /* tcp://: these keys instead of the context's
                                     (bus_set_curve); NULL: the context's */
    const char *zap_domain;       /* a CURVE server's ZAP domain, given to the lookup
                                     (e.g. "pipe"); NULL: "minyi" */
};

#define BUS_MAX_FRAMES 8
struct bus_msg {
    size_t nframes;               /* total frames received (may exceed BUS_MAX_FRAMES) */
    size_t nkept;                 /* frames kept in frame[] */
    size_t body;                  /* index of the first body frame in frame[] */
    struct { void *data; size_t size; } frame[BUS_MAX_FRAMES];
    long peer_uid;                /* ipc:// peer's Unix uid, -1 if not known */
    char user_id[64];             /* CURVE: the client's public key (Z85), or "" */
    int plain_tcp;                /* came in on a tcp:// socket without CURVE (an
                                     endpoint the config calls insecure) */
};

/* A ZeroMQ context; never NULL (aborts if ZeroMQ cannot start). */
struct bus *bus_new(void);
/* Close the context; every socket must be closed first. NULL-safe. */
void bus_destroy(struct bus **b);

/* Use curve (copied) on every tcp:// socket b opens from now on, except the
 * endpoints in plain (NULL-terminated list, copied; may be NULL).  curve
 * NULL: no CURVE at all (the default). */
void bus_set_curve(struct bus *b, const struct bus_curve *curve, const char *const *plain);

/* The ZAP lookup: may the client whose public key is client_key (Z85)
 * connect to a socket of ZAP domain `domain`?  Returns 0 (yes) or -1 with
 * a reason in why (the handshake fails; the client gets no connection).
 * client_key NULL: a client failed the handshake before any key was seen
 * (no CURVE, or the wrong server key); it is already refused, the lookup
 * only hears of it (to count and log). */
typedef int (*bus_zap_fn)(void *arg, const char *domain, const char *client_key, char *why,
                          size_t whylen);
/* Authenticate every CURVE handshake of b's server sockets with fn(arg, ...),
 * served inside bus_poll in the calling thread only.  Call once, before
 * opening the sockets.  0, or -1 with err. */
int bus_zap(struct bus *b, bus_zap_fn fn, void *arg, char *err, size_t errlen);

/* A new CURVE key pair (Z85 text, each BUS_KEY_LEN + 1 bytes).  0 / -1. */
int bus_curve_keypair(char *public_key, char *secret_key);
/* The public key of a secret key (Z85).  0, or -1 (not a key). */
int bus_curve_public(const char *secret_key, char *public_key);

/* Open a socket and bind (bind != 0) or connect it.  For ipc:// endpoints a
 * stale socket file is replaced on bind and the file's mode set (shared).
 * Binding tcp:// on every interface (0.0.0.0, *, [::]) logs a warning.  Returns NULL with "endpoint:
 * reason" in err. */
struct bus_sock *bus_open(struct bus *b, enum bus_type type, const char *endpoint,
                          int bind, const struct bus_opts *opts, char *err,
                          size_t errlen);
/* The endpoint s was last bound to (for tcp://127.0.0.1:*, with the port
 * chosen) into buf.  0 / -1. */
int bus_last_endpoint(struct bus_sock *s, char *buf, size_t len);
/* Close a socket; sets *s = NULL. NULL-safe. */
void bus_close(struct bus_sock **s);

/* Send one single-frame message. dontwait: fail with EAGAIN instead of
 * blocking at the high-water mark.  Returns 0 / -1. */
int bus_send(struct bus_sock *s, const void *data, size_t len, int dontwait);
/* Send one frame of a multipart message; the next bus_send ends it. 0 / -1. */
int bus_send_more(struct bus_sock *s, const void *data, size_t len);
/* Receive a whole message into m (cleared first).  dontwait as above.
 * Returns 0 / -1. */
int bus_recv(struct bus_sock *s, struct bus_msg *m, int dontwait);
/* The body of a received message: exactly one frame, else NULL (EPROTO). */
const void *bus_msg_body(const struct bus_msg *m, size_t *len);
/* Body frame k (0 first) of a multipart message, NUL-terminated, or NULL
 * (EPROTO); bus_msg_parts says how many there are. */
const void *bus_msg_part(const struct bus_msg *m, size_t k, size_t *len);
size_t bus_msg_parts(const struct bus_msg *m);
/* Free the frames of m. */
void bus_msg_clear(struct bus_msg *m);
/* Reply on a ROUTER socket to the sender of req. Returns 0 / -1 (a client
 * that went away or does not read is not an error worth more than a log). */
int bus_reply(struct bus_sock *s, const struct bus_msg *req, const void *data,
              size_t len);

/* Poll set: sockets and plain file descriptors. */
struct bus_poll {
    struct bus_sock *sock;        /* or NULL and fd >= 0 */
    int fd;
    int readable;                 /* out */
};
/* Wait up to timeout_ms (-1 forever) for any item to become readable.
 * Returns the number readable (0 on timeout or EINTR), -1 on error. */
int bus_poll(struct bus_poll *items, size_t n, long timeout_ms);

/* One request, one reply, from a fresh REQ socket: the minyi command's way
 * to talk to a daemon.  Returns 0 and a NUL-terminated *reply (caller frees),
 * or -1 with errno ETIMEDOUT when no answer came within timeout_ms. */
int bus_request(struct bus *b, const char *endpoint, const char *request,
                size_t len, long timeout_ms, char **reply, size_t *reply_len);

/* Remove the socket file of an ipc:// endpoint (after close). */
void bus_unlink(const char *endpoint);

#endif
