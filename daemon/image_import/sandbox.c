#include "sandbox.h"

#include "cleanup.h"
#include "incbin.h"
#include "sandbox/init_proto.h"
#include "sandbox/open_beneath.h"
#include "sandbox/privileges.h"
#include "sandbox/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

INCBIN(import_unpack_sh, "daemon/image_import/unpack.sh");
extern const char import_unpack_sh[];

#define ROOT "/tmp"
/* Enough for the tools' messages; a flood only fills it. */
#define LOG_SIZE "1m"
#define SANDBOX_NOFILE 4096
#define SANDBOX_NPROC 512

static int fail(struct error *e, const char *what, const char *path)
{
	return error_set(e, ERR_INTERNAL, errno, "import sandbox: %s %s: %m",
			 what, path);
}

static int bind_ro(const char *src, const char *dst, unsigned long extra,
		   struct error *e)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, dst, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | extra,
		  NULL) < 0)
		return fail(e, "cannot bind", dst);
	return 0;
}

static int make_file(const char *path, struct error *e)
{
	_cleanup_close_ int fd =
		open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	return fd < 0 ? fail(e, "cannot create", path) : 0;
}

/* /bin, /lib and the like: the host's symlink into /usr where it has one,
 * else a read-only bind of its directory. */
static int host_top(const char *name, struct error *e)
{
	char host[32], dst[48], target[256];
	snprintf(host, sizeof(host), "/%s", name);
	snprintf(dst, sizeof(dst), ROOT "/%s", name);
	struct stat st;
	if (lstat(host, &st) < 0)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return fail(e, "cannot read", host);
		target[n] = '\0';
		return symlink(target, dst) < 0 ? fail(e, "cannot create", dst)
						: 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(dst, 0755) < 0)
		return fail(e, "cannot create", dst);
	return bind_ro(host, dst, MS_NODEV, e);
}

/* A host file the tools read, where the host has it. */
static int host_file(const char *path, bool dir, struct error *e)
{
	char dst[64];
	snprintf(dst, sizeof(dst), ROOT "%s", path);
	struct stat st;
	if (stat(path, &st) < 0 || (dir && !S_ISDIR(st.st_mode)) ||
	    (!dir && S_ISDIR(st.st_mode)))
		return 0;
	int r = dir ? (mkdir(dst, 0755) < 0 ? fail(e, "cannot create", dst) : 0)
		    : make_file(dst, e);
	return r < 0 ? r : bind_ro(path, dst, MS_NODEV | MS_NOEXEC, e);
}

