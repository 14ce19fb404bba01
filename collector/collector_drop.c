/* collector_drop.c: the drop folder: watching, walking, taking files up.
 * Decoding is collector_decode.c's, setting aside and removing
 * collector_drop_end.c's; spooling and the roster are the collector's.
 *
 * Work list: inotify events and full walks put relative names on one FIFO
 * queue; drop_scan takes up to `max` from it.  A full walk replaces the
 * queue with a fresh listing (it is a superset), so a 10,000-file backlog is
 * listed once per walk and taken in slices.  drop_fd is an epoll descriptor
 * over the inotify descriptor and a timerfd; the timer fires at once while
 * the queue still holds names and when a deferred file (see below) is due,
 * so "readable" always means "call drop_scan(d, 0, ...)".
 *
 * A file still being written: a read lease (F_SETLEASE F_RDLCK) fails with
 * EAGAIN while anyone has it open for writing; we skip it until its
 * IN_CLOSE_WRITE.  Where leases are not permitted (another user's file, some
 * file systems), a file modified in the last second is retried when that
 * second is over.  SIGIO (sent on a lease break) is ignored unless handled:
 * by default it would kill the daemon.
 */
#include "collector_drop.h"
#include "collector_decode.h"
#include "collector_drop_end.h"
#include "daemon.h"
#include "log.h"
#include "report.h"
#include "xmalloc.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define DROP_REJECTED "rejected"
#define DROP_SETTLE_MS 1000       /* without leases: a file this fresh may be in use */
#define DROP_WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
                         IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
#define DROP_BAD_NAME "unexpected name: expected NAME.json or MEMBER/NAME.txt"

struct drop_watch {
    int wd;
    char *member;                 /* NULL for drop/ itself */
};

struct drop_defer {
    char *rel;
    int64_t due_ms;               /* monotonic */
};

struct drop {
    char *dir;
    int dirfd, rejfd, ifd, tfd, efd;
    size_t max_bytes;
    char *buf;                    /* max_bytes + 1 */
    struct drop_watch *watches;
    size_t nwatches;
    char **queue;                 /* owned names, queue[qhead..qtail) pending */
    size_t qhead, qtail, qcap;
    struct drop_defer *defer;
    size_t ndefer;
    int need_walk;
};

/* Names left alone until renamed: editors', rsync's and scp's temporaries. */
static int drop_ignored(const char *name, size_t len)
{
    static const char *const ends[] = {".tmp", ".part", "~"};
    if (len == 0 || name[0] == '.')
        return 1;
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t n = strlen(ends[i]);
        if (len >= n && memcmp(name + len - n, ends[i], n) == 0)
            return 1;
    }
    return 0;
}

/* 1 if rel (or its MEMBER part) is a name to leave alone. */
static int drop_ignored_rel(const char *rel)
{
    const char *slash = strchr(rel, '/');
    if (!slash)
        return drop_ignored(rel, strlen(rel)) || strcmp(rel, DROP_REJECTED) == 0;
    return drop_ignored(rel, (size_t)(slash - rel)) ||
           strncmp(rel, DROP_REJECTED "/", sizeof DROP_REJECTED) == 0 ||
           drop_ignored(slash + 1, strlen(slash + 1));
}

static int drop_has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* ---- the work queue ---------------------------------------------------- */

static void drop_push(struct drop *d, char *rel)
{
    if (drop_ignored_rel(rel)) {
        free(rel);
        return;
    }
    if (d->qtail == d->qcap) {
        if (d->qhead > 0) {
            memmove(d->queue, d->queue + d->qhead, (d->qtail - d->qhead) * sizeof *d->queue);
            d->qtail -= d->qhead;
            d->qhead = 0;
        } else {
            d->qcap = d->qcap ? 2 * d->qcap : 64;
            d->queue = xrealloc(d->queue, d->qcap * sizeof *d->queue);
        }
    }
    d->queue[d->qtail++] = rel;
}

static char *drop_pop(struct drop *d)
{
    if (d->qhead == d->qtail) {
        d->qhead = d->qtail = 0;
        return NULL;
    }
    return d->queue[d->qhead++];
}

