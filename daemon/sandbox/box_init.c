#include "box_init.h"

#include "cleanup.h"
#include "fault.h"
#include "init_proto.h"
#include "open_beneath.h"
#include "privileges.h"
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_COMMANDS 64

struct init_state {
	int ctl;
	const struct seccomp_prog *seccomp;
	int sandbox_fd, tmp_fd;
	pid_t commands[MAX_COMMANDS];
};

static int send_msg(int fd, uint32_t op, int32_t value, int32_t status,
		    const void *payload, uint32_t len, int pass_fd)
{
	struct init_msg m = { op, value, status, len };
	struct iovec iov[2] = { { &m, sizeof(m) }, { (void *)payload, len } };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	if (pass_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static void send_error(int fd, int err, const char *what)
{
	send_msg(fd, INIT_ERROR, err, 0, what, (uint32_t)strlen(what) + 1, -1);
}

_Noreturn static void die(int fd, int err, const char *what)
{
	send_error(fd, err, what);
	_exit(1);
}

/* Receives one message with up to 3 fds.  Returns payload length or -errno;
 * 0 bytes read means the daemon has gone. */
static ssize_t recv_msg(int fd, struct init_msg *m, char *payload, size_t cap,
			int fds[3], int *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} u;
	struct iovec iov[2] = { { m, sizeof(*m) }, { payload, cap } };
	struct msghdr mh = { .msg_iov = iov,
			     .msg_iovlen = 2,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < 3)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return -EPIPE; /* the daemon has gone */
	if ((size_t)n < sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return -EBADMSG;
	return n - (ssize_t)sizeof(*m);
}

/* In the forked command: become the box user and exec.  Failures go back
 * through errpipe as errno and the step's name. */
_Noreturn static void exec_command(const struct init_state *st,
				   const struct init_run *run, const char *cwd,
				   char **argv, char **envp, const int fds[3],
				   int errpipe)
{
	const char *step = "start";
	int err = 0;
	struct privilege_drop p = {
		.rlimit_fsize = run->rlimit_fsize,
		.rlimit_nofile = run->rlimit_nofile,
		.rlimit_nproc = run->rlimit_nproc,
	};
	if (setsid() < 0) {
		err = errno;
		step = "setsid";
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0) {
			err = errno;
			step = "set up stdio";
			goto out;
		}
	close_range(3, (unsigned)errpipe - 1, 0);
	close_range((unsigned)errpipe + 1, ~0u, 0);
	err = -privileges_drop(&p, &step);
	if (err)
		goto out;
	if (chdir(cwd) < 0) {
		err = errno;
		step = "change to the working directory";
		goto out;
	}
	if (run->seccomp && st->seccomp) {
		err = -seccomp_install(st->seccomp);
		if (err) {
			step = "install the seccomp filter";
			goto out;
		}
	}
	step = "execute the command";
	err = -fault_inject(step);
	if (!err) {
		execve(argv[0], argv, envp);
		err = errno;
	}
out:;
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%d %s", err, step);
	(void)!write(errpipe, buf, (size_t)n);
	_exit(127);
}

static void track(struct init_state *st, pid_t pid)
{
	for (int i = 0; i < MAX_COMMANDS; i++)
		if (st->commands[i] == 0) {
			st->commands[i] = pid;
			return;
		}
}

/* Splits the RUN payload's NUL-terminated strings into cwd, argv, envp. */
static int parse_run(char *p, size_t len, const struct init_run *run,
		     const char **cwd, char ***argv, char ***envp)
{
	size_t need = 1 + (size_t)run->argc + run->envc;
	if (run->argc == 0 || need > 4096)
		return -EINVAL;
	char **v = calloc(run->argc + run->envc + 2, sizeof(char *));
	if (!v)
		return -ENOMEM;
	char *end = p + len;
	for (size_t i = 0; i < need; i++) {
		char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul) {
			free(v);
			return -EINVAL;
		}
		if (i == 0)
			*cwd = p;
		else if (i <= run->argc)
			v[i - 1] = p;
		else
			v[run->argc + 1 + (i - 1 - run->argc)] = p;
		p = nul + 1;
	}
	*argv = v;
	*envp = v + run->argc + 1;
	return 0;
}

static void handle_run(struct init_state *st, char *payload, size_t len,
		       int fds[3], int nfds)
{
	struct init_run run;
	const char *cwd;
	char **argv = NULL, **envp = NULL;
	if (nfds != 3 || len < sizeof(run)) {
		send_error(st->ctl, EINVAL, "malformed run request");
		return;
	}
	memcpy(&run, payload, sizeof(run));
	if (parse_run(payload + sizeof(run), len - sizeof(run), &run, &cwd,
		      &argv, &envp) < 0) {
		send_error(st->ctl, EINVAL, "malformed run request");
		return;
	}
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		send_error(st->ctl, errno, "pipe");
		free(argv);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(errpipe[0]);
		exec_command(st, &run, cwd, argv, envp, fds, errpipe[1]);
	}
	int fork_err = errno;
	close(errpipe[1]);
	free(argv);
	if (pid < 0) {
		close(errpipe[0]);
		send_error(st->ctl, fork_err, "fork the command");
		return;
	}
	char buf[160];
	ssize_t n;
	do
		n = read(errpipe[0], buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n > 0) {
		buf[n] = '\0';
		int err = atoi(buf);
		const char *step = strchr(buf, ' ');
		waitpid(pid, NULL, 0);
		send_error(st->ctl, err ? err : EIO, step ? step + 1 : buf);
		return;
	}
	track(st, pid);
	send_msg(st->ctl, INIT_STARTED, pid, 0, NULL, 0, -1);
}

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

