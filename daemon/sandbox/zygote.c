/* The Makefile builds the module first and states the dependency:
 *   $(BUILD)/daemon/sandbox/zygote.o: $(ZYGOTE_MODULE)
 * and names it in ISOL8_ZYGOTE_MODULE. */
#include "zygote.h"

#include "cleanup.h"
#include "environment.h"
#include "fd_pass.h"
#include "helper_proc.h"
#include "init_proto.h"
#include "incbin.h"
#include "log.h"
#include "memfd_sealed.h"
#include "orphans.h"
#include "runtimes/preload.h"
#include "zygote_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;
extern const char zygote_module[];
extern const size_t zygote_module_len;
INCBIN(zygote_module, ISOL8_ZYGOTE_MODULE);

/* How long the oldest request may wait for its answer: a clone takes the
 * zygote a millisecond or two; one that does not answer in time is given
 * up. */
#define ZYGOTE_ANSWER_MS 2000
/* How long the daemon waits at start for the zygote to serve. */
#define ZYGOTE_START_MS 5000
/* A zygote that ends is started again after AGAIN_FIRST_S, twice as long
 * each time it ends within AGAIN_RESET_S of its start, up to AGAIN_MAX_S. */
#define AGAIN_FIRST_S 1
#define AGAIN_MAX_S 300
#define AGAIN_RESET_S 60

struct zygote {
	sd_event *event;
	const char *name;    /* in the log: "python zygote" */
	const char *without; /* what boxes do while it does not serve */
	char **argv, **envp; /* what it execs, each time */
	int exe; /* the box forker's program; -1: the python zygote */
	int sock;
	bool ready;
	bool given_up; /* its boxes failed: not started again */
	uint64_t started_usec;
	unsigned again_s; /* the wait before the next start */
	/* its socket: the first message says it serves, then the answers */
	sd_event_source *sock_src;
	sd_event_source *output;
	sd_event_source *exit;
	sd_event_source *again;	   /* the next start, while it waits */
	sd_event_source *deadline; /* the oldest request's answer is late */
	/* the requests sent, oldest first: it answers them in that order */
	struct zygote_wait *waiting, **waiting_end;
};

struct zygote_wait {
	struct zygote_wait *next;
	zygote_cloned_fn done;
	void *userdata;
	uint64_t ctl_ino; /* the control socket's end sent (zygote_box) */
};

/* The zygote's mount namespace: / and /usr read-only (Python, as root,
 * would write its byte code there), /usr/local hidden, and a /tmp of its
 * own holding the preload script, in PRELOAD_DIR as a box's.  A slave of
 * the host's, so that what the host unmounts is not kept here.  /proc
 * stays as it is: a box's /proc is mounted while it is visible whole. */
static int set_up_mounts(const char **step)
{
	char what[160];
	*step = "make a mount namespace";
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -errno;
	*step = "make / and /usr read-only";
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount("/usr", "/usr", NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, "/usr", AT_RECURSIVE, &ro,
		    sizeof(ro)) < 0 ||
	    syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return -errno;
	*step = "hide /usr/local";
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = root < 0 || chdir("/") < 0
			? -errno
			: rootfs_hide_usr_local(root, what, sizeof(what));
	if (r < 0)
		return r;
	*step = "write the preload script";
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=4m") < 0 ||
	    mkdir(PRELOAD_DIR, 0755) < 0)
		return -errno;
	_cleanup_close_ int dir =
		open(PRELOAD_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	return rootfs_write_file(dir, "usercustomize.py", preload_python, 0644);
}

/* Only CAP_SYS_ADMIN stays, for entering the boxes' network namespaces
 * (setns): the bounding set decides what the exec'd root gets, and no
 * inheritable or ambient capability passes the exec. */
static int keep_sys_admin(void)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap != CAP_SYS_ADMIN &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0 ||
	    (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	     errno != EINVAL))
		return -errno;
	return 0;
}

