#include "box_hibernate.h"

#include "box_host.h"
#include "box_spec.h"
#include "cgroup.h"
#include "cleanup.h"
#include "criu_rpc.h"
#include "log.h"
#include "net/egress.h"
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT_TAR "root.tar"
#define ROOT_DIR "root"
#define TAR "/usr/bin/tar"
/* As rootfs.c mounts the box's root. */
#define ROOT_TMPFS_SIZE "2m"

static _Noreturn void exec_tar(char *const argv[], int dir, int out)
{
	if (fchdir(dir) < 0 || (out >= 0 && dup2(out, 1) < 0))
		_exit(126);
	char *envp[] = { NULL };
	execve(TAR, argv, envp);
	_exit(127);
}

static int wait_ok(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* root.tar in dirfd: the root mount of pid's mount namespace alone (none
 * of the mounts on it), ids kept as they are.  The child enters that
 * namespace only to clone the mount, and runs the host's tar from its
 * own namespace, on the detached clone. */
static int save_root(pid_t pid, int dirfd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	_cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int home =
		open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || home < 0)
		return -errno;
	_cleanup_close_ int out = openat(
		dirfd, ROOT_TAR,
		O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	pid_t child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		if (setns(ns, CLONE_NEWNS) < 0)
			_exit(125);
		int tree = (int)open_tree(AT_FDCWD, "/",
					  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0 || setns(home, CLONE_NEWNS) < 0)
			_exit(125);
		char *argv[] = { "tar", "--numeric-owner", "-cpf", "-", ".",
				 NULL };
		exec_tar(argv, tree, out);
	}
	return wait_ok(child);
}

struct dump_arg {
	pid_t pid;
	int dirfd, netfd;
};

/* In CRIU's child, off the event loop: the box's root saved, then CRIU
 * runs in the box's network namespace: it neither dumps it (the daemon
 * owns it, not the box's user namespace) nor misses the sockets made in
 * it, the control socket among them. */
