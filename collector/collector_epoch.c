/* collector_epoch.c: the archive the collector last saw (see
 * collector_epoch.h).  The file is one fixed-width line, "GEN COMMITS\n",
 * rewritten in place when it changes. */
#include "collector_epoch.h"
#include "fileio.h"
#include "xmalloc.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EPOCH_LINE 54                 /* 32 + 1 + 20 + 1 */

struct epoch {
    int fd;
    char gen[EPOCH_GEN_MAX + 1];      /* "" until an archive was seen */
    int64_t commits;
};

int epoch_open(const char *path, struct epoch **out, char *err, size_t errlen)
{
    struct epoch *e = xcalloc(1, sizeof *e);
    e->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (e->fd < 0) {
        snprintf(err, errlen, "epoch: %s: %s", path, strerror(errno));
        free(e);
        return -1;
    }
    char line[EPOCH_LINE + 1] = {0};
    long long n = 0;
    if (fileio_pread_all(e->fd, line, EPOCH_LINE, 0) == 0 &&
        sscanf(line, "%32s %lld", e->gen, &n) == 2 && n >= 0)
        e->commits = n;
    else
        e->gen[0] = '\0';             /* none, torn or foreign: as if never seen */
    *out = e;
    return 0;
}

void epoch_close(struct epoch **ep)
{
    struct epoch *e = *ep;
    if (!e)
        return;
    close(e->fd);
    free(e);
    *ep = NULL;
}

int epoch_note(struct epoch *e, const char *gen, int64_t commits, char *was, size_t wlen)
{
    int replaced = e->gen[0] && (strcmp(gen, e->gen) || commits < e->commits);
    if (replaced)
        snprintf(was, wlen, "%s after %" PRId64 " commits", e->gen, e->commits);
    if (!strcmp(gen, e->gen) && commits == e->commits)
        return 0;
    snprintf(e->gen, sizeof e->gen, "%s", gen);
    e->commits = commits;
    char line[EPOCH_LINE + 1];
    snprintf(line, sizeof line, "%-32s %20" PRId64 "\n", e->gen, commits);
    (void)fileio_pwrite_all(e->fd, line, EPOCH_LINE, 0);   /* lost: a restore may go unseen */
    return replaced;
}
