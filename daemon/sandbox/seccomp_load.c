#include "seccomp_load.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int seccomp_load(const void *blob, size_t len)
{
	const char *p = blob;
	const char *end = p + len;
	if (len == 0)
		return -EINVAL;
	while (p < end) {
		uint32_t n;
		if ((size_t)(end - p) < sizeof(n))
			return -EINVAL;
		memcpy(&n, p, sizeof(n));
		p += sizeof(n);
		if (n == 0 || n > BPF_MAXINSNS ||
		    (size_t)(end - p) < n * sizeof(struct sock_filter))
			return -EINVAL;
		/* The kernel copies the program: alignment is not needed. */
		struct sock_fprog f = { .len = (unsigned short)n,
					.filter = (struct sock_filter *)p };
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &f, 0, 0) < 0)
			return -errno;
		p += n * sizeof(struct sock_filter);
	}
	return 0;
}

long seccomp_read(int fd, void *blob, size_t cap)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || (size_t)st.st_size > cap)
		return -EINVAL;
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, (char *)blob + len,
				  (size_t)st.st_size - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		len += (size_t)n;
	}
	return (long)len;
}
