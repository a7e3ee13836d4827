/* session.pause and session.resume: every process of a session's box
 * frozen by the cgroup freezer, and thawed; session.resume also restores
 * a hibernated session (session_hibernate.h). */
#include "methods.h"

#include "rpc_call.h"
#include "session.h"
#include "session_hibernate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = { "sessionId", NULL };

/* A pause waits for the kernel to stop the box's last process. */
struct pause_call {
	struct rpc_call *call;
	struct session *session;
};

static void on_paused(void *userdata, int err)
{
	struct pause_call *p = userdata;
	p->call->cancel = NULL;
	if (err == 0)
		rpc_reply(p->call, session_to_json(p->session));
	else if (err == -ESRCH)
		rpc_reply_error(p->call, ERR_CONFLICT,
				"The session ended while being paused");
	else if (err == -ECANCELED)
		rpc_reply_error(p->call, ERR_CONFLICT,
				"The session was resumed while being paused");
	else
		rpc_reply_error(p->call, ERR_INTERNAL,
				"Cannot freeze the session's processes: %s",
				strerror(-err));
	free(p);
}

static void on_pause_cancel(struct rpc_call *call)
{
	struct pause_call *p = call->userdata;
	session_pause_forget(p->session); /* it stays paused */
	rpc_reply_error(call, ERR_INTERNAL, "cancelled");
	free(p);
}

void method_session_pause(struct rpc_call *call)
{
	struct session *s = params_session(call, keys);
	if (!s)
		return;
	struct pause_call *p = calloc(1, sizeof(*p));
	if (!p) {
		rpc_reply_error(call, ERR_INTERNAL, "out of memory");
		return;
	}
	*p = (struct pause_call){ .call = call, .session = s };
	int r = session_pause(s, on_paused, p);
	if (r == 0) {
		call->userdata = p;
		call->cancel = on_pause_cancel;
		return;
	}
	free(p);
	switch (r) {
	case -EALREADY: /* pausing a paused session changes nothing */
		rpc_reply(call, session_to_json(s));
		break;
	case -EINPROGRESS:
		rpc_reply_error(call, ERR_CONFLICT, "Session %s is %s",
				session_id(s), session_busy_with(s));
		break;
	case -EAGAIN:
		rpc_reply_error(call, ERR_CONFLICT,
				"Session %s is not ready yet: its sandbox is "
				"being made",
				session_id(s));
		break;
	case -EBUSY:
		rpc_reply_error(call, ERR_CONFLICT,
				"Session %s is busy: an execution or file "
				"call runs or waits in it; pause it between "
				"executions",
				session_id(s));
		break;
	case -EOPNOTSUPP:
		rpc_reply_error(call, ERR_UNSUPPORTED,
				"Sessions cannot be paused on this host: no "
				"cgroup freezer");
		break;
	default:
		rpc_reply_error(call, ERR_INTERNAL,
				"Cannot freeze the session's processes: %s",
				strerror(-r));
	}
}

void method_session_resume(struct rpc_call *call)
{
	struct session *s = params_session(call, keys);
	if (!s)
		return;
	if (session_hibernated(s)) {
		method_session_restore(call, s);
		return;
	}
	int r = session_resume(s);
	if (r == -EINPROGRESS)
		rpc_reply_error(call, ERR_CONFLICT, "Session %s is %s",
				session_id(s), session_busy_with(s));
	else if (r < 0 && r != -EALREADY) /* resuming a running one: nothing */
		rpc_reply_error(call, ERR_INTERNAL,
				"Cannot thaw the session's processes: %s",
				strerror(-r));
	else
		rpc_reply(call, session_to_json(s));
}
