/* session.hibernate: a session's processes, memory and files written to
 * disk and its box freed (session_hibernate.h); session.resume brings it
 * back.  Both answer once CRIU is done. */
#include "methods.h"

#include "rpc_call.h"
#include "session.h"
#include "session_hibernate.h"

#include <errno.h>

static const char *const keys[] = { "sessionId", NULL };

static void on_done(void *userdata, struct session *s, const struct error *e)
{
	struct rpc_call *call = userdata;
	call->cancel = NULL;
	if (e)
		rpc_reply_error(call, e->kind, "%s", e->message);
	else
		rpc_reply(call, session_to_json(s));
}

static void on_cancel(struct rpc_call *call)
{
	session_cr_forget(call->userdata); /* CRIU goes on */
	rpc_reply_error(call, ERR_INTERNAL, "cancelled");
}

/* The answer waits for CRIU: a client that leaves meanwhile leaves it
 * at work. */
static void wait_for_criu(struct rpc_call *call, struct session *s)
{
	call->userdata = s;
	call->cancel = on_cancel;
}

/* r from session_hibernate or session_restore: started, refused, or
 * nothing to do (-EALREADY: the session as it is). */
static void answer(struct rpc_call *call, struct session *s, int r,
		   const struct error *e)
{
	if (r == 0)
		wait_for_criu(call, s);
	else if (r != -EALREADY)
		rpc_reply_error(call, e->kind, "%s", e->message);
	else
		rpc_reply(call, session_to_json(s));
}

void method_session_hibernate(struct rpc_call *call)
{
	struct session *s = params_session(call, keys);
	if (!s)
		return;
	struct error e = { 0 };
	answer(call, s, session_hibernate(s, on_done, call, &e), &e);
}

void method_session_restore(struct rpc_call *call, struct session *s)
{
	struct error e = { 0 };
	answer(call, s, session_restore(s, on_done, call, &e), &e);
}
