/* fileio: the one loop that writes a whole buffer to a file descriptor,
 * shared by the spool, the duplicate journal, the rejected folder's reason
 * files and the log.
 *
 * Ownership: nothing is kept; the caller owns fd and the buffer.
 */
#ifndef MINYI_FILEIO_H
#define MINYI_FILEIO_H
#include <stddef.h>

/* Write all n bytes of p to fd, going on after short writes and EINTR.
 * Returns 0, or -1 with errno (EIO when write took nothing). */
int fileio_write_all(int fd, const void *p, size_t n);

#endif
