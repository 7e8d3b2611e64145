/* Regular input files: see readfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "readfile.h"

const char *file_kind_phrase(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	     : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	     : S_ISREG(m) ? "a regular file" : "not a file";
}

int file_open_regular(const char *path, struct stat *st, char *why, size_t whysz)
{
	/* O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(why, whysz, "cannot open: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) != 0) {
		int e = errno;
		snprintf(why, whysz, "cannot stat: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whysz, "not a regular file (%s)", file_kind_phrase(st->st_mode));
		close(fd);
		errno = 0;
		return -1;
	}
	return fd;
}

char *file_read_regular(const char *path, size_t max, size_t *len, char *why, size_t whysz)
{
	struct stat st;
	int fd = file_open_regular(path, &st, why, whysz);
	if (fd < 0)
		return NULL;
	if ((unsigned long long)st.st_size > max) {
		snprintf(why, whysz, "larger than %zu bytes", max);
		close(fd);
		return NULL;
	}
	/* one byte more than the size: a file that grows while it is read is caught below */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		snprintf(why, whysz, "out of memory");
		close(fd);
		return NULL;
	}
	while (n < cap) { /* bounded by cap: every round reads at least one byte or ends */
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whysz, "read error: %s", strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		snprintf(why, whysz, "larger than %zu bytes", max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

size_t utf8_bom_len(const void *p, size_t n)
{
	const unsigned char *b = p;
	return n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0;
}
