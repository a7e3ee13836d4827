/* The warm pool: per key (runtime, seccomp profile, image: the host's or
 * one of pool.images; every box has network "none"), boxes set up to the point of running
 * user code, with the runtime's interpreter already started and waiting
 * where the runtime allows it (runtimes.h).  Filled in the background on
 * the event loop within the configured bounds; a key whose builds fail
 * retries with growing delays, one box at a time.  A box leaves the pool
 * for exactly one execution and never comes back. */
#ifndef ISOL8D_POOL_H
#define ISOL8D_POOL_H

#include "command.h"
#include "config.h"
#include "exec_request.h"
#include "sandbox/box.h"
#include "runtimes/runtimes.h"

#include <json-c/json.h>

struct pool;
struct pool_key;
struct seccomp_prog;

/* What a claim hands over: the box (its died callback still the pool's:
 * re-point it with box_set_died) and the waiting interpreter, started with
 * hold_stdin, or NULL when the runtime starts at claim time. */
struct pool_claim {
	struct pool_key *key;
	struct box *box;
	struct command *cmd;
	int entry_fd; /* waiter_take_entry's, or -1: the caller closes it */
};

int pool_new(sd_event *event, const struct config *cfg, struct box_host *host,
	     struct pool **out);
/* Destroys every pooled box. */
void pool_free(struct pool *p);

/* A box for a request: a pooled one when p (NULL: none) has one that fits
 * (1: *claim holds it, and died with userdata is its died callback now),
 * else a new one (0: box_create's ready and died will come), or a
 * negative errno (*box NULL). */
int pool_get_box(struct pool *p, struct box_host *host,
		 const struct exec_request *req, const struct box_spec *spec,
		 box_ready_fn ready, box_died_fn died, void *userdata,
		 struct pool_claim *claim, struct box **box);
/* The claimed box's execution is over: the pool refills from here. */
void pool_release(struct pool *p, struct pool_key *key);

/* Boxes ready now, and all the pool holds (ready or being built). */
void pool_counts(const struct pool *p, unsigned *ready, unsigned *held);

/* {"keys": [{runtime, image, network, seccomp, size, ready, inUse,
 *  building, hits, misses, builds, failures, consecutiveFailures,
 *  lastError, retryInMs, avgBuildMs}], "pooled", "building", "maxBoxes",
 *  "maxBuilding", "maxRetryDelayMs", "prewarm"} */
json_object *pool_status(const struct pool *p);

#endif
