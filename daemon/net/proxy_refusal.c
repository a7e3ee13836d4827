#include "proxy_refusal.h"

#include "egress.h"
#include "tls_sni.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The proxy's own plain-text response; its length in *len. */
static char *response(int status, const char *reason, const char *body,
		      size_t *len)
{
	char *text;
	int n = asprintf(&text,
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, reason, strlen(body), body);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return text;
}

char *proxy_refusal(int way, int status, const char *reason, const char *body,
		    size_t *len)
{
	if (way != EGRESS_TLS)
		return response(status, reason, body, len);
	char *alert = malloc(TLS_ALERT_LEN);
	if (!alert)
		return NULL;
	tls_alert(status == 403 ? TLS_ALERT_ACCESS_DENIED
				: TLS_ALERT_INTERNAL_ERROR,
		  (unsigned char *)alert);
	*len = TLS_ALERT_LEN;
	return alert;
}
