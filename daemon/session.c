#include "session_priv.h"

#include "daemon.h"
#include "execution_result.h"
#include "expose.h"
#include "log.h"
#include "pool.h"
#include "hibernation.h"
#include "sandbox/seccomp.h"
#include "timestamp.h"
#include "waiter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

uint64_t session_mono_usec(const struct session *s)
{
	uint64_t t = 0;
	sd_event_now(s->set->d->event, CLOCK_MONOTONIC, &t);
	return t;
}

const char *session_id(const struct session *s)
{
	return s->id;
}

struct box *session_box(const struct session *s)
{
	return s->box;
}

struct tenant *session_tenant(const struct session *s)
{
	return s->owner;
}

const struct runtime *session_runtime(const struct session *s)
{
	return s->rt;
}

unsigned sessions_count(const struct sessions *set)
{
	return set->count;
}

unsigned sessions_active(const struct sessions *set)
{
	unsigned n = 0;
	for (const struct session *s = set->list; s; s = s->next)
		n += s->running != NULL;
	return n;
}

struct session *session_find(struct sessions *set, const struct caller *c,
			     const char *id)
{
	struct session *other = NULL;
	for (struct session *s = set->list; s; s = s->next) {
		if (strcmp(s->id, id) != 0)
			continue;
		if (s->owner == c->tenant)
			return s;
		if (c->admin && !other)
			other = s;
	}
	return other;
}

/* ---- timers ---- */

