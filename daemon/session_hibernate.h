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

struct box_host;
struct hibernation;

/* Writes s's box to disk and frees it.  Errors in e: conflict (busy, not
 * ready, being paused), unsupported (no criu), internal (CRIU's own
 * message).  -EALREADY (no error set) when s is hibernated already. */
int session_hibernate(struct session *s, struct error *e);
/* Brings a hibernated s back; errors in e. */
int session_restore(struct session *s, struct error *e);
/* At start: every session found below sessions.hibernateDir becomes a
 * hibernated one again; those hibernated by a stop (hibernateOnStop) are
 * restored at once. */
void sessions_load_hibernated(struct sessions *set);
/* At stop with sessions.hibernateOnStop: hibernates every running
 * session that is between executions. */
void sessions_hibernate_all(struct sessions *set);

/* Frees h; remove: its directory too (the session is deleted), else it
 * stays for the next daemon.  Its uid range goes back to host. */
void hibernation_free(struct hibernation *h, struct box_host *host,
		      bool remove);
uint64_t hibernation_at_ms(const struct hibernation *h);

/* ---- session.c's side, for session_hibernate.c alone ---- */

/* What a session keeps across a hibernation, besides its id. */
struct session_saved {
	uint64_t idle_ms, created_ms, accessed_ms, executions;
	bool persisted;
};

struct daemon *session_daemon(const struct session *s);
struct daemon *sessions_daemon(const struct sessions *set);
struct box *session_box(const struct session *s);
const struct tenant *session_owner(const struct session *s);
struct hibernation *session_hibernation(const struct session *s);
bool session_hibernated(const struct session *s);
/* 0 when s may be hibernated now, else as session_pause's errors. */
int session_may_hibernate(const struct session *s);
/* Ends the interpreter started ahead: its pipes lead to the daemon. */
void session_stop_interpreter(struct session *s);
/* s's box is on disk as h (the box destroyed): s runs nothing until
 * restored and expires ttl_ms from now. */
void session_set_hibernated(struct session *s, struct hibernation *h,
			    uint64_t ttl_ms);
/* s runs again in b; *h is the hibernation it was in (the caller's). */
void session_set_restored(struct session *s, struct box *b,
			  struct hibernation **h);
/* The box_died_fn of a session's box. */
void session_box_died(struct box *b, void *session);
void session_saved_of(const struct session *s, struct session_saved *out);
/* A hibernated session found on disk, of tenant t. */
int session_add_hibernated(struct sessions *set, struct tenant *t,
			   const char *id, const struct runtime *rt,
			   const struct session_saved *saved,
			   struct hibernation *h, uint64_t ttl_ms,
			   struct session **out, struct error *e);
struct session *sessions_first(const struct sessions *set);
struct session *session_next(const struct session *s);

#endif
