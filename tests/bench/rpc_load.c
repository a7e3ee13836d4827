/* rpc_load: a load generator for isol8d's Unix-socket JSON-RPC, and the
 * baseline server it is compared with.
 *
 * Load mode (default):
 *   rpc_load --socket PATH [-c CONNS] [-w WINDOW] [-d SECONDS]
 *            [--warmup SECONDS] [--method NAME]
 * opens CONNS connections and keeps WINDOW requests in flight on each
 * (pipelined: a new request goes out as soon as an answer comes back), for
 * SECONDS after a warm-up, with one epoll loop on non-blocking sockets.  It
 * prints one line of key=value pairs: requests/s, answers that were errors,
 * and latency percentiles.
 *
 * Baseline mode:
 *   rpc_load --serve PATH --reply-file FILE
 * is the least a server of this protocol can do: one thread, one epoll
 * loop, the same framing (4-byte big-endian length, then the body), reads
 * of up to 16 KiB, and for every request frame the body of FILE sent back
 * with the request's id spliced in at "@ID@".  No JSON is parsed or built.
 * Fed the daemon's own health answer, it answers with frames of the same
 * size, so the ratio daemon/baseline is the share of the per-request budget
 * left after the daemon's own work (event loop, JSON, dispatch).
 *
 * Only libc; build with: cc -O2 -o rpc_load rpc_load.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define MAX_EVENTS 256

static void die(const char *what)
{
	fprintf(stderr, "rpc_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "rpc_load: out of memory\n");
		exit(1);
	}
	return q;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* A byte queue: data[off..len) is pending. */
struct buf {
	uint8_t *data;
	size_t off, len, cap;
};

static void buf_compact(struct buf *b)
{
	if (b->off == b->len) {
		b->off = b->len = 0;
	} else if (b->off > b->cap / 2) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
}

static uint8_t *buf_reserve(struct buf *b, size_t more)
{
	buf_compact(b);
	if (b->len + more > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + more)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->len;
}

static size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

/* Writes what it can; 0, or -1 when the peer is gone. */
static int buf_flush(struct buf *b, int fd)
{
	while (buf_pending(b) > 0) {
		ssize_t n = send(fd, b->data + b->off, buf_pending(b),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		b->off += (size_t)n;
	}
	buf_compact(b);
	return 0;
}

/* Reads once; 1 with data, 0 at EOF, -1 on error, 2 on EAGAIN. */
static int buf_read(struct buf *b, int fd)
{
	uint8_t *p = buf_reserve(b, READ_CHUNK);
	ssize_t n = read(fd, p, READ_CHUNK);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 2 : -1;
	if (n == 0)
		return 0;
	b->len += (size_t)n;
	return 1;
}

/* The next complete frame in b, or NULL; consumes it. */
static const uint8_t *buf_next_frame(struct buf *b, uint32_t *len)
{
	if (buf_pending(b) < 4)
		return NULL;
	uint32_t n = get_be32(b->data + b->off);
	if (buf_pending(b) < 4 + (size_t)n)
		return NULL;
	const uint8_t *body = b->data + b->off + 4;
	b->off += 4 + (size_t)n;
	*len = n;
	return body;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "rpc_load: socket path too long: %s\n", path);
		exit(2);
	}
	strcpy(sa->sun_path, path);
}

/* ------------------------------------------------------------------------ */
/* Load generator */

struct conn {
	int fd;
	struct buf in, out;
	uint32_t next_id;
	unsigned inflight;
	uint64_t *sent_at; /* ring of send times, indexed by id % window */
	int want_out;
};

struct load {
	const char *method;
	unsigned window;
	uint64_t measure_start, measure_end;
	uint64_t done, errors, bad;
	uint64_t *lat; /* latency samples in ns, measured phase only */
	size_t nlat, cap_lat;
};

static void queue_request(struct load *L, struct conn *c)
{
	char body[256];
	uint32_t id = c->next_id++;
	int n = snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"%s\"}",
			 id, L->method);
	uint8_t *p = buf_reserve(&c->out, 4 + (size_t)n);
	put_be32(p, (uint32_t)n);
	memcpy(p + 4, body, (size_t)n);
	c->out.len += 4 + (size_t)n;
	c->sent_at[id % L->window] = now_ns();
	c->inflight++;
}

/* Pulls the integer id out of a response; -1 when there is none. */
static long long response_id(const uint8_t *body, uint32_t len)
{
	const char *p = memmem(body, len, "\"id\":", 5);
	if (!p)
		return -1;
	p += 5;
	const char *end = (const char *)body + len;
	long long v = 0;
	int digits = 0;
	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	return digits ? v : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const struct load *L, double q)
{
	if (!L->nlat)
		return 0;
	size_t i = (size_t)(q * (double)(L->nlat - 1));
	return (double)L->lat[i] / 1000.0;
}