static void drop_queue_clear(struct drop *d)
{
    char *rel;
    while ((rel = drop_pop(d)))
        free(rel);
}

/* Put rel aside until due_ms (once: a second deferral replaces the first). */
static void drop_defer(struct drop *d, const char *rel, int64_t due_ms)
{
    for (size_t i = 0; i < d->ndefer; i++)
        if (strcmp(d->defer[i].rel, rel) == 0) {
            d->defer[i].due_ms = due_ms;
            return;
        }
    d->defer = xrealloc(d->defer, (d->ndefer + 1) * sizeof *d->defer);
    d->defer[d->ndefer].rel = xstrdup(rel);
    d->defer[d->ndefer++].due_ms = due_ms;
}

/* Move deferred names whose time has come back to the queue. */
static void drop_undefer(struct drop *d)
{
    int64_t now = daemon_mono_ms();
    size_t kept = 0;
    for (size_t i = 0; i < d->ndefer; i++) {
        if (d->defer[i].due_ms <= now)
            drop_push(d, d->defer[i].rel);
        else
            d->defer[kept++] = d->defer[i];
    }
    d->ndefer = kept;
}

/* Arm the timer: now if asked or names wait, else at the first deferral. */
static void drop_timer_arm(struct drop *d, int at_once)
{
    struct itimerspec its = {0};
    if (at_once || d->qhead < d->qtail) {
        its.it_value.tv_nsec = 1;
    } else if (d->ndefer > 0) {
        int64_t due = d->defer[0].due_ms, wait;
        for (size_t i = 1; i < d->ndefer; i++)
            if (d->defer[i].due_ms < due)
                due = d->defer[i].due_ms;
        wait = due - daemon_mono_ms();
        its.it_value.tv_sec = wait > 0 ? wait / 1000 : 0;
        its.it_value.tv_nsec = wait > 0 ? (long)(wait % 1000) * 1000000 + 1 : 1;
    }
    timerfd_settime(d->tfd, 0, &its, NULL);
}

/* ---- watches and walks ------------------------------------------------- */

static struct drop_watch *drop_watch_find(struct drop *d, int wd)
{
    for (size_t i = 0; i < d->nwatches; i++)
        if (d->watches[i].wd == wd)
            return &d->watches[i];
    return NULL;
}

/* Watch drop/member (NULL: drop/ itself, which may be reached by a link).
 * A folder already watched keeps its watch under its current name.  0 / -1
 * (logged unless the folder is already gone). */
