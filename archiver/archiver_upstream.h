/* archiver_upstream: forwarding upstream (报送).  A report closed as
 * `forwarded` is already in the archive's upstream spool (a trigger writes
 * the row in the close's own transaction).  This module delivers each to
 * the next level's collector (upstream.endpoint) as a report filed by
 * upstream.member with ref "ORG:ID", so a resend is answered with the same
 * id there and never stored twice; records the upstream id ("upstream"
 * history event); tries again after upstream.resend_ms (doubling to a
 * minute) until the next level acknowledges.  Up to 16 reports are in
 * flight at once on one DEALER socket, answers matched by tag, and their
 * upstream ids recorded in one transaction.  Every
 * upstream.poll_seconds asks the next level's archiver (upstream.query)
 * for the outcome of what it took, recorded as an "upstream_outcome"
 * history event once it is closed there.
 *
 * It runs in a thread of its own with its own archive connection and
 * sockets, so a slow or unreachable next level never holds up the
 * archiver's intake or queries.
 *
 * Ownership: upstream_start's result is freed by upstream_stop(&u); cfg is
 * borrowed and must outlive it.
 */
#ifndef MINYI_ARCHIVER_UPSTREAM_H
#define MINYI_ARCHIVER_UPSTREAM_H
#include <stddef.h>

struct cJSON;
struct config;
struct upstream;

/* Start the sender for cfg->upstream on the archive at db_path, over
 * CURVE when upstream.key is set.  NULL with err[0] == '\0' when no
 * upstream is configured; NULL with err when the key file does not read
 * or the thread cannot start. */
struct upstream *upstream_start(const struct config *cfg, const char *db_path, char *err,
                                size_t errlen);
/* Stop the thread (within one delivery timeout), free *u, set it NULL. */
void upstream_stop(struct upstream **u);
/* Add {"upstream": {"endpoint", "delivered", "failed", "outcomes"}} to o. */
void upstream_status(const struct upstream *u, struct cJSON *o);

#endif