void session_arm(sd_event_source *src, uint64_t deadline)
{
	if (!deadline) {
		sd_event_source_set_enabled(src, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(src, deadline);
	sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

/* The idle timer runs only while nothing runs or waits in the session and
 * it is not paused. */
void session_arm_idle(struct session *s)
{
	if (s->pause == HIBERNATED)
		return; /* its timer counts sessions.hibernatedTtlMs */
	bool idle = !s->running && !s->head && s->idle_ms > 0 &&
		    s->pause == RUNNING;
	s->idle_deadline = idle ? session_mono_usec(s) + s->idle_ms * 1000 : 0;
	session_arm(s->idle_timer, s->idle_deadline);
}

static int on_idle(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	struct session *s = userdata;
	if (s->pause == HIBERNATED) {
		session_delete(s, "hibernated longer than "
				  "sessions.hibernatedTtlMs");
		return 0;
	}
	char why[96];
	snprintf(why, sizeof(why), "idle for %llu ms",
		 (unsigned long long)s->idle_ms);
	session_delete(s, why);
	return 0;
}

static int on_lifetime(sd_event_source *src, uint64_t usec, void *userdata)
{
	(void)src;
	(void)usec;
	session_delete(userdata, "it reached cleanup.maxSessionLifetimeMs");
	return 0;
}

void session_touch(struct session *s)
{
	s->accessed_ms = timestamp_now_ms();
	session_arm_idle(s);
}

/* Every session expires: no idle timeout is the longest one. */
static uint64_t clamp_idle(const struct config *cfg, uint64_t idle_ms)
{
	return idle_ms == 0 || idle_ms > cfg->session_max_idle_ms
		       ? cfg->session_max_idle_ms
		       : idle_ms;
}

void session_set_idle(struct session *s, uint64_t idle_ms)
{
	s->idle_ms = clamp_idle(&s->set->d->cfg, idle_ms);
	session_touch(s);
}

/* ---- the interpreter started ahead ---- */

void session_kick(struct session *s)
{
	if (!s->ending)
		sd_event_source_set_enabled(s->kick, SD_EVENT_ONESHOT);
}

static void on_waiter_ready(void *userdata, int err, const char *what)
{
	struct session *s = userdata;
	if (err < 0) {
		/* Executions then start their interpreter themselves. */
		log_errno(LOG_INFO, err,
			  "session %s: no interpreter started ahead: %s", s->id,
			  what ? what : "");
		waiter_free(s->waiter);
	} else
		s->interp = waiter_take(s->waiter);
	s->waiter = NULL;
	session_kick(s);
}

void session_start_interpreter(struct session *s)
{
	if (!s->rt->preload || s->interp || s->waiter || s->ending ||
	    !s->ready || s->pause != RUNNING)
		return;
	int r = waiter_start(s->set->d->event, s->box, &s->set->d->cfg, s->rt,
			     on_waiter_ready, NULL, s, &s->waiter);
	if (r < 0) {
		s->waiter = NULL;
		log_errno(LOG_INFO, r,
			  "session %s: no interpreter started ahead", s->id);
	}
}

void session_stop_interpreter(struct session *s)
{
	command_discard(s->interp);
	s->interp = NULL;
	waiter_free(s->waiter);
	s->waiter = NULL;
}

/* ---- jobs ---- */

static int on_kick(sd_event_source *src, void *userdata)
{
	(void)src;
	struct session *s = userdata;
	/* Jobs wait for a paused session's resume: its init is frozen. */
	if (s->ending || !s->ready || s->pause != RUNNING)
		return 0;
	/* One file call per turn: its start may change the list. */
	for (struct session_job *j = s->side; j; j = j->next)
		if (!j->started) {
			j->started = true;
			j->start(j, s->box, NULL);
			session_kick(
				s); /* the list may have changed: look again */
			return 0;
		}
	struct session_job *job = s->head;
	if (s->running || !job)
		return 0;
	/* The interpreter being started comes sooner than a new one. */
	if (job->wants_interpreter && s->waiter)
		return 0;
	s->head = job->next;
	if (!s->head)
		s->tail = NULL;
	s->queued--;
	job->next = NULL;
	job->started = true;
	s->running = job;
	s->executions++;
	session_arm_idle(s);
	struct command *interp = NULL;
	if (job->wants_interpreter) {
		interp = s->interp;
		s->interp = NULL;
	} else
		session_stop_interpreter(s);
	job->start(job, s->box, interp);
	return 0;
}

int session_enqueue(struct session *s, struct session_job *job)
{
	if (s->ending)
		return -ESRCH;
	job->session = s;
	job->started = false;
	if (job->concurrent) {
		job->next = s->side;
		s->side = job;
		session_touch(s);
		session_kick(s);
		return 0;
	}
	if (s->queued >= s->set->d->cfg.session_max_queued)
		return -EBUSY;
	job->next = NULL;
	if (s->tail)
		s->tail->next = job;
	else
		s->head = job;
	s->tail = job;
	s->queued++;
	s->accessed_ms = timestamp_now_ms();
	session_arm_idle(s);
	session_kick(s);
	return 0;
}

/* Takes job out of a list; gives the job before it (NULL: none). */
static struct session_job *unlink_job(struct session_job **head,
				      struct session_job *job)
{
	struct session_job *prev = NULL;
	for (struct session_job *j = *head; j && j != job; j = j->next)
		prev = j;
	if (prev)
		prev->next = job->next;
	else
		*head = job->next;
	return prev;
}

/* A session that ends detaches its jobs first, so s here is live. */
void session_job_done(struct session_job *job)
{
	struct session *s = job->session;
	if (!s)
		return;
	job->session = NULL;
	if (job->concurrent) {
		unlink_job(&s->side, job);
		session_touch(s);
		return;
	}
	if (s->running == job)
		s->running = NULL;
	else {
		struct session_job *prev = unlink_job(&s->head, job);
		if (s->tail == job)
			s->tail = prev;
		s->queued--;
	}
	session_touch(s);
	session_start_interpreter(s);
	session_kick(s);
}

/* ---- lifecycle ---- */

void session_end_jobs(struct session *s, enum error_kind kind, const char *msg)
{
	struct session_job *job = s->running;
	if (job) {
		s->running = NULL;
		job->end(job, kind, msg);
	}
	while ((job = s->head)) {
		s->head = job->next;
		s->queued--;
		job->end(job, kind, msg);
	}
	s->tail = NULL;
	while ((job = s->side)) {
		s->side = job->next;
		job->end(job, kind, msg);
	}
}

void session_free(struct session *s)
{
	session_stop_interpreter(s);
	box_destroy(s->box);
	hibernation_free(s->hib, &s->set->d->boxes, !s->set->stopping);
	if (s->pool_key)
		pool_release(s->set->d->pool, s->pool_key);
	sd_event_source_disable_unref(s->idle_timer);
	sd_event_source_disable_unref(s->life_timer);
	sd_event_source_disable_unref(s->kick);
	sd_event_source_disable_unref(s->freeze_timer);
	if (s->owner)
		s->owner->sessions--;
	tenant_unref(s->owner);
	free(s);
}

void session_delete(struct session *s, const char *why)
{
	if (s->ending)
		return;
	s->ending = true;
	for (struct session **pp = &s->set->list; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->set->count--;
	log_info("session %s ended: %s", s->id, why);
	char msg[256];
	snprintf(msg, sizeof(msg), "Session %s ended: %s", s->id, why);
	/* Jobs see the session gone: their session_job_done is a no-op. */
	if (s->running)
		s->running->session = NULL;
	for (struct session_job *j = s->head; j; j = j->next)
		j->session = NULL;
	for (struct session_job *j = s->side; j; j = j->next)
		j->session = NULL;
	session_end_jobs(s, ERR_CONFLICT, msg);
	expose_session_ended(s->set->d->exposures, s);
	session_paused_fn paused = s->paused;
	s->paused = NULL;
	if (paused)
		paused(s->paused_data, -ESRCH);
	if (s->criu) {
		struct error e = { 0 };
		error_set(&e, ERR_CONFLICT, ESRCH,
			  "Session %s ended while %s: %s", s->id,
			  s->pause == RESTORING ? "being restored"
						: "being hibernated",
			  why);
		session_cr_done(s, &e);
		s->next = s->set->limbo;
		s->set->limbo = s;
		return;
	}
	session_free(s); /* box_destroy thaws a frozen box to kill it */
}

void session_box_died(struct box *b, void *userdata)
{
	(void)b;
	session_delete(userdata, "its sandbox ended (killed or out of memory)");
}

static void on_box_ready(struct box *b, int err, const char *what,
			 void *userdata)
{
	(void)b;
	struct session *s = userdata;
	if (err < 0) {
		char why[256];
		snprintf(why, sizeof(why), "cannot create its sandbox: %s: %s",
			 what ? what : "set-up", strerror(-err));
		session_delete(s, why);
		return;
	}
	s->ready = true;
	session_start_interpreter(s);
	session_kick(s);
}

static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > SESSION_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789._:-",
			    id[i]))
			return false;
	return true;
}

/* Unguessable, so that ids made here never meet across tenants. */
static int make_id(char out[SESSION_ID_MAX + 1])
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b))
		return -errno;
	char *p = out + snprintf(out, SESSION_ID_MAX + 1, "s-");
	for (size_t i = 0; i < sizeof(b); i++)
		p += snprintf(p, 3, "%02x", b[i]);
	return 0;
}