static int dump_setup(void *arg)
{
	const struct dump_arg *a = arg;
	int r = save_root(a->pid, a->dirfd);
	if (r < 0)
		return r;
	/* The restored processes read some images themselves, as the
	 * box's root: they are readable, the directory searchable. */
	umask(022);
	return setns(a->netfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int box_hibernate_start(struct box *b, sd_event *event, const char *criu,
			int dirfd, criu_done_fn done, void *userdata,
			struct criu_op **op, char *err, size_t err_len)
{
	pid_t pid = box_pid(b);
	/* A paused box thaws: CRIU stops its processes itself. */
	box_freeze(b, false);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	struct dump_arg a = { pid, dirfd, open(path, O_RDONLY | O_CLOEXEC) };
	if (a.netfd < 0) {
		int r = -errno;
		snprintf(err, err_len, "cannot open the box's network: %s",
			 strerror(-r));
		return r;
	}
	char ext[40];
	snprintf(ext, sizeof(ext), "unix[%llu]",
		 (unsigned long long)box_ctl_ino(b));
	const char *external[] = { ext };
	struct criu_call c = { .event = event,
			       .criu = criu,
			       .setup = dump_setup,
			       .setup_arg = &a };
	/* The init dies while CRIU still traces it: the loop must not look
	 * at its exit before CRIU has let go of it. */
	box_watch_init(b, false);
	int r = criu_dump_start(&c, pid, dirfd, external, 1, done, userdata,
				op);
	close(a.netfd);
	if (r < 0) {
		box_watch_init(b, true);
		snprintf(err, err_len, "cannot start criu: %s", strerror(-r));
	}
	return r;
}

void box_hibernate_end(struct box *b)
{
	box_watch_init(b, true);
}

void box_hibernated(struct box *b, struct box_image *img)
{
	img->ctl_ino = box_ctl_ino(b);
	img->uid_base = box_take_uids(b);
}

struct restore_arg {
	const char *dir;
	int64_t uid_base;
	int netfd;
	int cg_dirfd;
	int tasks[CGROUP_MAX_TASKS_FDS];
	int ntasks;
};

/* In CRIU's child: a private mount namespace with the box's root rebuilt
 * from root.tar on a tmpfs, the new box's cgroup and network namespace,
 * which the restored processes inherit. */
static int restore_setup(void *arg)
{
	const struct restore_arg *a = arg;
	char root[4096], opts[96];
	snprintf(root, sizeof(root), "%s/" ROOT_DIR, a->dir);
	snprintf(opts, sizeof(opts),
		 "mode=0755,size=" ROOT_TMPFS_SIZE ",uid=%lld,gid=%lld",
		 (long long)a->uid_base, (long long)a->uid_base);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	_cleanup_close_ int rootfd =
		open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char tar[4096];
	snprintf(tar, sizeof(tar), "%s/" ROOT_TAR, a->dir);
	if (rootfd < 0)
		return -errno;
	pid_t child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		char *argv[] = { "tar", "--numeric-owner", "-xpf", tar, NULL };
		exec_tar(argv, rootfd, -1);
	}
	int r = wait_ok(child);
	if (r < 0)
		return r;
	for (int i = 0; i < a->ntasks; i++)
		if (write(a->tasks[i], "0", 1) != 1)
			return -errno;
	if (a->cg_dirfd >= 0) {
		_cleanup_close_ int procs = openat(a->cg_dirfd, "cgroup.procs",
						   O_WRONLY | O_CLOEXEC);
		if (procs < 0 || write(procs, "0", 1) != 1)
			return -errno;
	}
	return setns(a->netfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* A restore under way: what becomes the box once CRIU answers. */
struct restore_op {
	struct box_host *host;
	struct box_restored_parts p;
	box_died_fn died;
	void *died_data;
	box_restored_fn done;
	void *userdata;
};

static void release_parts(struct box_host *host, struct box_restored_parts *p)
{
	if (p->ctl >= 0)
		close(p->ctl);
	for (int i = 0; i < EGRESS_WAYS; i++)
		if (p->egress[i] >= 0)
			close(p->egress[i]);
	/* CRIU killed what it had restored; the cgroup may need a moment. */
	box_drop_cgroup(host, p->cg);
	p->cg = NULL;
}

static void on_restored(void *userdata, int r, const char *why)
{
	struct restore_op *o = userdata;
	char msg[256];
	struct box *b = NULL;
	if (r > 0) {
		o->p.pid = r;
		o->p.pidfd = (int)syscall(SYS_pidfd_open, o->p.pid, 0);
		if (o->p.pidfd < 0) {
			r = -errno;
			kill(o->p.pid, SIGKILL);
			waitpid(o->p.pid, NULL, 0);
			snprintf(msg, sizeof(msg),
				 "cannot watch the restored init: %s",
				 strerror(-r));
			why = msg;
		}
	}
	if (r > 0) {
		/* box_restored releases the parts itself on failure. */
		r = box_restored(o->host, &o->p, o->died, o->died_data, &b);
		if (r < 0) {
			snprintf(msg, sizeof(msg), "cannot make the box: %s",
				 strerror(-r));
			why = msg;
		}
	} else
		release_parts(o->host, &o->p);
	box_restored_fn done = o->done;
	void *done_data = o->userdata;
	free(o);
	done(done_data, b, r < 0 ? r : 0, r < 0 ? why : NULL);
}

int box_restore_start(struct box_host *host, const struct box_spec *spec,
		      const char *criu, const char *dir,
		      const struct box_image *img, box_died_fn died,
		      void *died_data, box_restored_fn done, void *userdata,
		      struct criu_op **op, char *err, size_t err_len)
{
	struct restore_op *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	*o = (struct restore_op){ .host = host,
				  .p = { .spec = spec,
					 .pid = -1,
					 .pidfd = -1,
					 .ctl = -1,
					 .uid_base = img->uid_base },
				  .died = died,
				  .died_data = died_data,
				  .done = done,
				  .userdata = userdata };
	struct box_restored_parts *p = &o->p;
	for (int i = 0; i < EGRESS_WAYS; i++)
		p->egress[i] = -1;
	struct restore_arg a = { .dir = dir,
				 .uid_base = img->uid_base,
				 .netfd = -1,
				 .cg_dirfd = -1 };
	int sp[2] = { -1, -1 };
	_cleanup_close_ int images = -1;
	const char *step = "create the box cgroup";
	char name[48];
	snprintf(name, sizeof(name), "restore-%llu",
		 (unsigned long long)(img->uid_base / 65536));
	int r = cgroup_box_create(host->cgroups, name, &spec->limits, &p->cg);
	if (r < 0) {
		p->cg = NULL;
		goto fail;
	}
	step = "open the box cgroup";
	a.ntasks = cgroup_box_open_tasks(p->cg, a.tasks);
	a.cg_dirfd = cgroup_box_dirfd(p->cg);
	if (a.ntasks < 0) {
		r = a.ntasks;
		a.ntasks = 0;
		goto fail;
	}
	a.netfd = box_take_net(host, spec->net, p->egress, &step);
	if (a.netfd < 0) {
		r = a.netfd;
		goto fail;
	}
	step = "create the control socket";
	if ((r = box_ctl_pair(host, a.netfd, sp, &p->ctl_ino)) < 0)
		goto fail;
	p->ctl = sp[0];
	char key[40];
	snprintf(key, sizeof(key), "socket:[%llu]",
		 (unsigned long long)img->ctl_ino);
	struct criu_call c = { .event = host->event,
			       .criu = criu,
			       .setup = restore_setup,
			       .setup_arg = &a };
	char root[4096];
	snprintf(root, sizeof(root), "%s/" ROOT_DIR, dir);
	step = "start criu";
	images = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = images < 0 ? -errno
		       : criu_restore_start(&c, images, root, key, sp[1],
					    on_restored, o, op);
	if (r < 0)
		goto fail;
	/* CRIU's child has its own copies of these. */
	close(sp[1]);
	close(a.netfd);
	for (int i = 0; i < a.ntasks; i++)
		close(a.tasks[i]);
	return 0;

fail:
	snprintf(err, err_len, "cannot %s: %s", step, strerror(-r));
	log_errno(LOG_ERR, r, "restore of %s: %s", dir, err);
	if (sp[1] >= 0)
		close(sp[1]);
	if (a.netfd >= 0)
		close(a.netfd);
	for (int i = 0; i < a.ntasks; i++)
		close(a.tasks[i]);
	release_parts(host, p);
	free(o);
	return r;
}
