/* Exposed ports: their tokens, limits, views and audit records. */
#include "expose_priv.h"

#include "audit.h"
#include "daemon.h"
#include "log.h"
#include "timestamp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int exposures_new(struct daemon *d, struct exposures **out)
{
	struct exposures *set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->d = d;
	*out = set;
	return 0;
}

void exposures_free(struct exposures *set)
{
	if (!set)
		return;
	while (set->list)
		expose_session_ended(set, set->list->session);
	free(set);
}

static struct exposure *find_port(const struct exposures *set,
				  const struct session *s, unsigned port)
{
	for (struct exposure *x = set->list; x; x = x->next)
		if (x->session == s && x->port == port)
			return x;
	return NULL;
}

static unsigned count_of(const struct exposures *set, const struct session *s)
{
	unsigned n = 0;
	for (const struct exposure *x = set->list; x; x = x->next)
		n += x->session == s;
	return n;
}

static int make_token(char out[EXPOSE_TOKEN_LEN + 1])
{
	uint8_t b[EXPOSE_TOKEN_BYTES];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -errno;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* ---- views ---- */

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static void traffic_json(json_object *o, const struct traffic *t)
{
	add_u64(o, "connections", t->connections);
	add_u64(o, "bytesIn", t->bytes_in);
	add_u64(o, "bytesOut", t->bytes_out);
}

/* Totals of x: its relays that ended and those open now. */
static struct traffic totals(const struct exposure *x)
{
	struct traffic t = x->t;
	relays_add_live(x->set, x, &t);
	return t;
}

static json_object *exposure_json(const struct exposure *x)
{
	json_object *o = json_object_new_object();
	char path[EXPOSE_TOKEN_LEN + 8], ts[TIMESTAMP_LEN];
	snprintf(path, sizeof(path), "/x/%s/", x->token);
	timestamp_iso(x->created_ms, ts);
	json_object_object_add(o, "sessionId", json_object_new_string(x->sid));
	json_object_object_add(o, "port", json_object_new_int((int)x->port));
	json_object_object_add(o, "token", json_object_new_string(x->token));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "createdAt", json_object_new_string(ts));
	struct traffic t = totals(x);
	traffic_json(o, &t);
	json_object_object_add(o, "openConnections",
			       json_object_new_int((int)x->open));
	return o;
}

json_object *expose_list_json(const struct exposures *set,
			      const struct session *s)
{
	json_object *a = json_object_new_array();
	for (const struct exposure *x = set->list; x; x = x->next)
		if (x->session == s)
			json_object_array_add(a, exposure_json(x));
	return a;
}

json_object *expose_ports_json(const struct exposures *set,
			       const struct session *s)
{
	json_object *a = json_object_new_array();
	for (const struct exposure *x = set ? set->list : NULL; x; x = x->next)
		if (x->session == s)
			json_object_array_add(
				a, json_object_new_int((int)x->port));
	return a;
}

json_object *exposures_metrics_json(const struct exposures *set)
{
	json_object *o = json_object_new_object();
	struct traffic t = set->t;
	relays_add_live(set, NULL, &t);
	unsigned open = 0;
	for (const struct relay *r = set->relays; r; r = r->next)
		open++;
	json_object_object_add(o, "ports",
			       json_object_new_int((int)set->count));
	traffic_json(o, &t);
	json_object_object_add(o, "openConnections",
			       json_object_new_int((int)open));
	add_u64(o, "refused", set->refused);
	return o;
}

/* ---- the audit trail ---- */

/* A record of an exposure made or ended (why: NULL when made; then with
 * its totals), with the port, never the token. */
static void audit(const struct exposure *x, const char *why)
{
	struct audit *a = x->set->d->audit;
	if (!a)
		return;
	char ts[TIMESTAMP_LEN];
	timestamp_iso(timestamp_now_ms(), ts);
	json_object *o = json_object_new_object();
	json_object_object_add(
		o, "event",
		json_object_new_string(why ? "unexpose" : "expose"));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "tenant",
			       json_object_new_string(x->owner->name));
	json_object_object_add(o, "sessionId", json_object_new_string(x->sid));
	json_object_object_add(o, "port", json_object_new_int((int)x->port));
	if (why) {
		json_object_object_add(o, "reason",
				       json_object_new_string(why));
		traffic_json(o, &x->t);
	}
	audit_write(a, o);
	json_object_put(o);
}