uint64_t session_default_idle_ms(const struct config *cfg)
{
	return cfg->auto_prune ? cfg->max_container_age_ms : 0;
}

/* A session of c's tenant without its box yet, within the quotas; NULL
 * with e saying why. */
struct session *session_alloc(struct sessions *set, const struct caller *c,
			      const char *id, uint64_t idle_ms, struct error *e)
{
	const struct caller own = { .tenant = c->tenant };
	struct daemon *d = set->d;
	if (id && !valid_id(id)) {
		error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
			  "sessionId: use 1 to %d letters, digits, '.', '_', "
			  "':' or '-'",
			  SESSION_ID_MAX);
		return NULL;
	}
	if (id && session_find(set, &own, id)) {
		error_set(e, ERR_CONFLICT, EEXIST, "Session %s already exists",
			  id);
		return NULL;
	}
	if (set->count >= d->cfg.max_sessions) {
		error_set(e, ERR_BUSY, EBUSY,
			  "Too many sessions: the limit of %llu (maxSessions) "
			  "is reached; delete one or try again later",
			  (unsigned long long)d->cfg.max_sessions);
		return NULL;
	}
	if (!c->admin && c->tenant->sessions >= d->cfg.tenant_max_sessions) {
		error_set(e, ERR_BUSY, EBUSY,
			  "Too many sessions: the limit of %llu per tenant "
			  "(tenants.maxSessions) is reached; delete one or try "
			  "again later",
			  (unsigned long long)d->cfg.tenant_max_sessions);
		return NULL;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
		return NULL;
	}
	s->set = set;
	s->owner = tenant_ref(c->tenant);
	s->owner->sessions++;
	int r = 0;
	if (id)
		snprintf(s->id, sizeof(s->id), "%s", id);
	else
		r = make_id(s->id);
	s->created_ms = s->accessed_ms = timestamp_now_ms();
	s->created_usec = session_mono_usec(s);
	s->idle_ms = clamp_idle(&d->cfg, idle_ms);
	if (r >= 0)
		r = sd_event_add_time(d->event, &s->idle_timer, CLOCK_MONOTONIC,
				      UINT64_MAX, 1000, on_idle, s);
	if (r >= 0)
		r = sd_event_add_defer(d->event, &s->kick, on_kick, s);
	if (r >= 0)
		r = sd_event_source_set_enabled(s->kick, SD_EVENT_OFF);
	if (r >= 0) {
		s->life_deadline =
			s->created_usec + d->cfg.max_session_lifetime_ms * 1000;
		r = sd_event_add_time(d->event, &s->life_timer, CLOCK_MONOTONIC,
				      s->life_deadline, 1000, on_lifetime, s);
	}
	if (r < 0) {
		session_free(s);
		error_set(e, ERR_INTERNAL, r, "Cannot create the session: %s",
			  strerror(-r));
		return NULL;
	}
	return s;
}

