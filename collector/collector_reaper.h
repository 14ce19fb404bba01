/* collector_reaper: unlink files in a background thread.
 *
 * Deleting a spool segment frees 8 MB of blocks; on a file system mounted
 * with `discard` (as the development VM's is) unlink(2) then takes 4-5 ms,
 * and the collector's loop, which answers members, stalled that long twice
 * a second at 7,000 reports/s -- the largest part of the acknowledgement's
 * p99.  The spool renames a dead segment out of the way at once (cheap) and
 * hands the new name to the reaper, whose thread does the slow unlink.
 *
 * Not here: deciding what may be deleted (collector_spool), anything else
 * on the disk.  The thread touches nothing but the queued paths.
 *
 * Ownership: reaper_new returns a reaper freed with reaper_free(&r), which
 * first unlinks everything still queued.
 */
#ifndef MINYI_COLLECTOR_REAPER_H
#define MINYI_COLLECTOR_REAPER_H

struct reaper;

/* A reaper with its thread running; NULL if the thread cannot start (the
 * caller then unlinks in place). */
struct reaper *reaper_new(void);
/* Queue path for unlinking (takes ownership of the malloc'd string).  A
 * failure other than ENOENT is logged at the next call (or reaper_free), in
 * the caller's thread. */
void reaper_add(struct reaper *r, char *path);
/* Unlink whatever is queued, stop the thread, free; sets *r = NULL.
 * NULL-safe. */
void reaper_free(struct reaper **r);

#endif
