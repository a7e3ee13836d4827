/* What session.c, session_pause.c and session_hibernated.c share: a
 * session's state and the steps of its life they all take. */
#ifndef ISOL8D_SESSION_PRIV_H
#define ISOL8D_SESSION_PRIV_H

#include "session.h"

#define SESSION_ID_MAX 128

/* HIBERNATED: no box; its processes and files wait on disk
 * (session_hibernate.c).  HIBERNATING and RESTORING: CRIU works on it. */
enum pause_state {
	RUNNING,
	FREEZING,
	PAUSED,
	HIBERNATING,
	HIBERNATED,
	RESTORING
};

struct session {
	struct sessions *set;
	struct session *next;
	struct tenant *owner;
	char id[SESSION_ID_MAX + 1];
	const struct runtime *rt;
	struct box *box;
	struct pool_key *pool_key; /* the box came from the pool */
	bool ready, ending;
	struct waiter *waiter;	/* an interpreter starting */
	struct command *interp; /* one that waits */
	struct session_job *running;
	struct session_job *head, *tail;
	unsigned queued;
	struct session_job *side; /* concurrent jobs, started */
	uint64_t executions;
	bool persisted; /* kept after an ephemeral run (options.persist) */
	struct session_usage usage;	  /* its executions' network bytes */
	uint64_t created_usec;		  /* CLOCK_MONOTONIC */
	uint64_t created_ms, accessed_ms; /* CLOCK_REALTIME */
	uint64_t idle_ms;		  /* 0: no idle timeout */
	uint64_t idle_deadline, life_deadline; /* CLOCK_MONOTONIC usec; 0 */
	sd_event_source *idle_timer, *life_timer, *kick;
	enum pause_state pause;
	uint64_t paused_ms, freeze_deadline;
	sd_event_source *freeze_timer;
	session_paused_fn paused; /* the caller of session_pause, waiting */
	void *paused_data;
	struct hibernation *hib; /* while HIBERNATING or HIBERNATED */
	struct criu_op *criu;	 /* while HIBERNATING or RESTORING */
	session_cr_fn cr_done;	 /* the caller that waits for it */
	void *cr_data;
};

struct sessions {
	struct daemon *d;
	struct session *list;
	/* Deleted while CRIU worked on them: freed once it is done. */
	struct session *limbo;
	unsigned count;
	bool stopping; /* hibernated sessions stay on disk */
};

uint64_t session_mono_usec(const struct session *s);
/* Sets src to fire at deadline (CLOCK_MONOTONIC usec; 0: never). */
void session_arm(sd_event_source *src, uint64_t deadline);
void session_arm_idle(struct session *s);
/* Runs the next queued job once the loop is free. */
void session_kick(struct session *s);
/* Starts the interpreter that waits for the next execution, if the
 * runtime has one. */
void session_start_interpreter(struct session *s);
/* Ends every job, running or queued, with this error. */
void session_end_jobs(struct session *s, enum error_kind kind, const char *msg);
void session_free(struct session *s);
/* 0 when s stands still between executions, its box made and no pause
 * under way; else why not. */
int session_between_executions(const struct session *s);
/* A session of c's tenant without its box yet, within the quotas; NULL
 * with e set otherwise. */
struct session *session_alloc(struct sessions *set, const struct caller *c,
			      const char *id, uint64_t idle_ms,
			      struct error *e);

#endif
