/* One way of a connection the proxy relays: bytes spliced from one socket
 * through a pipe into the other, never copied through the daemon, after
 * a prefix the proxy sends first (a forwarded request head, the bytes of
 * a ClientHello it read, or its own "200 Connection Established"). */
#ifndef ISOL8D_PROXY_FLOW_H
#define ISOL8D_PROXY_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow {
	int pipe[2];
	size_t pending; /* in the pipe */
	bool eof;	/* src has ended */
	bool clogged;	/* every buffer of the pipe is taken (small pieces
			 * each take one), though its bytes are few */
	bool shut;	/* dst has been told */
	char *prefix;
	size_t prefix_len, prefix_off;
	bool count_prefix; /* the prefix is the client's own bytes */
	uint64_t bytes;
};

/* What a box may relay in all (0: no limit), and what it has: shared by
 * every way of its connections. */
struct flow_budget {
	uint64_t used, limit;
};

/* A flow with no pipe yet: safe to close. */
void flow_init(struct flow *f);
/* Its pipe; 0 or a negative errno. */
int flow_open(struct flow *f);
void flow_close(struct flow *f);
/* Moves what it can from src to dst, adding what it relayed to the
 * budget (the client's own prefix included); it takes in no more than a
 * byte past the budget's limit, so that going over shows at once.  1 when
 * anything moved, 0 when nothing did, or a negative errno when the
 * connection is broken.  Once src ended and all went out, dst is shut for
 * writing. */
int flow_pump(struct flow *f, int src, int dst, struct flow_budget *b);
/* Whether the budget is spent: the box went over its limit. */
bool flow_budget_spent(const struct flow_budget *b);
/* What to wait for: src readable (room in the pipe and the budget), dst
 * writable (something to send). */
bool flow_wants_input(const struct flow *f, const struct flow_budget *b);
bool flow_has_output(const struct flow *f);

#endif
