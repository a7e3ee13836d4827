/* A code URL (request.codeUrl, or a redirect's Location) against the
 * daemon's remoteCode policy, with isol8's checks and texts in isol8's
 * order: the scheme (http needs allowInsecureCodeUrl, and every scheme
 * must be in allowedSchemes), then the host (allowedHosts/blockedHosts
 * with the network filter's engine, and an address written in the URL
 * checked against the private ranges as the egress proxy checks them). */
#ifndef ISOL8D_CODE_URL_H
#define ISOL8D_CODE_URL_H

#include "config.h"
#include "error.h"
#include "net/net_policy.h"

#include <stdbool.h>
#include <stdint.h>

#define CODE_URL_MAX 8192

struct code_url {
	char *url;	/* with the host as name spells it */
	char scheme[8]; /* "http" or "https" */
	char host[260]; /* as errors name it; an IPv6 address in brackets */
	char name[256]; /* canonical (net_host_canonical): looked up, pinned */
	uint16_t port;
	bool numeric; /* name is an address: no lookup */
};

/* Fills out (free with code_url_free) or returns -EINVAL with e's
 * message, isol8's where it has one.  hosts is remoteCode's compiled
 * allowedHosts/blockedHosts. */
int code_url_check(const char *url, bool allow_insecure,
		   const struct config_remote_code *pol,
		   const struct net_filter *hosts, struct code_url *out,
		   struct error *e);
void code_url_free(struct code_url *u);

#endif
