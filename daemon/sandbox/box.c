#include "box_priv.h"

#include "box_host.h"
#include "box_spec.h"
#include "cgroup.h"
#include "init_proto.h"
#include "cleanup.h"
#include "fd_pass.h"
#include "image_mount.h"
#include "log.h"
#include "net/egress.h"
#include "netns.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(EGRESS_WAYS == 4, "struct box_restored_parts holds them");

const char *box_name(const struct box *b)
{
	return b->name;
}

const struct box_spec *box_spec_of(const struct box *b)
{
	return &b->spec;
}

const char *box_image(const struct box *b)
{
	return b->image;
}

pid_t box_pid(const struct box *b)
{
	return b->pid;
}

uint64_t box_ctl_ino(const struct box *b)
{
	return b->ctl_ino;
}

bool box_on_image(const struct box *b)
{
	return b->image[0] != '\0';
}

void box_watch_init(struct box *b, bool on)
{
	if (b->child_src)
		sd_event_source_set_enabled(b->child_src, on ? SD_EVENT_ONESHOT
							     : SD_EVENT_OFF);
}

int64_t box_take_uids(struct box *b)
{
	int64_t base = b->uid_base;
	b->uid_base = -1;
	return base;
}

const int *box_egress_fds(const struct box *b)
{
	return b->egress[EGRESS_PROXY] >= 0 ? b->egress : NULL;
}

int box_open_egress(struct box *b)
{
	if (b->egress[EGRESS_PROXY] >= 0)
		return 0;
	/* setns() takes the pidfd of a process for its namespaces. */
	int pidfd = sd_event_source_get_child_pidfd(b->child_src);
	int r = pidfd < 0 ? pidfd
			  : egress_open(&b->host->net, pidfd, b->egress);
	if (r == 0)
		b->spec.net = BOX_NET_FILTERED; /* a restore opens them too */
	return r;
}

bool box_host_network(const struct box *b)
{
	return b->host_net;
}

static int tcp_socket(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int box_connect_loopback(struct box *b, uint16_t port)
{
	if (b->host_net)
		return -EPERM;
	if (!box_alive(b))
		return -ESRCH;
	int pidfd = sd_event_source_get_child_pidfd(b->child_src);
	if (pidfd < 0)
		return pidfd;
	/* A socket belongs to the namespace it was made in for good: only
	 * its making needs the daemon inside. */
	_cleanup_close_ int fd =
		netns_call_in(&b->host->net, pidfd, tcp_socket, NULL);
	if (fd < 0)
		return fd;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS)
		return -errno;
	return TAKE_FD(fd);
}

int box_usage(const struct box *b, struct cgroup_usage *u)
{
	return b->cg ? cgroup_box_usage(b->cg, u) : -ENOENT;
}

int box_cpu_time(const struct box *b, uint64_t *ns)
{
	*ns = 0;
	return b->cg ? cgroup_box_cpu_time(b->cg, ns) : -ENOENT;
}

bool box_alive(const struct box *b)
{
	return b->ready && !b->dead && !b->destroyed;
}

void box_set_died(struct box *b, box_died_fn died, void *userdata)
{
	b->on_died = died;
	b->userdata = userdata;
}

int box_freeze(struct box *b, bool frozen)
{
	if (!b->cg)
		return -ENOENT;
	int r = cgroup_box_freeze(b->cg, frozen);
	if (r == 0 || frozen)
		b->frozen = frozen;
	return r;
}

int box_frozen(const struct box *b)
{
	return b->cg ? cgroup_box_frozen(b->cg) : -ENOENT;
}

int box_set_limits(struct box *b, const struct cgroup_limits *lim)
{
	return b->cg ? cgroup_box_set_limits(b->cg, lim) : -ENOENT;
}

int box_set_background(struct box *b, bool background)
{
	return b->cg ? cgroup_box_set_background(b->cg, background) : -ENOENT;
}

void box_free(struct box *b)
{
	sd_event_source_disable_unref(b->ctl_src);
	sd_event_source_disable_unref(b->child_src);
	sd_event_source_disable_unref(b->cleanup_timer);
	if (b->ctl >= 0)
		close(b->ctl);
	for (int i = 0; i < EGRESS_WAYS; i++)
		if (b->egress[i] >= 0)
			close(b->egress[i]);
	if (b->uid_base >= 0)
		uid_slots_release(b->host->uids, b->uid_base);
	if (b->image[0])
		image_mount_put(b->host->images, b->image);
	if (b->destroyed)
		b->host->dying--;
	b->host->live--;
	free(b);
}

static int try_cleanup(struct box *b);