static __attribute__((noreturn)) void zygote_main(int sock, int out,
						  const struct zygote *z)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The daemon's dispositions and mask would outlive the exec. */
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its module is mapped from a memfd: a box's interpreter maps no
	 * file of the zygote's mounts, which CRIU could not find in the
	 * box's (zygote/rebase.c).  Its stdin is a pipe, as a box's
	 * interpreter's is: Python notes at start whether stdin seeks. */
	int s = fcntl(sock, F_DUPFD, 10), o = fcntl(out, F_DUPFD, 10);
	/* The box forker's program takes the module's place, until its
	 * exec. */
	int mf = z->exe >= 0 ? z->exe
			     : memfd_sealed(ZYGOTE_MODULE_FILE, zygote_module,
					    zygote_module_len, true);
	int m = mf < 0 ? mf : fcntl(mf, F_DUPFD, 10);
	int in[2];
	if (pipe(in) < 0 || close(in[1]) < 0 || s < 0 || o < 0 || m < 0 ||
	    dup2(in[0], 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0 ||
	    dup2(s, ZYGOTE_FD) < 0 || dup2(m, ZYGOTE_MODULE_FD) < 0)
		_exit(1);
	close_range(ZYGOTE_MODULE_FD + 1, ~0U, 0);
	const char *step = "drop capabilities";
	/* The box forker sees the mounts the daemon sees, as the daemon's
	 * own clones did. */
	int r = z->exe >= 0 ? 0 : set_up_mounts(&step);
	if (r == 0 && (r = keep_sys_admin()) == 0) {
		step = "execute the interpreter";
		if (z->exe >= 0 &&
		    fcntl(ZYGOTE_MODULE_FD, F_SETFD, FD_CLOEXEC) == 0)
			fexecve(ZYGOTE_MODULE_FD, z->argv, z->envp);
		else if (z->exe < 0)
			execve(z->argv[0], z->argv, z->envp);
		r = -errno;
	}
	dprintf(2, "cannot %s: %s\n", step, strerror(-r));
	_exit(1);
}

struct zygote_args {
	int out;
	const struct zygote *z;
};

static void run_zygote(int sock, void *arg)
{
	const struct zygote_args *a = arg;
	zygote_main(sock, a->out, a->z);
}

static void kill_it(struct zygote *z);

/* The deadline counts from the last answer, or from the request sent to a
 * zygote that had none to answer. */
static void arm_deadline(struct zygote *z)
{
	int r = z->waiting ? sd_event_source_set_time_relative(
				     z->deadline, ZYGOTE_ANSWER_MS * 1000ULL)
			   : 0;
	if (r >= 0)
		r = sd_event_source_set_enabled(z->deadline,
						z->waiting ? SD_EVENT_ONESHOT
							   : SD_EVENT_OFF);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot time the %s", z->name);
		kill_it(z);
	}
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	struct zygote *z = userdata;
	log_err("the %s does not answer; stopping it", z->name);
	kill_it(z);
	return 0;
}

static struct zygote_wait *oldest_request(struct zygote *z)
{
	struct zygote_wait *w = z->waiting;
	if (w)
		z->waiting = w->next;
	if (!z->waiting)
		z->waiting_end = &z->waiting;
	return w;
}

/* Every request still waiting fails: the zygote ended, or was stopped.
 * What it may have cloned waits on its box's control socket. */
static void fail_waiting(struct zygote *z)
{
	struct zygote_wait *w;
	while ((w = oldest_request(z))) {
		w->done(-ECONNABORTED, -1, w->userdata);
		free(w);
	}
}

/* One answer for the oldest request; false when there is none to read or
 * the zygote was stopped. */
