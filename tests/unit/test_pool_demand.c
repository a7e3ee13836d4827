/* The pool's demand bookkeeping: a key's target grows by one per miss up
 * to the ceiling it is given, never on hits, and after each idle period
 * halves its distance to the floor until it is back there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pool_demand.h"

#define MS 1000ull
#define IDLE (500 * MS)

static void test_misses_grow_up_to_the_ceiling(void **state)
{
	(void)state;
	struct pool_demand d;
	pool_demand_init(&d, 2);
	assert_int_equal(d.target, 2);
	assert_false(pool_demand_claim(&d, true, 10, 1 * MS));
	assert_int_equal(d.target, 2);
	for (unsigned i = 0; i < 5; i++)
		assert_true(pool_demand_claim(&d, false, 10, 2 * MS));
	assert_int_equal(d.target, 7);
	for (unsigned i = 0; i < 10; i++)
		pool_demand_claim(&d, false, 10, 3 * MS);
	assert_int_equal(d.target, 10);
	assert_false(pool_demand_claim(&d, false, 10, 4 * MS));
	/* A ceiling at or below the target (no growth allowed) keeps it. */
	assert_false(pool_demand_claim(&d, false, 2, 5 * MS));
	assert_int_equal(d.target, 10);
}

static void test_idle_halves_back_to_the_floor(void **state)
{
	(void)state;
	struct pool_demand d;
	pool_demand_init(&d, 2);
	assert_int_equal(pool_demand_shrink_due(&d, IDLE), 0);
	for (unsigned i = 0; i < 9; i++)
		pool_demand_claim(&d, false, 16, 100 * MS);
	assert_int_equal(d.target, 11);
	assert_int_equal(pool_demand_shrink_due(&d, IDLE), 100 * MS + IDLE);
	/* Not yet idle long enough. */
	assert_false(pool_demand_shrink(&d, 100 * MS + IDLE - 1, IDLE));
	assert_int_equal(d.target, 11);
	/* A claim, even a hit, restarts the idle period. */
	pool_demand_claim(&d, true, 16, 400 * MS);
	assert_false(pool_demand_shrink(&d, 100 * MS + IDLE, IDLE));
	uint64_t now = 400 * MS + IDLE;
	unsigned want[] = { 6, 4, 3, 2 };
	for (unsigned i = 0; i < 4; i++) {
		assert_true(pool_demand_shrink(&d, now, IDLE));
		assert_int_equal(d.target, want[i]);
		/* The next step waits a whole period again. */
		assert_false(pool_demand_shrink(&d, now + IDLE - 1, IDLE));
		now += IDLE;
	}
	assert_int_equal(pool_demand_shrink_due(&d, IDLE), 0);
	assert_false(pool_demand_shrink(&d, now + 10 * IDLE, IDLE));
	assert_int_equal(d.target, 2);
}

static void test_floor_zero(void **state)
{
	(void)state;
	struct pool_demand d;
	pool_demand_init(&d, 0);
	assert_true(pool_demand_claim(&d, false, 4, 0));
	assert_int_equal(d.target, 1);
	assert_true(pool_demand_shrink(&d, IDLE, IDLE));
	assert_int_equal(d.target, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_misses_grow_up_to_the_ceiling),
		cmocka_unit_test(test_idle_halves_back_to_the_floor),
		cmocka_unit_test(test_floor_zero),
	};
	return cmocka_run_group_tests_name("pool_demand", tests, NULL, NULL);
}
