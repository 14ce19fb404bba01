/* proto_impl.h: what proto.c and proto_request.c share; nobody else
 * includes it. */
#ifndef MINYI_PROTO_IMPL_H
#define MINYI_PROTO_IMPL_H
#include "proto.h"

/* Set err to reason and the formatted detail; returns -1. */
int proto_fail(struct proto_error *err, enum proto_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear err (PROTO_OK, no version, empty detail). */
void proto_err_init(struct proto_error *err);
/* Parse buf[0..len) as one JSON object and check its "v" (absent: 1).
 * The object (caller deletes) and *version, or NULL with err. */
struct cJSON *proto_json_message(const char *buf, size_t len, int *version,
                                 struct proto_error *err);

#endif