static int run_load(const char *path, unsigned nconns, unsigned window,
		    double seconds, double warmup, const char *method)
{
	struct sockaddr_un sa;
	fill_addr(&sa, path);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct conn *conns = calloc(nconns, sizeof(*conns));
	if (!conns)
		die("calloc");
	struct load L = { .method = method, .window = window };

	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			die("socket");
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die(path);
		if (set_nonblock(c->fd) < 0)
			die("fcntl");
		c->sent_at = calloc(window, sizeof(uint64_t));
		c->next_id = 1;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
	}

	uint64_t t0 = now_ns();
	L.measure_start = t0 + (uint64_t)(warmup * 1e9);
	L.measure_end = L.measure_start + (uint64_t)(seconds * 1e9);
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		for (unsigned k = 0; k < window; k++)
			queue_request(&L, c);
		if (buf_flush(&c->out, c->fd) < 0) {
			fprintf(stderr, "rpc_load: send failed\n");
			return 1;
		}
	}

	struct epoll_event evs[MAX_EVENTS];
	int stopping = 0;
	for (;;) {
		uint64_t t = now_ns();
		if (t >= L.measure_end)
			break;
		int timeout_ms = (int)((L.measure_end - t) / 1000000) + 1;
		int n = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (evs[i].events & EPOLLOUT) {
				if (buf_flush(&c->out, c->fd) < 0) {
					fprintf(stderr,
						"rpc_load: the server "
						"closed a connection\n");
					return 1;
				}
			}
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				goto rearm;
			int r = buf_read(&c->in, c->fd);
			if (r == 0 || r < 0) {
				fprintf(stderr,
					"rpc_load: the server closed a "
					"connection (%s)\n",
					r == 0 ? "EOF" : strerror(errno));
				return 1;
			}
			uint32_t len;
			const uint8_t *body;
			uint64_t tnow = now_ns();
			int measuring =
				tnow >= L.measure_start && tnow < L.measure_end;
			while ((body = buf_next_frame(&c->in, &len))) {
				long long id = response_id(body, len);
				c->inflight--;
				if (memmem(body, len, "\"error\"", 7))
					L.errors++;
				if (id < 1 || (uint64_t)id >= c->next_id) {
					L.bad++;
				} else if (measuring) {
					uint64_t lat =
						tnow - c->sent_at[id % window];
					if (L.nlat == L.cap_lat) {
						L.cap_lat =
							L.cap_lat
								? L.cap_lat * 2
								: 65536;
						L.lat = xrealloc(
							L.lat,
							L.cap_lat *
								sizeof(uint64_t));
					}
					L.lat[L.nlat++] = lat;
				}
				if (measuring)
					L.done++;
				if (!stopping)
					queue_request(&L, c);
			}
			if (buf_flush(&c->out, c->fd) < 0) {
				fprintf(stderr, "rpc_load: send failed\n");
				return 1;
			}
		rearm:;
			int want = buf_pending(&c->out) > 0;
			if (want != c->want_out) {
				struct epoll_event ev = {
					.events =
						EPOLLIN | (want ? EPOLLOUT : 0),
					.data.ptr = c
				};
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				c->want_out = want;
			}
		}
	}
	double secs = (double)(L.measure_end - L.measure_start) / 1e9;
	qsort(L.lat, L.nlat, sizeof(uint64_t), cmp_u64);
	printf("conns=%u window=%u seconds=%.3f requests=%llu rps=%.0f "
	       "errors=%llu bad=%llu p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       nconns, window, secs, (unsigned long long)L.done,
	       (double)L.done / secs, (unsigned long long)L.errors,
	       (unsigned long long)L.bad, pct(&L, 0.50), pct(&L, 0.99),
	       pct(&L, 1.0));
	for (unsigned i = 0; i < nconns; i++) {
		close(conns[i].fd);
		free(conns[i].in.data);
		free(conns[i].out.data);
		free(conns[i].sent_at);
	}
	free(conns);
	free(L.lat);
	close(ep);
	return L.bad ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Baseline server */

struct sconn {
	int fd;
	struct buf in, out;
	int want_out;
};

static char *reply_pre, *reply_post;
static size_t reply_pre_len, reply_post_len;