static bool take_answer(struct zygote *z)
{
	struct zygote_answer ans;
	struct iovec in = { &ans, sizeof(ans) };
	size_t n = 0;
	int pidfd = -1;
	ssize_t k = fd_pass_recv(z->sock, &in, 1, &pidfd, 1, &n, MSG_DONTWAIT);
	if (k == -EAGAIN || k == -EINTR)
		return false;
	if (k != (ssize_t)sizeof(ans) || (ans.pid > 0) != (n == 1) ||
	    ans.pid == 0 || !z->waiting) {
		if (n == 1)
			close(pidfd);
		/* An end of file is the zygote's end: its exit source fails
		 * what waits. */
		if (k != 0)
			log_err("the %s answers out of turn or in bad shape; "
				"stopping it",
				z->name);
		kill_it(z);
		return false;
	}
	struct zygote_wait *w = oldest_request(z);
	w->done(ans.pid, ans.pid > 0 ? pidfd : -1, w->userdata);
	free(w);
	return z->sock >= 0;
}

static int on_sock(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)revents;
	struct zygote *z = userdata;
	if (z->ready) {
		while (take_answer(z))
			;
		if (z->sock >= 0)
			arm_deadline(z);
		return 0;
	}
	struct zygote_answer ans;
	struct iovec iov = { &ans, sizeof(ans) };
	size_t n = 0;
	ssize_t k = fd_pass_recv(fd, &iov, 1, NULL, 0, &n, MSG_DONTWAIT);
	if (k == -EAGAIN)
		return 0;
	if (k == (ssize_t)sizeof(ans) && ans.pid == 0) {
		z->ready = true;
		log_info("the %s serves", z->name);
	} else {
		/* Its exit source follows. */
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	}
	return 0;
}

/* What the zygote writes (a traceback, say) goes to the log: the length
 * of a piece logged, 0 at the end, or -errno. */
static ssize_t log_output(const struct zygote *z, int fd)
{
	char buf[2048];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	ssize_t len = n;
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	log_warn("%s: %s", z->name, buf);
	return n;
}

static int on_output(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)revents;
	ssize_t n = log_output(userdata, fd);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR))
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

/* What still waits is failed by the exit source (on_ended), from the
 * loop, not from inside a caller. */
static void stop(struct zygote *z)
{
	z->ready = false;
	z->sock_src = sd_event_source_disable_unref(z->sock_src);
	if (z->deadline)
		sd_event_source_set_enabled(z->deadline, SD_EVENT_OFF);
	if (z->sock >= 0)
		close(z->sock);
	z->sock = -1;
}

static void kill_it(struct zygote *z)
{
	/* Its exit source reaps it. */
	sd_event_source_send_child_signal(z->exit, SIGKILL, NULL, 0);
	stop(z);
}

/* Stops it and reaps it, its output logged to the end. */
static void forget(struct zygote *z)
{
	stop(z);
	if (z->output)
		while (log_output(z, sd_event_source_get_io_fd(z->output)) > 0)
			;
	z->output = sd_event_source_disable_unref(z->output);
	z->exit = sd_event_source_disable_unref(z->exit);
}

static int on_again(sd_event_source *s, uint64_t usec, void *userdata);
static int spawn(struct zygote *z, bool wait);

/* Between two starts boxes start their own interpreter. */
static void start_later(struct zygote *z)
{
	uint64_t now = 0;
	sd_event_now(z->event, CLOCK_MONOTONIC, &now);
	if (now - z->started_usec >= AGAIN_RESET_S * 1000000ULL)
		z->again_s = AGAIN_FIRST_S;
	unsigned wait = z->again_s;
	z->again_s = wait * 2 > AGAIN_MAX_S ? AGAIN_MAX_S : wait * 2;
	int r = sd_event_add_time_relative(z->event, &z->again, CLOCK_MONOTONIC,
					   wait * 1000000ULL, 0, on_again, z);
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot start the %s again", z->name);
	else
		log_info("the %s starts again in %u s", z->name, wait);
}

/* The processes the zygote cloned for requests it did not answer: the
 * daemon's children, whose pids only the zygote knew. */
