/* cli_up.c: `minyi up`, the supervisor.  Starts minyi-archiver, -router,
 * -collector and -web (found beside the minyi binary) with this config and
 * state directory, relays every line they write on stderr, prints one "minyi:
 * ready: ..." line (with the web door's URL) once all four have logged
 * theirs, restarts a daemon that dies (back-off 0.2 s doubling to 5 s, reset
 * after 30 s of running) unless it died within a second of its start 5 times
 * in a row (then it says why and leaves STATE/run/NAME.failed for minyi
 * status), and on
 * SIGINT/SIGTERM stops them all (SIGKILL after 10 s) and exits 0.  One
 * supervisor per state directory: STATE/run/minyi-up.lock is flock()ed.
 * Signals arrive through a signalfd, so the whole loop is one poll().
 * MINYI_WRAP, when set, is a command line every daemon runs under (e.g.
 * valgrind in the leak test). */
#include "cli.h"
#include "bus.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UP_MAXCHILD (3 + CONFIG_ROUTERS_MAX)   /* archiver, routers, collector, web */
#define UP_BACKOFF_MIN_MS 200
#define UP_BACKOFF_MAX_MS 5000
#define UP_STABLE_MS 30000        /* a child that ran this long starts afresh */
#define UP_STOP_MS 10000          /* SIGTERM, then SIGKILL after this */
#define UP_QUICK_MS 1000          /* a child that dies this soon after its start ... */
#define UP_QUICK_MAX 5            /* ... this many times in a row is not restarted */

struct up_child {
    const char *name;             /* "minyi-archiver" */
    int instance;                 /* a router's --instance (1..), else 0 */
    char instance_arg[12];
    char *path;                   /* the program, absolute */
    pid_t pid;                    /* 0: not running */
    int fd;                       /* read end of its stderr, or -1 */
    char line[4096];              /* the line being read */
    size_t len;
    int ready;                    /* logged ": ready" since it last started */
    int64_t started_ms, restart_ms;   /* restart_ms > 0: start again then */
    int backoff_ms;
    int quick;                    /* deaths within UP_QUICK_MS of start, in a row */
    char last_error[512];         /* its last "error:" line, for the give-up note */
};

struct up {
    struct cli *c;
    struct up_child child[UP_MAXCHILD]; /* in start order */
    int nchild;                   /* 3 + one router per endpoints.router_ctl */
    const char *config;           /* -c for the children */
    int sigfd, lockfd;
    char *pidfile;
    int stopping, killed, announced;
    int64_t stop_ms;              /* when to SIGKILL */
    char url[128];                /* the web door's, from its "listening on URL" line */
};

/* Notice a child's ready line. */
static void up_line(struct up *u, struct up_child *ch, const char *line, size_t len)
{
    const char *at = memmem(line, len, "listening on ", 13);
    if (at && !strcmp(ch->name, "minyi-web")) {
        at += 13;
        size_t n = strcspn(at, " \n");
        snprintf(u->url, sizeof u->url, "%.*s", (int)(n < len ? n : 0), at);
    }
    if (!ch->ready && memmem(line, len, ": ready", 7)) {
        ch->ready = 1;
        int all = 1;
        for (int i = 0; i < u->nchild; i++)
            all &= u->child[i].ready;
        if (all && !u->announced) {
            char *db = config_state_path(u->c->cfg, "archive.db");
            char *drop = config_state_path(u->c->cfg, "drop");
            printf("minyi: ready: drop folder %s, submit %s, archive %s, web %s\n", drop,
                   u->c->cfg->ep.submit, db, u->url[0] ? u->url : "?");
            fflush(stdout);
            u->announced = 1;
            free(db);
            free(drop);
        }
    }
}

/* Keep the text of a child's "PROG[PID]: error: TEXT" line, or of the
 * "PROG: TEXT" line a daemon that cannot start ends with. */
static void up_note_error(struct up_child *ch, const char *line, size_t len)
{
    size_t nlen = strlen(ch->name);
    const char *e = memmem(line, len, ": error: ", 9);
    if (e)
        e += 9;
    else if (len > nlen + 2 && !memcmp(line, ch->name, nlen) && !memcmp(line + nlen, ": ", 2))
        e = line + nlen + 2;
    else
        return;
    size_t n = len - (size_t)(e - line);
    if (n >= sizeof ch->last_error)
        n = sizeof ch->last_error - 1;
    memcpy(ch->last_error, e, n);
    ch->last_error[n] = '\0';
}

/* STATE/run/NAME.failed: why minyi up stopped restarting a daemon (minyi
 * status shows it; removed when the daemon is started again). */
static char *up_failed_path(const struct up *u, const struct up_child *ch)
{
    char *rel = xasprintf("run/%s.failed", ch->name);
    char *path = config_state_path(u->c->cfg, rel);
    free(rel);
    return path;
}

