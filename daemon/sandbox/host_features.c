#include "host_features.h"

#include "cgroup.h"
#include "cleanup.h"
#include "open_beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool file_contains(const char *path, const char *needle)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			return true;
	return false;
}

static bool file_positive(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long v = 0;
	return f && fscanf(f, "%ld", &v) == 1 && v > 0;
}

/* The "Seccomp:" mode of /proc/self/status: 0 none, 2 a filter. */
static bool self_filtered(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	int mode = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	return mode > 0;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Called with arguments no kernel accepts: only ENOSYS says the call is
 * missing (or hidden by a seccomp filter, which is the same here). */
static bool syscall_exists(long nr)
{
	return syscall(nr, -1, NULL, 0, NULL, 0) < 0 && errno != ENOSYS;
}

/* fsopen asks the kernel for the file system type by name, which loads
 * its module, where /proc/filesystems would not list an unloaded one. */
static bool filesystem_available(const char *type)
{
	int fd = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	/* Only ENODEV is an answer; EPERM or ENOSYS (a filter, an old
	 * kernel) leave the list of loaded ones. */
	return errno != ENODEV && file_contains("/proc/filesystems", type);
}

void host_features_probe(struct host_features *f)
{
	memset(f, 0, sizeof(*f));
	f->cgroup_mode = cgroup_mode_detect(CGROUP_ROOT);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(f->kernel_release, sizeof(f->kernel_release), "%s",
			 u.release);
	f->user_namespaces =
		file_positive("/proc/sys/user/max_user_namespaces");
	f->overlayfs = filesystem_available("overlay");
	f->seccomp_filter = exists("/proc/sys/kernel/seccomp/actions_avail");
	int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	f->pidfd = pfd >= 0;
	if (pfd >= 0)
		close(pfd);
	f->clone3 = syscall_exists(SYS_clone3);
	f->close_range = syscall(SYS_close_range, ~0u, ~0u, 0) == 0;
	f->mount_api = syscall_exists(SYS_open_tree) &&
		       syscall_exists(SYS_move_mount) &&
		       syscall_exists(SYS_mount_setattr);
	f->openat2 = open_beneath_probe();
	f->self_filtered = self_filtered();
	if (f->cgroup_mode == CGROUP_MODE_V2) {
		/* cgroup.kill exists in non-root cgroups from Linux 5.14. */
		unsigned maj = 0, min = 0;
		sscanf(f->kernel_release, "%u.%u", &maj, &min);
		f->cgroup_kill = maj > 5 || (maj == 5 && min >= 14);
		f->memory_swap_limit = file_contains(
			CGROUP_ROOT "/cgroup.controllers", "memory");
	} else {
		f->memory_swap_limit = exists(
			CGROUP_ROOT "/memory/memory.memsw.limit_in_bytes");
	}
}

/* Each feature as health names it, and for the needed ones what the
 * refusal to start names. */
static const struct {
	const char *json;
	const char *needed;
	size_t offset;
} features[] = {
#define F(json, needed, field)                                                 \
	{                                                                      \
		json, needed, offsetof(struct host_features, field)            \
	}
	F("userNamespaces", "user namespaces", user_namespaces),
	F("overlayfs", NULL, overlayfs),
	F("seccompFilter", "seccomp filters", seccomp_filter),
	F("pidfd", "pidfd_open", pidfd),
	F("clone3", "clone3", clone3),
	F("closeRange", "close_range", close_range),
	F("mountApi", "the mount API (open_tree, move_mount, mount_setattr)",
	  mount_api),
	F("openat2", NULL, openat2),
	F("cgroupKill", NULL, cgroup_kill),
	F("swapLimit", NULL, memory_swap_limit),
#undef F
};

static bool has(const struct host_features *f, size_t i)
{
	return *(const bool *)((const char *)f + features[i].offset);
}

const char *host_features_missing(const struct host_features *f)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (features[i].needed && !has(f, i))
			return features[i].needed;
	return NULL;
}

json_object *host_features_to_json(const struct host_features *f)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kernel",
			       json_object_new_string(f->kernel_release));
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		json_object_object_add(o, features[i].json,
				       json_object_new_boolean(has(f, i)));
	return o;
}
