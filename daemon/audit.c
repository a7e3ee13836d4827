#include "audit.h"

#include "audit_writer.h"
#include "cleanup.h"
#include "log.h"
#include "strbuf.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct audit {
	const struct config_audit *cfg;
	int fd;
	pid_t pid;
	sd_event_source *io;
	struct strbuf queue; /* bytes not yet sent, from sent on */
	size_t sent;
	char reply[256]; /* a report line being read */
	size_t reply_len;
	uint64_t records, written, dropped;
	int last_errno; /* 0 once a batch was written */
	bool gone;	/* the writer ended */
};

static bool failing(const struct audit *a)
{
	return a->gone || a->last_errno != 0;
}

static void set_events(struct audit *a)
{
	if (a->io)
		sd_event_source_set_io_events(
			a->io,
			EPOLLIN | (a->queue.len > a->sent ? EPOLLOUT : 0));
}

static void writer_gone(struct audit *a)
{
	if (!a->gone)
		log_err("audit: the writer process ended; records are "
			"dropped from now on");
	a->gone = true;
	a->io = sd_event_source_disable_unref(a->io);
}

static void on_report(struct audit *a, const char *line)
{
	int err = 0;
	unsigned long long n = 0;
	if (sscanf(line, "ok %llu", &n) == 1) {
		if (a->last_errno)
			log_info("audit: records are written again");
		a->last_errno = 0;
		a->written += n;
	} else if (sscanf(line, "err %d %llu", &err, &n) == 2) {
		if (a->last_errno != err) {
			const char *const fields[] = {
				"MESSAGE_ID=" AUDIT_FAILURE_MESSAGE_ID, NULL
			};
			log_fields(LOG_ERR, fields,
				   "audit: cannot write records to %s: %s%s",
				   a->cfg->log_dir, strerror(err),
				   a->cfg->required
					   ? "; executions are refused "
					     "(audit.required)"
					   : "; executions go on");
		}
		a->last_errno = err;
	}
}

static void read_reports(struct audit *a)
{
	for (;;) {
		char buf[512];
		ssize_t n = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			writer_gone(a);
			return;
		}
		if (n < 0)
			return;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (a->reply_len < sizeof(a->reply) - 1)
					a->reply[a->reply_len++] = buf[i];
				continue;
			}
			a->reply[a->reply_len] = '\0';
			on_report(a, a->reply);
			a->reply_len = 0;
		}
	}
}

static void send_queue(struct audit *a)
{
	while (a->queue.len > a->sent) {
		ssize_t n = send(a->fd, a->queue.p + a->sent,
				 a->queue.len - a->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				writer_gone(a);
			break;
		}
		a->sent += (size_t)n;
	}
	if (a->sent == a->queue.len || a->sent > a->queue.len / 2) {
		/* What was sent goes, so the buffer stays bounded. */
		memmove(a->queue.p, a->queue.p + a->sent,
			a->queue.len - a->sent);
		a->queue.len -= a->sent;
		a->sent = 0;
	}
	set_events(a);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	struct audit *a = userdata;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_reports(a);
	if (!a->gone && (revents & EPOLLOUT))
		send_queue(a);
	return 0;
}

static int writer_cfg(const struct config_audit *cfg,
		      struct audit_writer_cfg *w, struct audit_key *key,
		      struct error *e)
{
	bool to_file = strcmp(cfg->destination, "stdout") != 0;
	*w = (struct audit_writer_cfg){
		.dir = to_file ? cfg->log_dir : NULL,
		.key = key,
		.max_file_bytes = cfg->max_file_bytes,
		.retention_days = cfg->retention_days,
		.script_timeout_ms = cfg->post_log_timeout_ms,
	};
	if (cfg->key_file[0]) {
		int r = audit_key_load(cfg->key_file, true, key, e);
		if (r < 0)
			return r;
	}
	if (cfg->post_log_script[0]) {
		struct passwd *pw = getpwnam(cfg->post_log_user);
		if (!pw || pw->pw_uid == 0)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "audit.postLogUser: \"%s\" is %s",
					 cfg->post_log_user,
					 pw ? "root; the script runs "
					      "unprivileged"
					    : "no user here");
		w->script = cfg->post_log_script;
		w->script_uid = pw->pw_uid;
		w->script_gid = pw->pw_gid;
	}
	return 0;
}

