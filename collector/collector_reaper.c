/* collector_reaper.c: the unlinking thread of collector_reaper.h: a queue
 * under a mutex, a condition variable to wake the thread, nothing more. */
#include "collector_reaper.h"
#include "log.h"
#include "xmalloc.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reaper_item {
    char *path;
    struct reaper_item *next;
};

struct reaper {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct reaper_item *head, *tail;
    int stopping;
    char *failed;                 /* the last path it could not remove, or NULL */
    int failed_errno;
};

/* Log (in the caller's thread) a failure the thread recorded, if any. */
static void reaper_report(struct reaper *r)
{
    pthread_mutex_lock(&r->mu);
    char *path = r->failed;
    int e = r->failed_errno;
    r->failed = NULL;
    pthread_mutex_unlock(&r->mu);
    if (path)
        log_warn("spool: %s: cannot remove: %s (removed at the next start)", path,
                 strerror(e));
    free(path);
}

/* Take the next queued item, waiting for one; NULL when stopping and empty. */
static struct reaper_item *reaper_next(struct reaper *r)
{
    pthread_mutex_lock(&r->mu);
    while (!r->head && !r->stopping)
        pthread_cond_wait(&r->cv, &r->mu);
    struct reaper_item *it = r->head;
    if (it) {
        r->head = it->next;
        if (!r->head)
            r->tail = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    return it;
}

static void *reaper_run(void *arg)
{
    struct reaper *r = arg;
    struct reaper_item *it;
    while ((it = reaper_next(r)) != NULL) {
        if (unlink(it->path) < 0 && errno != ENOENT) {
            int e = errno;            /* logged by the main thread: log.c is not
                                         thread-safe */
            pthread_mutex_lock(&r->mu);
            free(r->failed);
            r->failed = it->path;
            r->failed_errno = e;
            it->path = NULL;
            pthread_mutex_unlock(&r->mu);
        }
        free(it->path);
        free(it);
    }
    return NULL;
}

struct reaper *reaper_new(void)
{
    struct reaper *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, reaper_run, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return NULL;
    }
    return r;
}

void reaper_add(struct reaper *r, char *path)
{
    reaper_report(r);
    struct reaper_item *it = xcalloc(1, sizeof *it);
    it->path = path;
    pthread_mutex_lock(&r->mu);
    if (r->tail)
        r->tail->next = it;
    else
        r->head = it;
    r->tail = it;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void reaper_free(struct reaper **rp)
{
    struct reaper *r = rp ? *rp : NULL;
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);     /* the queue is empty once it returns */
    reaper_report(r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
    *rp = NULL;
}