static void session_link(struct session *s)
{
	session_arm_idle(s);
	s->next = s->set->list;
	s->set->list = s;
	s->set->count++;
	log_info("session %s created: %s, box %s%s%s", s->id, s->rt->name,
		 box_name(s->box), s->pool_key ? " (pooled)" : "",
		 s->persisted ? " (kept by options.persist)" : "");
}

int session_create(struct sessions *set, const struct caller *c, const char *id,
		   const struct exec_request *req, uint64_t idle_ms,
		   struct session **out, struct error *e)
{
	struct daemon *d = set->d;
	const struct seccomp_prog *prog = NULL;
	if (seccomp_lookup(req->seccomp_mode, req->seccomp_path, &prog, e) < 0)
		return -EINVAL;
	struct session *s = session_alloc(set, c, id, idle_ms, e);
	if (!s)
		return -e->err;
	s->rt = req->runtime;
	int r;
	struct box_spec spec = exec_request_box_spec(req, &d->cfg, prog);
	struct pool_claim claim;
	/* A pooled box serves a session made with the pooled boxes' options;
	 * its waiting interpreter becomes the session's first one. */
	if ((r = pool_get_box(d->pool, &d->boxes, req, &spec, on_box_ready,
			      session_box_died, s, &claim, &s->box)) > 0) {
		s->interp = claim.cmd;
		s->pool_key = claim.key;
		s->ready = true;
	}
	if (r < 0) {
		session_free(s);
		return error_set(
			e, r == -EBUSY ? ERR_BUSY : ERR_INTERNAL, r,
			"Cannot create the session's sandbox: %s",
			r == -EBUSY ? "too many sandboxes (sandbox.maxBoxes)"
				    : strerror(-r));
	}
	session_link(s);
	*out = s;
	return 0;
}

int session_adopt(struct sessions *set, const struct caller *c, struct box *b,
		  const struct runtime *rt, const struct session_usage *usage,
		  struct session **out, struct error *e)
{
	struct session *s = session_alloc(
		set, c, NULL, session_default_idle_ms(&set->d->cfg), e);
	if (!s)
		return -e->err;
	s->rt = rt;
	s->box = b;
	s->ready = true;
	s->persisted = true;
	s->executions = 1;
	s->usage = *usage;
	box_set_died(b, session_box_died, s);
	session_link(s);
	session_start_interpreter(s);
	*out = s;
	return 0;
}

