/* Files in and out of the box: every lookup as the box user, below
 * /sandbox or /tmp, never following a symlink. */
#include "init.h"

#include "sandbox/init_proto.h"
#include "sandbox/open_beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

/* Walks (and with create, makes) the directories of path below base and
 * returns an fd for the last directory and the leaf name in *leaf. */
static int walk_parents(int base, char *path, bool create, char **leaf)
{
	int dir = fcntl(base, F_DUPFD_CLOEXEC, 3);
	char *p = path;
	*leaf = path;
	char *slash;
	while (dir >= 0 && (slash = strchr(p, '/'))) {
		*slash = '\0';
		if (*p && strcmp(p, ".") != 0) {
			if (create && mkdirat(dir, p, 0755) < 0 &&
			    errno != EEXIST) {
				int e = -errno;
				close(dir);
				return e;
			}
			int next =
				open_beneath(dir, p, O_PATH | O_DIRECTORY, 0);
			close(dir);
			dir = next;
		}
		p = slash + 1;
	}
	*leaf = p;
	return dir;
}

static int open_in_box(const struct init_open *op, char *path)
{
	int base;
	char *rel;
	if (strncmp(path, "/sandbox/", 9) == 0) {
		base = INIT_FD_SANDBOX;
		rel = path + 9;
	} else if (strncmp(path, "/tmp/", 5) == 0) {
		base = INIT_FD_TMP;
		rel = path + 5;
	} else
		return -EXDEV;
	if (!*rel)
		return -EISDIR;
	char *leaf = rel;
	bool create =
		op->flags == INIT_OPEN_WRITE || op->flags == INIT_OPEN_MKDIR;
	int dir = walk_parents(base, rel, create, &leaf);
	if (dir < 0)
		return dir;
	int fd;
	if (op->flags == INIT_OPEN_REMOVE) {
		fd = unlinkat(dir, leaf, 0) < 0 &&
				     (errno != EISDIR ||
				      unlinkat(dir, leaf, AT_REMOVEDIR) < 0)
			     ? -errno
			     : INT_MAX;
	} else if (op->flags == INIT_OPEN_MKDIR) {
		fd = mkdirat(dir, leaf, 0755) < 0 && errno != EEXIST ? -errno
								     : 0;
		if (fd == 0)
			fd = open_beneath(dir, leaf, O_PATH | O_DIRECTORY, 0);
	} else {
		int flags = op->flags == INIT_OPEN_WRITE
				    ? O_WRONLY | O_CREAT | O_TRUNC
				    : O_RDONLY;
		fd = open_beneath(dir, leaf, flags | O_NONBLOCK,
				  op->mode & 07777);
		struct stat sb;
		/* FIFOs and devices would stall or surprise the daemon. */
		if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
			close(fd);
			fd = -EINVAL;
		}
	}
	close(dir);
	return fd;
}

void init_open_file(char *payload, size_t len)
{
	struct init_open op;
	if (len < sizeof(op) + 1 || payload[len - 1] != '\0') {
		init_send_error(EINVAL, "malformed open request");
		return;
	}
	memcpy(&op, payload, sizeof(op));
	/* Every lookup and creation below happens with the box user's
	 * file-system identity, so permissions are the box user's own. */
	setfsgid(BOX_USER_GID);
	setfsuid(BOX_USER_UID);
	int fd = open_in_box(&op, payload + sizeof(op));
	setfsuid(0);
	setfsgid(0);
	if (fd < 0) {
		init_send_error(-fd, "open");
		return;
	}
	if (fd == INT_MAX) { /* removed: nothing to pass */
		init_send(INIT_FD, 0, 0, NULL, 0, -1);
		return;
	}
	init_send(INIT_FD, 0, 0, NULL, 0, fd);
	close(fd);
}
