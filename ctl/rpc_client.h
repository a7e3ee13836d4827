/* isol8ctl's side of the Unix-socket JSON-RPC protocol: blocking calls with
 * stream notifications delivered to a callback. */
#ifndef ISOL8CTL_RPC_CLIENT_H
#define ISOL8CTL_RPC_CLIENT_H

#include <json-c/json.h>

#define ISOL8_DEFAULT_SOCKET "/run/isol8/isol8.sock"

struct rpc_client {
	int fd;
	const char *path;
	long long next_id;
	/* The tenant every request names ("actAs"), or NULL: the bridge's
	 * own (proto/PROTOCOL.md, Tenants). */
	const char *act_as;
};

/* The socket to use: the flag, else $ISOL8_SOCKET, else the default. */
const char *rpc_client_socket_path(const char *flag);

/* 0, or a negative errno (nothing printed). */
int rpc_client_connect(struct rpc_client *c, const char *path);
void rpc_client_close(struct rpc_client *c);

typedef void (*rpc_notify_fn)(json_object *params, void *userdata);

/* Sends method(params) (takes ownership of params) and waits for its
 * response, passing "stream" notifications for it to on_notify.  Returns 0
 * with exactly one of *result / *error set (caller puts it), or a negative
 * errno when the connection failed. */
int rpc_client_call(struct rpc_client *c, const char *method,
		    json_object *params, rpc_notify_fn on_notify,
		    void *userdata, json_object **result, json_object **error);

/* The same in steps, for callers that interleave other work: send a
 * request (takes ownership of params; its id in *id), read whole messages
 * (0 with one in *msg, caller puts it; or a negative errno), and ask what a
 * message says about a request: one of enum rpc_about, with the
 * notification's params, the result or the error in *out (borrowed from
 * msg), or -EBADMSG. */
enum rpc_about { RPC_OTHER, RPC_NOTIFY, RPC_RESULT, RPC_ERROR };
int rpc_client_send(struct rpc_client *c, const char *method,
		    json_object *params, long long *id);
int rpc_client_read(struct rpc_client *c, json_object **msg);
int rpc_message_about(json_object *msg, long long id, json_object **out);
/* rpc_client_read for a message that may bring a descriptor (SCM_RIGHTS,
 * as session.connect's does): it lands in *fd (CLOEXEC; -1 when none
 * came; the caller closes it). */
int rpc_client_read_fd(struct rpc_client *c, json_object **msg, int *fd);
/* Waits until the daemon has something to say: 0, -ECONNABORTED when
 * watch_fd (a peer being served; -1 for none) hangs up first, or
 * -ETIMEDOUT after timeout_ms (-1: no limit). */
int rpc_client_wait(struct rpc_client *c, int watch_fd, int timeout_ms);

/* Prints the one-line "cannot connect" diagnosis for errno err. */
void rpc_client_report_connect_error(const char *path, int err);

#endif
