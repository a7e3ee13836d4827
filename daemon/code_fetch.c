#include "code_fetch.h"

#include "cleanup.h"
#include "format.h"
#include "code_cache.h"
#include "code_url.h"
#include "curl_event.h"
#include "log.h"
#include "net/resolver.h"
#include "utf8.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct code_fetcher {
	sd_event *event;
	struct resolver *resolver;
	const struct config_remote_code *pol;
	struct net_filter hosts; /* allowedHosts, blockedHosts */
	struct curl_event *curl;
	struct code_cache *cache;
};

/* Why a callback stopped the transfer. */
enum stop { STOP_NONE, STOP_LENGTH, STOP_SIZE, STOP_ADDRESS };

struct code_fetch {
	struct code_fetcher *f;
	code_fetch_done_fn done;
	void *userdata;
	char *key_url; /* the first URL, the cache's key with hash */
	char hash[65]; /* lower case; empty: none */
	bool allow_insecure;
	struct code_url cur; /* this hop */
	unsigned hops;
	int64_t lookup; /* > 0 while resolving */
	CURL *easy;
	bool active; /* easy is in the multi */
	struct curl_slist *pin;
	sd_event_source *timer, *defer;
	char errbuf[CURL_ERROR_SIZE];
	char *buf;
	size_t len, cap;
	enum stop stop;
	curl_off_t length; /* STOP_LENGTH: the Content-Length */
	char *cached;
	size_t cached_len;
};

static void release(struct code_fetch *x)
{
	if (x->lookup > 0)
		resolver_cancel(x->f->resolver, x->lookup);
	if (x->active)
		curl_event_remove(x->f->curl, x->easy);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->pin);
	sd_event_source_disable_unref(x->timer);
	sd_event_source_disable_unref(x->defer);
	code_url_free(&x->cur);
	free(x->key_url);
	free(x->buf);
	free(x->cached);
	free(x);
}

void code_fetch_cancel(struct code_fetch *x)
{
	if (x)
		release(x);
}

/* Frees x, then tells its owner: the owner may free what holds x. */
static void finish(struct code_fetch *x, char *code, size_t len,
		   enum error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void finish(struct code_fetch *x, char *code, size_t len,
		   enum error_kind kind, const char *fmt, ...)
{
	char msg[ERROR_MESSAGE_MAX] = "";
	if (fmt)
		FORMAT_ARGS(msg, fmt);
	code_fetch_done_fn done = x->done;
	void *userdata = x->userdata;
	release(x);
	done(userdata, code, len, kind, code ? NULL : msg);
}

static void fail_nomem(struct code_fetch *x)
{
	finish(x, NULL, 0, ERR_INTERNAL, "out of memory");
}

/* ---- a hop's transfer ---- */

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct code_fetch *x = userdata;
	size_t got = size * n;
	if (x->len + got > x->f->pol->max_code_size) {
		x->stop = STOP_SIZE;
		return 0;
	}
	if (x->len + got + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		while (cap < x->len + got + 1)
			cap *= 2;
		char *b = realloc(x->buf, cap);
		if (!b)
			return 0;
		x->buf = b;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, got);
	x->len += got;
	return got;
}

/* At the end of a success's headers: a Content-Length over the cap
 * stops it before any of the body. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct code_fetch *x = userdata;
	size_t got = size * n;
	if (!(got == 2 && data[0] == '\r') && !(got == 1 && data[0] == '\n'))
		return got;
	long status = 0;
	curl_off_t cl = -1;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (status >= 200 && status < 300 && cl >= 0 &&
	    (uint64_t)cl > x->f->pol->max_code_size) {
		x->stop = STOP_LENGTH;
		x->length = cl;
		return 0;
	}
	return got;
}

/* The last word on where a connection goes: the address itself, with
 * the socket close-on-exec from birth. */
static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose,
				    struct curl_sockaddr *a)
{
	struct code_fetch *x = userdata;
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    (!x->f->pol->allow_private && net_addr_private(&a->addr))) {
		x->stop = STOP_ADDRESS;
		return CURL_SOCKET_BAD;
	}
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			a->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static void resolve_hop(struct code_fetch *x);

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

static void next_hop(struct code_fetch *x, const char *location)
{
	if (++x->hops > CODE_FETCH_MAX_REDIRECTS) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Failed to fetch remote code: more than %d redirects",
		       CODE_FETCH_MAX_REDIRECTS);
		return;
	}
	struct code_url next;
	struct error e;
	if (code_url_check(location, x->allow_insecure, x->f->pol, &x->f->hosts,
			   &next, &e) < 0) {
		finish(x, NULL, 0, e.kind, "%s", e.message);
		return;
	}
	code_url_free(&x->cur);
	x->cur = next;
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->pin);
	x->pin = NULL;
	x->len = 0;
	resolve_hop(x);
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + (size_t)2 * i, "%02x", md[i]);
}

