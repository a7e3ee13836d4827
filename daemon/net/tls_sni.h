/* The server name a TLS client asks for (SNI), read from the ClientHello
 * of a connection the box made without the proxy, so that the proxy can
 * apply the same host name rules to it; and the alert that refuses such a
 * connection.  Input from the box is untrusted: every length is checked
 * against what arrived. */
#ifndef ISOL8D_TLS_SNI_H
#define ISOL8D_TLS_SNI_H

#include <stddef.h>

/* The largest ClientHello looked at; a client sending more is refused. */
#define TLS_HELLO_MAX 16384

/* Looks at the first len bytes a client sent.  1 with the name (lower
 * case, checked as a host name) in host; 0 when more bytes are needed;
 * -ENOENT for a ClientHello that names no server; -EPROTO for anything
 * that is not a well-formed ClientHello. */
int tls_sni_parse(const unsigned char *buf, size_t len, char *host,
		  size_t size);

/* A fatal alert, sent in the clear before any handshake message of the
 * server's: the client then reports why it was refused, as an HTTP answer
 * would be noise to it. */
#define TLS_ALERT_LEN 7
enum tls_alert {
	TLS_ALERT_ACCESS_DENIED = 49,
	TLS_ALERT_INTERNAL_ERROR = 80,
};
void tls_alert(enum tls_alert what, unsigned char out[TLS_ALERT_LEN]);

#endif
