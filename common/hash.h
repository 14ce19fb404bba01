/* hash: the one FNV-1a of minyi (64-bit), for duplicate keys and the
 * in-memory tables that look up strings.  Keys made with it are stored on
 * disk (the duplicate journal, the archive's content key): it must never
 * change. */
#ifndef MINYI_HASH_H
#define MINYI_HASH_H
#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_OFFSET 0xcbf29ce484222325ULL
#define HASH_FNV_PRIME 0x100000001b3ULL

/* FNV-1a of data[0..len) continuing from h (HASH_FNV_OFFSET to start). */
uint64_t hash_fnv1a(uint64_t h, const void *data, size_t len);
/* The same over the bytes of a NUL-terminated string. */
uint64_t hash_fnv1a_str(uint64_t h, const char *s);

#endif