/* The body of a success: text, and the code the hash names. */
static void accept_body(struct code_fetch *x)
{
	if (x->len == 0) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Remote code response body is empty");
		return;
	}
	x->buf[x->len] = '\0';
	if (memchr(x->buf, '\0', x->len) || !utf8_valid(x->buf, x->len)) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Fetched code appears to be binary content");
		return;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	char got[2 * EVP_MAX_MD_SIZE + 1];
	if (!EVP_Digest(x->buf, x->len, md, &n, EVP_sha256(), NULL)) {
		finish(x, NULL, 0, ERR_INTERNAL,
		       "Failed to fetch remote code: cannot compute SHA-256");
		return;
	}
	hex(md, n, got);
	if (x->hash[0] && strcmp(got, x->hash) != 0) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Remote code hash mismatch");
		return;
	}
	const struct config_remote_code *pol = x->f->pol;
	if (pol->enable_cache && pol->cache_ttl_s) {
		uint64_t now = 0;
		sd_event_now(x->f->event, CLOCK_MONOTONIC, &now);
		code_cache_put(x->f->cache, x->key_url,
			       x->hash[0] ? x->hash : NULL, x->buf, x->len, now,
			       now + pol->cache_ttl_s * 1000000);
	}
	char *code = x->buf;
	size_t len = x->len;
	x->buf = NULL;
	finish(x, code, len, ERR_INTERNAL, NULL);
}

static void on_transfer_done(CURL *easy, CURLcode res, void *userdata)
{
	struct code_fetch *x = userdata;
	x->active = false;
	unsigned long long max = x->f->pol->max_code_size;
	switch (x->stop) {
	case STOP_ADDRESS:
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Blocked code URL host: %s", x->cur.host);
		return;
	case STOP_LENGTH:
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Remote code exceeds maxCodeSize (%llu bytes): %lld "
		       "bytes",
		       max, (long long)x->length);
		return;
	case STOP_SIZE:
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Remote code exceeds maxCodeSize (%llu bytes)", max);
		return;
	case STOP_NONE:
		break;
	}
	if (res != CURLE_OK) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Failed to fetch remote code: %s",
		       x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
		return;
	}
	long status = 0;
	char *location = NULL;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
	if (is_redirect(status) && location) {
		_cleanup_free_ char *loc = strdup(location);
		if (!loc)
			fail_nomem(x);
		else
			next_hop(x, loc);
		return;
	}
	if (status < 200 || status >= 300) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Failed to fetch remote code: HTTP %ld", status);
		return;
	}
	accept_body(x);
}

static int open_hop(struct code_fetch *x)
{
	const struct config_remote_code *pol = x->f->pol;
	CURL *h = x->easy = curl_easy_init();
	if (!h)
		return -ENOMEM;
	x->errbuf[0] = '\0';
	x->stop = STOP_NONE;
	bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
	SET(CURLOPT_URL, x->cur.url);
	SET(CURLOPT_PROTOCOLS_STR, x->cur.scheme);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (pol->ca_file) {
		/* The administrator's CAs, and the system's still. */
		SET(CURLOPT_CAINFO, pol->ca_file);
		SET(CURLOPT_CAPATH, "/etc/ssl/certs");
	}
	SET(CURLOPT_USERAGENT, "isol8d");
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	SET(CURLOPT_OPENSOCKETDATA, x);
	if (x->pin)
		SET(CURLOPT_RESOLVE, x->pin);
#undef SET
	if (!ok)
		return -EINVAL;
	int r = curl_event_add(x->f->curl, h, on_transfer_done, x);
	x->active = r == 0;
	return r;
}

/* The name's addresses, each checked, become the only ones curl may
 * connect to: "name:port:addr,addr" (IPv6 in brackets). */
static void on_resolved(void *userdata, const struct resolver_result *res)
{
	struct code_fetch *x = userdata;
	x->lookup = 0;
	if (res->err || res->n == 0) {
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Failed to resolve code URL host: %s", x->cur.host);
		return;
	}
	char pin[512];
	int off =
		snprintf(pin, sizeof(pin), "%s:%u:", x->cur.name, x->cur.port);
	for (size_t i = 0; i < res->n; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&res->addrs[i];
		if (!x->f->pol->allow_private && net_addr_private(sa)) {
			finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
			       "Blocked code URL host: %s", x->cur.host);
			return;
		}
		char a[INET6_ADDRSTRLEN];
		bool v6 = sa->sa_family == AF_INET6;
		const void *bin =
			v6 ? (const void *)&((const struct sockaddr_in6 *)sa)
					->sin6_addr
			   : (const void *)&((const struct sockaddr_in *)sa)
					->sin_addr;
		inet_ntop(sa->sa_family, bin, a, sizeof(a));
		off += snprintf(pin + off, sizeof(pin) - (size_t)off,
				v6 ? "%s[%s]" : "%s%s", i ? "," : "", a);
	}
	x->pin = curl_slist_append(NULL, pin);
	if (!x->pin || open_hop(x) < 0)
		fail_nomem(x);
}

