/* Persistent sessions: a box bound to an id that many executions reuse, one
 * at a time in arrival order, with an idle timer, an optional hard
 * lifetime and, between executions, an interpreter started ahead. */
#ifndef ISOL8D_SESSION_H
#define ISOL8D_SESSION_H

#include "command.h"
#include "error.h"
#include "exec_request.h"
#include "jsonrpc.h"
#include "sandbox/box.h"
#include "tenant.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct session;
struct sessions;
struct session_job;

/* The job's turn: the session's box, and a waiting interpreter for
 * command_adopt() when the job asked for one and one is ready (else
 * NULL).  The job calls session_job_done() once it is over. */
typedef void (*session_job_start_fn)(struct session_job *job, struct box *b,
				     struct command *waiting);
/* The session ended (deleted, expired, its box died) under the job, queued
 * or running: the job ends with this error and calls session_job_done(). */
typedef void (*session_job_end_fn)(struct session_job *job,
				   enum error_kind kind, const char *msg);

struct session_job {
	session_job_start_fn start;
	session_job_end_fn end;
	bool wants_interpreter; /* would run exactly as the started one */
	/* A file call: starts as soon as the box is ready, beside the
	 * execution running (never queued behind it). */
	bool concurrent;
	/* owned by the session */
	struct session *session;
	struct session_job *next;
	bool started;
};

int sessions_new(struct daemon *d, struct sessions **out);
/* Ends every session; their jobs end with an error. */
void sessions_free(struct sessions *set);

/* The session named id that c may touch, or NULL: c's own, else, for an
 * administrator, another tenant's.  Ids are per tenant: another tenant's
 * session is never found, as if it did not exist. */
struct session *session_find(struct sessions *set, const struct caller *c,
			     const char *id);
/* The idle timeout of a session its creator gave none: the configured
 * cleanup.maxContainerAgeMs with cleanup.autoPrune, else 0 (which
 * session_create makes the longest allowed). */
uint64_t session_default_idle_ms(const struct config *cfg);
/* Creates a session of c's tenant with req's runtime and options
 * (limits, sizes, seccomp); id NULL makes one up; idle_ms 0 or above
 * sessions.maxIdleTimeoutMs is that maximum.  On error e says why (its
 * kind: invalid_argument, conflict, busy or internal). */
int session_create(struct sessions *set, const struct caller *c, const char *id,
		   const struct exec_request *req, uint64_t idle_ms,
		   struct session **out, struct error *e);
/* What a session's executions add up to beyond its cgroup's figures. */
struct session_usage {
	uint64_t net_in, net_out; /* through the egress proxy */
};

/* Keeps b, a ready box of rt that ran one execution (with usage), as a
 * new session of c's tenant with a made-up id and the default idle
 * timeout, marked "persisted" (options.persist).  The session owns b
 * from then on.  Errors as session_create's (the quotas). */
int session_adopt(struct sessions *set, const struct caller *c, struct box *b,
		  const struct runtime *rt, const struct session_usage *usage,
		  struct session **out, struct error *e);
/* An execution in s is over: its usage counts in s's totals. */
void session_add_usage(struct session *s, const struct session_usage *u);
const char *session_id(const struct session *s);
/* Its box (not running yet while it is being made), and its tenant. */
struct box *session_box(const struct session *s);
struct tenant *session_tenant(const struct session *s);
const struct runtime *session_runtime(const struct session *s);
/* Queues a job; -EBUSY when the session's queue is full. */
int session_enqueue(struct session *s, struct session_job *job);
/* A job is over (or cancelled before its turn): the next one may start. */
void session_job_done(struct session_job *job);
/* Ends the session at once: its jobs end, its box goes. */
void session_delete(struct session *s, const char *why);
/* A new idle timeout (0 or above the maximum: the maximum), counted from
 * now. */
void session_set_idle(struct session *s, uint64_t idle_ms);
/* session_pause is over: 0 once every process of the box is frozen, else
 * -errno (-ESRCH: the session ended meanwhile, -ECANCELED: resumed
 * meanwhile). */
typedef void (*session_paused_fn)(void *userdata, int err);
/* Freezes every process of s's box; done is called once they all stand
 * still, never from inside this call.  Paused, s runs no jobs (those
 * queued wait for the resume) and its idle timer stops; its lifetime
 * runs on.  -EALREADY when paused, -EINPROGRESS while being paused,
 * -EAGAIN while its box is being made, -EBUSY while an execution or file
 * call runs or waits, -EOPNOTSUPP without a cgroup freezer. */
int session_pause(struct session *s, session_paused_fn done, void *userdata);
/* done is not to be called: its caller is gone. */
void session_pause_forget(struct session *s);
/* Thaws s; its idle timeout counts again from now.  -EALREADY when not
 * paused (nor being paused). */
int session_resume(struct session *s);
/* Paused or being paused. */
bool session_paused(const struct session *s);
/* File calls and executions count as use. */
void session_touch(struct session *s);
/* Milliseconds since it was last used, or 0 while an execution runs or
 * waits in it. */
uint64_t session_idle_ms(const struct session *s);
unsigned sessions_count(const struct sessions *set);
/* Sessions with an execution running now. */
unsigned sessions_active(const struct sessions *set);

json_object *session_to_json(const struct session *s);
/* The sessions c may see. */
json_object *sessions_to_json(const struct sessions *set,
			      const struct caller *c);

#endif