static int drop_watch_add(struct drop *d, const char *member)
{
    char *path = member ? xasprintf("%s/%s", d->dir, member) : xstrdup(d->dir);
    int wd = inotify_add_watch(d->ifd, path,
                               member ? DROP_WATCH_MASK : DROP_WATCH_MASK & ~IN_DONT_FOLLOW);
    if (wd < 0) {
        if (errno != ENOENT || !member)
            log_warn("%s: cannot watch: %s (the periodic rescan still sees it)", path,
                     strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    struct drop_watch *w = drop_watch_find(d, wd);
    if (!w) {
        d->watches = xrealloc(d->watches, (d->nwatches + 1) * sizeof *d->watches);
        w = &d->watches[d->nwatches++];
        w->wd = wd;
        w->member = NULL;
    }
    free(w->member);
    w->member = xstrdup(member);
    return 0;
}

static void drop_watch_forget(struct drop *d, int wd)
{
    struct drop_watch *w = drop_watch_find(d, wd);
    if (!w)
        return;
    free(w->member);
    *w = d->watches[--d->nwatches];
}

/* drop/member (NULL: drop/ itself) opened for listing, or NULL (logged,
 * unless a member folder is simply gone). */
static DIR *drop_opendir(struct drop *d, const char *member)
{
    int fd = openat(d->dirfd, member ? member : ".",
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        if (saved != ENOENT || !member)
            log_error("%s/%s: cannot list: %s", d->dir, member ? member : "",
                      strerror(saved));
    }
    return dir;
}

/* A member folder appeared or is walked: watch it first, then list it, so
 * that nothing written in between is missed.  (drop_push drops "." and "..") */
static void drop_list_member(struct drop *d, const char *member)
{
    DIR *dir;
    struct dirent *e;
    if (drop_ignored(member, strlen(member)) || strcmp(member, DROP_REJECTED) == 0)
        return;
    drop_watch_add(d, member);
    if (!(dir = drop_opendir(d, member)))
        return;
    while ((e = readdir(dir)))
        drop_push(d, xasprintf("%s/%s", member, e->d_name));
    closedir(dir);
}

/* List the whole folder (not rejected/) into a fresh queue.  0 / -1. */
static int drop_walk(struct drop *d)
{
    DIR *dir = drop_opendir(d, NULL);
    struct dirent *e;
    if (!dir)
        return -1;
    drop_queue_clear(d);
    while ((e = readdir(dir))) {
        struct stat st;
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN)
            is_dir = fstatat(d->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                     S_ISDIR(st.st_mode);
        if (is_dir)
            drop_list_member(d, e->d_name);
        else
            drop_push(d, xstrdup(e->d_name));
    }
    closedir(dir);
    return 0;
}

static void drop_event(struct drop *d, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        log_warn("%s: too many events at once: walking the whole folder", d->dir);
        d->need_walk = 1;
        return;
    }
    struct drop_watch *w = drop_watch_find(d, ev->wd);
    if (!w)
        return;
    if (ev->mask & IN_IGNORED) {
        if (!w->member)
            log_error("%s: the drop folder is gone", d->dir);
        drop_watch_forget(d, ev->wd);
        return;
    }
    if (ev->len == 0 || !ev->name[0])
        return;
    if ((ev->mask & IN_MOVED_FROM) && (ev->mask & IN_ISDIR) && !w->member) {
        for (size_t i = 0; i < d->nwatches; i++)    /* a member folder left */
            if (d->watches[i].member && strcmp(d->watches[i].member, ev->name) == 0)
                inotify_rm_watch(d->ifd, d->watches[i].wd);   /* IN_IGNORED follows */
    } else if (ev->mask & IN_MOVED_FROM) {
        return;
    } else if (w->member) {
        drop_push(d, xasprintf("%s/%s", w->member, ev->name));
    } else if (ev->mask & IN_ISDIR) {
        drop_list_member(d, ev->name);
    } else {
        drop_push(d, xstrdup(ev->name));
    }
}

/* Read every pending inotify event. */
static void drop_read_events(struct drop *d)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(d->ifd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                log_warn("%s: inotify: %s", d->dir, strerror(errno));
            return;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            drop_event(d, ev);
            p += sizeof *ev + ev->len;
        }
    }
}

/* ---- taking one file --------------------------------------------------- */

static int drop_fail(struct report_error *err, enum report_reason reason, const char *detail)
{
    err->reason = reason;
    xstrlcpy(err->detail, detail, sizeof err->detail);
    return -1;
}

/* Whether a file of this type and name may be read: 0, or -1 with err. */
static int drop_check_kind(const struct stat *st, int nested, const char *name,
                           struct report_error *err)
{
    if (S_ISLNK(st->st_mode))
        return drop_fail(err, REPORT_BAD_FIELD, "symbolic link, not followed");
    if (S_ISDIR(st->st_mode))
        return drop_fail(err, REPORT_BAD_FIELD, "folder too deep");
    if (!S_ISREG(st->st_mode))
        return drop_fail(err, REPORT_BAD_FIELD,
                         S_ISFIFO(st->st_mode)   ? "not a regular file (fifo)"
                         : S_ISSOCK(st->st_mode) ? "not a regular file (socket)"
                                                 : "not a regular file (device)");
    if (!drop_has_ext(name, nested ? ".txt" : ".json"))
        return drop_fail(err, REPORT_BAD_FIELD, DROP_BAD_NAME);
    return 0;
}

/* May fd be read now?  1 yes under a lease, 0 yes without one, -1 not yet
 * (still open for writing, or deferred because it is too fresh). */