static int tmpfs(const char *dst, uid_t owner, const char *size,
		 uint64_t inodes, struct error *e)
{
	char opts[160];
	int n = snprintf(opts, sizeof(opts), "mode=0700,uid=%u,gid=%u,size=%s",
			 (unsigned)owner, (unsigned)owner, size);
	if (inodes)
		snprintf(opts + n, sizeof(opts) - (size_t)n, ",nr_inodes=%llu",
			 (unsigned long long)inodes);
	if (mkdir(dst, 0755) < 0)
		return fail(e, "cannot create", dst);
	if (mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return fail(e, "cannot mount a tmpfs on", dst);
	return 0;
}

/* In the child, as root of its user namespace: the sandbox's root on /tmp,
 * archive the detached read-only tree of the input. */
static int prepare(int archive, const struct import_limits *l, struct error *e)
{
	static const char *const tops[] = { "bin",   "sbin",  "lib",
					    "lib32", "lib64", "libx32" };
	static const char *const devices[] = { "null", "zero", "urandom" };
	char size[32];
	struct stat st;
	int r;

	/* Nothing mounted here reaches the host, whatever the host's
	 * propagation. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(e, "cannot make private", "/");
	if (mount("tmpfs", ROOT, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m") < 0)
		return fail(e, "cannot mount a tmpfs on", ROOT);
	if (mkdir(ROOT "/usr", 0755) < 0)
		return fail(e, "cannot create", ROOT "/usr");
	if ((r = bind_ro("/usr", ROOT "/usr", MS_NODEV, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(tops); i++)
		if ((r = host_top(tops[i], e)) < 0)
			return r;
	/* skopeo keeps big temporary files in /var/tmp. */
	if (mkdir(ROOT "/var", 0755) < 0 ||
	    symlink("/work/layout/tmp", ROOT "/var/tmp") < 0)
		return fail(e, "cannot create", ROOT "/var/tmp");
	if (mkdir(ROOT "/etc", 0755) < 0 || mkdir(ROOT "/dev", 0755) < 0 ||
	    mkdir(ROOT "/proc", 0555) < 0 || mkdir(ROOT "/in", 0755) < 0 ||
	    mkdir(ROOT "/work", 0755) < 0)
		return fail(e, "cannot create", "the sandbox's directories");
	/* umoci's rootless runtime config looks at it; no name is resolved. */
	if ((r = make_file(ROOT "/etc/resolv.conf", e)) < 0 ||
	    (r = host_file("/etc/ld.so.cache", false, e)) < 0 ||
	    (r = host_file("/etc/containers", true, e)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		char host[32], dst[48];
		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		snprintf(dst, sizeof(dst), ROOT "/dev/%s", devices[i]);
		if ((r = make_file(dst, e)) < 0 ||
		    (r = bind_ro(host, dst, MS_NOEXEC, e)) < 0)
			return r;
	}
	if (mount(NULL, ROOT "/dev/null", NULL,
		  MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, NULL) < 0)
		return fail(e, "cannot make writable", ROOT "/dev/null");

	if (fstat(archive, &st) < 0)
		return fail(e, "cannot stat", "the archive");
	r = S_ISDIR(st.st_mode)
		    ? (mkdir(ROOT "/in/archive", 0755) < 0
			       ? fail(e, "cannot create", ROOT "/in/archive")
			       : 0)
		    : make_file(ROOT "/in/archive", e);
	if (r < 0)
		return r;
	if (move_mount(archive, "", AT_FDCWD, ROOT "/in/archive",
		       MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return fail(e, "cannot mount the archive on",
			    ROOT "/in/archive");

	snprintf(size, sizeof(size), "%llu", (unsigned long long)l->max_bytes);
	if ((r = tmpfs(ROOT "/work/layout", BOX_USER_UID, size, l->max_files,
		       e)) < 0 ||
	    (r = tmpfs(ROOT "/work/bundle", BOX_USER_UID, size, l->max_files,
		       e)) < 0 ||
	    (r = tmpfs(ROOT "/log", BOX_USER_UID, LOG_SIZE, 0, e)) < 0)
		return r;
	if (mount(NULL, ROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return fail(e, "cannot make read-only", ROOT);
	return 0;
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };
	return setrlimit(res, &rl);
}

static void child_fail(const char *step)
{
	fprintf(stderr, "isol8-image: import sandbox: cannot %s: %m\n", step);
	_exit(126);
}

/* The script, as the unprivileged user, with no capabilities. */
static void run_script(const struct import_limits *l)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin",
					   "HOME=/work/layout", "LC_ALL=C",
					   NULL };
	const char *const argv[] = { "sh", "-c", import_unpack_sh, NULL };
	const char *step = "set the CPU time limit";
	struct privilege_drop drop = { .rlimit_fsize = l->max_bytes,
				       .rlimit_nofile = SANDBOX_NOFILE,
				       .rlimit_nproc = SANDBOX_NPROC };
	if (set_limit(RLIMIT_CPU, l->timeout_s) < 0 ||
	    privileges_drop(&drop, &step) < 0)
		child_fail(step);
	if (close_range(3, ~0U, 0) < 0)
		child_fail("close fds");
	execve("/bin/sh", (char *const *)argv, (char *const *)env);
	child_fail("run /bin/sh");
}

/* PID 1 of the sandbox's namespaces: builds the sandbox, runs the script,
 * sends its wait status on status_fd and stays until killed, so that the
 * caller reaches the tmpfs mounts through /proc/PID/root.  Never
 * returns. */
static void sandbox_child(int sync_fd, int status_fd, int archive,
			  const struct import_limits *l)
{
	struct error e;
	char c;
	if (read(sync_fd, &c, 1) != 1)
		child_fail("wait for the id maps");
	/* Until then it was an unmapped id, which may create no file. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		child_fail("become root of its user namespace");
	/* Set after the id change, which clears it; a caller gone before
	 * shows as a status pipe without a reader. */
	struct pollfd caller = { .fd = status_fd, .events = POLLOUT };
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&caller, 1, 0) < 0 ||
	    (caller.revents & POLLERR))
		child_fail("outlive the caller");
	if (prepare(archive, l, &e) < 0) {
		fprintf(stderr, "isol8-image: %s\n", e.message);
		_exit(126);
	}
	if (mount("proc", ROOT "/proc", "proc",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail("mount /proc");
	if (chdir(ROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail("pivot_root");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(null, STDOUT_FILENO) < 0)
		child_fail("redirect stdin and stdout");
	pid_t script = fork();
	if (script < 0)
		child_fail("fork");
	if (script == 0)
		run_script(l);
	int status = 0;
	for (pid_t w; (w = wait(&status)) != script;)
		if (w < 0 && errno != EINTR)
			child_fail("wait for the script");
	if (write(status_fd, &status, sizeof(status)) != sizeof(status))
		child_fail("report the script's status");
	for (;;)
		pause();
}

static void kill_wait(int pidfd)
{
	siginfo_t info;
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	/* PID 1 of the namespace reaped means every process in it gone. */
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) < 0 &&
	       errno == EINTR)
		;
}

/* The archive as a detached read-only mount for the child to attach. */
static int archive_tree(int archive_fd, struct error *e)
{
	int tree =
		open_tree(archive_fd, "",
			  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return fail(e, "cannot clone a mount of", "the archive");
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
			    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		close(tree);
		return fail(e, "cannot make read-only", "the archive's mount");
	}
	return tree;
}

static int spawn(int archive_fd, const struct import_limits *l, int *pidfd,
		 int *status_fd, struct error *e)
{
	int sync[2], status[2];
	_cleanup_close_ int tree = archive_tree(archive_fd, e);
	if (tree < 0)
		return tree;
	if (pipe2(sync, O_CLOEXEC) < 0)
		return fail(e, "cannot make", "a pipe");
	_cleanup_close_ int rd = sync[0], wr = sync[1];
	if (pipe2(status, O_CLOEXEC) < 0)
		return fail(e, "cannot make", "a pipe");
	_cleanup_close_ int status_wr = status[1];
	*status_fd = status[0];
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
			 CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
			 CLONE_NEWCGROUP | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return fail(e, "cannot start", "the sandbox");
	if (pid == 0) {
		/* With its own copy of the write end gone, the read sees EOF
		 * if the caller dies before mapping its ids. */
		close(wr);
		close(*status_fd);
		sandbox_child(rd, status_wr, tree, l);
	}
	int r = userns_write_maps((pid_t)pid, l->id_base);
	if (r < 0 || write(wr, "g", 1) != 1) {
		kill_wait(*pidfd);
		return error_set(e, ERR_INTERNAL, r < 0 ? r : errno,
				 "import sandbox: cannot map ids from %u",
				 (unsigned)l->id_base);
	}
	return (int)pid;
}

/* The last line of a file the sandbox wrote, printable, at most len-1
 * bytes. */
static void last_line(int dir, const char *name, char *buf, size_t len)
{
	char tail[512];
	buf[0] = '\0';
	_cleanup_close_ int fd =
		dir < 0 ? -1 : open_beneath(dir, name, O_RDONLY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	off_t from = st.st_size > (off_t)sizeof(tail) - 1
			     ? st.st_size - (off_t)sizeof(tail) + 1
			     : 0;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
	if (n <= 0)
		return;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		n--;
	tail[n] = '\0';
	const char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	size_t i = 0;
	for (; line[i] && i + 1 < len; i++)
		buf[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
	buf[i] = '\0';
}

/* Whether a tmpfs is out of blocks, or (*inodes) out of inodes. */
static bool full(int fd, bool *inodes)
{
	struct statvfs v;
	if (fd < 0 || fstatvfs(fd, &v) < 0)
		return false;
	/* tmpfs counts a few inodes of its own; a write that did not fit
	 * leaves less than it wanted, a few pages. */
	*inodes |= v.f_favail < 16;
	return *inodes || v.f_bavail < 4;
}

static int failure(const struct import_limits *l, int status,
		   const struct import_output *o, int log, struct error *e)
{
	char what[256], detail[256];
	last_line(log, "error", what, sizeof(what));
	last_line(log, "tools", detail, sizeof(detail));
	bool inodes = false;
	/* RLIMIT_FSIZE, as the tools report EFBIG, or a full tmpfs. */
	bool bundle_full = full(o->bundle, &inodes);
	if (full(o->layout, &inodes) || bundle_full ||
	    strstr(detail, "file too large") ||
	    strstr(detail, "no space left on device")) {
		if (inodes)
			return error_set(e, ERR_INVALID_ARGUMENT, EFBIG,
					 "the image has more than --max-files "
					 "%llu files",
					 (unsigned long long)l->max_files);
		/* umoci removes what it unpacked on failure, so which limit
		 * it met may no longer show. */
		return error_set(e, ERR_INVALID_ARGUMENT, EFBIG,
				 "the image is larger than --max-bytes %llu "
				 "bytes or has more than --max-files %llu "
				 "files",
				 (unsigned long long)l->max_bytes,
				 (unsigned long long)l->max_files);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ)
		return error_set(e, ERR_INVALID_ARGUMENT, EFBIG,
				 "a file of the image is larger than "
				 "--max-bytes %llu bytes",
				 (unsigned long long)l->max_bytes);
	if (WIFSIGNALED(status))
		return error_set(
			e, ERR_INVALID_ARGUMENT, ECHILD,
			"the unpacking was killed by signal %d%s",
			WTERMSIG(status),
			WTERMSIG(status) == SIGXCPU ? " (CPU time limit)" : "");
	return error_set(e, ERR_INVALID_ARGUMENT, EINVAL, "%s%s%s",
			 what[0] ? what : "the unpacking failed",
			 detail[0] ? ": " : "", detail);
}

static int open_in(pid_t pid, const char *path)
{
	char full_path[64];
	snprintf(full_path, sizeof(full_path), "/proc/%d/root/%s", (int)pid,
		 path);
	return open(full_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int import_sandbox_run(int archive_fd, const struct import_limits *l,
		       struct import_output *out, struct error *e)
{
	_cleanup_close_ int pidfd = -1, status_fd = -1;
	int pid = spawn(archive_fd, l, &pidfd, &status_fd, e);
	if (pid < 0)
		return pid;
	struct pollfd p = { .fd = status_fd, .events = POLLIN };
	int ready, status = 0;
	do
		ready = poll(&p, 1, (int)(l->timeout_s * 1000u));
	while (ready < 0 && errno == EINTR);
	bool reported = ready > 0 && read(status_fd, &status, sizeof(status)) ==
					     sizeof(status);
	/* The script's files are reached before PID 1 goes; the fds keep
	 * its tmpfs mounts once the namespace is gone. */
	struct import_output o = { .bundle = -1, .layout = -1 };
	_cleanup_close_ int log = -1;
	if (reported) {
		o.bundle = open_in(pid, "work/bundle");
		o.layout = open_in(pid, "work/layout");
		log = open_in(pid, "log");
	}
	kill_wait(pidfd);
	int r;
	if (ready == 0)
		r = error_set(e, ERR_TIMEOUT, ETIMEDOUT,
			      "the unpacking took longer than --timeout %u "
			      "seconds and was killed",
			      l->timeout_s);
	else if (!reported)
		r = error_set(e, ERR_INTERNAL, ECHILD,
			      "the import sandbox could not start (see the "
			      "message above)");
	else if (o.bundle < 0 || o.layout < 0)
		r = error_set(e, ERR_INTERNAL, errno,
			      "cannot open the sandbox's output: %m");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		*out = o;
		return 0;
	} else
		r = failure(l, status, &o, log, e);
	if (o.bundle >= 0)
		close(o.bundle);
	if (o.layout >= 0)
		close(o.layout);
	return r;
}