/* Read what the child wrote; relay whole lines.  At EOF close the pipe. */
static void up_read(struct up *u, struct up_child *ch)
{
    for (;;) {
        ssize_t n = read(ch->fd, ch->line + ch->len, sizeof ch->line - 1 - ch->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                if (ch->len > 0) {    /* a last line without a newline */
                    ch->line[ch->len++] = '\n';
                    log_relay(ch->line, ch->len);
                    up_line(u, ch, ch->line, ch->len);
                }
                close(ch->fd);
                ch->fd = -1;
                ch->len = 0;
            }
            return;
        }
        ch->len += (size_t)n;
        char *start = ch->line, *nl;
        while ((nl = memchr(start, '\n', ch->len - (size_t)(start - ch->line))) != NULL) {
            if (!ch->ready)
                up_line(u, ch, start, (size_t)(nl - start) + 1);
            up_note_error(ch, start, (size_t)(nl - start));
            start = nl + 1;
        }
        log_relay(ch->line, (size_t)(start - ch->line));   /* the whole lines at once */
        ch->len -= (size_t)(start - ch->line);
        memmove(ch->line, start, ch->len);
        if (ch->len == sizeof ch->line - 1) {     /* overlong: pass it on in pieces */
            ch->line[ch->len++] = '\n';
            log_relay(ch->line, ch->len);
            up_line(u, ch, ch->line, ch->len);
            ch->len = 0;
        }
    }
}

/* The collector answers members; the router and the archiver work through
 * what the collector has already made durable.  On a busy machine the
 * second two run at a lower priority, so a burst of routing and storing
 * never delays an acknowledgement (ack p99 in `make bench`). */
#define UP_BACKEND_NICE 5

/* fork + exec one daemon with its stderr on a pipe.  On failure the start
 * is retried like a death. */
static void up_start(struct up *u, struct up_child *ch)
{
    char *const args[] = {ch->path, "-c", (char *)u->config, "--state-dir",
                          u->c->cfg->state_dir, ch->instance ? "--instance" : NULL,
                          ch->instance_arg, NULL};
    /* MINYI_WRAP="valgrind ..." runs every daemon under a wrapper (tests) */
    const char *wrap = getenv("MINYI_WRAP");
    char *const wrapped[] = {"/bin/sh", "-c", "exec $MINYI_WRAP \"$0\" \"$@\"", ch->path,
                             "-c", (char *)u->config, "--state-dir", u->c->cfg->state_dir,
                             ch->instance ? "--instance" : NULL, ch->instance_arg, NULL};
    int p[2];
    char *failed = up_failed_path(u, ch);
    unlink(failed);
    free(failed);
    ch->restart_ms = 0;
    ch->ready = 0;
    ch->last_error[0] = '\0';
    ch->started_ms = daemon_mono_ms();
    if (pipe2(p, O_CLOEXEC) < 0 || (ch->pid = fork()) < 0) {
        fprintf(stderr, "minyi: up: cannot start %s: %s\n", ch->name, strerror(errno));
        ch->pid = 0;
        ch->restart_ms = ch->started_ms + UP_BACKOFF_MAX_MS;
        return;
    }
    if (ch->pid == 0) {               /* only async-signal-safe calls from here */
        sigset_t none;
        sigemptyset(&none);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGPIPE, &dfl, NULL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);  /* never outlive a killed supervisor */
        dup2(p[1], STDERR_FILENO);
        if (strcmp(ch->name, "minyi-collector") != 0 && strcmp(ch->name, "minyi-web") != 0)
            setpriority(PRIO_PROCESS, 0, UP_BACKEND_NICE);
        if (wrap && *wrap)
            execv(wrapped[0], wrapped);
        else
            execv(ch->path, args);
        _exit(127);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ch->fd = p[0];
}

/* A child died within a second of its start UP_QUICK_MAX times in a row:
 * restarting it again would only repeat its last words.  Say so, leave the
 * note for minyi status, and let the other daemons run on. */
static void up_give_up(struct up *u, struct up_child *ch, int status)
{
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    char *note = xasprintf("not restarted: it ended within %d ms of starting %d times in a "
                           "row (%s)%s%s", UP_QUICK_MS, ch->quick, how,
                           ch->last_error[0] ? ": " : "", ch->last_error);
    fprintf(stderr, "minyi: %s %s; fix the cause, then stop and start minyi up\n", ch->name,
            note);
    char *path = up_failed_path(u, ch);
    FILE *f = fopen(path, "we");
    if (f) {
        fprintf(f, "%s\n", note);
        fclose(f);
    }
    free(path);
    free(note);
    ch->restart_ms = 0;
}