static int drop_lease(struct drop *d, int fd, const struct stat *st, const char *rel)
{
    if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
        return 1;
    if (errno == EAGAIN) {
        log_debug("drop/%s: still open for writing, skipped", rel);
        return -1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age = (now.tv_sec - st->st_mtim.tv_sec) * 1000 +
                  (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
    if (age < 0 || age >= DROP_SETTLE_MS)
        return 0;
    log_debug("drop/%s: modified %lld ms ago, deferred", rel, (long long)age);
    drop_defer(d, rel, daemon_mono_ms() + DROP_SETTLE_MS - age);
    return -1;
}

/* Read at most max_bytes + 1 bytes of fd into d->buf.  Length, or -1. */
static ssize_t drop_read(struct drop *d, int fd)
{
    size_t got = 0;
    ssize_t n = 1;
    while (got <= d->max_bytes && n != 0) {
        n = read(fd, d->buf + got, d->max_bytes + 1 - got);
        if (n < 0 && errno != EINTR)
            return -1;
        got += n > 0 ? (size_t)n : 0;
    }
    return (ssize_t)got;
}

/* Open rel without following links or blocking.  fd, or -1: with err set
 * when the file is to be rejected, else (gone, changed, busy) to be skipped. */
static int drop_open_file(struct drop *d, struct drop_file *f, struct report_error *err)
{
    struct stat st;
    int fd = openat(d->dirfd, f->rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP && fstatat(d->dirfd, f->rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            f->dev = st.st_dev, f->ino = st.st_ino;   /* set aside the link, not the file */
            return drop_fail(err, REPORT_BAD_FIELD, "symbolic link, not followed");
        }
        if (errno == EACCES || errno == EPERM)
            return drop_fail(err, REPORT_INTERNAL, "the collector may not read this file");
        if (errno != ENOENT)
            log_warn("drop/%s: cannot open: %s", f->rel, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino) {
        log_debug("drop/%s: replaced while opening, skipped", f->rel);   /* its event follows */
        close(fd);
        return -1;
    }
    return fd;
}

/* Read, decode and parse a regular file.  1 if handed to take(), else 0. */
static int drop_take_file(struct drop *d, struct drop_file *f, const struct stat *st,
                          drop_take_fn take, void *arg)
{
    struct report_error err = {REPORT_OK, ""};
    struct report *r = NULL;
    const char *slash = strchr(f->rel, '/');
    int fd = drop_open_file(d, f, &err);
    if (fd < 0 && err.reason == REPORT_OK)
        return 0;
    if (fd >= 0) {
        int lease = drop_lease(d, fd, st, f->rel);
        ssize_t n = lease < 0 ? 0 : drop_read(d, fd);
        if (lease == 1)
            fcntl(fd, F_SETLEASE, F_UNLCK);
        close(fd);
        if (lease < 0)
            return 0;
        if (n < 0) {
            log_warn("drop/%s: cannot read: %s", f->rel, strerror(errno));
            return 0;
        }
        char *member = slash ? xstrndup(f->rel, (size_t)(slash - f->rel)) : NULL;
        collector_decode_report(slash ? COLLECTOR_DECODE_TEXT : COLLECTOR_DECODE_JSON,
                                member, d->buf, (size_t)n, d->max_bytes, &r, &err);
        free(member);
    }
    take(arg, f, r, r ? NULL : &err);
    return 1;
}

/* Take one queued name.  1 if handed to take(), 0 if skipped. */
static int drop_take_one(struct drop *d, const char *rel, drop_busy_fn busy,
                         drop_take_fn take, void *arg)
{
    struct stat st;
    struct report_error err = {REPORT_OK, ""};
    const char *slash = strchr(rel, '/');
    if (busy && busy(arg, rel)) {
        log_debug("drop/%s: in flight, skipped", rel);
        return 0;
    }
    if (fstatat(d->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            log_warn("drop/%s: %s", rel, strerror(errno));
        return 0;
    }
    if (!slash && S_ISDIR(st.st_mode))
        return 0;                     /* a member folder: listed, not taken */
    struct drop_file f = {rel, st.st_dev, st.st_ino, st.st_uid};
    if (drop_check_kind(&st, slash != NULL, slash ? slash + 1 : rel, &err) < 0) {
        take(arg, &f, NULL, &err);
        return 1;
    }
    return drop_take_file(d, &f, &st, take, arg);
}

int drop_scan(struct drop *d, int full, size_t max, drop_busy_fn busy, drop_take_fn take,
              void *arg)
{
    uint64_t ticks;
    int rc = 0;
    size_t n = 0;
    char *rel;
    if (read(d->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        log_warn("%s: timerfd: %s", d->dir, strerror(errno));
    drop_read_events(d);
    drop_undefer(d);
    if (full || d->need_walk) {
        rc = drop_walk(d);
        d->need_walk = rc < 0;
    }
    while (n < max && (rel = drop_pop(d))) {
        n += (size_t)drop_take_one(d, rel, busy, take, arg);
        free(rel);
    }
    drop_timer_arm(d, 0);
    return rc < 0 ? -1 : (int)n;
}

int drop_reject(struct drop *d, const struct drop_file *f, const struct report_error *err)
{
    return drop_end_reject(d->dirfd, d->rejfd, d->dir, f, err);
}

int drop_remove(struct drop *d, const char *rel, dev_t dev, ino_t ino)
{
    return drop_end_remove(d->dirfd, rel, dev, ino);
}

/* ---- the handle -------------------------------------------------------- */

static int drop_open_fds(struct drop *d, char *err, size_t errlen)
{
    struct epoll_event ev = {.events = EPOLLIN};
    const char *what = "";
    if ((d->dirfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        what = "";
    else if ((mkdirat(d->dirfd, DROP_REJECTED, 0770) < 0 && errno != EEXIST) ||
             (d->rejfd = openat(d->dirfd, DROP_REJECTED,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        what = DROP_REJECTED;
    else if ((d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        what = "inotify";
    else if ((d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
             (d->efd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
             epoll_ctl(d->efd, EPOLL_CTL_ADD, d->ifd, &ev) < 0 ||
             epoll_ctl(d->efd, EPOLL_CTL_ADD, d->tfd, &ev) < 0)
        what = "timer";
    else if (drop_watch_add(d, NULL) < 0)
        what = "inotify watch";
    else
        return 0;
    snprintf(err, errlen, "%s: %s%s%s", d->dir, what, *what ? ": " : "", strerror(errno));
    return -1;
}

int drop_open(const char *dir, size_t max_bytes, struct drop **out, char *err,
              size_t errlen)
{
    struct drop *d = xcalloc(1, sizeof *d);
    struct sigaction sa;
    d->dir = xstrdup(dir);
    d->max_bytes = max_bytes;
    d->buf = xmalloc(max_bytes + 1);
    d->dirfd = d->rejfd = d->ifd = d->tfd = d->efd = -1;
    d->need_walk = 1;               /* the first scan lists what is already there */
    *out = NULL;
    if (drop_open_fds(d, err, errlen) < 0) {
        drop_close(&d);
        return -1;
    }
    if (sigaction(SIGIO, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGIO, SIG_IGN);     /* a lease break must not kill us */
    drop_timer_arm(d, 1);           /* readable at once: the first walk is due */
    *out = d;
    return 0;
}

void drop_close(struct drop **dp)
{
    struct drop *d = dp ? *dp : NULL;
    if (!d)
        return;
    int fds[] = {d->dirfd, d->rejfd, d->ifd, d->tfd, d->efd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    drop_queue_clear(d);
    free(d->queue);
    for (size_t i = 0; i < d->ndefer; i++)
        free(d->defer[i].rel);
    free(d->defer);
    for (size_t i = 0; i < d->nwatches; i++)
        free(d->watches[i].member);
    free(d->watches);
    free(d->buf);
    free(d->dir);
    free(d);
    *dp = NULL;
}

int drop_fd(const struct drop *d)
{
    return d ? d->efd : -1;
}
