/* The parts of an execution that a session holds: running in a session's
 * box, and keeping a finished box as a session (options.persist). */
#include "execution_internal.h"

#include "daemon.h"
#include "log.h"
#include "session_hibernate.h"

#include <errno.h>
#include <stddef.h>

void execution_keep_box(struct execution *e, json_object *result)
{
	const struct session_usage usage = { e->out.net_in, e->out.net_out };
	struct session *s = NULL;
	struct error err;
	if (!box_alive(e->box) || e->out.timed_out)
		error_set(&err, ERR_CONFLICT, ESRCH,
			  "the sandbox ended with the run");
	else if (!e->d->sessions)
		error_set(&err, ERR_BUSY, ESHUTDOWN, "the daemon is stopping");
	else if (session_adopt(e->d->sessions, &e->caller, e->box,
			       e->req.runtime, &usage, &s, &err) == 0)
		e->box = NULL;
	if (!s) {
		log_info("execution %s: options.persist: the box is not kept: "
			 "%s",
			 e->id, err.message);
		json_object_object_add(result, "persistError",
				       json_object_new_string(err.message));
		return;
	}
	execution_trace(e, "kept as session %s (options.persist)",
			session_id(s));
	json_object_object_add(result, "sessionId",
			       json_object_new_string(session_id(s)));
}

static struct execution *of_job(struct session_job *job)
{
	return (struct execution *)(void *)((char *)job -
					    offsetof(struct execution, job));
}

static void on_job_start(struct session_job *job, struct box *b,
			 struct command *waiting)
{
	struct execution *e = of_job(job);
	struct cgroup_usage u = { 0 };
	e->box = b;
	e->waiter = waiting;
	box_usage(b, &u);
	e->out.cpu_before_ns = u.cpu_time_ns;
	e->out.oom_before = u.oom_kills;
	/* Time spent queued behind other executions is not this one's. */
	sd_event_now(e->d->event, CLOCK_MONOTONIC, &e->start_usec);
	execution_begin(e);
}

static void on_job_end(struct session_job *job, enum error_kind kind,
		       const char *msg)
{
	execution_fail(of_job(job), kind, "%s", msg);
}

void execution_run_in_session(struct execution *e)
{
	struct daemon *d = e->d;
	const struct exec_request *r = &e->req;
	if (!d->sessions) {
		execution_fail(e, ERR_BUSY, "the daemon is stopping");
		return;
	}
	struct session *s =
		session_find(d->sessions, &e->caller, r->session_id);
	if (s && session_runtime(s) != r->runtime) {
		execution_fail(
			e, ERR_INVALID_ARGUMENT,
			"Cannot switch runtime from \"%s\" to \"%s\". Each "
			"persistent container supports a single runtime.",
			session_runtime(s)->name, r->runtime->name);
		return;
	}
	if (!s) {
		struct error err;
		uint64_t idle = session_default_idle_ms(&d->cfg);
		if (session_create(d->sessions, &e->caller, r->session_id, r,
				   idle, &s, &err) < 0) {
			execution_fail(e, err.kind, "%s", err.message);
			return;
		}
	}
	struct error wake = { 0 };
	if (session_paused(s) &&
	    (!r->resume ||
	     (session_hibernated(s) ? session_restore(s, NULL, NULL, &wake)
				    : session_resume(s)) < 0)) {
		if (wake.err) {
			execution_fail(e, wake.kind, "%s", wake.message);
			return;
		}
		execution_fail(e, ERR_CONFLICT,
			       r->resume ? "Session %s is %s and cannot "
					   "be resumed"
					 : "Session %s is %s: resume it "
					   "(session.resume) or send the "
					   "execution with \"resume\": true",
			       r->session_id, session_state(s));
		return;
	}
	e->in_session = true;
	e->job = (struct session_job){
		.start = on_job_start,
		.end = on_job_end,
		.wants_interpreter = exec_request_runs_as_started(&e->req)
	};
	if (session_enqueue(s, &e->job) < 0)
		execution_fail(
			e, ERR_BUSY,
			"Session %s is busy: %llu executions are already "
			"queued (sessions.maxQueued); try again later",
			r->session_id,
			(unsigned long long)d->cfg.session_max_queued);
}
