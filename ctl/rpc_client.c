#include "rpc_client.h"

#include "cleanup.h"
#include "frame.h"
#include "jsonrpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Results carry whole output files, base64-encoded. */
#define RESPONSE_MAX ((size_t)1024 * 1024 * 1024)

const char *rpc_client_socket_path(const char *flag)
{
	if (flag && *flag)
		return flag;
	const char *env = getenv("ISOL8_SOCKET");
	return env && *env ? env : ISOL8_DEFAULT_SOCKET;
}

int rpc_client_connect(struct rpc_client *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	c->fd = -1;
	c->path = path;
	c->next_id = 1;
	c->act_as = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	c->fd = TAKE_FD(fd);
	return 0;
}

void rpc_client_close(struct rpc_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void rpc_client_report_connect_error(const char *path, int err)
{
	fprintf(stderr,
		"isol8ctl: cannot connect to isol8d at %s: %s (start it with "
		"'systemctl start isol8d' or 'make run', or name its socket "
		"with --socket or ISOL8_SOCKET)\n",
		path, strerror(err));
}

static bool same_id(json_object *a, long long id)
{
	return a && json_object_is_type(a, json_type_int) &&
	       json_object_get_int64(a) == id;
}

int rpc_client_send(struct rpc_client *c, const char *method,
		    json_object *params, long long *id)
{
	*id = c->next_id++;
	_cleanup_json_ json_object *req = rpc_make_request(*id, method, params);
	if (c->act_as)
		json_object_object_add(req, "actAs",
				       json_object_new_string(c->act_as));
	size_t len;
	const char *text = json_object_to_json_string_length(
		req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	return frame_write(c->fd, text, len);
}

int rpc_client_read(struct rpc_client *c, json_object **msg)
{
	_cleanup_free_ char *body = NULL;
	size_t len;
	*msg = NULL;
	int r = frame_read(c->fd, RESPONSE_MAX, &body, &len);
	if (r < 0)
		return r == -ENODATA ? -ECONNRESET : r;
	if (json_parse_strict(body, len, msg, NULL) < 0 || !*msg)
		return -EBADMSG;
	return 0;
}

int rpc_message_about(json_object *msg, long long id, json_object **out)
{
	json_object *mid = NULL, *v = NULL;
	*out = NULL;
	json_object_object_get_ex(msg, "id", &mid);
	if (json_object_object_get_ex(msg, "method", &v)) {
		json_object *p = NULL, *pid = NULL;
		json_object_object_get_ex(msg, "params", &p);
		json_object_object_get_ex(p, "id", &pid);
		if (!same_id(pid, id))
			return RPC_OTHER;
		*out = p;
		return RPC_NOTIFY;
	}
	/* An error the daemon could not tie to a request (id null) is about
	 * every request: it is about this connection. */
	if (!same_id(mid, id) && mid)
		return RPC_OTHER;
	if (json_object_object_get_ex(msg, "error", out))
		return RPC_ERROR;
	if (json_object_object_get_ex(msg, "result", out))
		return RPC_RESULT;
	return -EBADMSG;
}

int rpc_client_wait(struct rpc_client *c, int watch_fd, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = watch_fd, .events = POLLRDHUP },
	};
	int r;
	while ((r = poll(p, watch_fd >= 0 ? 2 : 1, timeout_ms)) < 0 &&
	       errno == EINTR)
		;
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return p[1].revents & (POLLRDHUP | POLLHUP | POLLERR) ? -ECONNABORTED
							      : 0;
}

int rpc_client_call(struct rpc_client *c, const char *method,
		    json_object *params, rpc_notify_fn on_notify,
		    void *userdata, json_object **result, json_object **error)
{
	long long id;
	*result = *error = NULL;
	int r = rpc_client_send(c, method, params, &id);
	while (r >= 0) {
		_cleanup_json_ json_object *msg = NULL;
		r = rpc_client_read(c, &msg);
		if (r < 0)
			break;
		json_object *v;
		r = rpc_message_about(msg, id, &v);
		if (r == RPC_NOTIFY && on_notify)
			on_notify(v, userdata);
		else if (r == RPC_RESULT || r == RPC_ERROR) {
			*(r == RPC_RESULT ? result : error) =
				json_object_get(v);
			return 0;
		}
	}
	return r;
}
