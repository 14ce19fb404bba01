/* fileio: the loops that move a whole buffer to or from a file descriptor,
 * shared by the spool, the duplicate journal and its index, the rejected
 * folder's reason files and the log.
 *
 * Ownership: nothing is kept; the caller owns fd and the buffer.
 */
#ifndef MINYI_FILEIO_H
#define MINYI_FILEIO_H
#include <stddef.h>
#include <sys/types.h>

/* Write all n bytes of p to fd, going on after short writes and EINTR.
 * Returns 0, or -1 with errno (EIO when write took nothing). */
int fileio_write_all(int fd, const void *p, size_t n);
/* The same at offset off (pwrite: the file position is left alone). */
int fileio_pwrite_all(int fd, const void *p, size_t n, off_t off);
/* Read exactly n bytes at offset off into p, going on after short reads
 * and EINTR.  Returns 0, or -1 with errno (EIO when the file ends first). */
int fileio_pread_all(int fd, void *p, size_t n, off_t off);

#endif
