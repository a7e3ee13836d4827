#include "tls_sni.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define RECORD_ALERT 0x15
#define RECORD_HANDSHAKE 0x16
#define ALERT_FATAL 2
#define HANDSHAKE_CLIENT_HELLO 0x01
#define EXT_SERVER_NAME 0x0000
#define NAME_HOST 0x00

/* A bounds-checked reader over the handshake message. */
struct cursor {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static unsigned take(struct cursor *c, size_t n)
{
	unsigned v = 0;
	if (c->bad || n > c->left) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | c->p[i];
	c->p += n;
	c->left -= n;
	return v;
}

static void skip(struct cursor *c, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = true;
		return;
	}
	c->p += n;
	c->left -= n;
}

/* A sub-cursor over the next n bytes, which c skips. */
static struct cursor sub(struct cursor *c, size_t n)
{
	struct cursor s = { c->p, n, c->bad || n > c->left };
	skip(c, n);
	return s;
}

static bool valid_host(const unsigned char *name, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum(name[i]) && name[i] != '-' && name[i] != '.' &&
		    name[i] != '_')
			return false;
	return true;
}

/* The server_name extension's data: 1 with host, or -EPROTO. */
static int server_name(struct cursor ext, char *host, size_t size)
{
	struct cursor list = sub(&ext, take(&ext, 2));
	while (!list.bad && list.left > 0) {
		unsigned type = take(&list, 1);
		struct cursor name = sub(&list, take(&list, 2));
		if (list.bad)
			break;
		if (type != NAME_HOST)
			continue;
		if (!valid_host(name.p, name.left) || name.left >= size)
			return -EPROTO;
		for (size_t i = 0; i < name.left; i++)
			host[i] = (char)tolower(name.p[i]);
		host[name.left] = '\0';
		return 1;
	}
	return -EPROTO;
}

static int client_hello(struct cursor hello, char *host, size_t size)
{
	skip(&hello, 2 + 32);	       /* version, random */
	skip(&hello, take(&hello, 1)); /* session id */
	skip(&hello, take(&hello, 2)); /* cipher suites */
	skip(&hello, take(&hello, 1)); /* compression methods */
	if (!hello.bad && hello.left == 0)
		return -ENOENT; /* no extensions at all */
	struct cursor exts = sub(&hello, take(&hello, 2));
	while (!exts.bad && exts.left > 0) {
		unsigned type = take(&exts, 2);
		struct cursor data = sub(&exts, take(&exts, 2));
		if (!exts.bad && type == EXT_SERVER_NAME)
			return server_name(data, host, size);
	}
	return exts.bad || hello.bad ? -EPROTO : -ENOENT;
}

int tls_sni_parse(const unsigned char *buf, size_t len, char *host, size_t size)
{
	/* The handshake message, gathered from the records it spans. */
	unsigned char msg[TLS_HELLO_MAX];
	size_t have = 0, off = 0;
	for (;;) {
		if (len - off < 5)
			return len >= TLS_HELLO_MAX ? -EPROTO : 0;
		if (buf[off] != RECORD_HANDSHAKE || buf[off + 1] != 3)
			return -EPROTO;
		size_t rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0 || rlen > sizeof(msg) - have)
			return -EPROTO;
		if (len - off - 5 < rlen)
			return len >= TLS_HELLO_MAX ? -EPROTO : 0;
		memcpy(msg + have, buf + off + 5, rlen);
		have += rlen;
		off += 5 + rlen;
		if (have < 4)
			continue;
		if (msg[0] != HANDSHAKE_CLIENT_HELLO)
			return -EPROTO;
		size_t hlen =
			(size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3];
		if (hlen > sizeof(msg) - 4)
			return -EPROTO;
		if (have >= 4 + hlen)
			return client_hello(
				(struct cursor){ msg + 4, hlen, false }, host,
				size);
	}
}

void tls_alert(enum tls_alert what, unsigned char out[TLS_ALERT_LEN])
{
	/* Record version 3.3, as TLS 1.2 and 1.3 servers write it. */
	const unsigned char alert[TLS_ALERT_LEN] = {
		RECORD_ALERT, 3, 3, 0, 2, ALERT_FATAL, (unsigned char)what
	};
	memcpy(out, alert, sizeof(alert));
}
