#include "proxy.h"

#include "cleanup.h"
#include "dns_stub.h"
#include "egress.h"
#include "format.h"
#include "log.h"
#include "metrics.h"
#include "proxy_flow.h"
#include "proxy_refusal.h"
#include "proxy_request.h"
#include "secret_mask.h"
#include "timestamp.h"
#include "tls_sni.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state {
	C_HEAD,	      /* reading the request head */
	C_SNIFF,      /* reading a TLS ClientHello for its server name */
	C_RESOLVING,  /* the resolver helper is looking the host up */
	C_CONNECTING, /* to addrs[next_addr - 1] */
	C_RELAY,
	C_ANSWER, /* writing the proxy's own answer, then closing */
};

struct conn {
	struct proxy *p;
	struct conn *prev, *next;
	int way; /* EGRESS_PROXY, EGRESS_HTTP or EGRESS_TLS: how it came */
	enum conn_state st;
	int cfd, ufd;
	sd_event_source *cio, *uio, *timer;
	int64_t lookup; /* while resolving */
	struct sockaddr_storage addrs[RESOLVER_MAX_ADDRS];
	socklen_t addr_lens[RESOLVER_MAX_ADDRS];
	size_t naddrs, next_addr;
	int last_err;
	struct proxy_request req;
	bool parsed; /* req holds a request: it is logged once */
	bool logged;
	char ts[TIMESTAMP_LEN];
	uint64_t start_usec, last_usec;
	uint64_t seq;	  /* in the order accepted */
	struct flow up;	  /* box -> upstream: bytesOut */
	struct flow down; /* upstream -> box: bytesIn */
	char *answer;
	size_t answer_len, answer_off;
	size_t head_len, head_end; /* head_end: past the blank line */
	char head[PROXY_HEAD_MAX]; /* also a ClientHello, up to its max */
};

_Static_assert(PROXY_HEAD_MAX >= TLS_HELLO_MAX,
	       "a ClientHello fits where a request head does");

/* What each listener is for, to find it from its event source. */
struct listener {
	struct proxy *p;
	int way;
	int fd;
	sd_event_source *src;
};

struct proxy {
	sd_event *event;
	struct resolver *resolver;
	struct listener listeners[EGRESS_DNS];
	struct dns_stub *dns;
	struct net_filter filter;
	struct proxy_limits lim;
	struct metrics *metrics;
	const struct secret_mask *mask; /* the box's secrets: never shown */
	proxy_log_fn log;
	void *log_data;
	struct flow_budget budget;
	uint64_t bytes_in, bytes_out; /* relayed, as proxy_bytes() tells */
	uint64_t accepted;
	size_t nconns;
	struct conn *conns;
};

