#include "rpc_client.h"

#include "cleanup.h"
#include "frame.h"
#include "jsonrpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
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

/* Reads exactly len bytes; a descriptor that comes along is kept in *fd
 * (the first one; others are closed). */
static int recv_all(int sock, void *buf, size_t len, int *fd)
{
	size_t off = 0;
	while (off < len) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} u;
		struct iovec iov = { .iov_base = (char *)buf + off,
				     .iov_len = len - off };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int got;
				memcpy(&got, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
				if (*fd < 0)
					*fd = got;
				else
					close(got);
			}
		}
		if (n == 0)
			return off ? -EPIPE : -ECONNRESET;
		off += (size_t)n;
	}
	return 0;
}

int rpc_client_read_fd(struct rpc_client *c, json_object **msg, int *fd)
{
	uint8_t hdr[FRAME_HEADER_SIZE];
	*msg = NULL;
	*fd = -1;
	int r = recv_all(c->fd, hdr, sizeof(hdr), fd);
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		       (uint32_t)hdr[2] << 8 | hdr[3];
	if (r == 0 && (len == 0 || len > FRAME_DEFAULT_MAX))
		r = -EBADMSG;
	_cleanup_free_ char *body = r == 0 ? malloc(len) : NULL;
	if (r == 0 && !body)
		r = -ENOMEM;
	if (r == 0)
		r = recv_all(c->fd, body, len, fd);
	if (r == 0 && (json_parse_strict(body, len, msg, NULL) < 0 || !*msg))
		r = -EBADMSG;
	if (r < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
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
