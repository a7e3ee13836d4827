/* An execution's networkLogs: entries in the order the box made its
 * requests (an allowed one is logged only when its connection ends), up
 * to NET_LOG_MAX of them. */
#ifndef ISOL8D_NET_LOG_H
#define ISOL8D_NET_LOG_H

#include <json-c/json.h>
#include <stdint.h>

#define NET_LOG_MAX 10000

struct net_log {
	json_object *entries; /* the array for the result */
	uint64_t *seqs;	      /* each entry's connection, ascending */
};

int net_log_init(struct net_log *l);
/* Adds a reference to entry at its place by seq: 0, 1 when the log is
 * full now (the entry was the last one kept), -ENOSPC when it was full
 * already, -ENOMEM. */
int net_log_add(struct net_log *l, json_object *entry, uint64_t seq);
void net_log_free(struct net_log *l);

#endif
