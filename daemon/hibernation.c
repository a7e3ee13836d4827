#include "hibernation.h"

#include "log.h"
#include "sandbox/box_host.h"
#include "sandbox/userns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t hibernation_at_ms(const struct hibernation *h)
{
	return h->at_ms;
}

int hibernation_remove_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int flags = de->d_type == DT_DIR ? AT_REMOVEDIR : 0;
		if (unlinkat(fd, de->d_name, flags) < 0 && r == 0)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) < 0 && r == 0)
		r = -errno;
	return r;
}

void hibernation_free(struct hibernation *h, struct box_host *host, bool remove)
{
	if (!h)
		return;
	if (h->img.uid_base >= 0)
		uid_slots_release(host->uids, h->img.uid_base);
	int r = remove ? hibernation_remove_dir(h->dir) : 0;
	if (r < 0)
		log_errno(LOG_ERR, r, "cannot remove %s", h->dir);
	free(h);
}
