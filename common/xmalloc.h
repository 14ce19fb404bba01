/* xmalloc: allocation that aborts on exhaustion (a bug-class failure for us),
 * plus the few string helpers every module wants. Nothing here can fail. */
#ifndef MINYI_XMALLOC_H
#define MINYI_XMALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);                  /* never NULL; caller frees */
void *xcalloc(size_t n, size_t size);     /* zeroed; never NULL; caller frees */
void *xrealloc(void *p, size_t n);        /* never NULL; caller frees */
char *xstrdup(const char *s);             /* NULL in, NULL out; caller frees */
char *xstrndup(const char *s, size_t n);  /* copies at most n bytes, NUL-terminated */
char *xasprintf(const char *fmt, ...)     /* formatted copy; caller frees */
    __attribute__((format(printf, 1, 2)));
/* Copy src into dst[size], always NUL-terminated; returns strlen(src). */
size_t xstrlcpy(char *dst, const char *src, size_t size);

#endif