static void load_reply(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		die(file);
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	char *at = strstr(text, "@ID@");
	if (!at) {
		fprintf(stderr, "rpc_load: %s has no @ID@ placeholder\n", file);
		exit(2);
	}
	*at = '\0';
	reply_pre = text;
	reply_pre_len = strlen(text);
	reply_post = at + 4;
	reply_post_len = strlen(reply_post);
}

/* The text of the request's id (up to the next ',' or '}'), or "null". */
static void request_id(const uint8_t *body, uint32_t len, const char **id,
		       size_t *id_len)
{
	const char *p = memmem(body, len, "\"id\":", 5);
	*id = "null";
	*id_len = 4;
	if (!p)
		return;
	p += 5;
	const char *end = (const char *)body + len, *q = p;
	while (q < end && *q != ',' && *q != '}')
		q++;
	*id = p;
	*id_len = (size_t)(q - p);
}

static void serve_close(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in.data);
	free(c->out.data);
	free(c);
}

static volatile sig_atomic_t stop_serving;

static void on_term(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static int run_server(const char *path, const char *reply_file)
{
	load_reply(reply_file);
	struct sockaddr_un sa;
	fill_addr(&sa, path);
	int lfd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		die("socket");
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(path);
	if (listen(lfd, SOMAXCONN) < 0)
		die("listen");
	struct sigaction act = { .sa_handler = on_term };
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	printf("ready\n");
	fflush(stdout);

	struct epoll_event evs[MAX_EVENTS];
	while (!stop_serving) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 200);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL,
							 SOCK_NONBLOCK |
								 SOCK_CLOEXEC);
					if (fd < 0)
						break;
					struct sconn *c = calloc(1, sizeof(*c));
					c->fd = fd;
					struct epoll_event ev = {
						.events = EPOLLIN, .data.ptr = c
					};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			struct sconn *c = evs[i].data.ptr;
			if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
				serve_close(ep, c);
				continue;
			}
			if (evs[i].events & EPOLLIN) {
				int r = buf_read(&c->in, c->fd);
				if (r <= 0) {
					serve_close(ep, c);
					continue;
				}
				uint32_t len;
				const uint8_t *body;
				while ((body = buf_next_frame(&c->in, &len))) {
					const char *id;
					size_t id_len;
					request_id(body, len, &id, &id_len);
					size_t n2 = reply_pre_len + id_len +
						    reply_post_len;
					uint8_t *p =
						buf_reserve(&c->out, 4 + n2);
					put_be32(p, (uint32_t)n2);
					memcpy(p + 4, reply_pre, reply_pre_len);
					memcpy(p + 4 + reply_pre_len, id,
					       id_len);
					memcpy(p + 4 + reply_pre_len + id_len,
					       reply_post, reply_post_len);
					c->out.len += 4 + n2;
				}
			}
			if (buf_flush(&c->out, c->fd) < 0) {
				serve_close(ep, c);
				continue;
			}
			int want = buf_pending(&c->out) > 0;
			if (want != c->want_out) {
				struct epoll_event ev = {
					.events = want ? EPOLLOUT : EPOLLIN,
					.data.ptr = c
				};
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				c->want_out = want;
			}
		}
	}
	unlink(path);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rpc_load --socket PATH [-c CONNS] [-w WINDOW] "
		"[-d SECONDS] [--warmup SECONDS] [--method NAME]\n"
		"       rpc_load --serve PATH --reply-file FILE\n"
		"\n"
		"Load mode keeps WINDOW requests in flight on each of CONNS "
		"connections\n"
		"for SECONDS and prints requests/s and latency percentiles.\n"
		"Serve mode is the baseline: a minimal epoll server that "
		"answers each\n"
		"frame with FILE's body (its @ID@ replaced by the request "
		"id).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "method", required_argument, NULL, 'm' },
		{ "serve", required_argument, NULL, 'S' },
		{ "reply-file", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *serve = NULL, *reply = NULL;
	const char *method = "health";
	unsigned conns = 1, window = 1;
	double seconds = 3, warmup = 0.5;
	int c;
	while ((c = getopt_long(argc, argv, "s:c:w:d:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'c':
			conns = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			window = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			seconds = strtod(optarg, NULL);
			break;
		case 'W':
			warmup = strtod(optarg, NULL);
			break;
		case 'm':
			method = optarg;
			break;
		case 'S':
			serve = optarg;
			break;
		case 'R':
			reply = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (serve) {
		if (!reply) {
			usage(stderr);
			return 2;
		}
		return run_server(serve, reply);
	}
	if (!path || !conns || !window || seconds <= 0 || warmup < 0 ||
	    strlen(method) > 100) {
		usage(stderr);
		return 2;
	}
	return run_load(path, conns, window, seconds, warmup, method);
}