static int open_in_box(struct init_state *st, const struct init_open *op,
		       char *path)
{
	int base;
	char *rel;
	if (strncmp(path, "/sandbox/", 9) == 0) {
		base = st->sandbox_fd;
		rel = path + 9;
	} else if (strncmp(path, "/tmp/", 5) == 0) {
		base = st->tmp_fd;
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

static void handle_open(struct init_state *st, char *payload, size_t len)
{
	struct init_open op;
	if (len < sizeof(op) + 1 || payload[len - 1] != '\0') {
		send_error(st->ctl, EINVAL, "malformed open request");
		return;
	}
	memcpy(&op, payload, sizeof(op));
	/* Every lookup and creation below happens with the box user's
	 * file-system identity, so permissions are the box user's own. */
	setfsgid(BOX_USER_GID);
	setfsuid(BOX_USER_UID);
	int fd = open_in_box(st, &op, payload + sizeof(op));
	setfsuid(0);
	setfsgid(0);
	if (fd < 0) {
		send_error(st->ctl, -fd, "open");
		return;
	}
	if (fd == INT_MAX) { /* removed: nothing to pass */
		send_msg(st->ctl, INIT_FD, 0, 0, NULL, 0, -1);
		return;
	}
	send_msg(st->ctl, INIT_FD, 0, 0, NULL, 0, fd);
	close(fd);
}

static void reap(struct init_state *st)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_COMMANDS; i++)
			if (st->commands[i] == pid) {
				st->commands[i] = 0;
				send_msg(st->ctl, INIT_EXITED, pid, status,
					 NULL, 0, -1);
			}
	}
}

_Noreturn static void serve(struct init_state *st)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(st->ctl, errno, "signalfd");
	static char payload[INIT_MSG_MAX];
	for (;;) {
		struct pollfd p[2] = { { st->ctl, POLLIN, 0 },
				       { sfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap(st);
		}
		if (!p[0].revents)
			continue;
		struct init_msg m = { 0 };
		int fds[3], nfds = 0;
		ssize_t n = recv_msg(st->ctl, &m, payload, sizeof(payload), fds,
				     &nfds);
		if (n < 0 && n != -EINTR && n != -EAGAIN && n != -EBADMSG)
			_exit(0); /* the daemon has gone: so does the box */
		if (n < 0)
			continue;
		if (m.op == INIT_RUN)
			handle_run(st, payload, (size_t)n, fds, nfds);
		else if (m.op == INIT_OPEN)
			handle_open(st, payload, (size_t)n);
		else if (m.op == INIT_KILL && m.value > 1) {
			/* Each command leads its own process group (setsid). */
			kill(-m.value, SIGKILL);
			kill(m.value, SIGKILL);
		} else
			send_error(st->ctl, EINVAL, "unknown request");
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
}

static void close_all_except(int *keep, int n)
{
	/* Sorted, the gaps between the kept fds are ranges to close. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned lo = 3;
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

_Noreturn void box_init_main(const struct box_init_args *a)
{
	int ctl = a->ctl_fd;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	umask(022); /* not the daemon's: files in boxes get usual modes */

	struct init_msg m;
	if (recv(ctl, &m, sizeof(m), 0) != (ssize_t)sizeof(m) ||
	    m.op != INIT_GO)
		_exit(1);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die(ctl, errno, "become root of the user namespace");
	/* Before the cgroup namespace, whose root is where the init is. */
	int r = fault_inject("join the box cgroup");
	for (int i = 0; i < a->ntasks_fds; i++) {
		if (r == 0 && write(a->tasks_fds[i], "0", 1) != 1)
			r = -errno;
		close(a->tasks_fds[i]);
	}
	if (r < 0)
		die(ctl, -r, "join the box cgroup");
	if (unshare(CLONE_NEWCGROUP) < 0)
		die(ctl, errno, "create the cgroup namespace");
	if (sethostname("sandbox", 7) < 0)
		die(ctl, errno, "set the host name");
	char what[160];
	r = fault_inject("build the root filesystem");
	if (r < 0)
		die(ctl, -r, "build the root filesystem");
	r = rootfs_build(&a->rootfs, what, sizeof(what));
	if (r < 0)
		die(ctl, -r, what);

	struct init_state st = { .ctl = ctl, .seccomp = a->seccomp };
	st.sandbox_fd = open("/sandbox", O_PATH | O_DIRECTORY | O_CLOEXEC);
	st.tmp_fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st.sandbox_fd < 0 || st.tmp_fd < 0)
		die(ctl, errno, "open /sandbox and /tmp");
	/* Nothing of the daemon's stays open in the box but the control
	 * socket; stdio points at /dev/null. */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		if (devnull >= 0)
			dup2(devnull, i);
	close_all_except((int[]){ ctl, st.sandbox_fd, st.tmp_fd }, 3);

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	if (send_msg(ctl, INIT_READY, 0, 0, NULL, 0, -1) < 0)
		_exit(1);
	serve(&st);
}
