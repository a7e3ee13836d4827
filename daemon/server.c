#include "server.h"

#include "cleanup.h"
#include "connection.h"
#include "daemon.h"
#include "frame.h"
#include "jsonrpc.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

struct conn_node {
	struct server *server;
	struct connection *conn;
	struct conn_node *prev, *next;
};

struct server {
	struct daemon *d;
	int fd;
	sd_event_source *accept_src;
	bool bound_here; /* we created the socket file, so we remove it */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn_node *conns;
};

const char *server_path(const struct server *s)
{
	return s->path;
}

static void on_conn_closed(struct connection *conn, void *userdata)
{
	(void)conn;
	struct conn_node *n = userdata;
	struct server *s = n->server;
	if (n->prev)
		n->prev->next = n->next;
	else
		s->conns = n->next;
	if (n->next)
		n->next->prev = n->prev;
	s->d->connections--;
	free(n);
}

/* Over a connection limit: one error frame, best effort, then close. */
static void refuse(int fd, const char *msg)
{
	_cleanup_json_ json_object *e =
		rpc_make_error(NULL, error_kind_code(ERR_BUSY), ERR_BUSY, msg);
	size_t len;
	const char *text = json_object_to_json_string_length(
		e, JSON_C_TO_STRING_PLAIN, &len);
	uint8_t buf[FRAME_HEADER_SIZE + 256];
	if (len <= 256) {
		frame_encode_header(buf, (uint32_t)len);
		memcpy(buf + FRAME_HEADER_SIZE, text, len);
		(void)!send(fd, buf, FRAME_HEADER_SIZE + len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	close(fd);
}

/* The client's identity, within the global and its uid's connection
 * limits; else the client has been refused and fd closed. */
static int admit(struct server *s, int fd, struct ucred *peer,
		 struct peer_identity *id)
{
	const struct config *cfg = &s->d->cfg;
	char msg[200];
	if (s->d->connections >= cfg->max_connections) {
		log_warn("refusing a client: %zu connections open",
			 s->d->connections);
		snprintf(msg, sizeof(msg),
			 "Too many connections: the limit is %llu; try again "
			 "later",
			 (unsigned long long)cfg->max_connections);
		refuse(fd, msg);
		return -EBUSY;
	}
	socklen_t sl = sizeof(*peer);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, peer, &sl) < 0 ||
	    tenant_identify(&s->d->tenants, fd, peer, id) < 0) {
		log_warn("refusing a client whose credentials cannot be read: "
			 "%m");
		close(fd);
		return -EIO;
	}
	if (id->tenant->connections >= cfg->tenant_max_connections &&
	    !peer_connection_exempt(&s->d->tenants, peer->uid)) {
		log_warn("refusing a client of uid %u: %u connections open",
			 (unsigned)peer->uid, id->tenant->connections);
		snprintf(msg, sizeof(msg),
			 "Too many connections from uid %u: the limit of %llu "
			 "per user (tenants.maxConnections) is reached; close "
			 "one or try again later",
			 (unsigned)peer->uid,
			 (unsigned long long)cfg->tenant_max_connections);
		refuse(fd, msg);
		peer_identity_clear(id);
		return -EBUSY;
	}
	return 0;
}

static int on_accept(sd_event_source *src, int lfd, uint32_t revents,
		     void *userdata)
{
	(void)src;
	(void)revents;
	struct server *s = userdata;
	/* Bounded per wakeup so a connection storm cannot starve clients
	 * that are already connected. */
	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("accept on %s failed: %m", s->path);
			return 0;
		}
		struct peer_identity id;
		struct ucred peer;
		if (admit(s, fd, &peer, &id) < 0)
			continue;
		struct conn_node *n = calloc(1, sizeof(*n));
		if (!n) {
			peer_identity_clear(&id);
			close(fd);
			continue;
		}
		n->server = s;
		if (connection_new(s->d, fd, &peer, &id, on_conn_closed, n,
				   &n->conn) < 0) {
			free(n);
			continue;
		}
		n->next = s->conns;
		if (s->conns)
			s->conns->prev = n;
		s->conns = n;
		s->d->connections++;
	}
	return 0;
}

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *d = dirname(dir);
	if (mkdir(d, 0755) < 0 && errno != EEXIST) {
		int r = -errno;
		log_err("cannot create socket directory %s: %m", d);
		return r;
	}
	return 0;
}

/* A socket file left by a crashed daemon is removed; one somebody still
 * listens on is not taken over. */
static int clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; not replacing it",
			sa->sun_path);
		return -EEXIST;
	}
	_cleanup_close_ int probe =
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		log_err("another daemon is already listening on %s",
			sa->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int bind_socket(struct server *s)
{
	const struct config *cfg = &s->d->cfg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(cfg->socket_path) >= sizeof(sa.sun_path)) {
		log_err("socket path %s is longer than %zu bytes",
			cfg->socket_path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", cfg->socket_path);
	int r = make_parent_dir(sa.sun_path);
	if (r < 0)
		return r;
	r = clear_stale_socket(&sa);
	if (r < 0)
		return r;

	_cleanup_close_ int fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The file is born with no access for others, then opened up to the
	 * configured mode, so no client can slip in under a wider umask. */
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = errno;
	umask(old);
	if (r < 0) {
		log_errno(LOG_ERR, saved, "cannot bind %s", sa.sun_path);
		return -saved;
	}
	s->bound_here = true;
	snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
	struct group *g = getgrnam(cfg->socket_group);
	if (g && chown(sa.sun_path, (uid_t)-1, g->gr_gid) < 0)
		log_warn("cannot give %s to group %s: %m", sa.sun_path,
			 cfg->socket_group);
	if (!g)
		log_debug("group %s does not exist; %s stays root's",
			  cfg->socket_group, sa.sun_path);
	if (chmod(sa.sun_path, (mode_t)cfg->socket_mode) < 0) {
		r = -errno;
		log_err("cannot chmod %s: %m", sa.sun_path);
		return r;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		log_err("cannot listen on %s: %m", sa.sun_path);
		return r;
	}
	s->fd = TAKE_FD(fd);
	return 0;
}

static int take_activated_socket(struct server *s)
{
	int n = sd_listen_fds(1);
	if (n <= 0)
		return n;
	if (n > 1) {
		log_err("systemd passed %d sockets; isol8d takes exactly one",
			n);
		return -EINVAL;
	}
	int fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		log_err("the socket systemd passed is not a listening Unix "
			"stream socket");
		return -EINVAL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sl > offsetof(struct sockaddr_un, sun_path))
		snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
	s->fd = fd;
	return 1;
}

int server_start(struct daemon *d, struct server **out)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->d = d;
	s->fd = -1;
	int r = take_activated_socket(s);
	if (r == 0)
		r = bind_socket(s);
	if (r >= 0)
		r = sd_event_add_io(d->event, &s->accept_src, s->fd, EPOLLIN,
				    on_accept, s);
	if (r < 0) {
		server_stop(s);
		return r;
	}
	log_info("listening on %s%s", s->path,
		 s->bound_here ? "" : " (socket from systemd)");
	*out = s;
	return 0;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	while (s->conns)
		connection_close(s->conns->conn);
	sd_event_source_disable_unref(s->accept_src);
	if (s->fd >= 0)
		close(s->fd);
	if (s->bound_here && unlink(s->path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %m", s->path);
	free(s);
}
