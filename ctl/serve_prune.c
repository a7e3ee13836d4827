#include "serve_prune.h"

#include "cleanup.h"
#include "timestamp.h"
#include "json_field.h"
#include "jsonrpc.h"
#include "rpc_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Each call's bound, so that stopping never waits long on a stuck
 * daemon. */
#define CALL_TIMEOUT_MS 10000

struct serve_prune {
	const char *socket_path;
	bool tenants;
	uint64_t max_age_ms;
	char own[32]; /* the bridge's own tenant, "uid:N" */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, kick;
};

/* One call as tenant act_as (NULL: the bridge's own); the result, or NULL
 * after a warning. */
static json_object *call(struct serve_prune *p, const char *act_as,
			 const char *method, json_object *params)
{
	struct rpc_client c;
	int err = rpc_client_connect(&c, p->socket_path);
	if (err < 0) {
		json_object_put(params);
		fprintf(stderr,
			"[WARN] Auto-prune: cannot reach isol8d at %s: "
			"%s\n",
			p->socket_path, strerror(-err));
		return NULL;
	}
	c.act_as = act_as;
	long long id;
	err = rpc_client_send(&c, method, params, &id);
	json_object *result = NULL;
	while (err >= 0 && !result) {
		_cleanup_json_ json_object *msg = NULL;
		err = rpc_client_wait(&c, -1, CALL_TIMEOUT_MS);
		if (err >= 0)
			err = rpc_client_read(&c, &msg);
		json_object *v = NULL;
		if (err >= 0)
			err = rpc_message_about(msg, id, &v);
		if (err == RPC_RESULT) {
			result = json_object_get(v);
		} else if (err == RPC_ERROR) {
			fprintf(stderr, "[WARN] Auto-prune: %s: %s\n", method,
				json_field_str(v, "message", "refused"));
			break;
		}
	}
	if (err < 0)
		fprintf(stderr, "[WARN] Auto-prune: %s: %s\n", method,
			strerror(-err));
	rpc_client_close(&c);
	return result;
}

/* The tenant to delete s as, when s is one of the bridge's sessions: its
 * own (NULL in *act_as), or with tenants' keys one of theirs (named).
 * Local users' sessions, which an administrator's list shows too, are
 * never the bridge's to prune. */
static bool ours(struct serve_prune *p, json_object *s, const char **act_as)
{
	const char *tenant = json_field_str(s, "tenant", NULL);
	*act_as = NULL;
	if (!tenant || strcmp(tenant, p->own) == 0)
		return true;
	if (!p->tenants || strncmp(tenant, "uid:", 4) == 0)
		return false;
	*act_as = tenant;
	return true;
}

/* As isol8's: idle (no execution running) and not accessed for longer
 * than the maximum age.  Boxes options.persist kept are left alone, as
 * isol8 never prunes the containers it leaves running. */
static bool stale(struct serve_prune *p, json_object *s, int64_t now)
{
	int64_t last;
	if (json_object_get_boolean(json_field(s, "isActive")) ||
	    json_object_get_boolean(json_field(s, "persisted")) ||
	    !timestamp_parse(json_field_str(s, "lastAccessedAt", ""), &last))
		return false;
	return now - last > (int64_t)p->max_age_ms;
}

static void pass(struct serve_prune *p)
{
	_cleanup_json_ json_object *res =
		call(p, p->tenants ? "*" : NULL, "session.list", NULL);
	json_object *list = json_field(res, "sessions");
	int64_t now = (int64_t)timestamp_now_ms();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *s = json_object_array_get_idx(list, i);
		const char *id = json_field_str(s, "id", NULL), *act_as;
		if (!id || !ours(p, s, &act_as) || !stale(p, s, now))
			continue;
		json_object *params = json_object_new_object();
		json_object_object_add(params, "sessionId",
				       json_object_new_string(id));
		/* The daemon checks again: it may have run since the list. */
		json_object_object_add(
			params, "idleForMs",
			json_object_new_int64((int64_t)p->max_age_ms));
		_cleanup_json_ json_object *del =
			call(p, act_as, "session.delete", params);
		if (json_object_get_boolean(json_field(del, "deleted")))
			fprintf(stderr,
				"[INFO] Auto-pruned stale session: id=%s%s%s\n",
				id, act_as ? " tenant=" : "",
				act_as ? act_as : "");
	}
}

static void *run(void *arg)
{
	struct serve_prune *p = arg;
	pthread_mutex_lock(&p->lock);
	/* A pass asked for before the stop is still made. */
	while (!p->stop || p->kick) {
		struct timespec at;
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += SERVE_PRUNE_INTERVAL_MS / 1000;
		int r = 0;
		while (!p->stop && !p->kick && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&p->wake, &p->lock, &at);
		if (p->stop && !p->kick)
			break;
		p->kick = false;
		pthread_mutex_unlock(&p->lock);
		pass(p);
		fflush(stderr);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct serve_prune *serve_prune_start(const char *socket_path, bool tenants,
				      uint64_t max_age_ms)
{
	struct serve_prune *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	if (!p) {
		fputs("[ERR] Cannot start auto-prune: out of memory\n", stderr);
		return NULL;
	}
	*p = (struct serve_prune){ .socket_path = socket_path,
				   .tenants = tenants,
				   .max_age_ms = max_age_ms };
	snprintf(p->own, sizeof(p->own), "uid:%u", (unsigned)geteuid());
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&p->thread, NULL, run, p);
	if (r != 0) {
		fprintf(stderr, "[ERR] Cannot start auto-prune: %s\n",
			strerror(r));
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

static void signal_thread(struct serve_prune *p, bool *flag)
{
	pthread_mutex_lock(&p->lock);
	*flag = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void serve_prune_now(struct serve_prune *p)
{
	if (p)
		signal_thread(p, &p->kick);
}

void serve_prune_stop(struct serve_prune *p)
{
	if (!p)
		return;
	signal_thread(p, &p->stop);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
