/* Reading input files that must be regular files (certificate stores, rule files,
 * catalogues): opened without blocking, so a FIFO or device put where a file belongs
 * is refused with a reason instead of hanging the command, and read whole up to a
 * bound. Inputs that may legitimately be pipes (a configuration given as <(...),
 * standard input) are read elsewhere. */
#ifndef VNET_READFILE_H
#define VNET_READFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* "a FIFO", "a directory", "a socket", ... for messages about a file that is not one. */
const char *file_kind_phrase(mode_t mode);

/* Open `path` read-only when it is a regular file. Returns the descriptor with *st
 * filled, or -1 with the reason in `why` ("cannot open: No such file or directory",
 * "not a regular file (a FIFO)") and errno set to the open error, or to 0 when the file
 * exists but is not a regular file. */
int file_open_regular(const char *path, struct stat *st, char *why, size_t whysz);

/* The whole of a regular file of at most `max` bytes, NUL-terminated (the terminator is
 * not counted in *len). Returns the malloc'd buffer, or NULL with the reason in `why`
 * (also "larger than MAX bytes"). */
char *file_read_regular(const char *path, size_t max, size_t *len, char *why, size_t whysz);

/* Length of a UTF-8 byte order mark at the start of `p` (3), or 0. Text inputs skip it:
 * editors on Windows write one, and it is not part of the content. */
size_t utf8_bom_len(const void *p, size_t n);

#endif