int audit_start(sd_event *event, const struct config_audit *cfg,
		struct audit **out, struct error *e)
{
	*out = NULL;
	if (!cfg->enabled)
		return 0;
	struct audit_key *key = calloc(1, sizeof(*key));
	struct audit_writer_cfg wc;
	if (!key)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	int r = writer_cfg(cfg, &wc, key, e);
	if (r < 0) {
		free(key);
		return r;
	}
	struct audit *a = calloc(1, sizeof(*a));
	int sp[2] = { -1, -1 };
	if (!a || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		free(a);
		free(key);
		return error_set(e, ERR_INTERNAL, errno,
				 "cannot start the audit writer: %s",
				 strerror(errno));
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		audit_writer_main(sp[1], &wc);
	}
	int fork_errno = errno;
	explicit_bzero(key, sizeof(*key)); /* the writer's alone */
	free(key);
	close(sp[1]);
	*a = (struct audit){ .cfg = cfg, .fd = sp[0], .pid = pid };
	if (pid < 0 ||
	    sd_event_add_io(event, &a->io, a->fd, EPOLLIN, on_io, a) < 0) {
		audit_free(a);
		return error_set(e, ERR_INTERNAL, fork_errno,
				 "cannot start the audit writer");
	}
	log_info("audit: records go to %s%s",
		 wc.dir ? wc.dir : "standard output",
		 cfg->key_file[0] ? ", chained with HMAC-SHA256"
				  : ", chained with SHA-256");
	*out = a;
	return 0;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	a->io = sd_event_source_disable_unref(a->io);
	if (!a->gone && a->fd >= 0 && a->queue.len > a->sent) {
		/* Stopping: the rest goes now, waiting as long as it takes. */
		size_t left = a->queue.len - a->sent;
		const char *p = a->queue.p + a->sent;
		while (left) {
			ssize_t n = send(a->fd, p, left, MSG_NOSIGNAL);
			if (n <= 0 && errno != EINTR)
				break;
			if (n > 0) {
				p += n;
				left -= (size_t)n;
			}
		}
	}
	if (a->fd >= 0) {
		shutdown(a->fd, SHUT_WR);
		close(a->fd);
	}
	if (a->pid > 0)
		waitpid(a->pid, NULL, 0);
	strbuf_free(&a->queue);
	free(a);
}

void audit_write(struct audit *a, json_object *record)
{
	a->records++;
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
		record, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	bool room = !a->gone && text &&
		    a->queue.len - a->sent + len + 1 <= a->cfg->queue_bytes;
	if (!room || strbuf_add(&a->queue, text, len) < 0 ||
	    strbuf_add(&a->queue, "\n", 1) < 0) {
		if (room) /* only the text went in */
			a->queue.len -= len;
		a->dropped++;
		if (!a->last_errno)
			a->last_errno = a->gone ? EPIPE : ENOBUFS;
		log_err("audit: a record is dropped: %s",
			a->gone ? "the writer has ended"
				: "the queue is full (audit.queueBytes)");
		return;
	}
	send_queue(a);
}

bool audit_refuses(const struct audit *a, char *msg, size_t len)
{
	if (!a || !a->cfg->required || !failing(a))
		return false;
	snprintf(msg, len,
		 "The audit log cannot be written (%s), and audit.required "
		 "is set: executions are refused until it can; try again "
		 "later",
		 strerror(a->gone ? EPIPE : a->last_errno));
	return true;
}

json_object *audit_status_json(const struct audit *a)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(a != NULL));
	if (!a)
		return o;
	json_object_object_add(
		o, "status",
		json_object_new_string(failing(a) ? "failing" : "ok"));
	json_object_object_add(o, "destination",
			       json_object_new_string(a->cfg->destination));
	json_object_object_add(o, "required",
			       json_object_new_boolean(a->cfg->required));
	json_object_object_add(o, "records",
			       json_object_new_int64((int64_t)a->records));
	json_object_object_add(o, "written",
			       json_object_new_int64((int64_t)a->written));
	json_object_object_add(o, "dropped",
			       json_object_new_int64((int64_t)a->dropped));
	json_object_object_add(
		o, "queuedBytes",
		json_object_new_int64((int64_t)(a->queue.len - a->sent)));
	if (failing(a))
		json_object_object_add(
			o, "lastError",
			json_object_new_string(
				strerror(a->gone ? EPIPE : a->last_errno)));
	return o;
}