static int on_cleanup_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	try_cleanup(userdata);
	return 0;
}

/* Cleanup always runs from this timer or from the child source, never from
 * inside a caller's callback, so the box outlives every callback. */
static void schedule_cleanup(struct box *b, uint64_t delay_usec)
{
	int r;
	if (!b->cleanup_timer)
		r = sd_event_add_time_relative(
			b->host->event, &b->cleanup_timer, CLOCK_MONOTONIC,
			delay_usec, 1000, on_cleanup_timer, b);
	else {
		r = sd_event_source_set_time_relative(b->cleanup_timer,
						      delay_usec);
		if (r >= 0)
			r = sd_event_source_set_enabled(b->cleanup_timer,
							SD_EVENT_ONESHOT);
	}
	if (r < 0)
		log_errno(LOG_ERR, r, "box %s: cannot schedule its cleanup",
			  b->name);
}

/* Removes the cgroup once the kernel has let go of the last process, then
 * frees the box if its owner has already destroyed it. */
static int try_cleanup(struct box *b)
{
	if (b->cg) {
		int r = cgroup_box_destroy(b->cg);
		if (r == -EBUSY) {
			schedule_cleanup(b, 5000);
			return r;
		}
		if (r < 0)
			log_errno(LOG_ERR, r,
				  "cannot remove the cgroup of box %s",
				  b->name);
		b->cg = NULL;
	}
	if (b->destroyed)
		box_free(b);
	return 0;
}

static struct pending *pending_pop(struct box *b)
{
	if (b->pend_len == 0)
		return NULL;
	struct pending *p = &b->pending[b->pend_head];
	b->pend_head = (b->pend_head + 1) % MAX_PENDING;
	b->pend_len--;
	return p;
}

static int pending_push(struct box *b, const struct pending *p)
{
	if (b->dead || b->destroyed)
		return -ESRCH;
	if (b->pend_len == MAX_PENDING)
		return -EBUSY;
	b->pending[(b->pend_head + b->pend_len) % MAX_PENDING] = *p;
	b->pend_len++;
	return 0;
}

/* The init is gone: every request still waiting fails, every command
 * counts as killed. */
static void mark_dead(struct box *b)
{
	if (b->dead)
		return;
	b->dead = true;
	sd_event_source_set_enabled(b->ctl_src, SD_EVENT_OFF);
	/* Each callback may destroy the box; none fires after that. */
	struct pending *p;
	while (!b->destroyed && (p = pending_pop(b))) {
		struct pending copy = *p;
		if (copy.kind == PENDING_RUN)
			copy.started(b, -ESRCH, "the box is gone", 0,
				     copy.userdata);
		else
			copy.opened(b, -ESRCH, -1, copy.userdata);
	}
	for (int i = 0; i < MAX_RUNNING && !b->destroyed; i++) {
		struct running r = b->running[i];
		if (r.pid) {
			b->running[i].pid = 0;
			r.exited(b, r.pid, SIGKILL, r.userdata);
		}
	}
	if (b->destroyed)
		return;
	if (!b->ready && b->on_ready) {
		b->ready = true;
		b->on_ready(b, -ESRCH, "the box's init ended during set-up",
			    b->userdata);
	} else if (b->on_died)
		b->on_died(b, b->userdata);
}

void box_set_up_failed(struct box *b, int err, const char *what)
{
	if (b->child_src)
		box_kill(b); /* its child source reaps it */
	else
		b->dead = true;
	if (b->destroyed) {
		if (b->dead)
			schedule_cleanup(b, 0);
		return;
	}
	if (!b->ready && b->on_ready) {
		b->ready = true;
		b->on_ready(b, err, what, b->userdata);
	}
}

static bool read_ctl(struct box *b);

int box_on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	(void)s;
	struct box *b = userdata;
	log_debug("box %s: init exited (code %d, status %d)", b->name,
		  si->si_code, si->si_status);
	/* What the init said before it ended (a set-up error, say) comes
	 * first, whichever event the loop picked first. */
	int on = SD_EVENT_OFF;
	while (!b->destroyed && !b->dead &&
	       sd_event_source_get_enabled(b->ctl_src, &on) >= 0 &&
	       on != SD_EVENT_OFF && read_ctl(b))
		;
	mark_dead(b);
	try_cleanup(b);
	return 0;
}