static void resolve_hop(struct code_fetch *x)
{
	if (x->cur.numeric) {
		/* Checked as written; nothing to look up. */
		if (open_hop(x) < 0)
			fail_nomem(x);
		return;
	}
	int64_t id = resolver_lookup(x->f->resolver, x->cur.name, x->cur.port,
				     on_resolved, x);
	if (id < 0)
		finish(x, NULL, 0, ERR_INVALID_ARGUMENT,
		       "Failed to resolve code URL host: %s", x->cur.host);
	else
		x->lookup = id;
}

/* ---- the whole fetch ---- */

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	struct code_fetch *x = userdata;
	finish(x, NULL, 0, ERR_TIMEOUT,
	       "Remote code fetch timed out after %llums",
	       (unsigned long long)x->f->pol->fetch_timeout_ms);
	return 0;
}

/* The first step runs from the loop, never inside code_fetch_start():
 * a cache hit, or the first hop. */
static int on_begin(sd_event_source *s, void *userdata)
{
	(void)s;
	struct code_fetch *x = userdata;
	sd_event_source_disable_unref(x->defer);
	x->defer = NULL;
	if (!x->cached) {
		resolve_hop(x);
		return 0;
	}
	char *code = x->cached;
	x->cached = NULL;
	finish(x, code, x->cached_len, ERR_INTERNAL, NULL);
	return 0;
}

int code_fetch_start(struct code_fetcher *f,
		     const struct code_fetch_request *req,
		     code_fetch_done_fn done, void *userdata,
		     struct code_fetch **out, struct error *e)
{
	const struct config_remote_code *pol = f->pol;
	struct code_url first;
	int r = code_url_check(req->url, req->allow_insecure, pol, &f->hosts,
			       &first, e);
	if (r < 0)
		return r;
	if (pol->require_hash && !req->hash) {
		code_url_free(&first);
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "Hash verification required: provide "
				 "codeHash for remote code execution.");
	}
	struct code_fetch *x = calloc(1, sizeof(*x));
	if (!x) {
		code_url_free(&first);
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	}
	*x = (struct code_fetch){ .f = f,
				  .done = done,
				  .userdata = userdata,
				  .allow_insecure = req->allow_insecure,
				  .cur = first };
	for (size_t i = 0; req->hash && req->hash[i] && i < 64; i++)
		x->hash[i] = (char)tolower((unsigned char)req->hash[i]);
	x->key_url = strdup(first.url);
	r = x->key_url
		    ? sd_event_add_time_relative(
			      f->event, &x->timer, CLOCK_MONOTONIC,
			      pol->fetch_timeout_ms * 1000, 1000, on_timeout, x)
		    : -ENOMEM;
	uint64_t now = 0;
	sd_event_now(f->event, CLOCK_MONOTONIC, &now);
	if (r >= 0 && pol->enable_cache && pol->cache_ttl_s)
		r = code_cache_get(f->cache, x->key_url,
				   x->hash[0] ? x->hash : NULL, now, &x->cached,
				   &x->cached_len);
	if (r >= 0)
		r = sd_event_add_defer(f->event, &x->defer, on_begin, x);
	if (r < 0) {
		release(x);
		return error_set(e, ERR_INTERNAL, r,
				 "Cannot fetch the code: %s", strerror(-r));
	}
	*out = x;
	return 0;
}

int code_fetcher_new(sd_event *event, struct resolver *resolver,
		     const struct config_remote_code *pol,
		     struct code_fetcher **out, struct error *e)
{
	struct code_fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	*f = (struct code_fetcher){ .event = event,
				    .resolver = resolver,
				    .pol = pol };
	int r = net_filter_compile(&f->hosts,
				   (const char *const *)pol->allowed_hosts,
				   (const char *const *)pol->blocked_hosts, e);
	if (r == 0 && (r = curl_event_new(event, &f->curl)) < 0)
		error_set(e, ERR_INTERNAL, r, "Cannot set up libcurl");
	if (r == 0 && (r = code_cache_new(pol->cache_max_bytes, &f->cache)) < 0)
		error_set(e, ERR_INTERNAL, r, "out of memory");
	if (r < 0) {
		code_fetcher_free(f);
		return r;
	}
	*out = f;
	return 0;
}

void code_fetcher_free(struct code_fetcher *f)
{
	if (!f)
		return;
	net_filter_free(&f->hosts);
	curl_event_free(f->curl);
	code_cache_free(f->cache);
	free(f);
}
