#include "session_hibernate.h"

#include "hibernation.h"

#include "cleanup.h"
#include "daemon.h"
#include "log.h"
#include "runtimes/runtimes.h"
#include "sandbox/box_hibernate.h"
#include "sandbox/box_spec.h"
#include "sandbox/userns.h"
#include "timestamp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META "meta.json"
#define META_VERSION 1
/* Directories made here: "h-" and a random suffix (mkdtemp). */
#define DIR_PREFIX "h-"

static const char *const net_names[] = { [BOX_NET_NONE] = "none",
					 [BOX_NET_FILTERED] = "filtered",
					 [BOX_NET_HOST] = "host" };

static int write_meta(const struct hibernation *h, const struct session *s)
{
	struct session_saved saved;
	session_saved_of(s, &saved);
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(META_VERSION));
	json_object_object_add(o, "tenant",
			       json_object_new_string(session_tenant(s)->name));
	json_object_object_add(o, "id", json_object_new_string(session_id(s)));
	json_object_object_add(
		o, "runtime", json_object_new_string(session_runtime(s)->name));
#define ADD_U64(key, v)                                                        \
	json_object_object_add(o, key, json_object_new_uint64(v))
	ADD_U64("createdMs", saved.created_ms);
	ADD_U64("accessedMs", saved.accessed_ms);
	ADD_U64("idleMs", saved.idle_ms);
	ADD_U64("executions", saved.executions);
	ADD_U64("hibernatedMs", h->at_ms);
	ADD_U64("uidBase", (uint64_t)h->img.uid_base);
	ADD_U64("ctlIno", h->img.ctl_ino);
	ADD_U64("memoryBytes", h->spec.limits.memory_bytes);
	ADD_U64("pids", h->spec.limits.pids);
#undef ADD_U64
	json_object_object_add(o, "persisted",
			       json_object_new_boolean(saved.persisted));
	json_object_object_add(o, "byStop",
			       json_object_new_boolean(h->by_stop));
	json_object_object_add(o, "cpus",
			       json_object_new_double(h->spec.limits.cpus));
	json_object_object_add(o, "network",
			       json_object_new_string(net_names[h->spec.net]));
	char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" META, h->dir);
	snprintf(tmp, sizeof(tmp), "%s/" META ".new", h->dir);
	/* Written whole, then renamed: a daemon dying meanwhile leaves no
	 * half a file for the next one. */
	if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PLAIN) < 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* A hibernation that failed: b is s's again, h and its directory go. */
static void undo(struct session *s, struct box *b, struct hibernation *h, int r,
		 const char *why)
{
	box_set_died(b, session_box_died, s);
	hibernation_remove_dir(h->dir);
	free(h);
	log_errno(LOG_ERR, r, "session %s: cannot hibernate: %s", session_id(s),
		  why);
}

static void on_dumped(void *userdata, int r, const char *why)
{
	struct session *s = userdata;
	struct daemon *d = session_daemon(s);
	struct hibernation *h = session_hibernation(s);
	struct box *b = session_box(s);
	box_hibernate_end(b);
	if (session_criu_over(s, NULL))
		return; /* deleted meanwhile */
	const char *id = session_id(s);
	if (r < 0) {
		undo(s, b, h, r, why);
		struct error e = { 0 };
		error_set(&e, ERR_INTERNAL, -r,
			  "Cannot hibernate session %s: %s", id, why);
		session_hibernation_failed(s, &e);
		return;
	}
	box_hibernated(b, &h->img);
	h->at_ms = timestamp_now_ms();
	session_set_hibernated(s, h, d->cfg.hibernated_ttl_ms);
	if ((r = write_meta(h, s)) < 0) {
		/* Without it no daemon would find it after a restart: it
		 * lives on in this one only. */
		log_errno(LOG_ERR, r, "session %s: cannot write %s/" META, id,
			  h->dir);
	}
	session_cr_done(s, NULL);
}