/* A child ended: relay its last words, log, and schedule its restart. */
static void up_ended(struct up *u, struct up_child *ch, int status)
{
    int64_t now = daemon_mono_ms();
    if (ch->fd >= 0)
        up_read(u, ch);
    if (ch->fd >= 0) {                /* nothing more is coming from a dead child */
        close(ch->fd);
        ch->fd = -1;
        ch->len = 0;
    }
    ch->pid = 0;
    ch->ready = 0;
    if (u->stopping)
        return;
    ch->quick = now - ch->started_ms < UP_QUICK_MS ? ch->quick + 1 : 0;
    if (ch->quick >= UP_QUICK_MAX) {
        up_give_up(u, ch, status);
        return;
    }
    if (now - ch->started_ms >= UP_STABLE_MS || ch->backoff_ms == 0)
        ch->backoff_ms = UP_BACKOFF_MIN_MS;
    if (WIFSIGNALED(status))
        fprintf(stderr, "minyi: %s killed by signal %d, restarting in %.1f s\n", ch->name,
                WTERMSIG(status), ch->backoff_ms / 1000.0);
    else
        fprintf(stderr, "minyi: %s exited with status %d, restarting in %.1f s\n", ch->name,
                WEXITSTATUS(status), ch->backoff_ms / 1000.0);
    ch->restart_ms = now + ch->backoff_ms;
    ch->backoff_ms = ch->backoff_ms * 2 > UP_BACKOFF_MAX_MS ? UP_BACKOFF_MAX_MS
                                                            : ch->backoff_ms * 2;
}

static void up_reap(struct up *u)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        for (int i = 0; i < u->nchild; i++)
            if (u->child[i].pid == pid)
                up_ended(u, &u->child[i], status);
}

static void up_signal_all(struct up *u, int sig)
{
    for (int i = 0; i < u->nchild; i++)
        if (u->child[i].pid > 0)
            kill(u->child[i].pid, sig);
}

/* The stop took too long (or was asked twice): SIGKILL whoever is left. */
static void up_kill(struct up *u)
{
    for (int i = 0; i < u->nchild; i++)
        if (u->child[i].pid > 0) {
            fprintf(stderr, "minyi: %s did not stop, killing it\n", u->child[i].name);
            kill(u->child[i].pid, SIGKILL);
        }
    u->killed = 1;
}

/* SIGINT/SIGTERM: stop everything; a second one: SIGKILL at once. */
static void up_stop(struct up *u)
{
    if (u->stopping) {
        up_kill(u);
        return;
    }
    u->stopping = 1;
    u->stop_ms = daemon_mono_ms() + UP_STOP_MS;
    for (int i = 0; i < u->nchild; i++)
        u->child[i].restart_ms = 0;
    up_signal_all(u, SIGTERM);
}

static void up_signals(struct up *u)
{
    struct signalfd_siginfo si[8];
    ssize_t n = read(u->sigfd, si, sizeof si);
    int chld = 0;
    for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++) {
        if (si[i].ssi_signo == SIGINT || si[i].ssi_signo == SIGTERM)
            up_stop(u);
        else if (si[i].ssi_signo == SIGHUP)
            up_signal_all(u, SIGHUP);     /* e.g. the router reloads its rules */
        else if (si[i].ssi_signo == SIGCHLD)
            chld = 1;
    }
    if (chld)
        up_reap(u);
}

/* How long poll may sleep: until the next restart or the SIGKILL. */
static int up_timeout(const struct up *u, int64_t now)
{
    int64_t next = -1;
    for (int i = 0; i < u->nchild; i++)
        if (u->child[i].restart_ms > 0 && (next < 0 || u->child[i].restart_ms < next))
            next = u->child[i].restart_ms;
    if (u->stopping && !u->killed)
        next = u->stop_ms;
    return next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
}

/* 1 while there is something to wait for. */
static int up_running(const struct up *u)
{
    for (int i = 0; i < u->nchild; i++)
        if (u->child[i].pid > 0 || (u->stopping && u->child[i].fd >= 0))
            return 1;
    return !u->stopping;
}

static void up_loop(struct up *u)
{
    while (up_running(u)) {
        struct pollfd pfd[1 + UP_MAXCHILD];
        struct up_child *who[1 + UP_MAXCHILD];
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = u->sigfd, .events = POLLIN};
        for (int i = 0; i < u->nchild; i++)
            if (u->child[i].fd >= 0) {
                who[n] = &u->child[i];
                pfd[n++] = (struct pollfd){.fd = u->child[i].fd, .events = POLLIN};
            }
        if (poll(pfd, n, up_timeout(u, daemon_mono_ms())) < 0 && errno != EINTR)
            break;
        for (nfds_t i = 1; i < n; i++)
            if (pfd[i].revents)
                up_read(u, who[i]);
        if (pfd[0].revents)
            up_signals(u);
        int64_t now = daemon_mono_ms();
        for (int i = 0; i < u->nchild; i++)
            if (u->child[i].restart_ms > 0 && u->child[i].restart_ms <= now)
                up_start(u, &u->child[i]);
        if (u->stopping && !u->killed && now >= u->stop_ms)
            up_kill(u);
    }
}

