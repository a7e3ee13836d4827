/* session.hibernate: a session's processes, memory and files written to
 * disk and its box freed (session_hibernate.h); session.resume brings it
 * back. */
#include "methods.h"

#include "rpc_call.h"
#include "session.h"
#include "session_hibernate.h"

#include <errno.h>

static const char *const keys[] = { "sessionId", NULL };

void method_session_hibernate(struct rpc_call *call)
{
	struct session *s = params_session(call, keys);
	if (!s)
		return;
	struct error e = { 0 };
	int r = session_hibernate(s, &e);
	/* Hibernating a hibernated session changes nothing. */
	if (r < 0 && r != -EALREADY)
		rpc_reply_error(call, e.kind, "%s", e.message);
	else
		rpc_reply(call, session_to_json(s));
}
