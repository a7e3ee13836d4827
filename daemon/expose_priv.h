/* What expose.c (the ports and their tokens) and expose_relay.c (the
 * connections through them) share. */
#ifndef ISOL8D_EXPOSE_PRIV_H
#define ISOL8D_EXPOSE_PRIV_H

#include "expose.h"

#include <stdbool.h>
#include <systemd/sd-event.h>

/* 160 random bits, in hex. */
#define EXPOSE_TOKEN_BYTES 20
#define EXPOSE_TOKEN_LEN ((size_t)EXPOSE_TOKEN_BYTES * 2)

struct traffic {
	uint64_t connections, bytes_in, bytes_out; /* in: into the box */
};

struct relay {
	struct exposures *set;
	struct exposure *x; /* what it goes through; ends before it */
	struct rpc_call *call;
	int fd;		     /* the daemon's copy of the connection */
	sd_event_source *io; /* while the connection is being made */
	struct relay *next;  /* in set->relays */
};

struct exposure {
	struct exposures *set;
	struct exposure *next;
	struct session *session;
	char *sid;	      /* its id */
	struct tenant *owner; /* a reference: the session's tenant */
	unsigned port;
	char token[EXPOSE_TOKEN_LEN + 1];
	uint64_t created_ms;
	struct traffic t; /* of its relays that ended */
	unsigned open;	  /* relays through it now */
};

struct exposures {
	struct daemon *d;
	struct exposure *list;
	struct relay *relays;
	unsigned count;
	struct traffic t; /* of every relay that ended */
	uint64_t refused; /* tokens that matched nothing */
};

/* Adds the bytes of relays open now to t (of x's, or of all with NULL). */
void relays_add_live(const struct exposures *set, const struct exposure *x,
		     struct traffic *t);
/* Cuts every relay through x (they end with an error). */
void relays_cut(struct exposures *set, struct exposure *x);

#endif