static void reap_unanswered(const struct zygote *z)
{
	size_t n = 0, k = 0;
	for (const struct zygote_wait *w = z->waiting; w; w = w->next)
		n++;
	_cleanup_free_ uint64_t *socks = n ? calloc(n, sizeof(*socks)) : NULL;
	if (!socks) {
		if (n)
			log_err("out of memory: processes the %s cloned "
				"before it ended may stay zombies",
				z->name);
		return;
	}
	for (const struct zygote_wait *w = z->waiting; w; w = w->next)
		socks[k++] = w->ctl_ino;
	unsigned reaped = orphans_reap(socks, n);
	if (reaped)
		log_info("killed and reaped %u process%s the %s cloned "
			 "before it ended",
			 reaped, reaped == 1 ? "" : "es", z->name);
}

static int on_ended(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	(void)s;
	struct zygote *z = userdata;
	char who[48], then[96];
	snprintf(who, sizeof(who), "the %s", z->name);
	snprintf(then, sizeof(then), "%s %s", z->without,
		 z->given_up ? "from now on" : "until it starts again");
	log_helper_ended(si, who, then);
	forget(z);
	reap_unanswered(z);
	fail_waiting(z);
	if (!z->given_up)
		start_later(z);
	return 0;
}

static int on_again(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s, (void)usec;
	struct zygote *z = userdata;
	z->again = sd_event_source_disable_unref(z->again);
	int r = spawn(z, false);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "cannot start the %s", z->name);
		start_later(z);
	}
	return 0;
}

/* Forks the zygote; with wait, waits for it to serve (at most
 * ZYGOTE_START_MS), else it serves once it says so (on_sock). */
static int spawn(struct zygote *z, bool wait)
{
	int pp[2];
	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	sd_event_now(z->event, CLOCK_MONOTONIC, &z->started_usec);
	struct zygote_args a = { pp[1], z };
	int r = helper_proc_fork(z->event, run_zygote, &a, on_ended, z,
				 &z->sock, &z->exit);
	close(pp[1]);
	if (r < 0) {
		close(pp[0]);
		return r;
	}
	r = sd_event_add_io(z->event, &z->output, pp[0], EPOLLIN, on_output, z);
	if (r >= 0)
		sd_event_source_set_io_fd_own(z->output, true);
	else
		close(pp[0]);
	/* A full socket is a busy zygote: the box is made without it. */
	if (r >= 0 && fcntl(z->sock, F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r >= 0)
		r = sd_event_add_io(z->event, &z->sock_src, z->sock, EPOLLIN,
				    on_sock, z);
	if (r < 0) {
		forget(z);
		return r;
	}
	struct pollfd p = { .fd = z->sock, .events = POLLIN };
	if (wait && poll(&p, 1, ZYGOTE_START_MS) == 1)
		on_sock(z->sock_src, z->sock, (uint32_t)p.revents, z);
	return 0;
}

static char **copy_strv(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	char **c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			environment_free(c);
			return NULL;
		}
	return c;
}

/* A zygote that execs argv (with envp and ISOL8D_FAULT*: the fault
 * injection of tests, fault.h, reaches the boxes' set-up there too), from
 * exe where exe >= 0. */
static int start(sd_event *event, const char *name, const char *without,
		 int exe, const char *const *argv, const char *const *envp,
		 struct zygote **out)
{
	const char *env[64];
	size_t n = 0;
	for (; n < 60 && envp[n]; n++)
		env[n] = envp[n];
	for (char **e = environ; *e && n < 63; e++)
		if (!strncmp(*e, "ISOL8D_FAULT", 12))
			env[n++] = *e;
	env[n] = NULL;
	struct zygote *z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->event = event;
	z->name = name;
	z->without = without;
	z->exe = exe;
	z->sock = -1;
	z->again_s = AGAIN_FIRST_S;
	z->waiting_end = &z->waiting;
	z->argv = copy_strv(argv);
	z->envp = copy_strv(env);
	int r = z->argv && z->envp ? 0 : -ENOMEM;
	if (r == 0)
		r = sd_event_add_time_relative(
			event, &z->deadline, CLOCK_MONOTONIC,
			ZYGOTE_ANSWER_MS * 1000ULL, 0, on_deadline, z);
	if (r >= 0)
		r = sd_event_source_set_enabled(z->deadline, SD_EVENT_OFF);
	/* Python starts in tens of milliseconds: the first pooled boxes,
	 * built as soon as the daemon serves, come from the zygote too. */
	if (r >= 0)
		r = spawn(z, true);
	if (r < 0) {
		zygote_free(z);
		return r;
	}
	*out = z;
	return 0;
}

