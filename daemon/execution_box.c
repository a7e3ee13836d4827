/* The box an execution runs in: its session's, a pooled one, or a new one,
 * which a box made from the zygote (sandbox/zygote.h) turns into one with
 * a waiting interpreter as a pooled box has. */
#include "execution_internal.h"

#include "command.h"
#include "daemon.h"
#include "exec_request.h"
#include "log.h"
#include "pool.h"
#include "waiter.h"

#include <errno.h>
#include <string.h>

/* The execution takes a waiting interpreter (a pooled box's, or one
 * from the zygote) for its program. */
static void take_waiting(struct execution *e, struct command *cmd, int entry_fd,
			 const char *where)
{
	e->waiter = cmd;
	e->entry_fd = entry_fd;
	/* What the waiting interpreter used is not the program's. */
	box_cpu_time(e->box, &e->out.cpu_before_ns);
	execution_trace(e, "%s box %s", where, box_name(e->box));
}

static int on_begin(sd_event_source *s, void *userdata)
{
	struct execution *e = userdata;
	(void)s;
	e->begin = sd_event_source_disable_unref(e->begin);
	execution_begin(e);
	return 0;
}

/* The interpreter of a new box made from the zygote waits, as a pooled
 * box's does; one that failed leaves the box to start its own.  Called
 * from its output: the execution, which may end at once, begins from the
 * loop. */
static void on_held_ready(void *userdata, int err, const char *what)
{
	struct execution *e = userdata;
	if (err == 0) {
		int entry = waiter_take_entry(e->held);
		take_waiting(e, waiter_take(e->held), entry,
			     "interpreter from the zygote in");
	} else {
		waiter_free(e->held);
		log_warn("execution %s: the held interpreter of box %s did not "
			 "start (%s: %s); the box starts its own",
			 e->id, box_name(e->box), what ?: "start",
			 strerror(-err));
	}
	e->held = NULL;
	int r = sd_event_add_defer(e->d->event, &e->begin, on_begin, e);
	if (r < 0)
		execution_fail(e, ERR_INTERNAL,
			       "Cannot start the execution: %s", strerror(-r));
}

static void on_box_ready(struct box *b, int err, const char *what,
			 void *userdata)
{
	struct execution *e = userdata;
	if (err < 0) {
		execution_fail(e, ERR_INTERNAL,
			       "Cannot create the sandbox: %s: %s",
			       what ?: "set-up", strerror(-err));
		return;
	}
	if (box_holds_interpreter(b) &&
	    waiter_start(e->d->event, b, &e->d->cfg, e->req.runtime,
			 on_held_ready, NULL, e, &e->held) == 0)
		return;
	execution_begin(e);
}

static void on_box_died(struct box *b, void *userdata)
{
	(void)b;
	struct execution *e = userdata;
	/* A command still running has already been told it was killed. */
	if (!e->cmd && e->phase != PH_OUTPUTS && !e->out.timed_out)
		execution_fail(e, ERR_INTERNAL,
			       "The sandbox ended unexpectedly");
}

void execution_launch(struct execution *e)
{
	struct daemon *d = e->d;
	if (e->req.session_id) {
		execution_run_in_session(e);
		return;
	}
	struct box_spec spec = exec_request_box_spec(&e->req, &d->cfg, e->prog);
	/* Missed by the pool, a box made from the zygote still spares the
	 * interpreter's start. */
	spec.held = exec_request_runs_as_started(&e->req) &&
		    e->req.runtime->zygote &&
		    strcmp(e->req.seccomp_mode, "custom") != 0 &&
		    /* the waiting interpreter's file size limit */
		    spec.rootfs.sandbox_size == d->cfg.default_sandbox_size;
	int r;
	/* A pooled box when one serves the request as a fresh box would. */
	struct pool_claim c;
	r = pool_get_box(exec_request_runs_as_started(&e->req) ? d->pool : NULL,
			 &d->boxes, &e->req, &spec, on_box_ready, on_box_died,
			 e, &c, &e->box);
	if (r > 0) {
		e->pool_key = c.key;
		take_waiting(e, c.cmd, c.entry_fd, "pooled");
		execution_begin(e);
		return;
	}
	if (r < 0) {
		if (r == -EBUSY)
			execution_fail(e, ERR_BUSY,
				       "Too many sandboxes: the limit of %llu "
				       "is reached; try again later",
				       (unsigned long long)d->cfg.max_boxes);
		else
			execution_fail(e, ERR_INTERNAL,
				       "Cannot create the sandbox: %s",
				       strerror(-r));
	}
}
