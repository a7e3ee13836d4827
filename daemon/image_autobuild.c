#include "image_autobuild.h"

#include "cleanup.h"
#include "image_building.h"
#include "image_ref.h"
#include "image_store.h"
#include "libexec.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_BUILDS 5
#define LINE_MAX_LEN 512
/* How long a terminated builder may take to clean up before it is
 * killed outright. */
#define STOP_GRACE_MS 20000
#define SYSTEMD_RUN "/usr/bin/systemd-run"
#define SYSTEMCTL "/usr/bin/systemctl"
/* The transient service of one runtime's build (BUILD_UNIT_FMT). */
#define BUILD_UNIT_FMT "isol8d-image-build-%s.service"

enum build_state { PRESENT, PENDING, BUILDING, BUILT, FAILED };

static const char *const state_names[] = { "present", "pending", "building",
					   "built", "failed" };

struct build {
	const char *runtime; /* the configuration's string */
	char tag[IMAGE_NAME_MAX + IMAGE_TAG_MAX + 2];
	enum build_state state;
	char message[LINE_MAX_LEN]; /* the builder's last line */
};

struct image_autobuild {
	sd_event *event;
	const struct config *cfg;
	struct build builds[MAX_BUILDS];
	size_t n;
	struct build *current; /* NULL: no builder running */
	/* The builder runs as a transient service of its own, through
	 * systemd-run (its pid below), not as the daemon's child. */
	bool own_unit;
	char unit[64];
	pid_t pid; /* its process group too */
	int pidfd;
	sd_event_source *child_src, *out_src;
	char buf[LINE_MAX_LEN];
	size_t len;
};

/* Whether this process may make setuid files, as a Debian tree holds (su,
 * passwd, mount): not under systemd's RestrictSUIDSGID=, as the shipped
 * unit has, whose seccomp filter the builder would inherit.  0 or
 * -errno. */
static int may_make_setuid(void)
{
	_cleanup_close_ int fd = memfd_create("isol8-suid-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fchmod(fd, S_ISUID | 0700) < 0 ? -errno : 0;
}

/* Whether a service manager started this daemon as a service, whose
 * transient services it can start: systemd sets INVOCATION_ID for each
 * service it runs. */
static bool under_service_manager(void)
{
	return getenv("INVOCATION_ID") && access(SYSTEMD_RUN, X_OK) == 0;
}

/* t's build is over, whichever way. */
static void finish(struct build *t, enum build_state state)
{
	t->state = state;
	image_building_remove(t->tag);
}

static void note(struct build *t, const char *line)
{
	snprintf(t->message, sizeof(t->message), "%s", line);
}

/* One line of the builder's output: logged, and kept as its latest. */
static void on_line(struct image_autobuild *b, char *line)
{
	line[strcspn(line, "\r")] = '\0';
	if (!*line)
		return;
	log_info("image build %s: %s", b->current->tag, line);
	note(b->current, line);
}

/* Reads what the builder wrote; at its end (or on error) stops
 * watching. */
static void drain(struct image_autobuild *b)
{
	int fd = sd_event_source_get_io_fd(b->out_src);
	for (;;) {
		ssize_t n =
			read(fd, b->buf + b->len, sizeof(b->buf) - 1 - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				if (b->len) {
					b->buf[b->len] = '\0';
					on_line(b, b->buf);
					b->len = 0;
				}
				b->out_src = sd_event_source_disable_unref(
					b->out_src);
			}
			return;
		}
		b->len += (size_t)n;
		b->buf[b->len] = '\0';
		char *start = b->buf, *nl;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			on_line(b, start);
			start = nl + 1;
		}
		b->len -= (size_t)(start - b->buf);
		memmove(b->buf, start, b->len);
		if (b->len == sizeof(b->buf) - 1) { /* a line too long */
			on_line(b, b->buf);
			b->len = 0;
		}
	}
}

static int on_output(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	drain(userdata);
	return 0;
}

static void next(struct image_autobuild *b);

static int on_builder_exit(sd_event_source *s, const siginfo_t *si,
			   void *userdata)
{
	(void)s;
	struct image_autobuild *b = userdata;
	struct build *t = b->current;
	if (b->out_src)
		drain(b);
	if (b->len) { /* its last line, unterminated */
		b->buf[b->len] = '\0';
		on_line(b, b->buf);
		b->len = 0;
	}
	/* The builder is gone; what it left holding the pipe is not
	 * waited for. */
	b->out_src = sd_event_source_disable_unref(b->out_src);
	b->child_src = sd_event_source_disable_unref(b->child_src);
	siginfo_t reaped;
	(void)waitid(P_PIDFD, (id_t)b->pidfd, &reaped, WEXITED | WNOHANG);
	close(b->pidfd);
	b->pidfd = -1;
	b->current = NULL;
	if (si->si_code == CLD_EXITED && si->si_status == 0) {
		finish(t, BUILT);
		log_info("image build %s: done; it is usable by name", t->tag);
	} else {
		finish(t, FAILED);
		if (!*t->message)
			note(t, si->si_code == CLD_EXITED
					? "the builder failed"
					: "the builder was killed");
		log_err("image build %s failed (%s %d): %s; it is tried again "
			"at the next start (or by isol8ctl setup)",
			t->tag, si->si_code == CLD_EXITED ? "status" : "signal",
			si->si_status, t->message);
	}
	next(b);
	return 0;
}

