#include "rootfs.h"

#include "cleanup.h"
#include "init_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Describes the failed step in what (what_len bytes) and returns -errno
 * from the calling function. */
#define FAIL(what, what_len, ...)                                              \
	do {                                                                   \
		int saved_errno_ = errno;                                      \
		snprintf(what, what_len, __VA_ARGS__);                         \
		return -saved_errno_;                                          \
	} while (0)

/* Host paths bound read-only into the box when they exist.  Debian merges
 * /bin, /sbin and /lib* into /usr, so those become symlinks. */
static const char *const image_dirs[] = { "usr" };
static const char *const usr_links[][2] = {
	{ "bin", "usr/bin" },	  { "sbin", "usr/sbin" },
	{ "lib", "usr/lib" },	  { "lib64", "usr/lib64" },
	{ "lib32", "usr/lib32" }, { "libx32", "usr/libx32" },
};
static const char *const etc_binds[] = {
	"alternatives", "ssl",		 "ca-certificates", "ld.so.cache",
	"ld.so.conf",	"ld.so.conf.d",	 "localtime",	    "python3",
	"python3.11",	"protocols",	 "services",	    "mime.types",
	"gai.conf",	"nsswitch.conf",
};
static const char *const dev_nodes[] = { "null",   "zero",    "full",
					 "random", "urandom", "tty" };
/* Kernel interfaces masked as crun does: files get /dev/null over them,
 * directories an empty read-only tmpfs. */
static const char *const proc_masked[] = {
	"proc/acpi",
	"proc/kcore",
	"proc/keys",
	"proc/latency_stats",
	"proc/timer_list",
	"proc/timer_stats",
	"proc/sched_debug",
	"proc/scsi",
	"proc/interrupts",
	/* The host's boot options and kernel build say more about it than
	 * a box needs to know. */
	"proc/cmdline",
	"proc/config.gz",
};
/* A per-box value instead of the host's, which would tell boxes on the
 * same boot apart from others and identify the host. */
#define BOOT_ID "proc/sys/kernel/random/boot_id"
/* What of the host's /usr/local a box sees: an empty directory but for
 * these, which the image's own files refer to (/etc/ssl/certs links to
 * local CAs).  Locally built programs, the daemon itself after `make
 * install`, and host-wide Python packages stay out. */
#define USR_LOCAL "usr/local"
static const char *const usr_local_keep[] = { "share/ca-certificates" };
static const char *const proc_readonly[] = {
	"proc/asound", "proc/bus", "proc/fs",
	"proc/irq",    "proc/sys", "proc/sysrq-trigger",
};

static const char etc_passwd[] =
	"root:x:0:0:root:/root:/usr/sbin/nologin\n"
	"sandbox:x:1000:1000:sandbox:/sandbox:/bin/bash\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char etc_group[] = "root:x:0:\nsandbox:x:1000:\n"
				"nogroup:x:65534:\n";
static const char etc_hosts[] = "127.0.0.1\tlocalhost sandbox\n"
				"::1\tlocalhost ip6-localhost\n";

/* The files every box gets in /etc, whatever its image. */
static const char *const box_etc[][2] = {
	{ "passwd", etc_passwd }, { "group", etc_group },
	{ "hosts", etc_hosts },	  { "hostname", "sandbox\n" },
	{ "resolv.conf", "" },
};

