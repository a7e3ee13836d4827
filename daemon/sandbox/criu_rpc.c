#include "criu_rpc.h"

#include "cleanup.h"
#include "criu_rpc.pb-c.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A dump of a large box writes its memory to disk: minutes at worst. */
#define CRIU_TIMEOUT_MS (10 * 60 * 1000)
#define CRIU_MSG_MAX ((size_t)64 * 1024)
/* CRIU's log, in the images directory, says what went wrong in detail. */
#define CRIU_LOG_LEVEL 2
/* Files open but deleted in a box (the init's own program among them)
 * are kept in the images up to this size each. */
#define CRIU_GHOST_LIMIT (64u << 20)

/* A call under way: the socket its answer comes on, and CRIU's pid.  Once
 * the answer is in (r, resp), CRIU's exit is awaited on the loop (exit). */
struct criu_op {
	sd_event *event;
	sd_event_source *io, *timer, *exit;
	int sk, images_fd;
	pid_t pid;
	bool restore, timed_out;
	int r;
	CriuResponse *resp;
	const char *criu, *log;
	criu_done_fn done;
	void *userdata;
};

/* The child: setup, then criu swrk with the socket (and keep) as its only
 * fds beside stdio. */
_Noreturn static void run_criu(const struct criu_call *c, int sk, int keep)
{
	int fds[2] = { sk, keep };
	if (c->setup && c->setup(c->setup_arg) < 0)
		_exit(126);
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		_exit(126);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, 0) < 0)
			_exit(126);
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", sk);
	char *argv[] = { "criu", "swrk", arg, NULL };
	/* CRIU runs tar for tmpfs contents, found on PATH.  CRIU_FAULT=130
	 * (a switch CRIU counts as not fatal) turns off its hardware
	 * breakpoints: some virtual machines never deliver their traps, and
	 * CRIU then waits for its parasite's end forever; without them it
	 * steps the task to that end by system calls. */
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "CRIU_FAULT=130",
			 NULL };
	execve(c->criu, argv, envp);
	_exit(127);
}

