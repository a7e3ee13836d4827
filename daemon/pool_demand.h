/* How many ready boxes a pool key aims at.  A key starts at its
 * configured size, its floor.  A claim that finds the key empty (a miss)
 * raises the target by one, up to a ceiling the pool
 * gives (pool.maxBoxes, pool.demand.maxMemory), so that a loop of runs one
 * after the other finds boxes ready once the pool has caught up.  After
 * pool.demand.idleMs without a claim the target halves its distance to the
 * floor, and again after each further quiet period.  Pure bookkeeping: the
 * pool builds and drops the boxes. */
#ifndef ISOL8D_POOL_DEMAND_H
#define ISOL8D_POOL_DEMAND_H

#include <stdbool.h>
#include <stdint.h>

struct pool_demand {
	unsigned floor, target;
	uint64_t last_claim_usec; /* or of the last step down */
};

void pool_demand_init(struct pool_demand *d, unsigned floor);

/* A claim at now, a hit or a miss.  ceiling is the most the target may
 * reach now.  True when the target grew. */
bool pool_demand_claim(struct pool_demand *d, bool hit, unsigned ceiling,
		       uint64_t now);

/* When the next step down is due, or 0 when the target is at its floor. */
uint64_t pool_demand_shrink_due(const struct pool_demand *d,
				uint64_t idle_usec);

/* The step down, if due at now.  True when the target shrank. */
bool pool_demand_shrink(struct pool_demand *d, uint64_t now,
			uint64_t idle_usec);

#endif