int rootfs_write_file(int dirfd, const char *name, const char *text,
		      mode_t mode)
{
	_cleanup_close_ int fd = openat(
		dirfd, name,
		O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

#define ATTR_IMAGE (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
#define ATTR_DEVICE (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC)

/* Clones the tree at src (recursively), applies attr to every mount in it
 * and attaches it at name below dirfd.  The new mount API goes by number
 * here: musl, which the init (the box forker, which builds boxes too) is
 * built with where it is installed, has no wrappers for it. */
static int bind_at(const char *src, int dirfd, const char *name,
		   uint64_t attr_set)
{
	_cleanup_close_ int tree =
		(int)syscall(SYS_open_tree, AT_FDCWD, src,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				     AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return -errno;
	struct mount_attr attr = {
		.attr_set = attr_set,
	};
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
		    &attr, sizeof(attr)) < 0)
		return -errno;
	if (syscall(SYS_move_mount, tree, "", dirfd, name,
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Makes an empty mount point of the same kind as the host file st. */
static int mountpoint_like(const struct stat *st, int dirfd, const char *name)
{
	if (S_ISDIR(st->st_mode))
		return mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST
			       ? -errno
			       : 0;
	int fd = openat(dirfd, name,
			O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int tmpfs_at(const char *target, unsigned long flags,
		    const char *options)
{
	return mount("tmpfs", target, "tmpfs", flags, options) < 0 ? -errno : 0;
}

static int mkdirs(int dirfd, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mkdirat(dirfd, names[i], 0755) < 0 && errno != EEXIST)
			return -errno;
	return 0;
}

/* What /etc's src stands for, in *st: the file itself, or what a symlink
 * (localtime) leads to, its path in target (PATH_MAX bytes), which is bound
 * instead of the link: CRIU restores no mount whose root is a symlink.
 * The path to bind, or NULL with errno set. */
static const char *etc_source(const char *src, char *target, struct stat *st)
{
	if (lstat(src, st) < 0)
		return NULL;
	if (!S_ISLNK(st->st_mode))
		return src;
	return realpath(src, target) && stat(target, st) == 0 ? target : NULL;
}

static int build_etc(int rootfd, char *what, size_t what_len)
{
	if (mkdirat(rootfd, "etc", 0755) < 0)
		FAIL(what, what_len, "mkdir /etc");
	_cleanup_close_ int etc = openat(
		rootfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		FAIL(what, what_len, "open /etc");
	for (size_t i = 0; i < ARRAY_SIZE(box_etc); i++)
		if (rootfs_write_file(etc, box_etc[i][0], box_etc[i][1], 0644) <
		    0)
			FAIL(what, what_len, "write /etc/%s", box_etc[i][0]);
	for (size_t i = 0; i < ARRAY_SIZE(etc_binds); i++) {
		char src[64];
		char target[PATH_MAX];
		struct stat st;
		snprintf(src, sizeof(src), "/etc/%s", etc_binds[i]);
		const char *from = etc_source(src, target, &st);
		if (!from && errno == ENOENT)
			continue; /* not on this host */
		int r = from ? mountpoint_like(&st, etc, etc_binds[i]) : -errno;
		if (r == 0)
			r = bind_at(from, etc, etc_binds[i], ATTR_IMAGE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind %s", src);
		}
	}
	return 0;
}

static int build_dev(int rootfd, char *what, size_t what_len)
{
	if (mkdirat(rootfd, "dev", 0755) < 0 && errno != EEXIST)
		FAIL(what, what_len, "mkdir /dev");
	if (tmpfs_at("dev", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		FAIL(what, what_len, "mount /dev");
	_cleanup_close_ int dev = openat(
		rootfd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dev < 0)
		FAIL(what, what_len, "open /dev");
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		char src[32];
		struct stat st;
		snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
		int r = stat(src, &st) < 0
				? -errno
				: mountpoint_like(&st, dev, dev_nodes[i]);
		if (r == 0)
			r = bind_at(src, dev, dev_nodes[i], ATTR_DEVICE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind %s", src);
		}
	}
	static const char *const subdirs[] = { "pts", "shm" };
	if (mkdirs(dev, subdirs, ARRAY_SIZE(subdirs)) < 0)
		FAIL(what, what_len, "mkdir /dev/pts, /dev/shm");
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		FAIL(what, what_len, "mount /dev/pts");
	if (tmpfs_at("dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=1777,size=64m") < 0)
		FAIL(what, what_len, "mount /dev/shm");
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" },
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			FAIL(what, what_len, "symlink /dev/%s", links[i][1]);
	return 0;
}

/* Where the box's boot id is written.  On the host image's root tmpfs it
 * is proc/.boot_id, hidden once /proc is mounted over it, and it stays: a
 * file that stays (rather than one unlinked once bound) is one CRIU can
 * bind again when it restores a hibernated box.  An image's root is
 * read-only: there it is made in the box's /tmp and unlinked once bound. */
#define BOOT_ID_ON_ROOT "proc/.boot_id"
#define BOOT_ID_ON_IMAGE "tmp/.boot_id"

/* Writes a random UUID at staged, whose O_PATH fd (returned, or -errno) is
 * bound over the host's boot id later. */
static int stage_boot_id(int rootfd, const char *staged)
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	char text[40];
	snprintf(text, sizeof(text),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x\n",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	int r = rootfs_write_file(rootfd, staged, text, 0444);
	if (r < 0)
		return r;
	int fd = openat(rootfd, staged, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int bind_boot_id(int staged, int rootfd)
{
	_cleanup_close_ int tree = (int)syscall(
		SYS_open_tree, staged, "",
		OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return -errno;
	struct mount_attr attr = { .attr_set =
					   ATTR_DEVICE | MOUNT_ATTR_RDONLY };
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr,
		    sizeof(attr)) < 0 ||
	    syscall(SYS_move_mount, tree, "", rootfd, BOOT_ID,
		    MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

int rootfs_hide_usr_local(int rootfd, char *what, size_t what_len)
{
	if (faccessat(rootfd, USR_LOCAL, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (tmpfs_at(USR_LOCAL, MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=0755,size=16k") < 0)
		FAIL(what, what_len, "hide /usr/local");
	_cleanup_close_ int local =
		openat(rootfd, USR_LOCAL,
		       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (local < 0)
		FAIL(what, what_len, "open /usr/local");
	for (size_t i = 0; i < ARRAY_SIZE(usr_local_keep); i++) {
		char src[64], path[64];
		snprintf(src, sizeof(src), "/usr/local/%s", usr_local_keep[i]);
		struct stat st;
		if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s", usr_local_keep[i]);
		for (char *sl = strchr(path, '/'); sl;
		     sl = strchr(sl + 1, '/')) {
			*sl = '\0';
			if (mkdirat(local, path, 0755) < 0 && errno != EEXIST)
				FAIL(what, what_len, "mkdir /usr/local/%s",
				     path);
			*sl = '/';
		}
		if (mkdirat(local, path, 0755) < 0 && errno != EEXIST)
			FAIL(what, what_len, "mkdir %s", src);
		int r = bind_at(src, local, path, ATTR_IMAGE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind %s", src);
		}
	}
	if (mount(NULL, USR_LOCAL, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL) < 0)
		FAIL(what, what_len, "make /usr/local read-only");
	return 0;
}

static int mask_proc(int rootfd, int boot_id, char *what, size_t what_len)
{
	for (size_t i = 0; i < ARRAY_SIZE(proc_masked); i++) {
		struct stat st;
		const char *p = proc_masked[i];
		if (fstatat(rootfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int r = S_ISDIR(st.st_mode)
				? tmpfs_at(p,
					   MS_RDONLY | MS_NOSUID | MS_NODEV |
						   MS_NOEXEC,
					   "size=0,mode=0555")
				: bind_at("/dev/null", rootfd, p,
					  ATTR_DEVICE | MOUNT_ATTR_RDONLY);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "mask /%s", p);
		}
	}
	int r = bind_boot_id(boot_id, rootfd);
	if (r < 0) {
		errno = -r;
		FAIL(what, what_len, "replace /%s", BOOT_ID);
	}
	for (size_t i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
		const char *p = proc_readonly[i];
		if (faccessat(rootfd, p, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* Relative to the new root: the box's own /proc. */
		r = bind_at(p, rootfd, p, ATTR_IMAGE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "make /%s read-only", p);
		}
	}
	return 0;
}

#define INSTALLED_NAME ".isol8-init"

/* A copy of the init's program (exe: init_exe.h) in dirfd, opened O_PATH
 * and unlinked: the fd to fexecve, or -errno.  CRIU restores a process's
 * program from a file (a deleted one it keeps in its images), not from a
 * memfd; a per-box copy keeps every other box and the host out of reach. */
static int install_init(int exe, int dirfd)
{
	_cleanup_close_ int out = openat(
		dirfd, INSTALLED_NAME,
		O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0500);
	if (out < 0)
		return -errno;
	/* An offset of our own: the memfd's is shared with every box. */
	off_t off = 0;
	for (;;) {
		ssize_t n = sendfile(out, exe, &off, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
	}
	int fd = openat(dirfd, INSTALLED_NAME, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlinkat(dirfd, INSTALLED_NAME, 0) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Where the new root is assembled: any directory serves, because the tmpfs
 * mounted over it exists only in the box's private mount namespace. */
#define STAGING "/tmp"

/* The host image on the staging tmpfs: read-only binds of the host's /usr
 * (its /usr/local hidden), the merged-/usr links, /etc and the runtimes
 * prefix. */
static int host_files(const struct rootfs_spec *spec, int rootfd, char *what,
		      size_t what_len)
{
	for (size_t i = 0; i < ARRAY_SIZE(image_dirs); i++) {
		char src[32];
		snprintf(src, sizeof(src), "/%s", image_dirs[i]);
		if (mkdirat(rootfd, image_dirs[i], 0755) < 0)
			FAIL(what, what_len, "mkdir /%s", image_dirs[i]);
		int r = bind_at(src, rootfd, image_dirs[i], ATTR_IMAGE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind %s", src);
		}
	}
	int r = rootfs_hide_usr_local(rootfd, what, what_len);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(usr_links); i++) {
		char src[32];
		snprintf(src, sizeof(src), "/%s", usr_links[i][1]);
		if (access(src, F_OK) == 0 &&
		    symlinkat(usr_links[i][1], rootfd, usr_links[i][0]) < 0)
			FAIL(what, what_len, "symlink /%s", usr_links[i][0]);
	}
	r = build_etc(rootfd, what, what_len);
	if (r < 0)
		return r;

	/* The runtimes prefix keeps its host path so its symlinks resolve. */
	if (spec->runtimes_dir && access(spec->runtimes_dir, F_OK) == 0) {
		const char *rel = spec->runtimes_dir + 1;
		char path[256];
		snprintf(path, sizeof(path), "%s", rel);
		for (char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			if (mkdirat(rootfd, path, 0755) < 0 && errno != EEXIST)
				FAIL(what, what_len, "mkdir /%s", path);
			*s = '/';
		}
		if (mkdirat(rootfd, rel, 0755) < 0 && errno != EEXIST)
			FAIL(what, what_len, "mkdir %s", spec->runtimes_dir);
		r = bind_at(spec->runtimes_dir, rootfd, rel, ATTR_IMAGE);
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind %s", spec->runtimes_dir);
		}
	}
	return 0;
}

/* The places an image's root gets mounts on must be its own directories:
 * a symbolic link there would send a mount (made by path, before the
 * pivot) somewhere else. */
static int image_mountpoints(int rootfd, char *what, size_t what_len)
{
	static const char *const dirs[] = { "sandbox", "tmp",  "proc",
					    "dev",     "root", "etc" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		struct stat st;
		if (fstatat(rootfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			FAIL(what, what_len,
			     "find the directory /%s in the image", dirs[i]);
		}
	}
	return 0;
}

/* The box's own /etc files over an image's: each written in the box's
 * /tmp, bound over the image's file and unlinked, so the read-only image
 * stays as it is and the box's /tmp does not show them. */
static int image_etc(int rootfd, char *what, size_t what_len)
{
	_cleanup_close_ int etc = openat(
		rootfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		FAIL(what, what_len, "open /etc of the image");
	for (size_t i = 0; i < ARRAY_SIZE(box_etc); i++) {
		const char *name = box_etc[i][0];
		char staged[32];
		snprintf(staged, sizeof(staged), "tmp/.%s", name);
		struct stat st;
		if (fstatat(etc, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			errno = ENOENT;
			FAIL(what, what_len,
			     "find the file /etc/%s in the image", name);
		}
		int r = rootfs_write_file(rootfd, staged, box_etc[i][1], 0644);
		if (r == 0)
			r = bind_at(staged, etc, name, ATTR_IMAGE);
		if (unlinkat(rootfd, staged, 0) < 0 && r == 0)
			r = -errno;
		if (r < 0) {
			errno = -r;
			FAIL(what, what_len, "bind /etc/%s", name);
		}
	}
	return 0;
}

int rootfs_build(const struct rootfs_spec *spec, int init_exe, int *init_fd,
		 char *what, size_t what_len)
{
	char opts[96];
	bool image = spec->image_fd >= 0;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL(what, what_len, "make / rprivate");
	int r = image ? (syscall(SYS_move_mount, spec->image_fd, "", AT_FDCWD,
				 STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0
				 ? -errno
				 : 0)
		      : tmpfs_at(STAGING, MS_NOSUID | MS_NODEV,
				 "mode=0755,size=2m");
	if (r < 0) {
		errno = -r;
		FAIL(what, what_len, "mount the root");
	}
	_cleanup_close_ int rootfd =
		open(STAGING, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0 || fchdir(rootfd) < 0)
		FAIL(what, what_len, "enter the new root");
	r = image ? image_mountpoints(rootfd, what, what_len)
		  : host_files(spec, rootfd, what, what_len);
	if (r < 0)
		return r;

	static const char *const dirs[] = { "sandbox", "tmp", "proc", "root" };
	if (mkdirs(rootfd, dirs, ARRAY_SIZE(dirs)) < 0)
		FAIL(what, what_len, "mkdir top-level directories");
	snprintf(opts, sizeof(opts), "mode=0755,uid=%d,gid=%d,size=%llu",
		 BOX_USER_UID, BOX_USER_GID,
		 (unsigned long long)spec->sandbox_size);
	if (tmpfs_at("sandbox", MS_NOSUID | MS_NODEV, opts) < 0)
		FAIL(what, what_len, "mount /sandbox (size %llu)",
		     (unsigned long long)spec->sandbox_size);
	snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
		 (unsigned long long)spec->tmp_size);
	if (tmpfs_at("tmp", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		FAIL(what, what_len, "mount /tmp (size %llu)",
		     (unsigned long long)spec->tmp_size);
	if (image && (r = image_etc(rootfd, what, what_len)) < 0)
		return r;
	r = build_dev(rootfd, what, what_len);
	if (r < 0)
		return r;
	/* /proc must be mounted while the host's /proc is still visible in
	 * this namespace: the kernel only lets a user namespace mount proc
	 * when an unobstructed one already is. */
	const char *staged = image ? BOOT_ID_ON_IMAGE : BOOT_ID_ON_ROOT;
	_cleanup_close_ int boot_id = stage_boot_id(rootfd, staged);
	if (boot_id < 0) {
		errno = -boot_id;
		FAIL(what, what_len, "write the box's boot id");
	}
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		FAIL(what, what_len, "mount /proc");
	r = mask_proc(rootfd, boot_id, what, what_len);
	if (r < 0)
		return r;
	if (image && unlinkat(rootfd, staged, 0) < 0)
		FAIL(what, what_len, "remove the staged boot id");

	/* An image's root is read-only: the init's program is put in
	 * /sandbox then, the one place that may be executed from (and
	 * unlinked at once). */
	_cleanup_close_ int sandbox =
		image ? openat(rootfd, "sandbox",
			       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		      : -1;
	*init_fd = install_init(init_exe, image ? sandbox : rootfd);
	if (*init_fd < 0) {
		errno = -*init_fd;
		FAIL(what, what_len, "install the init's program");
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		FAIL(what, what_len, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		FAIL(what, what_len, "detach the old root");
	if (chdir("/") < 0)
		FAIL(what, what_len, "chdir /");
	if (mount(NULL, "/dev", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  NULL) < 0)
		FAIL(what, what_len, "make /dev read-only");
	if (spec->readonly_root &&
	    mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
		  NULL) < 0)
		FAIL(what, what_len, "make / read-only");
	return 0;
}
