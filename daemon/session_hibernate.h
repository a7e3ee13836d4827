/* Hibernated sessions: a session's box written to disk with CRIU
 * (sandbox/box_hibernate.h) and freed, kept in a directory of its own
 * below sessions.hibernateDir with meta.json (whose session it is), and
 * brought back by session.resume, by this daemon or by the next one,
 * which lists them again when it starts.  A hibernated session counts
 * against its tenant's quota and expires sessions.hibernatedTtlMs after
 * it was hibernated; deleting it removes its directory. */
#ifndef ISOL8D_SESSION_HIBERNATE_H
#define ISOL8D_SESSION_HIBERNATE_H

#include "error.h"
#include "session.h"

#include <stdbool.h>
#include <stdint.h>

/* Starts writing s's box to disk, to be freed once written; done (may
 * be NULL) is told the end, never from inside this call.  Other calls
 * meanwhile see the session "hibernating".  Errors in e: conflict (busy,
 * not ready, being paused), unsupported (no criu), internal.  -EALREADY
 * (no error set) when s is hibernated already. */
int session_hibernate(struct session *s, session_cr_fn done, void *userdata,
		      struct error *e);
/* Starts bringing a hibernated s back ("restoring" meanwhile; executions
 * queued wait for it); done as above.  -EALREADY when s is not
 * hibernated; errors in e. */
int session_restore(struct session *s, session_cr_fn done, void *userdata,
		    struct error *e);
/* At start: every session found below sessions.hibernateDir becomes a
 * hibernated one again; those hibernated by a stop (hibernateOnStop) are
 * restored at once. */
void sessions_load_hibernated(struct sessions *set);
/* At stop with sessions.hibernateOnStop: hibernates every running
 * session that is between executions, waiting for CRIU (the loop no
 * longer runs). */
void sessions_hibernate_all(struct sessions *set);

#endif