/* ---- made and ended ---- */

int expose_add(struct exposures *set, const struct expose_session *es,
	       const struct caller *c, unsigned port, json_object **out,
	       struct error *e)
{
	const struct config *cfg = &set->d->cfg;
	struct session *s = es->s;
	struct exposure *x = find_port(set, s, port);
	if (x) {
		*out = exposure_json(x);
		return 0;
	}
	if (count_of(set, s) >= cfg->session_max_exposed)
		return error_set(e, ERR_BUSY, EBUSY,
				 "Too many exposed ports: session %s has the "
				 "limit of %llu (sessions.maxExposedPorts); "
				 "unexpose one first",
				 es->id,
				 (unsigned long long)cfg->session_max_exposed);
	struct tenant *owner = es->owner;
	if (!c->admin && owner->exposed >= cfg->tenant_max_exposed)
		return error_set(e, ERR_BUSY, EBUSY,
				 "Too many exposed ports: the limit of %llu "
				 "per tenant (tenants.maxExposedPorts) is "
				 "reached; unexpose one first",
				 (unsigned long long)cfg->tenant_max_exposed);
	x = calloc(1, sizeof(*x));
	char *sid = x ? strdup(es->id) : NULL;
	if (!sid) {
		free(x);
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	}
	int r = make_token(x->token);
	if (r < 0) {
		free(sid);
		free(x);
		return error_set(e, ERR_INTERNAL, -r, "Cannot make a token: %s",
				 strerror(-r));
	}
	x->set = set;
	x->session = s;
	x->sid = sid;
	x->owner = tenant_ref(owner);
	x->owner->exposed++;
	x->port = port;
	x->created_ms = timestamp_now_ms();
	x->next = set->list;
	set->list = x;
	set->count++;
	log_info("session %s: port %u exposed", sid, port);
	audit(x, NULL);
	*out = exposure_json(x);
	return 0;
}

static void unlink_exposure(struct exposure *x)
{
	struct exposures *set = x->set;
	for (struct exposure **pp = &set->list; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	set->count--;
}

/* Ends x: its relays are cut and counted, then it is gone. */
static void end_exposure(struct exposure *x, const char *why, json_object **out)
{
	unlink_exposure(x);
	relays_cut(x->set, x);
	log_info("session %s: port %u unexposed (%s): %llu connections, "
		 "%llu bytes in, %llu out",
		 x->sid, x->port, why, (unsigned long long)x->t.connections,
		 (unsigned long long)x->t.bytes_in,
		 (unsigned long long)x->t.bytes_out);
	audit(x, why);
	if (out) {
		*out = json_object_new_object();
		json_object_object_add(*out, "sessionId",
				       json_object_new_string(x->sid));
		json_object_object_add(*out, "port",
				       json_object_new_int((int)x->port));
		traffic_json(*out, &x->t);
	}
	x->owner->exposed--;
	tenant_unref(x->owner);
	free(x->sid);
	free(x);
}

int expose_remove(struct exposures *set, struct session *s, unsigned port,
		  json_object **out, struct error *e)
{
	struct exposure *x = find_port(set, s, port);
	if (!x)
		return error_set(e, ERR_NOT_FOUND, ENOENT,
				 "Port %u of the session is not exposed", port);
	end_exposure(x, "unexposed", out);
	return 0;
}

struct session *expose_session_of(const struct exposure *x)
{
	return x->session;
}

void expose_session_ended(struct exposures *set, struct session *s)
{
	if (!set)
		return;
	struct exposure *x;
	while ((x = set->list)) {
		while (x && x->session != s)
			x = x->next;
		if (!x)
			break;
		end_exposure(x, "the session ended", NULL);
	}
}
