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

struct bus_opts {
    int hwm;                      /* send and receive high-water mark; 0 = default */
    int rcvhwm;                   /* the receive one instead, if > 0 */
    long maxmsgsize;              /* ZMQ_MAXMSGSIZE; 0 = unlimited */
    int linger_ms;                /* on close; default 0 */
    int shared;                   /* ipc:// bind: socket file 0770 (run/'s group may
                                     connect), else 0700 (the daemons' user only) */
};

#define BUS_MAX_FRAMES 8
struct bus_msg {
    size_t nframes;               /* total frames received (may exceed BUS_MAX_FRAMES) */
    size_t nkept;                 /* frames kept in frame[] */
    size_t body;                  /* index of the first body frame in frame[] */
    struct { void *data; size_t size; } frame[BUS_MAX_FRAMES];
    long peer_uid;                /* ipc:// peer's Unix uid, -1 if not known */
    char user_id[64];             /* CURVE: the name bus_zap's lookup gave, or "" */
};

/* A ZeroMQ context; never NULL (aborts if ZeroMQ cannot start). */
struct bus *bus_new(void);
/* Close the context; every socket must be closed first. NULL-safe. */
void bus_destroy(struct bus **b);

/* Open a socket and bind (bind != 0) or connect it.  For ipc:// endpoints a
 * stale socket file is replaced on bind and the file's mode set (shared).
 * Binding tcp:// on every interface (0.0.0.0, *, [::]) logs a warning.  Returns NULL with "endpoint:
 * reason" in err. */
struct bus_sock *bus_open(struct bus *b, enum bus_type type, const char *endpoint,
                          int bind, const struct bus_opts *opts, char *err,
                          size_t errlen);
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
