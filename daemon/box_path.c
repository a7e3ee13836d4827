#include "box_path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int box_path_normalize(const char *path, bool allow_tmp, char *out,
		       size_t out_len)
{
	char buf[4096];
	if (!path || !*path || strlen(path) >= sizeof(buf) - 16)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s%s", path[0] == '/' ? "" : "/sandbox/",
		 path);
	/* Collapse ".", ".." and repeated slashes lexically; what remains
	 * must start with /sandbox or /tmp. */
	char norm[4096];
	size_t n = 0;
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && norm[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			continue;
		}
		n += (size_t)snprintf(norm + n, sizeof(norm) - n, "/%s", c);
	}
	norm[n] = '\0';
	bool in_sandbox = strcmp(norm, "/sandbox") == 0 ||
			  strncmp(norm, "/sandbox/", 9) == 0;
	bool in_tmp = allow_tmp && strncmp(norm, "/tmp/", 5) == 0;
	if (!in_sandbox && !in_tmp)
		return -EINVAL;
	size_t nl = strlen(norm);
	if (nl >= out_len)
		return -ENAMETOOLONG;
	memcpy(out, norm, nl + 1);
	return 0;
}
