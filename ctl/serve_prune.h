/* isol8's cleanup.autoPrune for isol8ctl serve: every 60 seconds, the
 * bridge's sessions idle for longer than cleanup.maxContainerAgeMs are
 * deleted through the daemon, as isol8's server stops its stale session
 * engines.  Runs on a thread of its own, so the daemon's answers never
 * hold up serving or stopping. */
#ifndef ISOL8CTL_SERVE_PRUNE_H
#define ISOL8CTL_SERVE_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#define SERVE_PRUNE_INTERVAL_MS 60000 /* isol8's */

struct serve_prune;

/* Starts the thread; tenants: the bridge serves tenants' keys (its
 * requests name them in actAs).  NULL after a message. */
struct serve_prune *serve_prune_start(const char *socket_path, bool tenants,
				      uint64_t max_age_ms);
/* Runs a pass at once (SIGUSR1), without waiting for it. */
void serve_prune_now(struct serve_prune *p);
/* Ends the thread and frees p; a pass under way or asked for first is
 * made (each daemon call is bounded). */
void serve_prune_stop(struct serve_prune *p);

#endif
