/* A session's side of hibernation: the states session_hibernate.c moves
 * it through while CRIU writes or restores its box, and what it reads of
 * the session to save it. */
#include "session_priv.h"

#include "log.h"
#include "sandbox/box.h"
#include "sandbox/criu_rpc.h"

#include <errno.h>

struct daemon *session_daemon(const struct session *s)
{
	return s->set->d;
}

struct daemon *sessions_daemon(const struct sessions *set)
{
	return set->d;
}

struct hibernation *session_hibernation(const struct session *s)
{
	return s->hib;
}

int session_may_hibernate(const struct session *s)
{
	return s->pause == HIBERNATED ? -EALREADY
				      : session_between_executions(s);
}

/* The idle timer counts the hibernated session's time on disk. */
static void arm_hibernated(struct session *s, uint64_t ttl_ms)
{
	s->idle_deadline = session_mono_usec(s) + ttl_ms * 1000;
	session_arm(s->idle_timer, s->idle_deadline);
}

const char *session_busy_with(const struct session *s)
{
	switch (s->pause) {
	case FREEZING:
		return "being paused";
	case HIBERNATING:
		return "being hibernated";
	case RESTORING:
		return "being restored";
	default:
		return NULL;
	}
}

void session_cr_done(struct session *s, const struct error *e)
{
	session_cr_fn done = s->cr_done;
	s->cr_done = NULL;
	if (done)
		done(s->cr_data, e ? NULL : s, e);
}

void session_cr_forget(struct session *s)
{
	s->cr_done = NULL;
}

void session_set_hibernating(struct session *s, struct hibernation *h,
			     struct criu_op *op, session_cr_fn done,
			     void *userdata)
{
	session_stop_interpreter(s);
	s->hib = h;
	s->criu = op;
	s->cr_done = done;
	s->cr_data = userdata;
	s->pause = HIBERNATING;
	session_arm_idle(s);
}

void session_set_restoring(struct session *s, struct criu_op *op,
			   session_cr_fn done, void *userdata)
{
	s->criu = op;
	s->cr_done = done;
	s->cr_data = userdata;
	s->pause = RESTORING;
}

void session_criu_wait(struct session *s)
{
	if (s->criu)
		criu_op_wait(s->criu);
}

bool session_criu_over(struct session *s, struct box *b)
{
	s->criu = NULL;
	if (!s->ending)
		return false;
	/* Deleted meanwhile: its box and directory go with it. */
	if (b)
		s->box = b;
	for (struct session **pp = &s->set->limbo; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	session_free(s);
	return true;
}

void session_hibernation_failed(struct session *s, const struct error *e)
{
	s->hib = NULL;
	s->pause = RUNNING;
	session_touch(s);
	session_start_interpreter(s);
	session_kick(s);
	session_cr_done(s, e);
}

void session_restore_failed(struct session *s, const struct error *e)
{
	s->pause = HIBERNATED;
	/* Executions that waited for the restore. */
	session_end_jobs(s, e->kind, e->message);
	session_cr_done(s, e);
}

void session_set_hibernated(struct session *s, struct hibernation *h,
			    uint64_t ttl_ms)
{
	session_stop_interpreter(s);
	box_destroy(s->box);
	s->box = NULL;
	s->hib = h;
	s->pause = HIBERNATED;
	arm_hibernated(s, ttl_ms);
	log_info("session %s hibernated", s->id);
}

void session_set_restored(struct session *s, struct box *b,
			  struct hibernation **h)
{
	*h = s->hib;
	s->hib = NULL;
	s->box = b;
	s->pause = RUNNING;
	log_info("session %s restored in box %s", s->id, box_name(b));
	session_touch(s);
	session_start_interpreter(s);
	session_kick(s);
}

int session_add_hibernated(struct sessions *set, struct tenant *t,
			   const char *id, const struct runtime *rt,
			   const struct session_saved *saved,
			   struct hibernation *h, uint64_t ttl_ms,
			   struct session **out, struct error *e)
{
	/* Within the quotas as any session, but never refused for them: it
	 * exists already. */
	const struct caller admin = { .tenant = t, .admin = true };
	struct session *s = session_alloc(set, &admin, id, saved->idle_ms, e);
	if (!s)
		return -e->err;
	s->rt = rt;
	s->ready = true;
	s->persisted = saved->persisted;
	s->executions = saved->executions;
	s->created_ms = saved->created_ms;
	s->accessed_ms = saved->accessed_ms;
	s->hib = h;
	s->pause = HIBERNATED;
	s->next = set->list;
	set->list = s;
	set->count++;
	arm_hibernated(s, ttl_ms);
	*out = s;
	return 0;
}

void session_saved_of(const struct session *s, struct session_saved *out)
{
	*out = (struct session_saved){ .idle_ms = s->idle_ms,
				       .created_ms = s->created_ms,
				       .accessed_ms = s->accessed_ms,
				       .executions = s->executions,
				       .persisted = s->persisted };
}

struct session *sessions_first(const struct sessions *set)
{
	return set->list;
}

struct session *session_next(const struct session *s)
{
	return s->next;
}

bool session_hibernated(const struct session *s)
{
	return s->pause == HIBERNATED;
}