/* Runs the builder for t, its stdout and stderr into a pipe the loop
 * reads; 0 or -errno with t's message saying why not. */
static int spawn(struct image_autobuild *b, struct build *t)
{
	char exe[PATH_MAX];
	int r = libexec_path(IMAGE_BUILDER, exe, sizeof(exe));
	if (r < 0) {
		snprintf(t->message, sizeof(t->message), "cannot find %s: %s",
			 IMAGE_BUILDER, strerror(-r));
		return r;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		note(t, "cannot make a pipe for the builder's output");
		return r;
	}
	_cleanup_close_ int rd = p[0];
	_cleanup_close_ int wr = p[1];
	if (fcntl(rd, F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		note(t, "cannot make a pipe for the builder's output");
		return r;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/* Its own process group, to be stopped whole; none of the daemon's
	 * blocked or ignored signals. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wr, 1);
	posix_spawn_file_actions_adddup2(&fa, wr, 2);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					      POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	snprintf(b->unit, sizeof(b->unit), BUILD_UNIT_FMT, t->runtime);
	/* systemd-run --pipe hands its stdio to the service; --wait returns
	 * the service's exit status. */
	const char *via_unit[] = { SYSTEMD_RUN,
				   "--quiet",
				   "--collect",
				   "--wait",
				   "--pipe",
				   "--service-type=exec",
				   "--unit",
				   b->unit,
				   "--description",
				   "isol8d base image build",
				   "--property=TimeoutStopSec=20s",
				   "--",
				   exe };
	const char *args[ARRAY_SIZE(via_unit) + 8];
	size_t n = 0;
	if (b->own_unit)
		for (; n < ARRAY_SIZE(via_unit); n++)
			args[n] = via_unit[n];
	else
		args[n++] = IMAGE_BUILDER;
	const char *tail[] = { "base",
			       "--dir",
			       b->cfg->images_dir,
			       "--runtimes-dir",
			       b->cfg->runtimes_dir,
			       "--runtime",
			       t->runtime,
			       NULL };
	for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
		args[n++] = tail[i];
	const char *prog = b->own_unit ? SYSTEMD_RUN : exe;
	pid_t pid;
	r = -posix_spawn(&pid, prog, &fa, &at, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r < 0) {
		snprintf(t->message, sizeof(t->message),
			 "cannot run %.200s: %s", prog, strerror(-r));
		return r;
	}
	b->pid = pid;
	b->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (b->pidfd < 0)
		r = -errno;
	if (r == 0)
		r = sd_event_add_child_pidfd(b->event, &b->child_src, b->pidfd,
					     WEXITED, on_builder_exit, b);
	if (r == 0)
		r = sd_event_add_io(b->event, &b->out_src, rd, EPOLLIN,
				    on_output, b);
	if (r < 0) {
		/* Not watched: stopped and reaped here. */
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		b->child_src = sd_event_source_disable_unref(b->child_src);
		if (b->pidfd >= 0)
			close(b->pidfd);
		b->pidfd = -1;
		snprintf(t->message, sizeof(t->message),
			 "cannot watch the builder: %s", strerror(-r));
		return r;
	}
	sd_event_source_set_io_fd_own(b->out_src, true);
	TAKE_FD(rd);
	b->current = t;
	t->state = BUILDING;
	log_info("image build %s: building the base image of %s in %s "
		 "(pid %d%s%s)",
		 t->tag, t->runtime, b->cfg->images_dir, (int)pid,
		 b->own_unit ? ", as " : "", b->own_unit ? b->unit : "");
	return 0;
}

/* Starts the next pending build, if any. */
static void next(struct image_autobuild *b)
{
	for (size_t i = 0; i < b->n && !b->current; i++) {
		struct build *t = &b->builds[i];
		if (t->state != PENDING)
			continue;
		int r = spawn(b, t);
		if (r < 0) {
			finish(t, FAILED);
			log_errno(LOG_ERR, r, "image build %s: %s", t->tag,
				  t->message);
		}
	}
}

int image_autobuild_start(sd_event *ev, const struct config *cfg,
			  struct image_autobuild **out)
{
	*out = NULL;
	if (!cfg->images_build || !cfg->images_build[0])
		return 0;
	struct image_autobuild *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->event = ev;
	b->cfg = cfg;
	b->pidfd = -1;
	for (char **rt = cfg->images_build; *rt && b->n < MAX_BUILDS; rt++) {
		bool dup = false;
		for (size_t i = 0; i < b->n; i++)
			dup = dup || strcmp(b->builds[i].runtime, *rt) == 0;
		if (dup)
			continue;
		struct build *t = &b->builds[b->n++];
		t->runtime = *rt;
		int cr = image_store_base_tag(*rt, t->tag, sizeof(t->tag));
		struct image_desc img;
		struct error e;
		if (cr < 0) {
			snprintf(t->tag, sizeof(t->tag), "%s:?", *rt);
			t->state = FAILED;
			note(t, "the host names no Debian codename "
				"(VERSION_CODENAME in /etc/os-release)");
			log_err("image build %s: %s", t->tag, t->message);
		} else if (image_store_resolve(cfg, "images.build", t->tag,
					       &img, NULL, &e) == 1) {
			t->state = PRESENT;
		} else {
			t->state = PENDING;
			image_building_add(t->tag);
		}
	}
	*out = b;
	int r = may_make_setuid();
	/* Under a unit that forbids setuid files (the shipped one), the
	 * builder runs as a service of its own, outside that sandbox. */
	if (r < 0 && under_service_manager()) {
		b->own_unit = true;
		r = 0;
	}
	for (size_t i = 0; r < 0 && i < b->n; i++) {
		struct build *t = &b->builds[i];
		if (t->state != PENDING)
			continue;
		finish(t, FAILED);
		snprintf(t->message, sizeof(t->message),
			 "not built: this daemon may not make setuid files "
			 "(%s), which a Debian tree holds, and no service "
			 "manager can run the builder for it; build it with "
			 "isol8ctl setup",
			 strerror(-r));
		log_err("image build %s: %s", t->tag, t->message);
	}
	next(b);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stops a transient build service (its builder cleans up as it would
 * terminated) and waits for that, until deadline at most: systemd-run
 * only watches the service, whose end it does not bring about. */
static void stop_unit(const char *unit, long long deadline)
{
	const char *argv[] = { SYSTEMCTL, "stop", "--quiet", unit, NULL };
	pid_t pid;
	if (posix_spawn(&pid, SYSTEMCTL, NULL, NULL, (char *const *)argv,
			environ) != 0) {
		log_warn("image build: cannot run %s to stop %s", SYSTEMCTL,
			 unit);
		return;
	}
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() < deadline)
		poll(NULL, 0, 20);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

/* Terminates the builder's group and waits (at most STOP_GRACE_MS, then
 * kills it) until none of it is left. */
static void stop_builder(struct image_autobuild *b)
{
	log_info("image build %s: stopping the builder (pid %d)",
		 b->current->tag, (int)b->pid);
	b->child_src = sd_event_source_disable_unref(b->child_src);
	b->out_src = sd_event_source_disable_unref(b->out_src);
	long long deadline = now_ms() + STOP_GRACE_MS;
	if (b->own_unit)
		stop_unit(b->unit, deadline);
	kill(-b->pid, SIGTERM);
	struct pollfd pfd = { .fd = b->pidfd, .events = POLLIN };
	while (poll(&pfd, 1,
		    (int)(deadline > now_ms() ? deadline - now_ms() : 0)) < 0 &&
	       errno == EINTR)
		;
	siginfo_t si = { 0 };
	if (waitid(P_PIDFD, (id_t)b->pidfd, &si, WEXITED | WNOHANG) == 0 &&
	    si.si_pid == 0) {
		log_warn("image build %s: the builder did not stop; killing it",
			 b->current->tag);
		kill(-b->pid, SIGKILL);
		waitid(P_PIDFD, (id_t)b->pidfd, &si, WEXITED);
	}
	/* Its children, still cleaning up their own. */
	while (kill(-b->pid, 0) == 0 && now_ms() < deadline)
		poll(NULL, 0, 20);
	if (kill(-b->pid, SIGKILL) == 0)
		log_warn("image build %s: killed what was left of the builder",
			 b->current->tag);
	close(b->pidfd);
	b->pidfd = -1;
	finish(b->current, FAILED);
	note(b->current, "stopped with the daemon");
	b->current = NULL;
}

void image_autobuild_free(struct image_autobuild *b)
{
	if (!b)
		return;
	if (b->current)
		stop_builder(b);
	for (size_t i = 0; i < b->n; i++)
		image_building_remove(b->builds[i].tag);
	free(b);
}

json_object *image_autobuild_status(const struct image_autobuild *b)
{
	json_object *o = json_object_new_object();
	json_object *list = json_object_new_array();
	bool busy = false, failed = false;
	for (size_t i = 0; b && i < b->n; i++) {
		const struct build *t = &b->builds[i];
		busy = busy || t->state == PENDING || t->state == BUILDING;
		failed = failed || t->state == FAILED;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "runtime",
				       json_object_new_string(t->runtime));
		json_object_object_add(e, "tag",
				       json_object_new_string(t->tag));
		json_object_object_add(
			e, "state",
			json_object_new_string(state_names[t->state]));
		json_object_object_add(
			e, "message",
			*t->message ? json_object_new_string(t->message)
				    : NULL);
		json_object_array_add(list, e);
	}
	const char *state = !b	     ? "off"
			    : busy   ? "building"
			    : failed ? "failed"
				     : "ready";
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "builds", list);
	return o;
}
