/* The daemon's process-wide state, owned by main and handed to every part. */
#ifndef ISOL8D_DAEMON_H
#define ISOL8D_DAEMON_H

#include "config.h"
#include "metrics.h"
#include "sandbox/box_host.h"
#include "sandbox/host_features.h"
#include "tenant.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct audit;
struct code_fetcher;
struct exposures;
struct image_autobuild;
struct pool;
struct resolver;
struct server;
struct sessions;

struct daemon {
	sd_event *event;
	struct config cfg;
	struct server *server;
	struct host_features features;
	json_object *features_json; /* built once: health shares it */
	struct box_host boxes;
	struct pool *pool; /* NULL once stopping */
	struct resolver *resolver;
	struct code_fetcher *fetcher;	   /* NULL unless remoteCode.enabled */
	struct sessions *sessions;	   /* NULL once stopping */
	struct exposures *exposures;	   /* sessions' public URLs */
	struct image_autobuild *autobuild; /* NULL: none, or stopping */
	unsigned executions;		   /* accepted and not yet over */
	size_t connections; /* open client connections (server.c) */
	struct tenants tenants;
	struct metrics metrics;
	struct audit *audit; /* NULL: audit.enabled is off */
	uint64_t start_usec; /* CLOCK_MONOTONIC */
	bool stopping;
};

#endif
