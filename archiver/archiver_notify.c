/* archiver_notify.c: runs supervision.notify for overdue reports as child
 * processes (posix_spawnp: argv, never a shell), never waiting for one.
 * See archiver_notify.h.
 */
#include "archiver_notify.h"
#include "archiver_store.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

struct notify_child {
    pid_t pid;                    /* 0: free slot */
    char id[64];
    int64_t deadline_ms;          /* monotonic: killed after */
};

struct notify {
    struct notify_child kids[NOTIFY_CHILDREN];
};

struct notify *notify_new(void)
{
    return xcalloc(1, sizeof(struct notify));
}

int notify_running(const struct notify *n)
{
    int k = 0;
    for (int i = 0; i < NOTIFY_CHILDREN; i++)
        k += n->kids[i].pid != 0;
    return k;
}

void notify_free(struct notify **np)
{
    struct notify *n = np ? *np : NULL;
    if (!n)
        return;
    for (int i = 0; i < NOTIFY_CHILDREN; i++)
        if (n->kids[i].pid) {
            kill(n->kids[i].pid, SIGKILL);
            waitpid(n->kids[i].pid, NULL, 0);
            log_warn("%s: notify stopped with the archiver; it runs again at the next start",
                     n->kids[i].id);
        }
    free(n);
    *np = NULL;
}

/* Record the end of a run: why (NULL: success). */
static void notify_done(struct notify_child *k, struct store *st, const struct config *cfg,
                        const char *why, int64_t now_us)
{
    char err[512];
    int retry = cfg->supervision.notify_retry_seconds;
    if (why)
        log_warn("%s: notify failed: %s; again in %ds", k->id, why, retry);
    else
        log_info("%s: notify done", k->id);
    if (store_notice_result(st, k->id, why, now_us + retry * 1000000LL, now_us, err,
                            sizeof err) < 0)
        log_warn("%s: cannot record the notify result: %s", k->id, err);
    k->pid = 0;
}

/* Collect one child if it ended or ran out of time. */
static void notify_reap(struct notify_child *k, struct store *st, const struct config *cfg,
                        int64_t now_us)
{
    int status;
    char why[64];
    pid_t r = waitpid(k->pid, &status, WNOHANG);
    if (r == 0 && daemon_mono_ms() < k->deadline_ms)
        return;
    if (r == 0) {
        kill(k->pid, SIGKILL);
        waitpid(k->pid, NULL, 0);
        snprintf(why, sizeof why, "still running after %ds, killed",
                 cfg->supervision.notify_timeout_seconds);
    } else if (r < 0) {
        snprintf(why, sizeof why, "lost the process: %s", strerror(errno));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        notify_done(k, st, cfg, NULL, now_us);
        return;
    } else if (WIFEXITED(status)) {
        snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
    } else {
        snprintf(why, sizeof why, "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    notify_done(k, st, cfg, why, now_us);
}

/* 1 if a child for id runs now. */
static int notify_busy(const struct notify *n, const char *id)
{
    for (int i = 0; i < NOTIFY_CHILDREN; i++)
        if (n->kids[i].pid && !strcmp(n->kids[i].id, id))
            return 1;
    return 0;
}

/* Start the command for e in slot k. */
static void notify_start(struct notify_child *k, const struct store_notice *e,
                         struct store *st, const struct config *cfg, int64_t now_us)
{
    char *const *cmd = cfg->supervision.notify;
    size_t n = 0;
    while (cmd[n])
        n++;
    char **argv = xcalloc(n + 5, sizeof *argv), days[16];
    memcpy(argv, cmd, n * sizeof *argv);
    snprintf(days, sizeof days, "%d", e->days);
    argv[n] = (char *)e->id;
    argv[n + 1] = (char *)e->committee;
    argv[n + 2] = (char *)e->kind;
    argv[n + 3] = days;
    snprintf(k->id, sizeof k->id, "%.63s", e->id);
    int rc = posix_spawnp(&k->pid, argv[0], NULL, NULL, argv, environ);
    free(argv);
    if (rc != 0) {
        char why[256];
        snprintf(why, sizeof why, "cannot run %.100s: %.50s", cmd[0], strerror(rc));
        notify_done(k, st, cfg, why, now_us);
        return;
    }
    k->deadline_ms = daemon_mono_ms() + cfg->supervision.notify_timeout_seconds * 1000L;
    log_info("%s: notify %s (pid %ld, try %d)", e->id, cmd[0], (long)k->pid, e->tries + 1);
}

void notify_poll(struct notify *n, struct store *st, const struct config *cfg, int64_t now_us)
{
    struct store_notice due[NOTIFY_CHILDREN * 2];
    char err[512];
    for (int i = 0; i < NOTIFY_CHILDREN; i++)
        if (n->kids[i].pid)
            notify_reap(&n->kids[i], st, cfg, now_us);
    if (!cfg->supervision.notify || notify_running(n) == NOTIFY_CHILDREN)
        return;
    int nd = store_notice_due(st, now_us, due, NOTIFY_CHILDREN * 2, err, sizeof err);
    if (nd < 0)
        log_warn("supervision: notices: %s", err);
    for (int j = 0, i = 0; j < nd && i < NOTIFY_CHILDREN; j++) {
        if (notify_busy(n, due[j].id))
            continue;
        while (i < NOTIFY_CHILDREN && n->kids[i].pid)
            i++;
        if (i < NOTIFY_CHILDREN)
            notify_start(&n->kids[i], &due[j], st, cfg, now_us);
    }
}
