/* Tenants: whom a request acts for, and what each tenant holds, for the
 * per-tenant quotas.  A local client is the tenant "uid:N" of its socket
 * peer (SO_PEERCRED); the HTTP bridge names the tenant of its API key in
 * each request's "actAs", which only root and tenants.bridgeUser may do.
 * Root and members of tenants.adminGroup are administrators: they see
 * every tenant's sessions, and only the global limits bind them. */
#ifndef ISOL8D_TENANT_H
#define ISOL8D_TENANT_H

#include "config.h"
#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#define TENANT_NAME_MAX 64

/* One tenant, alive while something refers to it. */
struct tenant {
	struct tenants *set;
	struct tenant *next;
	unsigned refs;
	/* what the tenant holds now */
	unsigned connections, sessions, executions;
	unsigned exposed; /* ports of its sessions (expose.h) */
	char name[];
};

struct tenants {
	struct tenant *list;
	uid_t bridge_uid;
	gid_t admin_gid;
	bool has_bridge, has_admin_group;
};

/* Whom one request acts for. */
struct caller {
	struct tenant *tenant; /* a reference */
	bool admin;
};

/* A local client, as its connection sees it. */
struct peer_identity {
	struct tenant *tenant; /* "uid:N", a reference */
	uid_t uid;
	bool admin;   /* root or a member of tenants.adminGroup */
	bool may_act; /* root or tenants.bridgeUser: may name a tenant */
};

/* Resolves tenants.bridgeUser and tenants.adminGroup once, at start (a
 * name that does not exist means nobody). */
void tenants_init(struct tenants *set, const struct config *cfg);

/* The tenant of that name, with a new reference; NULL without memory. */
struct tenant *tenant_get(struct tenants *set, const char *name);
struct tenant *tenant_ref(struct tenant *t);
void tenant_unref(struct tenant *t);

/* The identity of the peer on fd (peer from SO_PEERCRED); -ENOMEM. */
int tenant_identify(struct tenants *set, int fd, const struct ucred *peer,
		    struct peer_identity *out);
void peer_identity_clear(struct peer_identity *id);
/* Root and the bridge's user hold many clients' connections: the
 * per-uid connection limit is not theirs. */
bool peer_connection_exempt(const struct tenants *set, uid_t uid);

/* Whom a request from peer acts for: the peer itself, or, with act_as
 * (the request's "actAs", NULL when absent), the tenant it names ("*":
 * the peer with an administrator's view).  On error e says why. */
int tenant_caller(struct tenants *set, const struct peer_identity *peer,
		  json_object *act_as, struct caller *out, struct error *e);
struct caller caller_copy(const struct caller *c);
void caller_clear(struct caller *c);

#endif
