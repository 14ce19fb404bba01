/* fileio.c: see fileio.h. */
#include "fileio.h"
#include <errno.h>
#include <unistd.h>

/* Both writers' loop: at the file position when off < 0, else at off. */
static int fileio_put(int fd, const char *s, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = off < 0 ? write(fd, s, n) : pwrite(fd, s, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        s += w;
        n -= (size_t)w;
        if (off >= 0)
            off += w;
    }
    return 0;
}

int fileio_write_all(int fd, const void *p, size_t n)
{
    return fileio_put(fd, p, n, -1);
}

int fileio_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    return fileio_put(fd, p, n, off);
}

int fileio_pread_all(int fd, void *p, size_t n, off_t off)
{
    char *d = p;
    while (n > 0) {
        ssize_t r = pread(fd, d, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        d += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}
