/* The zygote's side (zygote.h): a Python extension module, loaded by the
 * preload script (runtimes/preload/usercustomize.py) once the interpreter
 * has started.  serve() answers the daemon's requests (requests.h) and
 * never returns in the zygote; each request clones a box's first process,
 * which sets the box up as a box the daemon clones does
 * (box_init_prepare), forks the interpreter the box is to hold and execs
 * the init.  serve() returns in that interpreter only, once the init has
 * made it a command (init/held.h): Python goes on in the box as the box
 * user, under the box's seccomp programs, with stdio the daemon's pipes.
 * Built with Python's limited API, so one build serves any Python 3. */
#define Py_LIMITED_API 0x03070000
#include <Python.h>

#include "sandbox/box_init.h"
#include "sandbox/fd_pass.h"
#include "sandbox/init/command_enter.h"
#include "sandbox/init/held.h"
#include "sandbox/init_proto.h"
#include "sandbox/seccomp_load.h"
#include "sandbox/zygote_proto.h"
#include "main_end.h"
#include "rebase.h"
#include "requests.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The box's seccomp programs, read before the fork of the held
 * interpreter, which installs them as it becomes the command. */
static char seccomp_blob[SECCOMP_BLOB_MAX];
static size_t seccomp_len;
/* The interpreter's own name, given back to the held one (the zygote goes
 * by ZYGOTE_NAME). */
static char python_comm[16];

/* In the held interpreter: waits for the init's run, becomes the command
 * and answers (with err, the error of a step before, if not 0).  0 once
 * it is the command; it exits on failure. */
static int become_command(int sock, int err, const char *step)
{
	struct init_run run;
	char cwd[4096];
	struct iovec in[2] = { { &run, sizeof(run) }, { cwd, sizeof(cwd) } };
	int fds[3];
	size_t nfds = 0;
	ssize_t n = fd_pass_recv(sock, in, 2, fds, 3, &nfds, 0);
	if (n <= (ssize_t)sizeof(run) || nfds != 3 ||
	    !memchr(cwd, '\0', (size_t)n - sizeof(run)))
		_exit(127);
	/* Python's own handlers (SIGPIPE and SIGXFSZ ignored, SIGINT's) are
	 * as its start made them, which no exec will redo here. */
	static struct sigaction saved[NSIG];
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, NULL, &saved[sig]);
	struct held_answer ans = { .pid = getpid(), .err = -err };
	prctl(PR_SET_NAME, python_comm);
	if (!ans.err)
		ans.err = -command_enter(&run, cwd, fds, sock, seccomp_blob,
					 seccomp_len, &step);
	for (int sig = 1; sig < NSIG && !ans.err; sig++)
		if (saved[sig].sa_handler != SIG_DFL)
			sigaction(sig, &saved[sig], NULL);
	/* Dumpable, as an exec would have made it, only now that its seccomp
	 * programs hold: another process of the box's user could otherwise
	 * write its memory (/proc/pid/mem) before they do. */
	if (!ans.err && prctl(PR_SET_DUMPABLE, 1) < 0)
		ans.err = errno, step = "become dumpable";
	snprintf(ans.step, sizeof(ans.step), "%s", step);
	struct iovec out = { &ans, sizeof(ans) };
	ssize_t r = fd_pass_send(sock, &out, 1, NULL, 0);
	close(sock);
	if (ans.err || r < 0)
		_exit(127);
	return 0;
}

/* The box's first process: returns in the held interpreter only. */
static int box_child(const struct box_init_args *a)
{
	/* Not to be taken for the zygote in ps: named as the daemon, whose
	 * child it is, until the init's exec. */
	prctl(PR_SET_NAME, "isol8d");
	int seccomp_fd = a->seccomp_fd;
	/* Out of the way of the init's fds, placed next. */
	int module = fcntl(ZYGOTE_MODULE_FD, F_DUPFD_CLOEXEC, INIT_FD_HELD + 1);
	int exe = box_init_prepare(a);
	if (seccomp_fd >= 0) {
		long len = seccomp_read(INIT_FD_SECCOMP, seccomp_blob,
					sizeof(seccomp_blob));
		if (len < 0) {
			box_init_send_error(INIT_FD_CTL, (int)-len,
					    "read the seccomp programs");
			_exit(1);
		}
		seccomp_len = (size_t)len;
	}
	int sp[2];
	pid_t pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0)
		pid = fork();
	if (pid == 0) {
		close(sp[0]);
		const char *step = "start";
		/* Its own /proc/self/pagemap is closed to it otherwise. */
		prctl(PR_SET_DUMPABLE, 1);
		int err = zygote_rebase(module, &step);
		return become_command(sp[1], err, step);
	}
	/* dup2 onto itself would leave close-on-exec set. */
	if (pid < 0 ||
	    (sp[0] == INIT_FD_HELD ? fcntl(sp[0], F_SETFD, 0)
				   : dup2(sp[0], INIT_FD_HELD)) < 0) {
		box_init_send_error(INIT_FD_CTL, errno,
				    "start the held interpreter");
		_exit(1);
	}
	box_init_exec(exe);
}

static void before_clone(void)
{
	PyOS_BeforeFork();
}

static void after_clone(void)
{
	PyOS_AfterFork_Parent();
}

static PyObject *serve(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	prctl(PR_GET_NAME, python_comm);
	prctl(PR_SET_NAME, ZYGOTE_NAME);
	main_end_learn();
	/* The heap's free pages back to the kernel: each box copies every
	 * page the zygote has written. */
	malloc_trim(0);
	static const struct zygote_hooks hooks = { before_clone, after_clone };
	struct box_init_args a;
	zygote_requests_serve(&hooks, &a);
	box_child(&a);
	PyOS_AfterFork_Child();
	Py_RETURN_NONE;
}

/* Called by the preload script as the interpreter ends, when the rest of
 * its end would show nothing: skips it for a program that ran to its end,
 * as exit(0) after Python's end would. */
static PyObject *end_if_normal(PyObject *self, PyObject *unused)
{
	(void)self, (void)unused;
	if (main_end_is_normal())
		exit(0);
	Py_INCREF(Py_None);
	return Py_None;
}

static PyMethodDef methods[] = {
	{ "serve", serve, METH_NOARGS,
	  "Serve the daemon; returns only in a box's held interpreter." },
	{ "end_if_normal", end_if_normal, METH_NOARGS,
	  "Exit 0 if Python is ending a program that ran to its end." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT,
	ZYGOTE_MODULE,
	NULL,
	-1,
	methods,
	NULL,
	NULL,
	NULL,
	NULL,
};

PyMODINIT_FUNC PyInit__isol8_zygote(void);
PyMODINIT_FUNC PyInit__isol8_zygote(void)
{
	return PyModule_Create(&module);
}
