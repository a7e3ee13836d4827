#include "orphans.h"

#include "cleanup.h"
#include "log.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent's pid from /proc/PID/stat, -1 if unreadable.  The name in
 * parentheses may hold anything, so the fields are read after its last
 * ')'. */
static pid_t parent_of(int proc, pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	_cleanup_close_ int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *end = strrchr(buf, ')');
	int ppid;
	char state;
	if (!end || sscanf(end + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return ppid;
}

static DIR *open_dir(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d && fd >= 0) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

static bool holds_socket(int proc, pid_t pid, const uint64_t *socks, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "%d/fd", (int)pid);
	_cleanup_dir_ DIR *fds = open_dir(proc, path);
	if (!fds)
		return false;
	for (struct dirent *e; (e = readdir(fds));) {
		char link[64];
		ssize_t len = readlinkat(dirfd(fds), e->d_name, link,
					 sizeof(link) - 1);
		uint64_t ino;
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%" SCNu64 "]", &ino) != 1)
			continue;
		for (size_t i = 0; i < n; i++)
			if (socks[i] == ino)
				return true;
	}
	return false;
}

unsigned orphans_reap(const uint64_t *socks, size_t n)
{
	if (n == 0)
		return 0;
	_cleanup_dir_ DIR *proc = open_dir(AT_FDCWD, "/proc");
	if (!proc) {
		log_errno(LOG_WARNING, -errno,
			  "cannot read /proc for processes cloned for lost "
			  "requests (they stay zombies)");
		return 0;
	}
	pid_t self = getpid();
	unsigned reaped = 0;
	for (struct dirent *e; (e = readdir(proc));) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		pid_t pid = (pid_t)v;
		if (*end || v <= 0 || v != pid ||
		    parent_of(dirfd(proc), pid) != self ||
		    !holds_socket(dirfd(proc), pid, socks, n))
			continue;
		/* Our own unreaped child: its pid cannot have been reused. */
		kill(pid, SIGKILL);
		if (waitpid(pid, NULL, 0) == pid)
			reaped++;
	}
	return reaped;
}
