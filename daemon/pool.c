#include "pool.h"

#include "cleanup.h"
#include "image_store.h"
#include "log.h"
#include "pool_demand.h"
#include "sandbox/box_spec.h"
#include "sandbox/box_host.h"
#include "sandbox/seccomp.h"
#include "sandbox/zygote.h"
#include "waiter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keys are made on demand and kept: the defaults per runtime, plus
 * "unconfined" or "strict" where the other one is the default, up to this
 * many.  Custom profiles are never pooled: one that breaks its boxes fails
 * its own requests, never the pool's builds. */
#define MAX_KEYS 16

/* After a failed build a key waits before its next one: this long after
 * the first failure in a row, twice as long after each further one, up to
 * pool.maxRetryDelayMs.  Until one succeeds it builds one box at a time, so
 * a runtime whose boxes cannot be built neither spins the loop nor keeps
 * the other keys' build slots. */
#define RETRY_FIRST_USEC 250000ull
#define RETRY_ACCURACY_USEC 1000ull
/* Shrinking after idle periods of seconds need not be punctual. */
#define SHRINK_ACCURACY_USEC 50000ull

struct pooled {
	struct pool_key *key;
	struct pooled *next;
	struct box *box;
	struct waiter *waiter;
	uint64_t start_usec;
	uint64_t memory; /* its cgroup's usage once ready */
	bool ready;
};

struct pool_key {
	struct pool *pool;
	const struct runtime *rt;
	char *mode; /* seccomp: "strict" or "unconfined" */
	/* the image its boxes are on (one of pool.images); else the host's */
	bool has_image;
	struct image_desc image;
	uint64_t size;
	struct pool_demand demand;
	uint64_t box_memory; /* what its last box held when ready */
	struct pooled *boxes;
	unsigned ready, building, in_use;
	uint64_t hits, misses, builds, failures, build_usec;
	/* Failed builds in a row, the last one's cause ("step: error"), and
	 * when the next build may start. */
	unsigned streak;
	char cause[160];
	uint64_t retry_usec;
	sd_event_source *retry;
};

struct pool {
	sd_event *event;
	const struct config *cfg;
	struct box_host *host;
	sd_event_source *fill;
	sd_event_source *shrink;
	struct pool_key *keys[MAX_KEYS];
	unsigned nkeys;
	unsigned pooled, building;
	uint64_t memory; /* held by the ready boxes */
	bool freeing;
};

static void schedule_fill(struct pool *p)
{
	if (!p->freeing && p->fill)
		sd_event_source_set_enabled(p->fill, SD_EVENT_ONESHOT);
}