int zygote_start(sd_event *event, const char *const *argv,
		 const char *const *envp, struct zygote **out)
{
	return start(event, "python zygote",
		     "python boxes start their own interpreter", -1, argv, envp,
		     out);
}

int zygote_start_forker(sd_event *event, int exe, struct zygote **out)
{
	static const char *const argv[] = { INIT_NAME, INIT_FORKER_ARG, NULL };
	static const char *const envp[] = { NULL };
	return start(event, "box forker", "the daemon clones boxes itself", exe,
		     argv, envp, out);
}

bool zygote_ready(const struct zygote *z)
{
	return z && z->ready;
}

int zygote_clone(struct zygote *z, const struct zygote_box *b,
		 zygote_cloned_fn done, void *userdata)
{
	if (!zygote_ready(z))
		return -ESRCH;
	struct zygote_request rq = {
		.sandbox_size = b->a->rootfs.sandbox_size,
		.tmp_size = b->a->rootfs.tmp_size,
		.flags = b->a->rootfs.readonly_root ? ZYGOTE_READONLY_ROOT : 0,
		.ntasks = (uint32_t)b->a->ntasks_fds,
	};
	const char *dir = b->a->rootfs.runtimes_dir;
	if (dir && strlen(dir) >= sizeof(rq.runtimes_dir))
		return -ENAMETOOLONG;
	snprintf(rq.runtimes_dir, sizeof(rq.runtimes_dir), "%s",
		 dir ? dir : "");
	int fds[FD_PASS_MAX];
	size_t n = 0;
	fds[n++] = b->a->ctl_fd;
	fds[n++] = b->net;
	fds[n++] = b->a->init_exe;
	if (b->a->seccomp_fd >= 0) {
		rq.flags |= ZYGOTE_SECCOMP;
		fds[n++] = b->a->seccomp_fd;
	}
	if (b->cgroup >= 0) {
		rq.flags |= ZYGOTE_INTO_CGROUP;
		fds[n++] = b->cgroup;
	}
	if (b->a->rootfs.image_fd >= 0) {
		rq.flags |= ZYGOTE_IMAGE;
		fds[n++] = b->a->rootfs.image_fd;
	}
	if (n + (size_t)b->a->ntasks_fds > FD_PASS_MAX)
		return -E2BIG;
	for (int i = 0; i < b->a->ntasks_fds; i++)
		fds[n++] = b->a->tasks_fds[i];
	struct zygote_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ctl_ino = b->ctl_ino;
	struct iovec out = { &rq, sizeof(rq) };
	ssize_t sent = fd_pass_send(z->sock, &out, 1, fds, n);
	if (sent < 0) {
		free(w);
		return (int)sent;
	}
	w->done = done;
	w->userdata = userdata;
	bool first = !z->waiting;
	*z->waiting_end = w;
	z->waiting_end = &w->next;
	if (first)
		arm_deadline(z);
	return 0;
}

void zygote_give_up(struct zygote *z, int err, const char *what)
{
	if (!zygote_ready(z))
		return;
	log_errno(LOG_ERR, err,
		  "a python box made from the zygote failed (%s); stopping "
		  "the zygote",
		  what ? what : "its interpreter");
	z->given_up = true;
	kill_it(z);
}

void zygote_free(struct zygote *z)
{
	if (!z)
		return;
	forget(z);
	/* At the daemon's end: their boxes go with it. */
	struct zygote_wait *w;
	while ((w = oldest_request(z)))
		free(w);
	z->again = sd_event_source_disable_unref(z->again);
	z->deadline = sd_event_source_disable_unref(z->deadline);
	environment_free(z->argv);
	environment_free(z->envp);
	free(z);
}
