/* collector_epoch: which archive the collector feeds.  Every confirmation
 * from the archiver names the archive's generation (a random id made when
 * it was created) and how many transactions it has committed; the collector
 * keeps the last pair it saw in STATE/archive.epoch.  An archive with
 * another generation, or the same one with fewer commits, is not the one
 * whose reports the duplicate index names: it was replaced, or restored
 * from an older copy (README: Recovering the archive).
 *
 * Ownership: epoch_open returns an epoch freed by epoch_close(&e).
 */
#ifndef MINYI_COLLECTOR_EPOCH_H
#define MINYI_COLLECTOR_EPOCH_H
#include <stddef.h>
#include <stdint.h>

#define EPOCH_GEN_MAX 32

struct epoch;

/* Open (creating) the file at path; a missing or unreadable one means no
 * archive seen yet.  Returns 0 and *out, or -1 with "epoch: PATH: reason". */
int epoch_open(const char *path, struct epoch **out, char *err, size_t errlen);
/* Close and free; sets *e = NULL.  NULL-safe. */
void epoch_close(struct epoch **e);
/* The archiver says it is archive gen after `commits` transactions.
 * Returns 1 if that is not the archive last seen (was: "GEN after N
 * commits", what was seen), 0 if it is or none was seen; remembers the new
 * pair either way (written at once, not synced: a crash of the machine
 * itself may forget the last few commits). */
int epoch_note(struct epoch *e, const char *gen, int64_t commits, char *was, size_t wlen);

#endif
