/* Remote code: request.codeUrl fetched under the daemon's remoteCode
 * policy before any box is made, without blocking the loop.  Each hop
 * (the URL, then every redirect, at most CODE_FETCH_MAX_REDIRECTS) is
 * checked by code_url_check(), its name resolved by the resolver helper,
 * every address checked against the private ranges, and the connection
 * pinned to the addresses checked (and checked again as it opens).
 * https is always verified; the body is capped at maxCodeSize as it
 * arrives; codeHash (SHA-256, any case) is compared before the code is
 * handed on; fetchTimeoutMs bounds the whole. */
#ifndef ISOL8D_CODE_FETCH_H
#define ISOL8D_CODE_FETCH_H

#include "config.h"
#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#define CODE_FETCH_MAX_REDIRECTS 10

struct code_fetcher; /* the daemon's: its policy, transfers and cache */
struct code_fetch;   /* one request's */
struct resolver;

struct code_fetch_request {
	const char *url;
	const char *hash; /* 64 hex digits, or NULL */
	bool allow_insecure;
};

/* The fetch is over and already freed: code (NUL-terminated, the
 * callee's) on success, otherwise NULL and a message for the client. */
typedef void (*code_fetch_done_fn)(void *userdata, char *code, size_t len,
				   enum error_kind kind, const char *msg);

/* pol must outlive the fetcher; a bad pattern in it is -EINVAL with e's
 * message. */
int code_fetcher_new(sd_event *event, struct resolver *resolver,
		     const struct config_remote_code *pol,
		     struct code_fetcher **out, struct error *e);
/* Only once no fetch is left. */
void code_fetcher_free(struct code_fetcher *f);

/* Starts a fetch; done is called later from the loop (a cache hit
 * too).  A request the policy refuses outright is -EINVAL with e's
 * message, and done is never called. */
int code_fetch_start(struct code_fetcher *f,
		     const struct code_fetch_request *req,
		     code_fetch_done_fn done, void *userdata,
		     struct code_fetch **out, struct error *e);
/* Stops a fetch (NULL: nothing); done is not called. */
void code_fetch_cancel(struct code_fetch *x);

#endif
