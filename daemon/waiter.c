#include "waiter.h"

#include "box_file.h"
#include "cleanup.h"
#include "environment.h"
#include "fault.h"
#include "runtimes/preload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct waiter {
	sd_event *event;
	struct box *box;
	const struct config *cfg;
	const struct runtime *rt;
	struct command *cmd;
	int entry_fd; /* the placeholder of the program file, for writing */
	bool waiting; /* the preload script said so */
	bool ready;   /* ... and, where it stays, its file is gone */
	waiter_ready_fn on_ready;
	waiter_ended_fn on_ended;
	void *userdata;
};

static void report(struct waiter *w, int err, const char *what)
{
	w->ready = true;
	w->on_ready(w->userdata, err, what);
}

static void on_done(void *userdata, int err, const char *what, int status)
{
	struct waiter *w = userdata;
	(void)status;
	if (!w->ready)
		report(w, err < 0 ? err : -ECHILD,
		       err < 0 ? what : "the interpreter ended while starting");
	else if (w->on_ended)
		w->on_ended(w->userdata);
}

/* A claimed interpreter that ends before its execution adopts it: the
 * adoption then fails (command_adopt), nothing to do here. */
static void on_taken_done(void *userdata, int err, const char *what, int status)
{
	(void)userdata;
	(void)err;
	(void)what;
	(void)status;
}

static void on_dir_removed(struct box *box, int err, int fd, void *userdata)
{
	(void)box;
	(void)fd;
	report(userdata, err, err < 0 ? "remove the preload script" : NULL);
}

static void on_script_removed(struct box *box, int err, int fd, void *userdata)
{
	(void)fd;
	int r = err;
	if (r == 0)
		r = box_open(box, PRELOAD_DIR, BOX_OPEN_REMOVE, 0,
			     on_dir_removed, userdata);
	if (r < 0)
		report(userdata, r, "remove the preload script");
}

static void on_output(void *userdata, bool is_stderr, const char *data,
		      size_t len)
{
	struct waiter *w = userdata;
	size_t want = strlen(PRELOAD_WAITING);
	if (is_stderr || w->waiting || len < want ||
	    memcmp(data + len - want, PRELOAD_WAITING, want) != 0)
		return;
	w->waiting = true;
	if (!w->rt->preload_stays) {
		report(w, 0, NULL);
		return;
	}
	/* The script has been read; the box is to look as a fresh one. */
	char path[128];
	snprintf(path, sizeof(path), PRELOAD_DIR "/%s", w->rt->preload_name);
	/* Failing here, inside the command's output callback, the command
	 * is not to be freed: its end reports the failure. */
	if (box_open(w->box, path, BOX_OPEN_REMOVE, 0, on_script_removed, w) <
	    0)
		command_kill(w->cmd);
}

int waiter_command(const struct config *cfg, const struct runtime *rt,
		   struct waiter_command *c)
{
	size_t n = 0;
	runtime_path(rt->binary, cfg->runtimes_dir, c->bin, sizeof(c->bin));
	snprintf(c->code, sizeof(c->code), "/sandbox/main%s", rt->ext);
	c->argv[n++] = c->bin;
	for (size_t i = 0; rt->run_args[i]; i++)
		c->argv[n++] = rt->run_args[i];
	for (size_t i = 0; rt->warm_args[i]; i++)
		c->argv[n++] = rt->warm_args[i];
	c->argv[n++] = c->code;
	c->argv[n] = NULL;
	return environment_build(cfg->runtimes_dir, rt, false, rt->warm_env,
				 &c->envp);
}

static int start_interpreter(struct waiter *w)
{
	struct waiter_command c;
	int r = waiter_command(w->cfg, w->rt, &c);
	if (r < 0)
		return r;
	struct command_spec spec = {
		.cmd = {
			.argv = c.argv,
			.envp = (const char *const *)c.envp,
			.cwd = "/sandbox",
			.limits = {
				.rlimit_fsize = w->cfg->default_sandbox_size,
				.rlimit_nofile = 1024,
			},
			.seccomp = true,
			.held = box_holds_interpreter(w->box),
		},
		.max_output = 4096,
		.hold_stdin = true,
	};
	r = command_start(w->event, w->box, &spec, on_output, on_done, w,
			  &w->cmd);
	environment_free(c.envp);
	if (r < 0)
		w->cmd = NULL;
	return r;
}

static void start_or_report(struct waiter *w)
{
	int r = start_interpreter(w);
	if (r < 0)
		report(w, r, "start the interpreter");
	/* Ready once the preload script says it waits. */
}

/* The empty file an entry_first runtime finds; the execution's code
 * replaces it. */
static void on_entry_made(struct box *box, int err, int fd, void *userdata)
{
	(void)box;
	struct waiter *w = userdata;
	if (err < 0) {
		report(w, err, "make the placeholder of the program file");
		return;
	}
	w->entry_fd = fd;
	start_or_report(w);
}

static void on_script_opened(struct box *box, int err, int fd, void *userdata)
{
	struct waiter *w = userdata;
	const char *step = "write the preload script";
	_cleanup_close_ int f = err < 0 ? -1 : fd;
	int r = err < 0 ? err : fault_inject_for(step, w->rt->name);
	if (r == 0)
		r = box_file_write(f, w->rt->preload, strlen(w->rt->preload));
	if (r < 0) {
		report(w, r, step);
		return;
	}
	if (!w->rt->entry_first) {
		start_or_report(w);
		return;
	}
	char entry[64];
	snprintf(entry, sizeof(entry), "/sandbox/main%s", w->rt->ext);
	r = box_open(box, entry, BOX_OPEN_WRITE, 0644, on_entry_made, w);
	if (r < 0)
		report(w, r, "make the placeholder of the program file");
}

int waiter_start(sd_event *event, struct box *box, const struct config *cfg,
		 const struct runtime *rt, waiter_ready_fn ready,
		 waiter_ended_fn ended, void *userdata, struct waiter **out)
{
	if (!rt->preload)
		return -EOPNOTSUPP;
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct waiter){ .event = event,
			      .box = box,
			      .cfg = cfg,
			      .rt = rt,
			      .entry_fd = -1,
			      .on_ready = ready,
			      .on_ended = ended,
			      .userdata = userdata };
	int r;
	/* A held interpreter has read its script in the zygote. */
	if (box_holds_interpreter(box))
		r = start_interpreter(w);
	else {
		char path[128];
		snprintf(path, sizeof(path), PRELOAD_DIR "/%s",
			 rt->preload_name);
		r = box_open(box, path, BOX_OPEN_WRITE, 0644, on_script_opened,
			     w);
	}
	if (r < 0) {
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int waiter_take_entry(struct waiter *w)
{
	int fd = w->entry_fd;
	w->entry_fd = -1;
	return fd;
}

struct command *waiter_take(struct waiter *w)
{
	struct command *c = w->cmd;
	command_set_callbacks(c, NULL, on_taken_done, NULL);
	box_forget(w->box, w);
	if (w->entry_fd >= 0)
		close(w->entry_fd);
	free(w);
	return c;
}

void waiter_free(struct waiter *w)
{
	if (!w)
		return;
	box_forget(w->box, w);
	command_discard(w->cmd);
	if (w->entry_fd >= 0)
		close(w->entry_fd);
	free(w);
}
