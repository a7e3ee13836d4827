/* file_rtt: the round trip of file.put then file.get of one file in a
 * session, from a client that spends nothing on JSON: both requests are
 * built once, and the answer to file.get is checked by finding the base64
 * that was put in it.
 *
 *   file_rtt --socket PATH --session ID [--size BYTES] [-n COUNT]
 *
 * Before the daemon, the same requests go COUNT times to a child process
 * on a socketpair that reads each frame and answers with a prebuilt frame
 * of the daemon's size: the cost of moving the bytes alone, the baseline.
 * Prints one line of key=value pairs (milliseconds): p50 and p99 of the
 * pair for both, and of put and get alone for the daemon.
 *
 * Only libc; build with: cc -O2 -o file_rtt file_rtt.c */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "file_rtt: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die("malloc");
	return p;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *base64(const uint8_t *in, size_t len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		*o++ = abc[v >> 18];
		*o++ = abc[(v >> 12) & 63];
		*o++ = abc[(v >> 6) & 63];
		*o++ = abc[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = abc[v >> 18];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* A frame: 4-byte big-endian length, then the body. */
static char *frame(const char *body, size_t *len)
{
	size_t n = strlen(body);
	char *f = xmalloc(n + 4);
	f[0] = (char)(n >> 24);
	f[1] = (char)(n >> 16);
	f[2] = (char)(n >> 8);
	f[3] = (char)n;
	memcpy(f + 4, body, n);
	*len = n + 4;
	return f;
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		p += n;
		len -= (size_t)n;
	}
}

static void recv_all(int fd, char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				errno = EPIPE;
			die("recv");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* One frame's body, NUL-terminated, into *buf (grown as needed); its
 * length, or 0 at the end of the stream. */
static size_t recv_frame(int fd, char **buf, size_t *cap)
{
	uint8_t h[4];
	ssize_t got = recv(fd, h, 1, MSG_WAITALL);
	if (got == 0)
		return 0;
	if (got < 0)
		die("recv");
	recv_all(fd, (char *)h + 1, 3);
	size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 |
		   h[3];
	if (n + 1 > *cap) {
		free(*buf);
		*cap = n + 1;
		*buf = xmalloc(*cap);
	}
	recv_all(fd, *buf, n);
	(*buf)[n] = '\0';
	return n;
}

/* The baseline's server: a large frame is a put, a small one a get. */
static void serve(int fd, const char *put_reply, size_t put_reply_len,
		  const char *get_reply, size_t get_reply_len)
{
	char *buf = NULL;
	size_t cap = 0, n;
	while ((n = recv_frame(fd, &buf, &cap)) > 0) {
		if (n > 4096)
			send_all(fd, put_reply, put_reply_len);
		else
			send_all(fd, get_reply, get_reply_len);
	}
	_exit(0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

struct times {
	double *put, *get, *pair;
};

/* COUNT rounds over fd; b64 must come back in each answer to file.get. */
static void rounds(int fd, const char *put, size_t put_len, const char *get,
		   size_t get_len, const char *b64, size_t count,
		   struct times *t)
{
	char *buf = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < count; i++) {
		double t0 = now_ms();
		send_all(fd, put, put_len);
		if (recv_frame(fd, &buf, &cap) == 0)
			die("put answer");
		double t1 = now_ms();
		if (!strstr(buf, "\"result\"")) {
			fprintf(stderr, "file_rtt: file.put failed: %.300s\n",
				buf);
			exit(1);
		}
		send_all(fd, get, get_len);
		if (recv_frame(fd, &buf, &cap) == 0)
			die("get answer");
		double t2 = now_ms();
		if (!strstr(buf, b64)) {
			fprintf(stderr,
				"file_rtt: file.get gave other bytes: "
				"%.300s\n",
				buf);
			exit(1);
		}
		t->put[i] = t1 - t0;
		t->get[i] = t2 - t1;
		t->pair[i] = t2 - t0;
	}
	free(buf);
}

static int connect_unix(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(path);
	return fd;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *session = NULL;
	size_t size = 1 << 20, count = 50;
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "session", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			path = optarg;
			break;
		case 'i':
			session = optarg;
			break;
		case 'z':
			size = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!path || !session || count == 0) {
		fprintf(stderr, "usage: file_rtt --socket PATH --session ID "
				"[--size BYTES] [-n COUNT]\n");
		return 2;
	}
	uint8_t *data = xmalloc(size ? size : 1);
	for (size_t off = 0; off < size;) {
		ssize_t n = getrandom(data + off, size - off, 0);
		if (n < 0)
			die("getrandom");
		off += (size_t)n;
	}
	char *b64 = base64(data, size);
	size_t body_max = strlen(b64) + strlen(session) + 256;
	char *body = xmalloc(body_max);
	size_t put_len, get_len, put_reply_len, get_reply_len;
	snprintf(body, body_max,
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"file.put\","
		 "\"params\":{\"sessionId\":\"%s\",\"path\":\"blob.bin\","
		 "\"content\":\"%s\"}}",
		 session, b64);
	char *put = frame(body, &put_len);
	snprintf(body, body_max,
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"file.get\","
		 "\"params\":{\"sessionId\":\"%s\",\"path\":\"blob.bin\"}}",
		 session);
	char *get = frame(body, &get_len);
	char *put_reply = frame("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
				"{\"ok\":true}}",
				&put_reply_len);
	snprintf(body, body_max,
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":"
		 "\"%s\",\"size\":%zu}}",
		 b64, size);
	char *get_reply = frame(body, &get_reply_len);

	struct times base = {
		xmalloc(count * sizeof(double)),
		xmalloc(count * sizeof(double)),
		xmalloc(count * sizeof(double)),
	};
	struct times d = {
		xmalloc(count * sizeof(double)),
		xmalloc(count * sizeof(double)),
		xmalloc(count * sizeof(double)),
	};
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		die("socketpair");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(sp[0]);
		serve(sp[1], put_reply, put_reply_len, get_reply,
		      get_reply_len);
	}
	close(sp[1]);
	rounds(sp[0], put, put_len, get, get_len, b64, count, &base);
	close(sp[0]);
	waitpid(child, NULL, 0);

	int fd = connect_unix(path);
	rounds(fd, put, put_len, get, get_len, b64, count, &d);
	close(fd);
	printf("base_p50=%.3f base_p99=%.3f pair_p50=%.3f pair_p99=%.3f "
	       "put_p50=%.3f get_p50=%.3f\n",
	       pct(base.pair, count, .5), pct(base.pair, count, .99),
	       pct(d.pair, count, .5), pct(d.pair, count, .99),
	       pct(d.put, count, .5), pct(d.get, count, .5));
	return 0;
}
