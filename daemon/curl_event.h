/* libcurl's multi interface driven by the daemon's sd-event loop: curl
 * says which sockets and which timeout it waits on, the loop wakes it
 * for exactly those, so no transfer ever blocks the loop. */
#ifndef ISOL8D_CURL_EVENT_H
#define ISOL8D_CURL_EVENT_H

#include "curl_loader.h"
#include <systemd/sd-event.h>

struct curl_event;

/* Called from the loop once the transfer is over (res says how); the
 * handle is already out of the multi and is the caller's again. */
typedef void (*curl_event_done_fn)(CURL *easy, CURLcode res, void *userdata);

int curl_event_new(sd_event *event, struct curl_event **out);
/* Only once no transfer is left in it. */
void curl_event_free(struct curl_event *c);
/* Starts easy's transfer (which must not use CURLOPT_PRIVATE). */
int curl_event_add(struct curl_event *c, CURL *easy, curl_event_done_fn done,
		   void *userdata);
/* Stops easy's transfer; done is not called. */
void curl_event_remove(struct curl_event *c, CURL *easy);

#endif