static uint64_t now_usec(const struct pool *p)
{
	uint64_t t = 0;
	sd_event_now(p->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void unlink_pooled(struct pooled *b)
{
	struct pool_key *k = b->key;
	for (struct pooled **pp = &k->boxes; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	if (b->ready)
		k->ready--, k->pool->memory -= b->memory;
	else
		k->building--, k->pool->building--;
	k->pool->pooled--;
}

/* Takes a box out of the pool for good: failed, died or shut down. */
static void drop(struct pooled *b, const char *why)
{
	struct pool *p = b->key->pool;
	if (why)
		log_info("pooled %s box %s: %s", b->key->rt->name,
			 box_name(b->box), why);
	unlink_pooled(b);
	waiter_free(b->waiter);
	box_destroy(b->box);
	free(b);
	schedule_fill(p);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	struct pool_key *k = userdata;
	schedule_fill(k->pool);
	return 0;
}

static uint64_t retry_delay(const struct pool_key *k)
{
	uint64_t max = k->pool->cfg->pool_max_retry_ms * 1000;
	/* streak >= 1 here; past 2^20 times the first delay is past any cap */
	uint64_t d = k->streak > 20 ? max : RETRY_FIRST_USEC << (k->streak - 1);
	return d < max ? d : max;
}

/* Logged once per cause: a key that keeps failing the same way would
 * otherwise fill the journal (debug level shows every failure). */
static void key_failed(struct pool_key *k, int err, const char *what)
{
	struct pool *p = k->pool;
	char cause[sizeof(k->cause)];
	snprintf(cause, sizeof(cause), "%s: %s", what ? what : "set it up",
		 strerror(-err));
	k->failures++;
	k->streak++;
	uint64_t delay = retry_delay(k);
	k->retry_usec = now_usec(p) + delay;
	if (strcmp(cause, k->cause) == 0)
		log_debug("pooled %s box failed again (%u in a row): %s; next "
			  "try in %llu ms",
			  k->rt->name, k->streak, cause,
			  (unsigned long long)(delay / 1000));
	else if (k->streak == 1)
		log_warn("cannot build a pooled %s box: %s; retried less and "
			 "less often, up to every %llu ms, until one builds",
			 k->rt->name, cause,
			 (unsigned long long)p->cfg->pool_max_retry_ms);
	else
		log_warn("pooled %s boxes fail for another cause after %u "
			 "failures: %s",
			 k->rt->name, k->streak - 1, cause);
	memcpy(k->cause, cause, sizeof(cause));
	int r = k->retry ? sd_event_source_set_time(k->retry, k->retry_usec)
			 : sd_event_add_time(p->event, &k->retry,
					     CLOCK_MONOTONIC, k->retry_usec,
					     RETRY_ACCURACY_USEC, on_retry, k);
	if (r >= 0)
		r = sd_event_source_set_enabled(k->retry, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_ERR, r,
			  "pool: cannot schedule the next %s build (it waits "
			  "for the next claim)",
			  k->rt->name);
}

static void build_failed(struct pooled *b, int err, const char *what)
{
	key_failed(b->key, err, what);
	drop(b, NULL);
}

/* Drops ready boxes a lowered target no longer wants. */
static void trim(struct pool_key *k)
{
	struct pooled **pp = &k->boxes;
	while (*pp && k->ready > 0 && k->ready + k->building > k->demand.target)
		if ((*pp)->ready)
			drop(*pp, NULL);
		else
			pp = &(*pp)->next;
}

static void became_ready(struct pooled *b)
{
	struct pool_key *k = b->key;
	if (k->streak > 0) {
		log_info("pooled %s boxes build again after %u failures",
			 k->rt->name, k->streak);
		k->streak = 0;
		k->cause[0] = '\0';
	}
	struct cgroup_usage use = { 0 };
	if (box_usage(b->box, &use) == 0)
		b->memory = k->box_memory = use.memory_bytes;
	b->ready = true;
	k->building--;
	k->pool->building--;
	k->ready++;
	k->pool->memory += b->memory;
	k->builds++;
	k->build_usec += now_usec(k->pool) - b->start_usec;
	trim(k);
	schedule_fill(k->pool);
}

static void on_box_died(struct box *box, void *userdata)
{
	(void)box;
	drop(userdata, "ended while waiting; replacing it");
}

static void on_waiter_ready(void *userdata, int err, const char *what)
{
	struct pooled *b = userdata;
	/* A zygote whose boxes fail (a third time in a row: not for a box
	 * the OOM killer took) would fail every one. */
	if (err < 0 && box_spec_of(b->box)->held && b->key->streak >= 2)
		zygote_give_up(b->key->pool->host->zygote, err, what);
	if (err < 0)
		build_failed(userdata, err, what);
	else
		became_ready(userdata);
}

/* The waiting interpreter ended before any claim. */
static void on_waiter_ended(void *userdata)
{
	drop(userdata, "its interpreter ended while waiting; replacing it");
}

static void on_box_ready(struct box *box, int err, const char *what,
			 void *userdata)
{
	struct pooled *b = userdata;
	const struct pool_key *k = b->key;
	if (err < 0) {
		build_failed(b, err, what);
		return;
	}
	if (!k->rt->preload) {
		became_ready(b);
		return;
	}
	int r = waiter_start(k->pool->event, box, k->pool->cfg, k->rt,
			     on_waiter_ready, on_waiter_ended, b, &b->waiter);
	if (r < 0)
		build_failed(b, r, "write the preload script");
}

static int build_one(struct pool_key *k)
{
	struct pool *p = k->pool;
	const struct config *cfg = p->cfg;
	const struct seccomp_prog *prog;
	struct error err;
	int r = seccomp_lookup(k->mode, NULL, &prog, &err);
	if (r < 0) {
		key_failed(k, r, "look up the seccomp profile");
		return r;
	}
	struct box_spec spec = {
		.rootfs = {
			.runtimes_dir = cfg->runtimes_dir,
			.sandbox_size = cfg->default_sandbox_size,
			.tmp_size = cfg->default_tmp_size,
			.readonly_root = cfg->default_readonly_root,
		},
		.image = k->has_image ? &k->image : NULL,
		.held = k->rt->zygote && !k->has_image,
		.seccomp = prog,
		.limits = {
			.memory_bytes = cfg->default_memory,
			.pids = cfg->default_pids,
			.cpus = cfg->default_cpus,
			/* Built on CPU no running box wants, not taken from
			 * the runs it is to serve. */
			.background = true,
		},
	};
	struct pooled *b = calloc(1, sizeof(*b));
	r = b ? 0 : -ENOMEM;
	if (b) {
		b->key = k;
		b->start_usec = now_usec(p);
		r = box_create(p->host, &spec, on_box_ready, on_box_died, b,
			       &b->box);
	}
	if (r < 0) {
		free(b);
		key_failed(k, r, "create the box");
		return r;
	}
	b->next = k->boxes;
	k->boxes = b;
	k->building++;
	p->building++;
	p->pooled++;
	return 0;
}

/* Whether pooled boxes beyond the floors may hold one more box like k's
 * last one (boxes being built counted alike). */
static bool memory_allows(const struct pool *p, const struct pool_key *k)
{
	uint64_t building = 0;
	for (unsigned i = 0; i < p->nkeys; i++)
		building += p->keys[i]->building * p->keys[i]->box_memory;
	return p->memory + building + k->box_memory <=
	       p->cfg->pool_demand.max_memory;
}

/* Whether k may start one more box now towards upto, leaving the
 * pool-wide bounds aside.  A key whose last build failed waits out its
 * delay and then tries one box at a time: it never holds more than one
 * build slot. */
static bool key_wants_build(const struct pool_key *k, uint64_t upto,
			    uint64_t now)
{
	if (k->ready + k->building >= upto)
		return false;
	if (upto > k->size && !memory_allows(k->pool, k))
		return false;
	return k->streak == 0 || (k->building == 0 && now >= k->retry_usec);
}

static int on_fill(sd_event_source *s, void *userdata)
{
	(void)s;
	struct pool *p = userdata;
	uint64_t now = now_usec(p);
	/* Every key's floor first, then what demand added: a key grown by a
	 * loop never keeps another from its configured size. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < p->nkeys; i++) {
			struct pool_key *k = p->keys[i];
			uint64_t upto = pass ? k->demand.target : k->size;
			while (key_wants_build(k, upto, now) &&
			       p->pooled < p->cfg->pool_max_boxes &&
			       p->building < p->cfg->pool_max_building)
				/* A failure was counted: its retry timer, or
				 * a box coming or going, fills again. */
				if (build_one(k) < 0)
					break;
		}
	return 0;
}

/* Arms the shrink timer for the earliest key due to step down, or turns
 * it off when every key is at its floor. */
static void schedule_shrink(struct pool *p)
{
	uint64_t idle = p->cfg->pool_demand.idle_ms * 1000, due = 0;
	for (unsigned i = 0; i < p->nkeys; i++) {
		uint64_t d = pool_demand_shrink_due(&p->keys[i]->demand, idle);
		if (d && (!due || d < due))
			due = d;
	}
	int r = sd_event_source_set_enabled(p->shrink, SD_EVENT_OFF);
	if (r >= 0 && due)
		r = sd_event_source_set_time(p->shrink, due);
	if (r >= 0 && due)
		r = sd_event_source_set_enabled(p->shrink, SD_EVENT_ONESHOT);
	if (r < 0)
		log_errno(LOG_ERR, r,
			  "pool: cannot schedule shrinking (grown keys keep "
			  "their boxes)");
}

static int on_shrink(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	struct pool *p = userdata;
	uint64_t now = now_usec(p), idle = p->cfg->pool_demand.idle_ms * 1000;
	for (unsigned i = 0; i < p->nkeys; i++) {
		struct pool_key *k = p->keys[i];
		if (!pool_demand_shrink(&k->demand, now, idle))
			continue;
		log_debug("pool: %s (%s) idle, its target is %u boxes now",
			  k->rt->name, k->mode, k->demand.target);
		trim(k);
	}
	schedule_shrink(p);
	return 0;
}

/* The most k's target may reach now: pool.maxBoxes less the other keys'
 * floors, while the memory bound allows one more box; no growth while
 * its builds fail. */
static unsigned demand_ceiling(const struct pool *p, const struct pool_key *k)
{
	if (!p->cfg->pool_demand.grow || !p->cfg->pool_demand.max_memory ||
	    k->streak > 0 || !memory_allows(p, k))
		return k->demand.target;
	uint64_t others = 0;
	for (unsigned i = 0; i < p->nkeys; i++)
		if (p->keys[i] != k)
			others += p->keys[i]->size;
	return others < p->cfg->pool_max_boxes
		       ? (unsigned)(p->cfg->pool_max_boxes - others)
		       : k->demand.target;
}

static uint64_t size_for(const struct pool *p, const struct runtime *rt)
{
	size_t i = runtime_index(rt);
	return i < ARRAY_SIZE(p->cfg->pool_size) ? p->cfg->pool_size[i] : 0;
}

/* img: the image's digest, NULL for the host's. */
static struct pool_key *find_key(struct pool *p, const struct runtime *rt,
				 const char *mode, const char *img)
{
	for (unsigned i = 0; i < p->nkeys; i++) {
		struct pool_key *k = p->keys[i];
		if (k->rt == rt && !strcmp(k->mode, mode) &&
		    k->has_image == (img != NULL) &&
		    (!img || strcmp(k->image.digest, img) == 0))
			return k;
	}
	return NULL;
}

static void key_free(struct pool_key *k)
{
	sd_event_source_disable_unref(k->retry);
	free(k->mode);
	free(k);
}

static struct pool_key *add_key(struct pool *p, const struct runtime *rt,
				const char *mode, const struct image_desc *img)
{
	if (p->nkeys == MAX_KEYS)
		return NULL;
	struct pool_key *k = calloc(1, sizeof(*k));
	if (!k || !(k->mode = strdup(mode))) {
		free(k);
		return NULL;
	}
	k->pool = p;
	k->rt = rt;
	if (img) {
		k->has_image = true;
		k->image = *img;
	}
	k->size = size_for(p, rt);
	pool_demand_init(&k->demand, (unsigned)k->size);
	p->keys[p->nkeys++] = k;
	return k;
}

/* A runtime's key on the image its requests get by default (the host's,
 * or images.default where it serves the runtime). */
static void add_default_key(struct pool *p, const struct runtime *rt)
{
	struct error e = { 0 };
	struct image_desc img;
	int r = image_store_pick(p->cfg, "images.default", NULL, rt->name, &img,
				 &e);
	if (r < 0)
		log_warn("images.default: %s; the %s pool stays empty",
			 e.message, rt->name);
	else
		add_key(p, rt, p->cfg->default_seccomp, r > 0 ? &img : NULL);
}

/* Keys for the images of pool.images, each with its runtime's pool size;
 * an image the store does not hold (yet) is skipped with a warning. */
static void add_image_keys(struct pool *p)
{
	for (char **ref = p->cfg->pool_images; ref && *ref; ref++) {
		struct error e = { 0 };
		struct image_desc img;
		_cleanup_json_ json_object *meta = NULL;
		json_object *rt = NULL;
		int r = image_store_resolve(p->cfg, "pool.images", *ref, &img,
					    &meta, &e);
		if (r > 0)
			json_object_object_get_ex(meta, "runtime", &rt);
		const struct runtime *runtime =
			rt ? runtime_find(json_object_get_string(rt)) : NULL;
		if (r <= 0 || !runtime) {
			log_warn("pool.images: %s gets no warm boxes: %s", *ref,
				 r < 0 ? e.message
				       : "not an image of a runtime");
			continue;
		}
		if (!find_key(p, runtime, p->cfg->default_seccomp, img.digest))
			add_key(p, runtime, p->cfg->default_seccomp, &img);
	}
}

int pool_new(sd_event *event, const struct config *cfg, struct box_host *host,
	     struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = event;
	p->cfg = cfg;
	p->host = host;
	int r = sd_event_add_defer(event, &p->fill, on_fill, p);
	/* Requests first: filling waits for a loop iteration with nothing
	 * else to do. */
	if (r >= 0)
		r = sd_event_source_set_priority(p->fill,
						 SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->fill, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(event, &p->shrink, CLOCK_MONOTONIC, 0,
				      SHRINK_ACCURACY_USEC, on_shrink, p);
	if (r >= 0)
		r = sd_event_source_set_enabled(p->shrink, SD_EVENT_OFF);
	if (r < 0) {
		sd_event_source_unref(p->fill);
		sd_event_source_unref(p->shrink);
		free(p);
		return r;
	}
	if (cfg->pool_prewarm) {
		for (size_t i = 0; runtime_at(i); i++)
			if (size_for(p, runtime_at(i)) > 0)
				add_default_key(p, runtime_at(i));
		add_image_keys(p);
		schedule_fill(p);
	}
	*out = p;
	return 0;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	p->freeing = true;
	for (unsigned i = 0; i < p->nkeys; i++) {
		struct pool_key *k = p->keys[i];
		while (k->boxes)
			drop(k->boxes, NULL);
		key_free(k);
	}
	sd_event_source_disable_unref(p->fill);
	sd_event_source_disable_unref(p->shrink);
	free(p);
}

/* img: the image, NULL for the host's.  Keys for other images than the
 * default come from pool.images only; the default's is made at its first
 * miss where there is none yet (another seccomp mode, or the base image
 * images.default "auto" gives once it has been built). */
static bool claim(struct pool *p, const struct runtime *rt, const char *mode,
		  const struct image_desc *img, bool is_default,
		  struct pool_claim *out)
{
	struct pool_key *k = find_key(p, rt, mode, img ? img->digest : NULL);
	if (!k && (!img || is_default) && size_for(p, rt) > 0)
		k = add_key(p, rt, mode, img);
	if (!k)
		return false;
	struct pooled *b = k->boxes;
	while (b && !b->ready)
		b = b->next;
	if (pool_demand_claim(&k->demand, b != NULL, demand_ceiling(p, k),
			      now_usec(p)))
		schedule_shrink(p);
	if (!b) {
		k->misses++;
		schedule_fill(p);
		return false;
	}
	unlink_pooled(b);
	k->hits++;
	k->in_use++;
	*out = (struct pool_claim){ .key = k, .box = b->box, .entry_fd = -1 };
	if (b->waiter) {
		out->entry_fd = waiter_take_entry(b->waiter);
		out->cmd = waiter_take(b->waiter);
	}
	free(b);
	/* Refilled once the execution is over (pool_release): building a box
	 * on the loop now would delay this very execution. */
	return true;
}

/* A ready box for the request, with the default CPU share and the limits
 * of spec (its box, from exec_request_box_spec) written to its cgroup.
 * False when the request
 * wants a box unlike the pooled ones (network, sizes, readonlyRootFs, a
 * custom seccomp profile), on
 * a miss (counted; the key is then filled for next time), or when the
 * limits cannot be written (a memory limit below what the waiting
 * interpreter holds; logged here).  A yes/no answer, not an error: on
 * false the caller makes a new box, and no client ever hears why. */
static bool pool_claim(struct pool *p, const struct exec_request *req,
		       const struct box_spec *spec, struct pool_claim *out)
{
	const struct config *cfg = p->cfg;
	const struct cgroup_limits *lim = &spec->limits;
	if (spec->rootfs.sandbox_size != cfg->default_sandbox_size ||
	    spec->rootfs.tmp_size != cfg->default_tmp_size ||
	    spec->rootfs.readonly_root != cfg->default_readonly_root ||
	    req->net == BOX_NET_HOST || !strcmp(req->seccomp_mode, "custom") ||
	    !claim(p, req->runtime, req->seccomp_mode, spec->image,
		   req->default_image, out))
		return false;
	/* Pooled boxes are built with the default limits, and in a network
	 * namespace of their own with nothing but loopback: a filtered one
	 * only adds the proxy's socket. */
	const char *what = "the default CPU share";
	int r = box_set_background(out->box, false);
	if (r == 0 && (lim->memory_bytes != cfg->default_memory ||
		       lim->pids != cfg->default_pids ||
		       lim->cpus != cfg->default_cpus)) {
		what = "the limits asked for";
		r = box_set_limits(out->box, lim);
	}
	if (r == 0 && req->net == BOX_NET_FILTERED) {
		what = "its ways out";
		r = box_open_egress(out->box);
	}
	if (r == 0)
		return true;
	log_info("pooled box %s cannot take %s (%s); a new box is made",
		 box_name(out->box), what, strerror(-r));
	command_discard(out->cmd);
	if (out->entry_fd >= 0)
		close(out->entry_fd);
	box_destroy(out->box);
	pool_release(p, out->key);
	return false;
}

int pool_get_box(struct pool *p, struct box_host *host,
		 const struct exec_request *req, const struct box_spec *spec,
		 box_ready_fn ready, box_died_fn died, void *userdata,
		 struct pool_claim *claim, struct box **box)
{
	if (p && pool_claim(p, req, spec, claim)) {
		box_set_died(claim->box, died, userdata);
		*box = claim->box;
		return 1;
	}
	int r = box_create(host, spec, ready, died, userdata, box);
	if (r < 0)
		*box = NULL;
	return r;
}

void pool_release(struct pool *p, struct pool_key *key)
{
	if (key && key->in_use > 0)
		key->in_use--;
	schedule_fill(p);
}

void pool_counts(const struct pool *p, unsigned *ready, unsigned *held)
{
	*ready = 0;
	for (unsigned i = 0; i < p->nkeys; i++)
		*ready += p->keys[i]->ready;
	*held = p->pooled;
}

static void add_u64(json_object *o, const char *name, uint64_t v)
{
	json_object_object_add(o, name, json_object_new_int64((int64_t)v));
}

/* hits / (hits + misses), with 3 decimals; null before any claim */
static void add_hit_rate(json_object *o, const struct pool_key *k)
{
	uint64_t claims = k->hits + k->misses;
	json_object *v = NULL;
	if (claims) {
		char s[16];
		snprintf(s, sizeof(s), "%.3f",
			 (double)k->hits / (double)claims);
		v = json_object_new_double_s(strtod(s, NULL), s);
	}
	json_object_object_add(o, "hitRate", v);
}

json_object *pool_status(const struct pool *p)
{
	uint64_t now = now_usec(p);
	json_object *r = json_object_new_object();
	json_object *keys = json_object_new_array();
	for (unsigned i = 0; i < p->nkeys; i++) {
		const struct pool_key *k = p->keys[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "runtime",
				       json_object_new_string(k->rt->name));
		char image[IMAGE_HEX_LEN + 8] = "host";
		if (k->has_image)
			snprintf(image, sizeof(image), "sha256:%s",
				 k->image.digest);
		json_object_object_add(o, "image",
				       json_object_new_string(image));
		json_object_object_add(o, "network",
				       json_object_new_string("none"));
		json_object_object_add(o, "seccomp",
				       json_object_new_string(k->mode));
		json_object_object_add(
			o, "interpreter",
			json_object_new_string(k->rt->preload ? "started"
							      : "at claim"));
		add_u64(o, "size", k->size);
		add_u64(o, "target", k->demand.target);
		add_u64(o, "ready", k->ready);
		add_u64(o, "inUse", k->in_use);
		add_u64(o, "building", k->building);
		add_u64(o, "hits", k->hits);
		add_u64(o, "misses", k->misses);
		add_hit_rate(o, k);
		add_u64(o, "boxMemoryBytes", k->box_memory);
		add_u64(o, "builds", k->builds);
		add_u64(o, "failures", k->failures);
		add_u64(o, "consecutiveFailures", k->streak);
		json_object_object_add(
			o, "lastError",
			k->streak ? json_object_new_string(k->cause) : NULL);
		add_u64(o, "retryInMs",
			k->streak && k->retry_usec > now
				? (k->retry_usec - now + 999) / 1000
				: 0);
		char avg[32];
		snprintf(avg, sizeof(avg), "%.1f",
			 k->builds ? (double)k->build_usec / 1000.0 /
					     (double)k->builds
				   : 0.0);
		json_object_object_add(
			o, "avgBuildMs",
			json_object_new_double_s(strtod(avg, NULL), avg));
		json_object_array_add(keys, o);
	}
	json_object_object_add(r, "keys", keys);
	add_u64(r, "pooled", p->pooled);
	add_u64(r, "building", p->building);
	add_u64(r, "maxBoxes", p->cfg->pool_max_boxes);
	add_u64(r, "maxBuilding", p->cfg->pool_max_building);
	add_u64(r, "maxRetryDelayMs", p->cfg->pool_max_retry_ms);
	json_object_object_add(r, "prewarm",
			       json_object_new_boolean(p->cfg->pool_prewarm));
	json_object *d = json_object_new_object();
	json_object_object_add(
		d, "grow", json_object_new_boolean(p->cfg->pool_demand.grow));
	add_u64(d, "memoryBytes", p->memory);
	add_u64(d, "maxMemoryBytes", p->cfg->pool_demand.max_memory);
	add_u64(d, "idleMs", p->cfg->pool_demand.idle_ms);
	json_object_object_add(r, "demand", d);
	return r;
}
