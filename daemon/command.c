#include "command.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct stream {
	struct command *c;
	bool is_stderr;
	int fd;
	sd_event_source *src;
	struct output out;
};

struct command {
	sd_event *event;
	struct box *box;
	pid_t pid; /* 0 until started */
	bool kill_on_start;
	struct stream streams[2];
	int stdin_fd;
	sd_event_source *stdin_src;
	const char *stdin_data;
	size_t stdin_len, stdin_off;
	command_output_fn on_output;
	command_done_fn on_done;
	void *userdata;
	bool done;
};

static void emit(const char *data, size_t len, void *userdata)
{
	struct stream *s = userdata;
	if (s->c->on_output)
		s->c->on_output(s->c->userdata, s->is_stderr, data, len);
}

static void close_stream(struct stream *s)
{
	s->src = sd_event_source_disable_unref(s->src);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Reads what is there now.  Returns true at end of file. */
static bool pump(struct stream *s)
{
	char buf[65536];
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(s->fd, buf, sizeof(buf));
		if (n > 0) {
			output_feed(&s->out, buf, (size_t)n, emit, s);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		return true;
	}
	return false;
}

static int on_readable(sd_event_source *src, int fd, uint32_t revents,
		       void *userdata)
{
	(void)src;
	(void)fd;
	(void)revents;
	struct stream *s = userdata;
	if (pump(s))
		close_stream(s);
	return 0;
}

static void close_stdin(struct command *c)
{
	c->stdin_src = sd_event_source_disable_unref(c->stdin_src);
	if (c->stdin_fd >= 0)
		close(c->stdin_fd);
	c->stdin_fd = -1;
}

/* Writes what the pipe takes now.  Returns true when nothing is left to
 * write: all written, or the reader has gone (EPIPE). */
static bool write_stdin(struct command *c)
{
	while (c->stdin_off < c->stdin_len) {
		ssize_t n = write(c->stdin_fd, c->stdin_data + c->stdin_off,
				  c->stdin_len - c->stdin_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno != EAGAIN;
		}
		c->stdin_off += (size_t)n;
	}
	return true;
}

static int on_writable(sd_event_source *src, int fd, uint32_t revents,
		       void *userdata)
{
	(void)src;
	(void)fd;
	(void)revents;
	struct command *c = userdata;
	if (write_stdin(c))
		close_stdin(c);
	return 0;
}

/* Feeds stdin: at once what the pipe takes, the rest as it drains; with
 * nothing to write, stdin closes unless held open. */
static int feed_stdin(struct command *c, bool hold)
{
	if (c->stdin_len == 0) {
		if (!hold)
			close_stdin(c);
		return 0;
	}
	if (write_stdin(c)) {
		close_stdin(c);
		return 0;
	}
	return sd_event_add_io(c->event, &c->stdin_src, c->stdin_fd, EPOLLOUT,
			       on_writable, c);
}

static void finish(struct command *c, int err, const char *what, int status)
{
	if (c->done)
		return;
	c->done = true;
	/* Output written before the exit is in the pipes now; what a
	 * leftover background process writes later is not waited for. */
	for (int i = 0; i < 2; i++) {
		struct stream *s = &c->streams[i];
		if (s->fd >= 0)
			pump(s);
		close_stream(s);
		output_finish(&s->out, emit, s);
	}
	close_stdin(c);
	c->on_done(c->userdata, err, what, status);
}

static void on_started(struct box *b, int err, const char *what, pid_t pid,
		       void *userdata)
{
	struct command *c = userdata;
	if (err < 0) {
		finish(c, err, what, 0);
		return;
	}
	c->pid = pid;
	if (c->kill_on_start)
		box_kill_command(b, pid);
}

static void on_exited(struct box *b, pid_t pid, int status, void *userdata)
{
	(void)b;
	(void)pid;
	finish(userdata, 0, NULL, status);
}

int command_start(sd_event *event, struct box *b,
		  const struct command_spec *spec, command_output_fn on_output,
		  command_done_fn on_done, void *userdata, struct command **out)
{
	struct command *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->stdin_fd = -1;
	c->event = event;
	c->box = b;
	command_set_callbacks(c, on_output, on_done, userdata);
	c->stdin_data = spec->stdin_data;
	c->stdin_len = spec->stdin_len;
	int child_fds[3] = { -1, -1, -1 };
	int r = 0;
	for (int i = 0; i < 2; i++) {
		struct stream *s = &c->streams[i];
		int p[2];
		s->c = c;
		s->is_stderr = i == 1;
		s->fd = -1;
		output_init(&s->out, spec->max_output, spec->mask);
		if (pipe2(p, O_CLOEXEC) < 0) {
			r = -errno;
			goto fail;
		}
		s->fd = p[0];
		child_fds[i + 1] = p[1];
		fcntl(s->fd, F_SETFL, O_NONBLOCK);
		r = sd_event_add_io(event, &s->src, s->fd, EPOLLIN, on_readable,
				    s);
		if (r < 0)
			goto fail;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	child_fds[0] = p[0];
	c->stdin_fd = p[1];
	fcntl(c->stdin_fd, F_SETFL, O_NONBLOCK);
	r = feed_stdin(c, spec->hold_stdin);
	if (r < 0)
		goto fail;
	r = box_run(b, &spec->cmd, child_fds, on_started, on_exited, c);
	if (r < 0)
		goto fail;
	for (int i = 0; i < 3; i++)
		close(child_fds[i]);
	*out = c;
	return 0;
fail:
	for (int i = 0; i < 3; i++)
		if (child_fds[i] >= 0)
			close(child_fds[i]);
	c->done = true;
	c->box = NULL; /* the box knows nothing of it */
	command_free(c);
	return r;
}

void command_kill(struct command *c)
{
	if (c->done)
		return;
	if (c->pid > 0)
		box_kill_command(c->box, c->pid);
	else
		c->kill_on_start = true;
}

void command_set_callbacks(struct command *c, command_output_fn on_output,
			   command_done_fn on_done, void *userdata)
{
	c->on_output = on_output;
	c->on_done = on_done;
	c->userdata = userdata;
}

int command_adopt(struct command *c, const struct command_spec *spec,
		  command_output_fn on_output, command_done_fn on_done,
		  void *userdata)
{
	if (c->done || c->stdin_fd < 0 || c->stdin_src)
		return -ESRCH;
	/* What it wrote while waiting is not the execution's. */
	for (int i = 0; i < 2; i++) {
		output_free(&c->streams[i].out);
		output_init(&c->streams[i].out, spec->max_output, spec->mask);
	}
	command_set_callbacks(c, on_output, on_done, userdata);
	c->stdin_data = spec->stdin_data;
	c->stdin_len = spec->stdin_len;
	c->stdin_off = 0;
	return feed_stdin(c, false);
}

struct output *command_output(struct command *c, bool is_stderr)
{
	return &c->streams[is_stderr].out;
}

void command_free(struct command *c)
{
	if (!c)
		return;
	/* A box that lives on (a session's) may still report on it. */
	if (!c->done && c->box)
		box_forget(c->box, c);
	for (int i = 0; i < 2; i++) {
		close_stream(&c->streams[i]);
		output_free(&c->streams[i].out);
	}
	close_stdin(c);
	free(c);
}

void command_discard(struct command *c)
{
	if (c) {
		command_kill(c);
		command_free(c);
	}
}