static int send_request(int sk, const CriuRequest *req)
{
	size_t len = criu_request__get_packed_size(req);
	_cleanup_free_ uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	criu_request__pack(req, buf);
	ssize_t n = send(sk, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int recv_response(int sk, CriuResponse **out)
{
	_cleanup_free_ uint8_t *buf = malloc(CRIU_MSG_MAX);
	if (!buf)
		return -ENOMEM;
	ssize_t n = recv(sk, buf, CRIU_MSG_MAX, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET; /* criu ended without an answer */
	*out = criu_response__unpack(NULL, (size_t)n, buf);
	return *out ? 0 : -EBADMSG;
}

/* The last error CRIU wrote to its log (log in images_fd) into out: its
 * answer carries only the first, often one it then did without. */
static void last_logged_error(int images_fd, const char *log, char *out,
			      size_t out_len)
{
	int fd = openat(images_fd, log, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		const char *e = strstr(line, "Error (");
		/* "Error (file:line): message" -> "message" */
		const char *msg = e ? strstr(e, "): ") : NULL;
		if (msg && !strstr(msg, "FAILED"))
			snprintf(out, out_len, "%s", msg + 3);
	}
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* 0 when CRIU did what was asked, else -errno with why set. */
static int check(const struct criu_op *op, int r, const CriuResponse *resp,
		 char *why, size_t why_len)
{
	const char *what = op->restore ? "criu restore" : "criu dump";
	if (r == -ENOENT) {
		snprintf(why, why_len, "cannot run %s: %s", op->criu,
			 strerror(ENOENT));
		return r;
	}
	if (r == -ECHILD) {
		snprintf(why, why_len, "%s: cannot prepare its process", what);
		return -EIO;
	}
	if (r == -ETIMEDOUT) {
		snprintf(why, why_len, "%s: no answer within %d s", what,
			 CRIU_TIMEOUT_MS / 1000);
		return r;
	}
	if (r < 0 || !resp) {
		r = r < 0 ? r : -EBADMSG;
		snprintf(why, why_len, "%s: no answer from criu: %s", what,
			 strerror(-r));
		return r;
	}
	if (!resp->success) {
		int err = resp->has_cr_errno && resp->cr_errno > 0
				  ? resp->cr_errno
				  : EIO;
		char logged[256] = "";
		last_logged_error(op->images_fd, op->log, logged,
				  sizeof(logged));
		snprintf(why, why_len, "%s failed: %s", what,
			 *logged ? logged : strerror(err));
		return -err;
	}
	if (!op->restore)
		return 0;
	if (resp->restore && resp->restore->pid > 0)
		return resp->restore->pid;
	snprintf(why, why_len, "criu restore: no pid in its answer");
	return -EBADMSG;
}

/* CRIU reaped (status as from waitpid): done called, op freed. */
static void complete(struct criu_op *op, int status)
{
	int r = op->r;
	if (r < 0 && WIFEXITED(status) && WEXITSTATUS(status) >= 126)
		r = WEXITSTATUS(status) == 127 ? -ENOENT : -ECHILD;
	char why[512] = "";
	r = check(op, r, op->resp, why, sizeof(why));
	if (op->resp)
		criu_response__free_unpacked(op->resp, NULL);
	close(op->images_fd);
	criu_done_fn done = op->done;
	void *userdata = op->userdata;
	free(op);
	done(userdata, r, why);
}

static void reap_now(struct criu_op *op)
{
	int status = 0;
	while (waitpid(op->pid, &status, 0) < 0 && errno == EINTR)
		;
	complete(op, status);
}

static int on_criu_exit(sd_event_source *src, const siginfo_t *si,
			void *userdata)
{
	(void)src;
	struct criu_op *op = userdata;
	/* sd-event keeps the source while it dispatches, and reaps. */
	op->exit = sd_event_source_unref(op->exit);
	int status = si->si_code == CLD_EXITED ? (si->si_status & 0xff) << 8
					       : si->si_status & 0x7f;
	complete(op, status);
	return 0;
}

/* The answer (or its absence) read and CRIU told to go; its exit is
 * awaited on the loop where there is one (criu swrk ends once its socket
 * closes: a slow end must not stall other clients), here otherwise. */
static void finish(struct criu_op *op, bool on_loop)
{
	op->r = op->timed_out ? -ETIMEDOUT : recv_response(op->sk, &op->resp);
	op->io = sd_event_source_disable_unref(op->io);
	op->timer = sd_event_source_disable_unref(op->timer);
	close(op->sk);
	op->sk = -1;
	if (op->r < 0)
		kill(op->pid, SIGKILL);
	if (on_loop && sd_event_add_child(op->event, &op->exit, op->pid,
					  WEXITED, on_criu_exit, op) >= 0)
		return;
	reap_now(op);
}

static int on_answer(sd_event_source *src, int fd, uint32_t revents,
		     void *userdata)
{
	(void)src;
	(void)fd;
	(void)revents;
	finish(userdata, true);
	return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	struct criu_op *op = userdata;
	op->timed_out = true;
	finish(op, true);
	return 0;
}

void criu_op_wait(struct criu_op *op)
{
	if (op->sk < 0) { /* answered: only its exit is awaited */
		op->exit = sd_event_source_disable_unref(op->exit);
		reap_now(op);
		return;
	}
	struct pollfd p = { .fd = op->sk, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, CRIU_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	op->timed_out = r == 0;
	finish(op, false);
}

/* Forks CRIU, sends req and leaves the answer to the event loop. */
static int start(const struct criu_call *c, const CriuRequest *req, int keep,
		 criu_done_fn done, void *userdata, struct criu_op **out)
{
	struct criu_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct criu_op){ .event = c->event,
				.sk = -1,
				.images_fd = -1,
				.restore = req->kind ==
					   CRIU_KIND__CRIU_KIND_RESTORE,
				.criu = c->criu,
				.done = done,
				.userdata = userdata,
				.log = req->opts->log_file };
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		free(op);
		return -errno;
	}
	/* CRIU opens the directory through this process's fd: one of its
	 * own, as the caller's may close before CRIU answers. */
	op->images_fd = fcntl(req->opts->images_dir_fd, F_DUPFD_CLOEXEC, 3);
	req->opts->images_dir_fd = op->images_fd;
	op->pid = op->images_fd < 0 ? -1 : fork();
	if (op->pid == 0) {
		close(sp[0]);
		run_criu(c, sp[1], keep);
	}
	int r = op->pid < 0 ? -errno : 0;
	close(sp[1]);
	op->sk = sp[0];
	if (r == 0)
		r = send_request(op->sk, req);
	if (r == 0)
		r = sd_event_add_io(c->event, &op->io, op->sk, EPOLLIN,
				    on_answer, op);
	if (r >= 0)
		r = sd_event_add_time_relative(
			c->event, &op->timer, CLOCK_MONOTONIC,
			(uint64_t)CRIU_TIMEOUT_MS * 1000, 0, on_timeout, op);
	if (r < 0) {
		if (op->pid > 0) {
			kill(op->pid, SIGKILL);
			waitpid(op->pid, NULL, 0);
		}
		sd_event_source_disable_unref(op->io);
		sd_event_source_disable_unref(op->timer);
		close(op->sk);
		if (op->images_fd >= 0)
			close(op->images_fd);
		free(op);
		return r;
	}
	*out = op;
	return 0;
}

static void common_options(CriuOptions *o, int images_fd, const char *log)
{
	o->images_dir_fd = images_fd;
	o->has_log_level = true;
	o->log_level = CRIU_LOG_LEVEL;
	o->log_file = (char *)log;
	/* Binds of host paths (the image, /dev nodes) stay as they are. */
	o->has_auto_ext_mnt = true;
	o->auto_ext_mnt = true;
	/* The daemon makes and fills the box's cgroup itself. */
	o->has_manage_cgroups_mode = true;
	o->manage_cgroups_mode = CRIU_CGROUPS__CRIU_CGROUPS_IGNORE;
	o->has_ghost_limit = true;
	o->ghost_limit = CRIU_GHOST_LIMIT;
	/* Established TCP connections are not kept: they come back closed. */
	o->has_tcp_close = true;
	o->tcp_close = true;
	/* A box's namespace is its own: nothing to lock out. */
	o->has_network_lock = true;
	o->network_lock = CRIU_NET_LOCK__CRIU_NET_LOCK_SKIP;
}

int criu_dump_start(const struct criu_call *c, pid_t pid, int images_fd,
		    const char *const *external, size_t n_external,
		    criu_done_fn done, void *userdata, struct criu_op **op)
{
	CriuOptions o = CRIU_OPTIONS__INIT;
	common_options(&o, images_fd, "dump.log");
	o.has_pid = true;
	o.pid = pid;
	o.n_external = n_external;
	o.external = (char **)external;
	CriuRequest req = CRIU_REQUEST__INIT;
	req.kind = CRIU_KIND__CRIU_KIND_DUMP;
	req.opts = &o;
	return start(c, &req, -1, done, userdata, op);
}

int criu_restore_start(const struct criu_call *c, int images_fd,
		       const char *root, const char *inherit_key, int fd,
		       criu_done_fn done, void *userdata, struct criu_op **op)
{
	CriuOptions o = CRIU_OPTIONS__INIT;
	common_options(&o, images_fd, "restore.log");
	o.root = (char *)root;
	/* The restored init becomes the daemon's child, as a box's is. */
	o.has_rst_sibling = true;
	o.rst_sibling = true;
	CriuFdKey key = CRIU_FD_KEY__INIT;
	key.key = (char *)inherit_key;
	key.fd = fd;
	CriuFdKey *keys[] = { &key };
	o.n_inherit_fd = 1;
	o.inherit_fd = keys;
	CriuRequest req = CRIU_REQUEST__INIT;
	req.kind = CRIU_KIND__CRIU_KIND_RESTORE;
	req.opts = &o;
	return start(c, &req, fd, done, userdata, op);
}