static int hibernate(struct session *s, bool by_stop, session_cr_fn done,
		     void *userdata, struct error *e)
{
	struct daemon *d = session_daemon(s);
	const char *id = session_id(s);
	int r = session_may_hibernate(s);
	switch (r) {
	case 0:
		break;
	case -EALREADY:
		return r;
	case -EINPROGRESS:
		return error_set(e, ERR_CONFLICT, -r,
				 "Session %s is %s; hibernate it once that "
				 "is done",
				 id, session_busy_with(s));
	case -EAGAIN:
		return error_set(e, ERR_CONFLICT, -r,
				 "Session %s is not ready yet: its sandbox is "
				 "being made",
				 id);
	default:
		return error_set(e, ERR_CONFLICT, -r,
				 "Session %s is busy: an execution or file "
				 "call runs or waits in it; hibernate it "
				 "between executions",
				 id);
	}
	/* Its /etc files are bound from files unlinked at its start, which
	 * CRIU cannot bind again. */
	if (box_on_image(session_box(s)))
		return error_set(e, ERR_UNSUPPORTED, EOPNOTSUPP,
				 "Session %s runs on an image: only sessions "
				 "on the host image can be hibernated",
				 id);
	if (d->features.self_filtered)
		return error_set(e, ERR_UNSUPPORTED, EPERM,
				 "Sessions cannot be hibernated while isol8d "
				 "itself runs under a seccomp filter (as "
				 "systemd's SystemCallFilter= and related "
				 "settings of its unit make one): CRIU cannot "
				 "suspend the boxes' filters from under one; "
				 "see HIBERNATION in isol8d(8)");
	if (access(d->cfg.criu_path, X_OK) < 0)
		return error_set(e, ERR_UNSUPPORTED, errno,
				 "Sessions cannot be hibernated on this host: "
				 "no CRIU at %s (sandbox.criuPath): %s",
				 d->cfg.criu_path, strerror(errno));
	if (mkdir(d->cfg.hibernate_dir, 0700) < 0 && errno != EEXIST)
		return error_set(e, ERR_INTERNAL, errno,
				 "Cannot create %s (sessions.hibernateDir): %s",
				 d->cfg.hibernate_dir, strerror(errno));
	struct hibernation *h = calloc(1, sizeof(*h));
	if (!h)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	h->img.uid_base = -1;
	h->by_stop = by_stop;
	snprintf(h->dir, sizeof(h->dir), "%s/" DIR_PREFIX "XXXXXX",
		 d->cfg.hibernate_dir);
	_cleanup_close_ int dirfd = -1;
	bool made = mkdtemp(h->dir) != NULL;
	if (made && chmod(h->dir, 0711) == 0)
		dirfd = open(h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Where CRIU finds the box's root when it restores it. */
	if (dirfd < 0 || mkdirat(dirfd, "root", 0700) < 0) {
		r = error_set(e, ERR_INTERNAL, errno,
			      "Cannot create a directory in %s: %s",
			      d->cfg.hibernate_dir, strerror(errno));
		if (made)
			hibernation_remove_dir(h->dir);
		free(h);
		return r;
	}
	/* Its pipes lead to the daemon: it is started again after. */
	session_stop_interpreter(s);
	struct box *b = session_box(s);
	h->spec = *box_spec_of(b);
	/* The init ends with the dump: that is no death of the session. */
	box_set_died(b, NULL, NULL);
	char why[ERROR_MESSAGE_MAX - 64];
	struct criu_op *op;
	r = box_hibernate_start(b, d->event, d->cfg.criu_path, dirfd, on_dumped,
				s, &op, why, sizeof(why));
	if (r < 0) {
		undo(s, b, h, r, why);
		return error_set(e, ERR_INTERNAL, -r,
				 "Cannot hibernate session %s: %s", id, why);
	}
	session_set_hibernating(s, h, op, done, userdata);
	return 0;
}

int session_hibernate(struct session *s, session_cr_fn done, void *userdata,
		      struct error *e)
{
	return hibernate(s, false, done, userdata, e);
}

static void on_restored(void *userdata, struct box *b, int r, const char *why)
{
	struct session *s = userdata;
	struct daemon *d = session_daemon(s);
	struct hibernation *h = session_hibernation(s);
	if (b)
		h->img.uid_base = -1; /* the box's now */
	if (session_criu_over(s, b))
		return; /* deleted meanwhile, b with it */
	if (r < 0) {
		log_warn("session %s stays hibernated: %s", session_id(s), why);
		struct error e = { 0 };
		error_set(&e, ERR_INTERNAL, -r, "Cannot restore session %s: %s",
			  session_id(s), why);
		session_restore_failed(s, &e);
		return;
	}
	session_set_restored(s, b, &h);
	hibernation_free(h, &d->boxes, true);
	session_cr_done(s, NULL);
}

int session_restore(struct session *s, session_cr_fn done, void *userdata,
		    struct error *e)
{
	struct daemon *d = session_daemon(s);
	struct hibernation *h = session_hibernation(s);
	if (!session_hibernated(s))
		return -EALREADY;
	if (d->features.self_filtered)
		return error_set(e, ERR_UNSUPPORTED, EPERM,
				 "Session %s cannot be restored while isol8d "
				 "itself runs under a seccomp filter; see "
				 "HIBERNATION in isol8d(8)",
				 session_id(s));
	char why[ERROR_MESSAGE_MAX - 64];
	struct criu_op *op;
	int r = box_restore_start(&d->boxes, &h->spec, d->cfg.criu_path, h->dir,
				  &h->img, session_box_died, s, on_restored, s,
				  &op, why, sizeof(why));
	if (r < 0)
		return error_set(e, ERR_INTERNAL, -r,
				 "Cannot restore session %s: %s", session_id(s),
				 why);
	session_set_restoring(s, op, done, userdata);
	return 0;
}

void sessions_hibernate_all(struct sessions *set)
{
	for (struct session *s = sessions_first(set); s; s = session_next(s)) {
		/* The loop runs no more: CRIU is waited for here. */
		session_criu_wait(s);
		struct error e = { 0 };
		if (session_may_hibernate(s) != 0)
			continue;
		if (hibernate(s, true, NULL, NULL, &e) < 0)
			log_warn("session %s is lost with the daemon: %s",
				 session_id(s), e.message);
		else
			session_criu_wait(s);
	}
}

/* ---- the next daemon ---- */

static bool get_u64(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) &&
			       json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static bool get_bool(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) &&
	       json_object_get_boolean(v);
}

