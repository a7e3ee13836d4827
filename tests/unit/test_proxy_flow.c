/* One way of a relayed connection, pumped between real sockets: bytes go
 * through whole, the budget is held, and a pipe whose buffers are all
 * taken by small pieces is waited on rather than polled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/proxy_flow.h"

struct pair {
	int src_in, src, dst, dst_out; /* src_in -> src, dst -> dst_out */
};

/* Two socket pairs and a flow to pump from one to the other. */
static void setup(struct pair *p, struct flow *f)
{
	int a[2], b[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b),
			 0);
	*p = (struct pair){ a[0], a[1], b[0], b[1] };
	flow_init(f);
	assert_int_equal(flow_open(f), 0);
}

static void teardown(struct pair *p, struct flow *f)
{
	flow_close(f);
	close(p->src_in);
	close(p->src);
	close(p->dst);
	close(p->dst_out);
}

static size_t drain(int fd)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

static void test_bytes_go_through(void **state)
{
	(void)state;
	struct pair p;
	struct flow f;
	setup(&p, &f);
	struct flow_budget b = { 0, 0 };
	assert_int_equal(write(p.src_in, "hello", 5), 5);
	assert_int_equal(flow_pump(&f, p.src, p.dst, &b), 1);
	char got[8] = { 0 };
	assert_int_equal(read(p.dst_out, got, sizeof(got)), 5);
	assert_string_equal(got, "hello");
	assert_int_equal(b.used, 5);
	assert_int_equal(f.bytes, 5);
	/* Nothing to move: nothing moved. */
	assert_int_equal(flow_pump(&f, p.src, p.dst, &b), 0);
	shutdown(p.src_in, SHUT_WR);
	assert_int_equal(flow_pump(&f, p.src, p.dst, &b), 1);
	assert_true(f.eof && f.shut);
	teardown(&p, &f);
}

static void test_budget_held(void **state)
{
	(void)state;
	struct pair p;
	struct flow f;
	setup(&p, &f);
	struct flow_budget b = { 0, 1000 };
	char data[4000];
	memset(data, 'x', sizeof(data));
	assert_int_equal(write(p.src_in, data, sizeof(data)), sizeof(data));
	assert_true(flow_pump(&f, p.src, p.dst, &b) > 0);
	/* A byte past the limit goes, so that going over shows; no more. */
	assert_int_equal(drain(p.dst_out), 1001);
	assert_true(flow_budget_spent(&b));
	assert_false(flow_wants_input(&f, &b));
	teardown(&p, &f);
}

static void test_clogged_pipe_is_waited_on(void **state)
{
	(void)state;
	struct pair p;
	struct flow f;
	setup(&p, &f);
	struct flow_budget b = { 0, 0 };
	/* The destination takes nothing more. */
	char big[65536];
	memset(big, 'b', sizeof(big));
	while (write(p.dst, big, sizeof(big)) > 0)
		;
	/* Small pieces, each taking a buffer of the pipe, until there is
	 * no free buffer though few bytes are in it. */
	int pieces = 0;
	while (flow_wants_input(&f, &b) && pieces < 4096) {
		assert_int_equal(write(p.src_in, "0123456789", 10), 10);
		assert_true(flow_pump(&f, p.src, p.dst, &b) >= 0);
		pieces++;
	}
	assert_false(flow_wants_input(&f, &b));
	assert_true(f.clogged);
	assert_true(f.pending < 4096);
	assert_true(flow_has_output(&f));
	/* Once the destination drains, the pipe does, and input is wanted
	 * again; every byte comes through in order. */
	drain(p.dst_out);
	assert_int_equal(flow_pump(&f, p.src, p.dst, &b), 1);
	assert_false(f.clogged);
	assert_true(flow_wants_input(&f, &b));
	while (flow_pump(&f, p.src, p.dst, &b) > 0)
		drain(p.dst_out);
	assert_int_equal(f.bytes, (uint64_t)pieces * 10);
	teardown(&p, &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_go_through),
		cmocka_unit_test(test_budget_held),
		cmocka_unit_test(test_clogged_pipe_is_waited_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
