#include "box_file.h"

#include "base64.h"
#include "cleanup.h"
#include "json_build.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int box_file_write(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int box_file_read_base64(int fd, uint64_t cap, json_object **content,
			 size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	*len = (size_t)st.st_size;
	if ((uint64_t)st.st_size > cap)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < 0)
		return -errno;
	*len = (size_t)n;
	_cleanup_free_ char *b64 = base64_encode(buf, (size_t)n);
	if (!b64)
		return -ENOMEM;
	*content = json_string_verbatim(b64, ((size_t)n + 2) / 3 * 4);
	return *content ? 0 : -ENOMEM;
}