static void handle_msg(struct box *b, const struct init_msg *m,
		       const char *payload, size_t len, int fd)
{
	char what[256] = "";
	if (m->op == INIT_ERROR && len > 0)
		snprintf(what, sizeof(what), "%.*s", (int)len, payload);

	if (!b->ready) {
		b->ready = true;
		if (m->op == INIT_READY)
			b->on_ready(b, 0, NULL, b->userdata);
		else
			b->on_ready(b, m->op == INIT_ERROR ? -m->value : -EIO,
				    what, b->userdata);
		return;
	}
	if (m->op == INIT_EXITED) {
		for (int i = 0; i < MAX_RUNNING; i++) {
			struct running r = b->running[i];
			if (r.pid == m->value) {
				b->running[i].pid = 0;
				r.exited(b, r.pid, m->status, r.userdata);
				return;
			}
		}
		return;
	}
	struct pending *p = pending_pop(b);
	if (!p) {
		log_warn("box %s: unexpected message %u from init", b->name,
			 m->op);
		return;
	}
	struct pending copy = *p;
	if (copy.kind == PENDING_OPEN) {
		if (m->op == INIT_FD)
			copy.opened(b, 0, fd, copy.userdata);
		else
			copy.opened(b, m->op == INIT_ERROR ? -m->value : -EIO,
				    -1, copy.userdata);
		return;
	}
	if (m->op == INIT_STARTED) {
		for (int i = 0; i < MAX_RUNNING; i++)
			if (b->running[i].pid == 0) {
				b->running[i] =
					(struct running){ m->value, copy.exited,
							  copy.userdata };
				break;
			}
		copy.started(b, 0, NULL, m->value, copy.userdata);
	} else
		copy.started(b, m->op == INIT_ERROR ? -m->value : -EIO, what, 0,
			     copy.userdata);
}

