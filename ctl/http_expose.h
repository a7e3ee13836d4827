/* /x/TOKEN/...: the public URLs of sessions' exposed ports.  The token is
 * the credential (no API key); the daemon hands over a connection made in
 * the session's box to 127.0.0.1:port (session.connect), and the request
 * goes through it: plain HTTP, or a WebSocket once the box's server has
 * switched protocols.  The token never reaches a log line. */
#ifndef ISOL8CTL_HTTP_EXPOSE_H
#define ISOL8CTL_HTTP_EXPOSE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct http_request;
struct upstream;

#define EXPOSE_PREFIX "/x/"

/* Whether url is an exposed port's; its token then goes in token. */
bool http_expose_url(const char *url, char *token, size_t size);
/* url as a log may show it: the token left out. */
void http_expose_log_url(const char *url, char *out, size_t size);
/* The route's handler (arg: the token). */
enum MHD_Result http_expose_relay(struct http_request *r, const char *arg);
/* The request is over: its connection into the box is closed. */
void http_expose_done(struct upstream *u);

#endif