void session_add_usage(struct session *s, const struct session_usage *u)
{
	s->usage.net_in += u->net_in;
	s->usage.net_out += u->net_out;
}

int sessions_new(struct daemon *d, struct sessions **out)
{
	struct sessions *set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->d = d;
	*out = set;
	return 0;
}

void sessions_free(struct sessions *set)
{
	if (!set)
		return;
	set->stopping = true;
	/* The loop runs no more: CRIU's answers are waited for here. */
	for (struct session *s = set->list; s; s = s->next)
		session_criu_wait(s);
	while (set->list)
		session_delete(set->list, "the daemon is stopping");
	while (set->limbo)
		session_criu_wait(set->limbo); /* its end frees it */
	free(set);
}

/* ---- views ---- */

static void add_time(json_object *o, const char *name, uint64_t ms)
{
	char ts[TIMESTAMP_LEN];
	timestamp_iso(ms, ts);
	json_object_object_add(o, name, json_object_new_string(ts));
}

uint64_t session_idle_ms(const struct session *s)
{
	uint64_t now = timestamp_now_ms();
	if (s->running || s->queued || s->pause != RUNNING ||
	    now <= s->accessed_ms)
		return 0;
	return now - s->accessed_ms;
}

json_object *session_to_json(const struct session *s)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "tenant",
			       json_object_new_string(s->owner->name));
	json_object_object_add(o, "runtime",
			       json_object_new_string(s->rt->name));
	json_object_object_add(o, "isActive",
			       json_object_new_boolean(s->running != NULL));
	json_object_object_add(o, "queued",
			       json_object_new_int((int)s->queued));
	json_object_object_add(o, "state",
			       json_object_new_string(session_state(s)));
	json_object_object_add(o, "paused",
			       json_object_new_boolean(s->pause == PAUSED));
	if (s->pause == PAUSED)
		add_time(o, "pausedAt", s->paused_ms);
	if (s->hib)
		add_time(o, "hibernatedAt", hibernation_at_ms(s->hib));
	add_time(o, "createdAt", s->created_ms);
	add_time(o, "lastAccessedAt", s->accessed_ms);
	/* The nearer of the idle and the lifetime deadline. */
	uint64_t deadline = s->idle_deadline;
	if (s->life_deadline && (!deadline || s->life_deadline < deadline))
		deadline = s->life_deadline;
	if (deadline) {
		uint64_t now = session_mono_usec(s);
		uint64_t left = deadline > now ? (deadline - now) / 1000 : 0;
		add_time(o, "expiresAt", timestamp_now_ms() + left);
	} else
		json_object_object_add(o, "expiresAt", NULL);
	json_object_object_add(
		o, "idleTimeoutSec",
		json_object_new_int64((int64_t)(s->idle_ms / 1000)));
	json_object_object_add(o, "executions",
			       json_object_new_int64((int64_t)s->executions));
	char cid[48];
	snprintf(cid, sizeof(cid), "isol8-box-%s",
		 s->box ? box_name(s->box) : "hibernated");
	json_object_object_add(o, "containerId", json_object_new_string(cid));
	json_object_object_add(o, "persisted",
			       json_object_new_boolean(s->persisted));
	json_object_object_add(o, "exposedPorts",
			       expose_ports_json(s->set->d->exposures, s));
	struct cgroup_usage u = { 0 };
	if (s->box)
		box_usage(s->box, &u);
	json_object *ru = json_object_new_object();
	exec_usage_json(ru, u.cpu_time_ns,
			(session_mono_usec(s) - s->created_usec) / 1000, &u,
			s->usage.net_in, s->usage.net_out);
	json_object_object_add(ru, "oomKills",
			       json_object_new_int64((int64_t)u.oom_kills));
	json_object_object_add(o, "resourceUsage", ru);
	return o;
}

json_object *sessions_to_json(const struct sessions *set,
			      const struct caller *c)
{
	json_object *a = json_object_new_array();
	for (const struct session *s = set->list; s; s = s->next)
		if (c->admin || s->owner == c->tenant)
			json_object_array_add(a, session_to_json(s));
	return a;
}
