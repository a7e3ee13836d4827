/* The egress proxy of a filtered box, served on the daemon's event loop.
 * It listens on a socket made inside the box's own network namespace, so
 * the box reaches nothing else; it takes CONNECT and plain HTTP requests,
 * decides on the host name, resolves it off the loop, refuses private
 * addresses, connects from the daemon's namespace and relays the bytes
 * (spliced, never copied through the daemon).  Each accepted connection
 * and each decision can be logged as isol8's networkLogs entries; each
 * decision is counted either way. */
#ifndef ISOL8D_PROXY_H
#define ISOL8D_PROXY_H

#include "egress.h"
#include "net_policy.h"
#include "resolver.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct proxy_limits {
	uint64_t max_connections; /* open at once */
	uint64_t max_bytes;	  /* relayed, both ways, until reset */
	uint64_t idle_timeout_ms;
	uint64_t connect_timeout_ms;
	uint64_t head_timeout_ms;
	bool allow_private;
};

/* One entry: {timestamp, method, host, path, action, durationMs, bytesIn,
 * bytesOut}; the callee takes a reference if it keeps it.  Entries come
 * as decisions are taken and connections end; seq numbers connections in
 * the order the box made them. */
typedef void (*proxy_log_fn)(void *userdata, json_object *entry, uint64_t seq);

struct metrics;
struct proxy;
struct secret_mask;

/* Serves a box's ways out (egress_open; dups are kept, the caller
 * keeps its own): the proxy, intercepted HTTP and TLS, and DNS.  Takes
 * over filter, leaving it empty.  Each decision is counted in metrics,
 * which outlives the proxy.  What the box sent shows in log entries and
 * log lines with mask applied (borrowed, may be NULL). */
int proxy_start(sd_event *event, struct resolver *resolver,
		const int fds[EGRESS_WAYS], struct net_filter *filter,
		const struct proxy_limits *lim, struct metrics *metrics,
		const struct secret_mask *mask, struct proxy **out);
/* Where entries go from now on (NULL: nowhere), and a fresh byte budget:
 * each execution of a session gets its own. */
void proxy_attach(struct proxy *p, proxy_log_fn log, void *userdata);
/* Logs the allowed connections still open, with their totals so far
 * (each is logged once), and stops logging: the execution's result is
 * being made. */
void proxy_detach(struct proxy *p);
/* The bytes relayed from upstream to the box (in) and from the box
 * upstream (out) since the proxy started; 0 for a NULL proxy. */
void proxy_bytes(const struct proxy *p, uint64_t *in, uint64_t *out);
/* Closes every connection and the listener. */
void proxy_free(struct proxy *p);

#endif
