/* Pausing and resuming a session: its box frozen with the cgroup freezer
 * between executions, its idle timer stopped meanwhile. */
#include "session_priv.h"

#include "daemon.h"
#include "log.h"
#include "sandbox/box.h"
#include "timestamp.h"
#include "waiter.h"

#include <errno.h>

/* How often, and for how long at most, session_pause looks whether the
 * kernel has stopped every process of the box. */
#define FREEZE_POLL_USEC 5000
#define FREEZE_TIMEOUT_USEC 5000000ULL

bool session_paused(const struct session *s)
{
	return s->pause != RUNNING;
}

const char *session_state(const struct session *s)
{
	static const char *const states[] = {
		[RUNNING] = "running",	     [FREEZING] = "running",
		[PAUSED] = "paused",	     [HIBERNATING] = "hibernating",
		[HIBERNATED] = "hibernated", [RESTORING] = "restoring"
	};
	return states[s->pause];
}

static void pause_done(struct session *s, int err)
{
	session_paused_fn paused = s->paused;
	s->paused = NULL;
	if (paused)
		paused(s->paused_data, err);
}

static int on_freeze_poll(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	struct session *s = userdata;
	int r = box_frozen(s->box);
	if (r == 0 && usec < s->freeze_deadline) {
		sd_event_source_set_time_relative(s->freeze_timer,
						  FREEZE_POLL_USEC);
		sd_event_source_set_enabled(s->freeze_timer, SD_EVENT_ONESHOT);
		return 0;
	}
	if (r <= 0) {
		r = r < 0 ? r : -ETIMEDOUT;
		log_errno(LOG_WARNING, r, "session %s: cannot freeze its box",
			  s->id);
		box_freeze(s->box, false);
		s->pause = RUNNING;
		session_touch(s);
		session_start_interpreter(s);
		session_kick(s);
		pause_done(s, r);
		return 0;
	}
	s->pause = PAUSED;
	s->paused_ms = timestamp_now_ms();
	log_info("session %s paused", s->id);
	pause_done(s, 0);
	return 0;
}

int session_between_executions(const struct session *s)
{
	if (s->pause == FREEZING || s->criu)
		return -EINPROGRESS;
	if (!s->ready)
		return -EAGAIN;
	if (s->running || s->head || s->side)
		return -EBUSY;
	return 0;
}

int session_pause(struct session *s, session_paused_fn done, void *userdata)
{
	if (s->pause == PAUSED || s->pause == HIBERNATED)
		return -EALREADY;
	int r = session_between_executions(s);
	if (r == 0)
		r = box_freeze(s->box, true);
	if (r < 0)
		return r;
	uint64_t now = session_mono_usec(s);
	s->freeze_deadline = now + FREEZE_TIMEOUT_USEC;
	if (!s->freeze_timer)
		r = sd_event_add_time(s->set->d->event, &s->freeze_timer,
				      CLOCK_MONOTONIC, now, 1000,
				      on_freeze_poll, s);
	else if ((r = sd_event_source_set_time(s->freeze_timer, now)) >= 0)
		r = sd_event_source_set_enabled(s->freeze_timer,
						SD_EVENT_ONESHOT);
	if (r < 0) {
		box_freeze(s->box, false);
		return r;
	}
	/* An interpreter half started would miss its start-up deadline. */
	waiter_free(s->waiter);
	s->waiter = NULL;
	s->pause = FREEZING;
	s->paused = done;
	s->paused_data = userdata;
	session_arm_idle(s);
	return 0;
}

void session_pause_forget(struct session *s)
{
	s->paused = NULL;
}

int session_resume(struct session *s)
{
	if (s->pause == RUNNING)
		return -EALREADY;
	if (s->pause == RESTORING)
		return 0; /* it ends running: jobs wait for it */
	if (s->pause == HIBERNATED)
		return -ENOTCONN; /* session_restore() brings it back */
	if (s->pause == HIBERNATING)
		return -EINPROGRESS;
	int r = box_freeze(s->box, false);
	if (r < 0)
		return r;
	if (s->pause == FREEZING) {
		sd_event_source_set_enabled(s->freeze_timer, SD_EVENT_OFF);
		pause_done(s, -ECANCELED);
	} else
		log_info("session %s resumed", s->id);
	s->pause = RUNNING;
	session_touch(s);
	session_start_interpreter(s);
	session_kick(s);
	return 0;
}