/* Take STATE/run/minyi-up.lock and write STATE/run/minyi-up.pid. */
static int up_lock(struct up *u)
{
    struct cli *c = u->c;
    char err[512];
    if (config_make_state_dirs(c->cfg, err, sizeof err) < 0)
        return cli_fail(c, "%s", err);
    char *lock = config_state_path(c->cfg, "run/minyi-up.lock");
    u->lockfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
    int saved = errno;
    free(lock);
    if (u->lockfd < 0)
        return cli_fail(c, "%s/run/minyi-up.lock: %s", c->cfg->state_dir, strerror(saved));
    if (flock(u->lockfd, LOCK_EX | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? cli_fail(c, "already running for %s", c->cfg->state_dir)
                                    : cli_fail(c, "flock: %s", strerror(errno));
    u->pidfile = config_state_path(c->cfg, "run/minyi-up.pid");
    /* 0640 whatever the caller's umask; never through a planted link */
    int fd = open(u->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    FILE *f = fd >= 0 && fchmod(fd, 0640) == 0 ? fdopen(fd, "w") : NULL;
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
        int e = errno;
        if (!f && fd >= 0)
            close(fd);
        return cli_fail(c, "%s: %s", u->pidfile, strerror(e));
    }
    return CLI_EXIT_OK;
}

/* The daemons live beside this program.  Routers: the first nr of
 * endpoints.router_ctl run here; the rest run on other machines, each
 * started there as `minyi-router -c CONF --instance N`. */
static int up_programs(struct up *u, int nr)
{
    static const char *const names[4] = {"minyi-archiver", "minyi-router",
                                         "minyi-collector", "minyi-web"};
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return cli_fail(u->c, "/proc/self/exe: %s", strerror(errno));
    exe[n] = '\0';
    const char *dir = dirname(exe);
    u->nchild = 3 + nr;
    for (int i = 0; i < u->nchild; i++) {
        struct up_child *ch = &u->child[i];
        int k = i == 0 ? 0 : i <= nr ? 1 : i == nr + 1 ? 2 : 3;
        ch->name = names[k];
        ch->fd = -1;
        ch->path = xasprintf("%s/%s", dir, names[k]);
        if (k == 1) {                 /* one router per control socket */
            ch->instance = i;
            snprintf(ch->instance_arg, sizeof ch->instance_arg, "%d", i);
        }
        if (access(ch->path, X_OK) < 0)
            return cli_fail(u->c, "%s: %s (is it built? try `make`)", ch->path, strerror(errno));
    }
    return CLI_EXIT_OK;
}

/* Block the signals we handle and read them from a signalfd instead. */
static int up_signalfd(struct up *u)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    u->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return u->sigfd < 0 ? cli_fail(u->c, "signalfd: %s", strerror(errno)) : CLI_EXIT_OK;
}

static void up_cleanup(struct up *u)
{
    for (int i = 0; i < u->nchild; i++) {
        if (u->child[i].fd >= 0)
            close(u->child[i].fd);
        free(u->child[i].path);
    }
    if (u->pidfile)
        unlink(u->pidfile);
    free(u->pidfile);
    if (u->sigfd >= 0)
        close(u->sigfd);
    if (u->lockfd >= 0)
        close(u->lockfd);
}

int cli_up(struct cli *c, int argc, char **argv)
{
    struct up u = {.c = c, .sigfd = -1, .lockfd = -1};
    const char *routers = NULL;
    const struct cli_opt opts[] = {{"routers", 0, 1, &routers}, {NULL, 0, 0, NULL}};
    int n = cli_args(c, argc, argv, opts, NULL, 0, 0), rc;
    if (n < 0)
        return cli_args_done(c, n);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    long nr = cli_opt_num(c, "routers", routers, (long)c->cfg->nrouters, 0,
                          (long)c->cfg->nrouters);
    if (nr < 0)
        return CLI_EXIT_USAGE;
    bus_destroy(&c->bus);             /* no ZeroMQ threads across fork() */
    u.config = c->config_path ? c->config_path : c->cfg->path;
    if ((rc = up_programs(&u, (int)nr)) == CLI_EXIT_OK && (rc = up_lock(&u)) == CLI_EXIT_OK &&
        (rc = up_signalfd(&u)) == CLI_EXIT_OK) {
        for (int i = 0; i < u.nchild; i++)
            up_start(&u, &u.child[i]);
        up_loop(&u);
    }
    up_cleanup(&u);
    return rc;
}
