/* pwhash: passwords and random tokens -- the only module that includes
 * <sodium.h> (libsodium).  Passwords are kept as argon2id strings
 * ("$argon2id$v=19$m=...,t=...,p=1$SALT$HASH", crypto_pwhash_str), which
 * carry their own salt and cost, so a hash made today still verifies after
 * the cost is raised.
 *
 * Written for the web door (issue 14) before the access issue's module
 * landed; when that one lands, the two become one.
 */
#ifndef MINYI_PWHASH_H
#define MINYI_PWHASH_H
#include <stddef.h>

/* The length of a hash string, NUL included (crypto_pwhash_STRBYTES). */
#define PWHASH_STRLEN 128

/* Start libsodium; call once before any other function here.  0 / -1. */
int pwhash_init(void);
/* Hash password into out (PWHASH_STRLEN bytes, NUL-terminated), argon2id at
 * libsodium's interactive cost (64 MB, about 0.1 s).  0 / -1 (out of
 * memory). */
int pwhash_hash(const char *password, char out[PWHASH_STRLEN]);
/* 1 if password matches hash, else 0 (also for a malformed hash). */
int pwhash_verify(const char *hash, const char *password);
/* n random bytes from the system's generator into buf (never fails). */
void pwhash_random(void *buf, size_t n);
/* 1 if the n bytes at a and b are equal, compared in constant time. */
int pwhash_equal(const void *a, const void *b, size_t n);

#endif