static uint64_t now_usec(const struct proxy *p)
{
	uint64_t t = 0;
	sd_event_now(p->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void touch(struct conn *c)
{
	c->last_usec = now_usec(c->p);
}

/* What the box sent, as a log entry's string with its secrets masked. */
static json_object *masked(const struct proxy *p, const char *text)
{
	_cleanup_free_ char *m = secret_mask_text(p->mask, text);
	return m ? json_object_new_string(m) : NULL;
}

/* Every decision is counted, and logged when someone listens. */
static void emit(struct conn *c, bool allowed)
{
	struct proxy *p = c->p;
	if (!c->parsed || c->logged)
		return;
	c->logged = true;
	metrics_proxy_decision(p->metrics, allowed);
	if (!p->log)
		return;
	json_object *e = json_object_new_object();
	json_object_object_add(e, "timestamp", json_object_new_string(c->ts));
	json_object_object_add(e, "method", masked(p, c->req.method));
	json_object_object_add(e, "host", masked(p, c->req.host));
	json_object_object_add(e, "path",
			       c->req.path ? masked(p, c->req.path) : NULL);
	json_object_object_add(
		e, "action",
		json_object_new_string(allowed ? "ALLOW" : "BLOCK"));
	json_object_object_add(
		e, "durationMs",
		json_object_new_int64(
			(int64_t)((now_usec(p) - c->start_usec) / 1000)));
	json_object_object_add(e, "bytesIn",
			       json_object_new_int64((int64_t)c->down.bytes));
	json_object_object_add(e, "bytesOut",
			       json_object_new_int64((int64_t)c->up.bytes));
	p->log(p->log_data, e, c->seq);
	json_object_put(e);
}

/* An allowed connection is logged when it ends, with its totals. */
static void emit_if_allowed(struct conn *c)
{
	if (c->st == C_RELAY || c->st == C_CONNECTING || c->st == C_RESOLVING)
		emit(c, true);
}

static void conn_free(struct conn *c)
{
	struct proxy *p = c->p;
	emit_if_allowed(c);
	sd_event_source_disable_unref(c->cio);
	sd_event_source_disable_unref(c->uio);
	sd_event_source_disable_unref(c->timer);
	if (c->lookup > 0)
		resolver_cancel(p->resolver, c->lookup);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	flow_close(&c->up);
	flow_close(&c->down);
	free(c->answer);
	proxy_request_free(&c->req);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->nconns--;
	free(c);
}

static void update_events(struct conn *c);

/* Answers the client with the proxy's own response and closes. */
static void answer(struct conn *c, int status, const char *reason,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void answer(struct conn *c, int status, const char *reason,
		   const char *fmt, ...)
{
	char body[512];
	FORMAT_ARGS(body, fmt);
	free(c->answer);
	c->answer = proxy_refusal(c->way, status, reason, body, &c->answer_len);
	if (!c->answer) {
		conn_free(c);
		return;
	}
	c->answer_off = 0;
	touch(c);
	/* Answered while resolving (a timeout): the answer is final. */
	if (c->lookup > 0) {
		resolver_cancel(c->p->resolver, c->lookup);
		c->lookup = 0;
	}
	if (c->ufd >= 0) {
		sd_event_source_disable_unref(c->uio);
		c->uio = NULL;
		close(c->ufd);
		c->ufd = -1;
	}
	c->st = C_ANSWER;
	update_events(c);
}

/* Logs the decision, then answers 403 with the formatted body. */
static void block(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void block(struct conn *c, const char *fmt, ...)
{
	char body[512];
	FORMAT_ARGS(body, fmt);
	emit(c, false);
	answer(c, 403, "Forbidden", "%s", body);
}

/* Logs the allowed request, then answers 502. */
static void fail_upstream(struct conn *c, const char *what, const char *err)
{
	if (log_enabled(LOG_DEBUG)) {
		_cleanup_free_ char *method =
			secret_mask_text(c->p->mask, c->req.method);
		_cleanup_free_ char *host =
			secret_mask_text(c->p->mask, c->req.host);
		log_debug("proxy: %s %s:%u: %s: %s", method ?: "?", host ?: "?",
			  c->req.port, what, err);
	}
	emit(c, true);
	answer(c, 502, "Bad Gateway", "isol8: %s %s: %s\n", what, c->req.host,
	       err);
}

/* When the connection's state runs out: a head must be whole within its
 * time of the connection's start, however slowly it trickles in; a lookup
 * and connect within theirs; a relay or an answer may idle that long. */
static uint64_t due_usec(const struct conn *c)
{
	const struct proxy_limits *l = &c->p->lim;
	switch (c->st) {
	case C_HEAD:
	case C_SNIFF:
		return c->start_usec + l->head_timeout_ms * 1000;
	case C_RESOLVING:
	case C_CONNECTING:
		return c->last_usec + l->connect_timeout_ms * 1000;
	default:
		return c->last_usec + l->idle_timeout_ms * 1000;
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;
	uint64_t due = due_usec(c);
	if (usec < due) {
		sd_event_source_set_time(s, due);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	switch (c->st) {
	case C_SNIFF:
		conn_free(c);
		break;
	case C_HEAD:
		answer(c, 408, "Request Timeout",
		       "isol8: the request head did not arrive in time\n");
		break;
	case C_RESOLVING:
	case C_CONNECTING:
		fail_upstream(c, "cannot connect to", strerror(ETIMEDOUT));
		break;
	default:
		conn_free(c);
	}
	return 0;
}

static void over_budget(struct conn *c)
{
	_cleanup_free_ char *host = secret_mask_text(c->p->mask, c->req.host);
	log_info("proxy: network.maxBytes of %llu reached; closing %s",
		 (unsigned long long)c->p->lim.max_bytes, host ?: "?");
	conn_free(c);
}

static void relay(struct conn *c)
{
	uint64_t up0 = c->up.bytes, down0 = c->down.bytes;
	int up = flow_pump(&c->up, c->cfd, c->ufd, &c->p->budget);
	int down =
		up < 0 ? 0 : flow_pump(&c->down, c->ufd, c->cfd, &c->p->budget);
	c->p->bytes_out += c->up.bytes - up0;
	c->p->bytes_in += c->down.bytes - down0;
	/* Only traffic keeps a connection from its idle timeout. */
	if (up > 0 || down > 0)
		touch(c);
	if (up < 0 || down < 0 || (c->up.shut && c->down.shut)) {
		conn_free(c);
		return;
	}
	if (flow_budget_spent(&c->p->budget)) {
		over_budget(c);
		return;
	}
	update_events(c);
}

static void update_events(struct conn *c)
{
	uint32_t cev = 0, uev = 0;
	switch (c->st) {
	case C_HEAD:
	case C_SNIFF:
		cev = EPOLLIN;
		break;
	case C_CONNECTING:
		uev = EPOLLOUT;
		break;
	case C_RELAY:
		if (flow_wants_input(&c->up, &c->p->budget))
			cev |= EPOLLIN;
		if (flow_has_output(&c->down))
			cev |= EPOLLOUT;
		if (flow_wants_input(&c->down, &c->p->budget))
			uev |= EPOLLIN;
		if (flow_has_output(&c->up))
			uev |= EPOLLOUT;
		break;
	case C_ANSWER:
		cev = EPOLLOUT;
		break;
	case C_RESOLVING:
		break;
	}
	if (c->cio) {
		sd_event_source_set_io_events(c->cio, cev);
		sd_event_source_set_enabled(c->cio,
					    cev ? SD_EVENT_ON : SD_EVENT_OFF);
	}
	if (c->uio) {
		sd_event_source_set_io_events(c->uio, uev);
		sd_event_source_set_enabled(c->uio,
					    uev ? SD_EVENT_ON : SD_EVENT_OFF);
	}
	uint64_t due = due_usec(c);
	sd_event_source_set_time(c->timer, due);
	sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Connected: the prefixes each way, then relaying. */
static void start_relay(struct conn *c)
{
	static const char established[] =
		"HTTP/1.1 200 Connection Established\r\n\r\n";
	size_t extra = c->head_len - c->head_end;
	const char *rest = c->head + c->head_end;
	if (flow_open(&c->up) < 0 || flow_open(&c->down) < 0) {
		fail_upstream(c, "cannot relay to", strerror(EMFILE));
		return;
	}
	size_t first = c->req.tunnel ? 0 : c->req.upstream_len;
	c->up.prefix = malloc(first + extra + 1);
	if (!c->up.prefix) {
		conn_free(c);
		return;
	}
	if (first)
		memcpy(c->up.prefix, c->req.upstream, first);
	memcpy(c->up.prefix + first, rest, extra);
	c->up.prefix_len = first + extra;
	c->up.count_prefix = true;
	if (c->req.tunnel && c->way != EGRESS_TLS) {
		c->down.prefix = strdup(established);
		if (!c->down.prefix) {
			conn_free(c);
			return;
		}
		c->down.prefix_len = sizeof(established) - 1;
	}
	c->st = C_RELAY;
	relay(c);
}

static int on_upstream(sd_event_source *s, int fd, uint32_t revents,
		       void *userdata);

static void connect_next(struct conn *c)
{
	while (c->next_addr < c->naddrs) {
		size_t i = c->next_addr++;
		int fd = socket(c->addrs[i].ss_family,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			c->last_err = errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&c->addrs[i],
			    c->addr_lens[i]) < 0 &&
		    errno != EINPROGRESS) {
			c->last_err = errno;
			close(fd);
			continue;
		}
		int r = sd_event_add_io(c->p->event, &c->uio, fd, EPOLLOUT,
					on_upstream, c);
		if (r < 0) {
			close(fd);
			c->last_err = -r;
			break;
		}
		c->ufd = fd;
		c->st = C_CONNECTING;
		touch(c);
		update_events(c);
		return;
	}
	fail_upstream(c, "cannot connect to",
		      strerror(c->last_err ?: EHOSTUNREACH));
}

static int on_upstream(sd_event_source *s, int fd, uint32_t revents,
		       void *userdata)
{
	(void)s;
	(void)revents;
	struct conn *c = userdata;
	if (c->st == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			c->last_err = err;
			sd_event_source_disable_unref(c->uio);
			c->uio = NULL;
			close(c->ufd);
			c->ufd = -1;
			connect_next(c);
			return 0;
		}
		start_relay(c);
		return 0;
	}
	relay(c);
	return 0;
}

static void on_resolved(void *userdata, const struct resolver_result *res)
{
	struct conn *c = userdata;
	c->lookup = 0;
	if (res->err != 0) {
		fail_upstream(c, "cannot resolve",
			      res->err == EAI_SYSTEM ? "resolver unavailable"
						     : gai_strerror(res->err));
		return;
	}
	size_t refused = 0;
	for (size_t i = 0; i < res->n; i++) {
		if (!c->p->lim.allow_private &&
		    net_addr_private((const struct sockaddr *)&res->addrs[i])) {
			refused++;
			continue;
		}
		c->addrs[c->naddrs] = res->addrs[i];
		c->addr_lens[c->naddrs++] = res->lens[i];
	}
	if (c->naddrs == 0 && refused) {
		block(c,
		      "isol8: %s resolves to a private address; the daemon's "
		      "network.allowPrivate is off\n",
		      c->req.host);
		return;
	}
	connect_next(c);
}

/* c->req names where to go: the filter, the budget, then a lookup. */
static void decide_host(struct conn *c)
{
	struct proxy *p = c->p;
	c->parsed = true;
	if (!net_filter_allows(&p->filter, c->req.host)) {
		block(c, "isol8: %s %s blocked by network filter",
		      c->req.tunnel ? "CONNECT to" : "request to", c->req.host);
		return;
	}
	if (flow_budget_spent(&p->budget)) {
		block(c,
		      "isol8: network.maxBytes reached; no more traffic to "
		      "%s\n",
		      c->req.host);
		return;
	}
	struct resolver_result literal;
	if (resolver_numeric(c->req.host, c->req.port, &literal)) {
		on_resolved(c, &literal);
		return;
	}
	c->st = C_RESOLVING;
	touch(c);
	update_events(c);
	int64_t id = resolver_lookup(p->resolver, c->req.host, c->req.port,
				     on_resolved, c);
	if (id < 0)
		fail_upstream(c, "cannot resolve", strerror((int)-id));
	else
		c->lookup = id;
}

static void decide(struct conn *c)
{
	struct error why;
	int r = proxy_request_parse(c->head, c->head_end, &c->req, &why);
	if (r < 0) {
		int status = proxy_request_status(r);
		answer(c, status,
		       status == 414 ? "URI Too Long" : "Bad Request",
		       "isol8: %s\n", why.message);
		return;
	}
	decide_host(c);
}

/* TLS that did not ask the proxy: the name from the ClientHello, else the
 * address it was sent to, decides as a CONNECT would; the hello itself
 * then goes upstream first. */
static void sniffed(struct conn *c)
{
	struct proxy_request *r = &c->req;
	uint16_t port = 0;
	int found = tls_sni_parse((const unsigned char *)c->head, c->head_len,
				  r->host, sizeof(r->host));
	if (found == 0) {
		if (c->head_len < TLS_HELLO_MAX) {
			update_events(c);
			return;
		}
		found = -EPROTO;
	}
	char addr[INET6_ADDRSTRLEN];
	if (found == 1 && !net_host_canonical(r->host, sizeof(r->host)))
		found = -EPROTO;
	if (found == -EPROTO ||
	    egress_original_target(c->cfd, addr, sizeof(addr), &port) < 0) {
		log_debug("proxy: intercepted TLS without a readable "
			  "ClientHello; closed");
		conn_free(c);
		return;
	}
	if (found == -ENOENT)
		snprintf(r->host, sizeof(r->host), "%s", addr);
	snprintf(r->method, sizeof(r->method), "CONNECT");
	r->port = port;
	r->tunnel = true;
	c->head_end = 0;
	decide_host(c);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)s;
	struct conn *c = userdata;
	switch (c->st) {
	case C_SNIFF: {
		ssize_t n = recv(fd, c->head + c->head_len,
				 TLS_HELLO_MAX - c->head_len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			conn_free(c);
			return 0;
		}
		if (n > 0) {
			c->head_len += (size_t)n;
			sniffed(c);
		}
		return 0;
	}
	case C_HEAD: {
		ssize_t n = recv(fd, c->head + c->head_len,
				 sizeof(c->head) - c->head_len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			conn_free(c);
			return 0;
		}
		if (n < 0)
			return 0;
		c->head_len += (size_t)n;
		c->head_end = proxy_head_length(c->head, c->head_len);
		if (c->head_end)
			decide(c);
		else if (c->head_len == sizeof(c->head))
			answer(c, 431, "Request Header Fields Too Large",
			       "isol8: the request head is larger than %d "
			       "bytes\n",
			       PROXY_HEAD_MAX);
		else
			update_events(c);
		return 0;
	}
	case C_ANSWER: {
		ssize_t n = send(fd, c->answer + c->answer_off,
				 c->answer_len - c->answer_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n > 0)
			c->answer_off += (size_t)n;
		if (n < 0 || c->answer_off == c->answer_len) {
			/* Whatever else the client sent is dropped. */
			shutdown(fd, SHUT_WR);
			conn_free(c);
		}
		return 0;
	}
	case C_RELAY:
		relay(c);
		return 0;
	default:
		(void)revents;
		return 0;
	}
}

static void accept_one(struct proxy *p, int way, int fd)
{
	if (p->nconns >= p->lim.max_connections) {
		size_t len;
		char *full = proxy_refusal(way, 503, "Service Unavailable",
					   "isol8: too many connections "
					   "(network.maxConnections)\n",
					   &len);
		if (full)
			(void)!send(fd, full, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(full);
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->p = p;
	c->way = way;
	c->st = way == EGRESS_TLS ? C_SNIFF : C_HEAD;
	c->cfd = fd;
	c->ufd = -1;
	flow_init(&c->up);
	flow_init(&c->down);
	timestamp_iso(timestamp_now_ms(), c->ts);
	c->seq = ++p->accepted;
	c->start_usec = now_usec(p);
	c->last_usec = c->start_usec;
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->nconns++;
	if (sd_event_add_io(p->event, &c->cio, fd, EPOLLIN, on_client, c) < 0 ||
	    sd_event_add_time(p->event, &c->timer, CLOCK_MONOTONIC, due_usec(c),
			      1000, on_timer, c) < 0) {
		conn_free(c);
		return;
	}
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)s;
	(void)revents;
	struct listener *l = userdata;
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		accept_one(l->p, l->way, cfd);
	}
	return 0;
}

int proxy_start(sd_event *event, struct resolver *resolver,
		const int fds[EGRESS_WAYS], struct net_filter *filter,
		const struct proxy_limits *lim, struct metrics *metrics,
		const struct secret_mask *mask, struct proxy **out)
{
	struct proxy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->event = event;
	p->resolver = resolver;
	p->lim = *lim;
	p->budget.limit = lim->max_bytes;
	p->metrics = metrics;
	p->mask = mask;
	p->filter = *filter;
	memset(filter, 0, sizeof(*filter));
	for (int i = 0; i < EGRESS_DNS; i++)
		p->listeners[i] = (struct listener){ p, i, -1, NULL };
	int r = 0;
	for (int i = 0; r == 0 && i < EGRESS_DNS; i++) {
		struct listener *l = &p->listeners[i];
		l->fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		r = l->fd < 0 ? -errno
			      : sd_event_add_io(event, &l->src, l->fd, EPOLLIN,
						on_accept, l);
	}
	if (r == 0)
		r = dns_stub_start(event, resolver, fds[EGRESS_DNS], &p->filter,
				   lim->allow_private, &p->dns);
	if (r < 0) {
		proxy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void proxy_attach(struct proxy *p, proxy_log_fn log, void *userdata)
{
	p->log = log;
	p->log_data = userdata;
	p->budget.used = 0;
}

void proxy_bytes(const struct proxy *p, uint64_t *in, uint64_t *out)
{
	*in = p ? p->bytes_in : 0;
	*out = p ? p->bytes_out : 0;
}

void proxy_detach(struct proxy *p)
{
	for (struct conn *c = p->conns; c; c = c->next)
		emit_if_allowed(c);
	p->log = NULL;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	p->log = NULL;
	while (p->conns)
		conn_free(p->conns);
	dns_stub_free(p->dns);
	for (int i = 0; i < EGRESS_DNS; i++) {
		sd_event_source_disable_unref(p->listeners[i].src);
		if (p->listeners[i].fd >= 0)
			close(p->listeners[i].fd);
	}
	net_filter_free(&p->filter);
	free(p);
}
