/* pwhash.c: argon2id password hashes and random bytes through libsodium
 * (see pwhash.h).  Nothing else in minyi includes sodium.h. */
#include "pwhash.h"
#include <sodium.h>
#include <string.h>

int pwhash_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

int pwhash_hash(const char *password, char out[PWHASH_STRLEN])
{
    _Static_assert(PWHASH_STRLEN == crypto_pwhash_STRBYTES, "hash string size");
    return crypto_pwhash_str(out, password, strlen(password),
                             crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int pwhash_verify(const char *hash, const char *password)
{
    if (!hash || strncmp(hash, "$argon2id$", 10) != 0)
        return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void pwhash_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

int pwhash_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}
