/* isol8-init's main loop: requests from the daemon, commands, exits. */
#include "init.h"

#include "command_enter.h"
#include "forker.h"
#include "held.h"

#include "fault.h"
#include "sandbox/fd_pass.h"
#include "sandbox/init_proto.h"
#include "sandbox/open_beneath.h"
#include "sandbox/seccomp_load.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_COMMANDS 64

static pid_t commands[MAX_COMMANDS];
/* The seccomp programs of INIT_FD_SECCOMP; none when unconfined. */
static char seccomp_blob[SECCOMP_BLOB_MAX];
static size_t seccomp_len;

int init_send(uint32_t op, int32_t value, int32_t status, const void *payload,
	      uint32_t len, int pass_fd)
{
	struct init_msg m = { op, value, status, len };
	struct iovec iov[2] = { { &m, sizeof(m) }, { (void *)payload, len } };
	ssize_t n = fd_pass_send(INIT_FD_CTL, iov, len ? 2 : 1, &pass_fd,
				 pass_fd >= 0);
	return n < 0 ? (int)n : 0;
}

void init_send_error(int err, const char *what)
{
	init_send(INIT_ERROR, err, 0, what, (uint32_t)strlen(what) + 1, -1);
}

_Noreturn static void die(int err, const char *what)
{
	init_send_error(err, what);
	_exit(1);
}

/* Receives one message with up to 3 fds.  Returns payload length or -errno;
 * 0 bytes read means the daemon has gone. */
static ssize_t recv_msg(struct init_msg *m, char *payload, size_t cap,
			int fds[3], int *nfds)
{
	struct iovec iov[2] = { { m, sizeof(*m) }, { payload, cap } };
	size_t k = 0;
	ssize_t n = fd_pass_recv(INIT_FD_CTL, iov, 2, fds, 3, &k, 0);
	*nfds = (int)k;
	if (n == 0)
		return -EPIPE; /* the daemon has gone */
	if (n > 0 && (size_t)n < sizeof(*m)) {
		for (size_t i = 0; i < k; i++)
			close(fds[i]);
		*nfds = 0;
		return -EBADMSG;
	}
	return n < 0 ? n : n - (ssize_t)sizeof(*m);
}

/* In the forked command: become the box user and exec.  Failures go back
 * through errpipe as errno and the step's name. */
_Noreturn static void exec_command(const struct init_run *run, const char *cwd,
				   char **argv, char **envp, const int fds[3],
				   int errpipe)
{
	const char *step = "start";
	int err = -command_enter(run, cwd, fds, errpipe, seccomp_blob,
				 seccomp_len, &step);
	if (!err) {
		step = "execute the command";
		err = -fault_inject(step);
	}
	if (!err) {
		execve(argv[0], argv, envp);
		err = errno;
	}
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "%d %s", err, step);
	(void)!write(errpipe, buf, (size_t)n);
	_exit(127);
}

static void track(pid_t pid)
{
	for (int i = 0; i < MAX_COMMANDS; i++)
		if (commands[i] == 0) {
			commands[i] = pid;
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
	*cwd = p;
	for (size_t i = 0; i < need; i++) {
		char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul) {
			free(v);
			return -EINVAL;
		}
		/* String 0 is cwd; argv and envp leave a NULL between them. */
		if (i > 0)
			v[i - 1 + (i > run->argc)] = p;
		p = nul + 1;
	}
	if (!v[0]) { /* a program to run: argc is at least 1 */
		free(v);
		return -EINVAL;
	}
	*argv = v;
	*envp = v + run->argc + 1;
	return 0;
}

/* A forked command: its pid, or -1 with the error sent. */
static pid_t run_forked(const struct init_run *run, const char *cwd,
			char **argv, char **envp, const int fds[3])
{
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		init_send_error(errno, "pipe");
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(errpipe[0]);
		exec_command(run, cwd, argv, envp, fds, errpipe[1]);
	}
	int fork_err = errno;
	close(errpipe[1]);
	if (pid < 0) {
		close(errpipe[0]);
		init_send_error(fork_err, "fork the command");
		return -1;
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
		init_send_error(err ? err : EIO, step ? step + 1 : buf);
		return -1;
	}
	return pid;
}

/* The held interpreter, which becomes the command and answers for itself:
 * its pid, or -1 with the error sent.  The socket to it closes whatever
 * the outcome. */
