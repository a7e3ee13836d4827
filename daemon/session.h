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
/* Paused, being paused, hibernated or CRIU at work on it. */
bool session_paused(const struct session *s);
/* "being paused", "being hibernated", "being restored" while one of those
 * is under way, else NULL. */
const char *session_busy_with(const struct session *s);
/* Hibernated (session_hibernate.h): no box until restored. */
bool session_hibernated(const struct session *s);
/* "running", "paused", "hibernating", "hibernated" or "restoring". */
const char *session_state(const struct session *s);
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

/* The end of a hibernation or a restore (session_hibernate.h): s, or
 * NULL and e saying why it failed or that the session ended. */
typedef void (*session_cr_fn)(void *userdata, struct session *s,
			      const struct error *e);
/* done is not to be called: its caller is gone. */
void session_cr_forget(struct session *s);

/* ---- for session_hibernate.c alone ---- */

struct hibernation;
struct criu_op;

/* What a session keeps across a hibernation, besides its id. */
struct session_saved {
	uint64_t idle_ms, created_ms, accessed_ms, executions;
	bool persisted;
};

struct daemon *session_daemon(const struct session *s);
struct daemon *sessions_daemon(const struct sessions *set);
struct hibernation *session_hibernation(const struct session *s);
/* 0 when s may be hibernated now, else as session_pause's errors. */
int session_may_hibernate(const struct session *s);
/* Ends the interpreter started ahead: its pipes lead to the daemon. */
void session_stop_interpreter(struct session *s);
/* CRIU writes s's box to h's directory (op): s runs nothing meanwhile;
 * done is told the end by session_cr_done. */
void session_set_hibernating(struct session *s, struct hibernation *h,
			     struct criu_op *op, session_cr_fn done,
			     void *userdata);
/* CRIU restores s's box (op); executions queued wait for it. */
void session_set_restoring(struct session *s, struct criu_op *op,
			   session_cr_fn done, void *userdata);
/* Waits here for CRIU's work on s, if any, and its end: for the daemon's
 * stop. */
void session_criu_wait(struct session *s);
/* CRIU is done with s.  A session deleted meanwhile is freed now (with b,
 * the box a restore made, if any): true then, and s is gone. */
bool session_criu_over(struct session *s, struct box *b);
/* Tells the caller waiting for a hibernation or a restore: e NULL when it
 * worked. */
void session_cr_done(struct session *s, const struct error *e);
/* The hibernation failed (the caller frees its hibernation): s runs on. */
void session_hibernation_failed(struct session *s, const struct error *e);
/* The restore failed: s stays hibernated; executions waiting for it end
 * with e. */
void session_restore_failed(struct session *s, const struct error *e);
/* s's box is on disk as h (the box destroyed): s runs nothing until
 * restored and expires ttl_ms from now. */
void session_set_hibernated(struct session *s, struct hibernation *h,
			    uint64_t ttl_ms);
/* s runs again in b; *h is the hibernation it was in (the caller's). */
void session_set_restored(struct session *s, struct box *b,
			  struct hibernation **h);
/* The box_died_fn of a session's box. */
void session_box_died(struct box *b, void *session);
void session_saved_of(const struct session *s, struct session_saved *out);
/* A hibernated session found on disk, of tenant t. */
int session_add_hibernated(struct sessions *set, struct tenant *t,
			   const char *id, const struct runtime *rt,
			   const struct session_saved *saved,
			   struct hibernation *h, uint64_t ttl_ms,
			   struct session **out, struct error *e);
struct session *sessions_first(const struct sessions *set);
struct session *session_next(const struct session *s);

#endif