/* Handles one message from the init; false when there was none. */
static bool read_ctl(struct box *b)
{
	struct init_msg m;
	char payload[512];
	struct iovec iov[2] = { { &m, sizeof(m) },
				{ payload, sizeof(payload) } };
	int passed = -1;
	size_t nfds = 0;
	ssize_t n =
		fd_pass_recv(b->ctl, iov, 2, &passed, 1, &nfds, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return false;
	if (n == -EBADMSG) {
		log_warn("box %s: a message from its init did not fit; "
			 "dropped",
			 b->name);
		return true;
	}
	if (n < (ssize_t)sizeof(m)) {
		/* The init closed its end: it is exiting; the child source
		 * reports the death. */
		sd_event_source_set_enabled(b->ctl_src, SD_EVENT_OFF);
		if (passed >= 0)
			close(passed);
		return false;
	}
	handle_msg(b, &m, payload, (size_t)n - sizeof(m), passed);
	if (passed >= 0 && !(m.op == INIT_FD))
		close(passed);
	return true;
}

int box_on_ctl(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	read_ctl(userdata);
	return 0;
}

int box_send_to_init(struct box *b, const struct init_msg *m,
		     const void *payload, const int *fds, int nfds)
{
	struct iovec iov[2] = { { (void *)m, sizeof(*m) },
				{ (void *)payload, m->len } };
	/* The init answers promptly and the socket buffer holds many
	 * requests, so a full buffer (the daemon's end does not block)
	 * means the box is wedged. */
	ssize_t n =
		fd_pass_send(b->ctl, iov, m->len ? 2 : 1, fds, (size_t)nfds);
	return n < 0 ? (int)n : 0;
}

bool box_holds_interpreter(const struct box *b)
{
	return b->held;
}

int box_run(struct box *b, const struct box_cmd *cmd, const int fds[3],
	    box_started_fn started, box_exited_fn exited, void *userdata)
{
	if (cmd->held && !b->held)
		return -ESRCH;
	struct init_run run = { .rlimit_fsize = cmd->limits.rlimit_fsize,
				.rlimit_nofile = cmd->limits.rlimit_nofile,
				.rlimit_nproc = cmd->limits.rlimit_nproc,
				.seccomp = cmd->seccomp };
	size_t len = sizeof(run) + strlen(cmd->cwd) + 1;
	for (; cmd->argv[run.argc]; run.argc++)
		len += strlen(cmd->argv[run.argc]) + 1;
	for (; cmd->envp[run.envc]; run.envc++)
		len += strlen(cmd->envp[run.envc]) + 1;
	if (len > INIT_MSG_MAX)
		return -E2BIG;
	_cleanup_free_ char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	char *p = buf;
	memcpy(p, &run, sizeof(run));
	p = stpcpy(p + sizeof(run), cmd->cwd) + 1;
	for (uint32_t i = 0; i < run.argc; i++)
		p = stpcpy(p, cmd->argv[i]) + 1;
	for (uint32_t i = 0; i < run.envc; i++)
		p = stpcpy(p, cmd->envp[i]) + 1;

	struct pending pe = { .kind = PENDING_RUN,
			      .started = started,
			      .exited = exited,
			      .userdata = userdata };
	int r = pending_push(b, &pe);
	if (r < 0)
		return r;
	struct init_msg m = { .op = cmd->held ? INIT_RUN_HELD : INIT_RUN,
			      .len = (uint32_t)len };
	r = box_send_to_init(b, &m, buf, fds, 3);
	if (r < 0)
		b->pend_len--; /* undo: nothing was sent */
	else if (cmd->held)
		b->held = false;
	return r;
}

/* box_open's ways are the init's open flags. */
_Static_assert((int)BOX_OPEN_READ == (int)INIT_OPEN_READ &&
		       (int)BOX_OPEN_WRITE == (int)INIT_OPEN_WRITE &&
		       (int)BOX_OPEN_MKDIR == (int)INIT_OPEN_MKDIR &&
		       (int)BOX_OPEN_REMOVE == (int)INIT_OPEN_REMOVE,
	       "enum box_open_how follows enum init_open_flags");

int box_open(struct box *b, const char *path, enum box_open_how how,
	     uint32_t mode, box_opened_fn opened, void *userdata)
{
	char buf[sizeof(struct init_open) + 4096];
	struct init_open op = { .flags = (uint32_t)how, .mode = mode };
	size_t plen = strlen(path) + 1;
	if (plen > 4096)
		return -ENAMETOOLONG;
	memcpy(buf, &op, sizeof(op));
	memcpy(buf + sizeof(op), path, plen);
	struct pending pe = { .kind = PENDING_OPEN,
			      .opened = opened,
			      .userdata = userdata };
	int r = pending_push(b, &pe);
	if (r < 0)
		return r;
	struct init_msg m = { .op = INIT_OPEN,
			      .len = (uint32_t)(sizeof(op) + plen) };
	r = box_send_to_init(b, &m, buf, NULL, 0);
	if (r < 0)
		b->pend_len--;
	return r;
}

void box_kill(struct box *b)
{
	if (b->dead || !b->child_src)
		return;
	/* Killing PID 1 of the box's PID namespace makes the kernel kill
	 * every process in it, however it was forked or setsid'd. */
	int r = sd_event_source_send_child_signal(b->child_src, SIGKILL, NULL,
						  0);
	if (r < 0 && r != -ESRCH)
		log_errno(LOG_ERR, r, "cannot kill box %s", b->name);
	if (b->cg) {
		cgroup_box_kill(b->cg);
		/* A paused box's processes die only once thawed. */
		if (b->frozen)
			box_freeze(b, false);
	}
}

/* A command whose owner left before it started is not left running. */
static void started_nowhere(struct box *b, int err, const char *what, pid_t pid,
			    void *userdata)
{
	(void)what;
	(void)userdata;
	if (err == 0)
		box_kill_command(b, pid);
}

static void exited_nowhere(struct box *b, pid_t pid, int status, void *userdata)
{
	(void)b;
	(void)pid;
	(void)status;
	(void)userdata;
}

static void opened_nowhere(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	(void)err;
	(void)userdata;
	if (fd >= 0)
		close(fd);
}

void box_forget(struct box *b, void *userdata)
{
	/* Pending requests keep their place: the init answers in order. */
	for (unsigned i = 0; i < b->pend_len; i++) {
		struct pending *p =
			&b->pending[(b->pend_head + i) % MAX_PENDING];
		if (p->userdata == userdata) {
			p->started = started_nowhere;
			p->exited = exited_nowhere;
			p->opened = opened_nowhere;
			p->userdata = NULL;
		}
	}
	for (int i = 0; i < MAX_RUNNING; i++)
		if (b->running[i].userdata == userdata)
			b->running[i].pid = 0;
}

int box_kill_command(struct box *b, pid_t pid)
{
	if (b->dead || b->destroyed)
		return -ESRCH;
	struct init_msg m = { .op = INIT_KILL, .value = pid };
	return box_send_to_init(b, &m, NULL, NULL, 0);
}

void box_destroy(struct box *b)
{
	if (!b || b->destroyed)
		return;
	b->destroyed = true;
	b->host->dying++;
	/* No callback fires after this: the owner may free its userdata now,
	 * while init messages already in flight stay unread. */
	if (b->ctl_src)
		sd_event_source_set_enabled(b->ctl_src, SD_EVENT_OFF);
	if (b->dead)
		schedule_cleanup(b, 0);
	else
		box_kill(b); /* box_on_child finishes the job */
}