static pid_t run_held(const struct init_run *run, const char *cwd,
		      const int fds[3])
{
	struct iovec out[2] = { { (void *)run, sizeof(*run) },
				{ (void *)cwd, strlen(cwd) + 1 } };
	struct held_answer ans = { 0 };
	struct iovec in = { &ans, sizeof(ans) };
	size_t k = 0;
	ssize_t r = fd_pass_send(INIT_FD_HELD, out, 2, fds, 3);
	ssize_t n =
		r < 0 ? r : fd_pass_recv(INIT_FD_HELD, &in, 1, NULL, 0, &k, 0);
	close(INIT_FD_HELD);
	if (n != (ssize_t)sizeof(ans)) {
		init_send_error(n < 0 ? (int)-n : ESRCH,
				"reach the held interpreter");
		return -1;
	}
	if (ans.err) {
		ans.step[sizeof(ans.step) - 1] = '\0';
		init_send_error(ans.err, ans.step);
		return -1;
	}
	return ans.pid;
}

static void handle_run(char *payload, size_t len, int fds[3], int nfds,
		       bool held)
{
	struct init_run run;
	const char *cwd = NULL;
	char **argv = NULL, **envp = NULL;
	if (nfds != 3 || len < sizeof(run)) {
		init_send_error(EINVAL, "malformed run request");
		return;
	}
	memcpy(&run, payload, sizeof(run));
	if (parse_run(payload + sizeof(run), len - sizeof(run), &run, &cwd,
		      &argv, &envp) < 0) {
		init_send_error(EINVAL, "malformed run request");
		return;
	}
	pid_t pid = held ? run_held(&run, cwd, fds)
			 : run_forked(&run, cwd, argv, envp, fds);
	free(argv);
	if (pid > 0) {
		track(pid);
		init_send(INIT_STARTED, pid, 0, NULL, 0, -1);
	}
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_COMMANDS; i++)
			if (commands[i] == pid) {
				commands[i] = 0;
				init_send(INIT_EXITED, pid, status, NULL, 0,
					  -1);
			}
	}
}

_Noreturn static void serve(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(errno, "signalfd");
	if (init_send(INIT_READY, 0, 0, NULL, 0, -1) < 0)
		_exit(1);
	static char payload[INIT_MSG_MAX];
	for (;;) {
		struct pollfd p[2] = { { INIT_FD_CTL, POLLIN, 0 },
				       { sfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap();
		}
		if (!p[0].revents)
			continue;
		struct init_msg m = { 0 };
		int fds[3], nfds = 0;
		ssize_t n = recv_msg(&m, payload, sizeof(payload), fds, &nfds);
		if (n < 0 && n != -EINTR && n != -EAGAIN && n != -EBADMSG)
			_exit(0); /* the daemon has gone: so does the box */
		if (n < 0)
			continue;
		if (m.op == INIT_RUN || m.op == INIT_RUN_HELD)
			handle_run(payload, (size_t)n, fds, nfds,
				   m.op == INIT_RUN_HELD);
		else if (m.op == INIT_OPEN)
			init_open_file(payload, (size_t)n);
		else if (m.op == INIT_KILL && m.value > 1) {
			/* Each command leads its own process group (setsid). */
			kill(-m.value, SIGKILL);
			kill(m.value, SIGKILL);
		} else if (m.op != INIT_DUMPABLE)
			init_send_error(EINVAL, "unknown request");
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		/* A file call's change of fsuid, or a restore by CRIU, leaves
		 * the init not dumpable; a restored init's memory belongs to
		 * the host's user namespace, where CRIU, run again from the
		 * box's, could not inspect it then. */
		prctl(PR_SET_DUMPABLE, 1);
	}
}

/* Takes the seccomp programs into memory, where each command finds them;
 * an unconfined box has none. */
static void read_seccomp(void)
{
	long n = seccomp_read(INIT_FD_SECCOMP, seccomp_blob,
			      sizeof(seccomp_blob));
	if (n == -EBADF)
		return;
	if (n < 0)
		die((int)-n, "read the seccomp programs");
	seccomp_len = (size_t)n;
	close(INIT_FD_SECCOMP);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], INIT_FORKER_ARG) == 0)
		init_fork_boxes();
	/* Dumpable, as the exec made it: CRIU, which hibernates the box,
	 * inspects it from the box's user namespace, and a restored init
	 * that is not dumpable is closed to that namespace for good.  The
	 * box's commands run as another uid without capabilities: its
	 * memory, exe and environment stay closed to them all the same.
	 * The parent-death signal set before the exec stays; a daemon gone
	 * since then closed the control socket, which ends the loop below. */
	prctl(PR_SET_NAME, INIT_NAME);
	/* The daemon's answer holds here too: the same kernel and the same
	 * inherited seccomp filters. */
	open_beneath_probe();
	read_seccomp();
	serve();
}
