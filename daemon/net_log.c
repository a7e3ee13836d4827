#include "net_log.h"

#include <errno.h>
#include <stdlib.h>

int net_log_init(struct net_log *l)
{
	*l = (struct net_log){ .entries = json_object_new_array() };
	return l->entries ? 0 : -ENOMEM;
}

int net_log_add(struct net_log *l, json_object *entry, uint64_t seq)
{
	size_t n = json_object_array_length(l->entries);
	/* A box making requests without end must not grow the daemon. */
	if (n >= NET_LOG_MAX)
		return -ENOSPC;
	uint64_t *seqs = realloc(l->seqs, (n + 1) * sizeof(*seqs));
	if (!seqs)
		return -ENOMEM;
	l->seqs = seqs;
	if (json_object_array_add(l->entries, json_object_get(entry)) < 0)
		return -ENOMEM;
	size_t at = n;
	for (; at > 0 && seqs[at - 1] > seq; at--) {
		json_object *prev =
			json_object_array_get_idx(l->entries, at - 1);
		json_object_array_put_idx(l->entries, at,
					  json_object_get(prev));
		seqs[at] = seqs[at - 1];
	}
	if (at < n)
		json_object_array_put_idx(l->entries, at,
					  json_object_get(entry));
	seqs[at] = seq;
	return n + 1 == NET_LOG_MAX;
}

void net_log_free(struct net_log *l)
{
	json_object_put(l->entries);
	free(l->seqs);
	*l = (struct net_log){ 0 };
}
