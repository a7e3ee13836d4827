#include "pool_demand.h"

void pool_demand_init(struct pool_demand *d, unsigned floor)
{
	*d = (struct pool_demand){ .floor = floor, .target = floor };
}

bool pool_demand_claim(struct pool_demand *d, bool hit, unsigned ceiling,
		       uint64_t now)
{
	d->last_claim_usec = now;
	/* Growing on misses only: a key of one box used now and then stays
	 * one box. */
	if (hit || d->target >= ceiling)
		return false;
	d->target++;
	return true;
}

uint64_t pool_demand_shrink_due(const struct pool_demand *d, uint64_t idle_usec)
{
	return d->target > d->floor ? d->last_claim_usec + idle_usec : 0;
}

bool pool_demand_shrink(struct pool_demand *d, uint64_t now, uint64_t idle_usec)
{
	uint64_t due = pool_demand_shrink_due(d, idle_usec);
	if (due == 0 || now < due)
		return false;
	/* Halving the excess: a burst's boxes go within a few quiet periods,
	 * while a pause in a loop costs it only part of its boxes. */
	d->target = d->floor + (d->target - d->floor) / 2;
	d->last_claim_usec = now;
	return true;
}