/* One directory: its session back in set; -errno when it cannot be. */
static int load_one(struct sessions *set, const char *dir)
{
	struct daemon *d = sessions_daemon(set);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/" META, dir);
	_cleanup_json_ json_object *o = json_object_from_file(path);
	if (!o)
		return -ENOENT;
	uint64_t version = 0, uid_base, net_i;
	struct session_saved saved = { 0 };
	struct hibernation *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	h->img.uid_base = -1;
	const char *tenant = get_str(o, "tenant"), *id = get_str(o, "id");
	const char *rt_name = get_str(o, "runtime"),
		   *net = get_str(o, "network");
	const struct runtime *rt = rt_name ? runtime_find(rt_name) : NULL;
	json_object *cpus;
	bool ok = get_u64(o, "version", &version) && version == META_VERSION &&
		  tenant && id && rt && net &&
		  get_u64(o, "createdMs", &saved.created_ms) &&
		  get_u64(o, "accessedMs", &saved.accessed_ms) &&
		  get_u64(o, "idleMs", &saved.idle_ms) &&
		  get_u64(o, "executions", &saved.executions) &&
		  get_u64(o, "hibernatedMs", &h->at_ms) &&
		  get_u64(o, "uidBase", &uid_base) &&
		  get_u64(o, "ctlIno", &h->img.ctl_ino) &&
		  get_u64(o, "memoryBytes", &h->spec.limits.memory_bytes) &&
		  get_u64(o, "pids", &h->spec.limits.pids) &&
		  json_object_object_get_ex(o, "cpus", &cpus);
	for (net_i = 0; ok && net_i < ARRAY_SIZE(net_names); net_i++)
		if (!strcmp(net, net_names[net_i]))
			break;
	if (!ok || net_i == ARRAY_SIZE(net_names) || uid_base > INT64_MAX) {
		free(h);
		return -EBADMSG;
	}
	h->spec.net = (enum box_net)net_i;
	h->spec.limits.cpus = json_object_get_double(cpus);
	saved.persisted = get_bool(o, "persisted");
	h->by_stop = get_bool(o, "byStop");
	/* Its files and processes keep their ids: the same range, or none. */
	int r = uid_slots_take(d->boxes.uids, (int64_t)uid_base);
	if (r < 0) {
		free(h);
		return r;
	}
	h->img.uid_base = (int64_t)uid_base;
	uint64_t now = timestamp_now_ms(), ttl = d->cfg.hibernated_ttl_ms;
	uint64_t age = now > h->at_ms ? now - h->at_ms : 0;
	struct tenant *t = tenant_get(&d->tenants, tenant);
	struct session *s;
	struct error e = { 0 };
	r = t ? session_add_hibernated(set, t, id, rt, &saved, h,
				       age < ttl ? ttl - age : 0, &s, &e)
	      : -ENOMEM;
	tenant_unref(t);
	if (r < 0) {
		log_warn("%s: session %s stays on disk: %s", dir, id,
			 e.message);
		h->img.uid_base = -1;
		uid_slots_release(d->boxes.uids, (int64_t)uid_base);
		free(h);
		return 0; /* reported; not removed */
	}
	log_info("session %s of %s found hibernated in %s", id, tenant, dir);
	if (h->by_stop && session_restore(s, NULL, NULL, &e) < 0)
		log_warn("session %s stays hibernated: %s", id, e.message);
	return 0;
}

void sessions_load_hibernated(struct sessions *set)
{
	struct daemon *d = sessions_daemon(set);
	DIR *dir = opendir(d->cfg.hibernate_dir);
	if (!dir) {
		if (errno != ENOENT)
			log_errno(LOG_ERR, -errno, "cannot read %s",
				  d->cfg.hibernate_dir);
		return;
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", d->cfg.hibernate_dir,
			 de->d_name);
		int r = load_one(set, path);
		/* A directory without a readable meta.json is what a dump
		 * cut short left behind. */
		if (r == -ENOENT || r == -EBADMSG) {
			log_warn("%s: no hibernated session; removed", path);
			hibernation_remove_dir(path);
		} else if (r < 0)
			log_errno(LOG_ERR, r, "%s: not loaded", path);
	}
	closedir(dir);
}
