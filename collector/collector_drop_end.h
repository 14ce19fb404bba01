/* collector_drop_end: the end of a drop file: set aside in drop/rejected/
 * beside NAME.reason.json, or removed.  Private to collector_drop.c, whose
 * drop_reject and drop_remove are the public entry points.
 */
#ifndef MINYI_COLLECTOR_DROP_END_H
#define MINYI_COLLECTOR_DROP_END_H
#include <sys/types.h>

struct drop_file;
struct report_error;

/* Move f (relative to dirfd, the folder `dir`) into rejfd (dir/rejected)
 * under a name that replaces nothing, after writing NAME.reason.json there.
 * A file gone or replaced since it was read is left alone: 0.  Returns 0,
 * or -1 (logged) when the move failed. */
int drop_end_reject(int dirfd, int rejfd, const char *dir, const struct drop_file *f,
                    const struct report_error *err);
/* Unlink rel (relative to dirfd) if lstat still shows dev/ino.  Gone or
 * replaced by another file: 0 (the latter logged).  -1 (logged) on error. */
int drop_end_remove(int dirfd, const char *rel, dev_t dev, ino_t ino);

#endif
