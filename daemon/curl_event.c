#include "curl_event.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>

struct curl_event {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
};

/* What CURLOPT_PRIVATE holds for one transfer. */
struct transfer {
	curl_event_done_fn done;
	void *userdata;
};

/* Hands every finished transfer to its owner. */
static void reap(struct curl_event *c)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;
		struct transfer *t = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(c->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		struct transfer tr = *t;
		free(t);
		tr.done(easy, res, tr.userdata);
	}
}

static void act(struct curl_event *c, curl_socket_t fd, int flags)
{
	int running;
	CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		log_warn("curl: %s", curl_multi_strerror(mc));
	reap(c);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	int flags = 0;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	act(userdata, fd, flags);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	act(userdata, CURL_SOCKET_TIMEOUT, 0);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one io source per socket curl waits on. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	(void)easy;
	struct curl_event *c = userp;
	sd_event_source *src = socketp;
	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(src);
		curl_multi_assign(c->multi, fd, NULL);
		return 0;
	}
	uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
			  (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (src)
		return sd_event_source_set_io_events(src, events) < 0 ? -1 : 0;
	if (sd_event_add_io(c->event, &src, fd, events, on_io, c) < 0)
		return -1;
	curl_multi_assign(c->multi, fd, src);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the multi; 0 is "as soon as the
 * loop can", never a call back into curl from here. */
static int on_timeout(CURLM *multi, long ms, void *userp)
{
	(void)multi;
	struct curl_event *c = userp;
	if (ms < 0)
		return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0
			       ? -1
			       : 0;
	uint64_t now = 0;
	sd_event_now(c->event, CLOCK_MONOTONIC, &now);
	if (sd_event_source_set_time(c->timer, now + (uint64_t)ms * 1000) < 0 ||
	    sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
		return -1;
	return 0;
}

int curl_event_new(sd_event *event, struct curl_event **out)
{
	struct curl_event *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = event;
	c->multi = curl_multi_init();
	int r = c->multi ? sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC,
					     UINT64_MAX, 1000, on_timer, c)
			 : -ENOMEM;
	if (r < 0) {
		curl_event_free(c);
		return r;
	}
	sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*out = c;
	return 0;
}

void curl_event_free(struct curl_event *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	sd_event_source_disable_unref(c->timer);
	free(c);
}

int curl_event_add(struct curl_event *c, CURL *easy, curl_event_done_fn done,
		   void *userdata)
{
	struct transfer *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct transfer){ done, userdata };
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(t);
		return -ENOMEM;
	}
	return 0;
}

void curl_event_remove(struct curl_event *c, CURL *easy)
{
	struct transfer *t = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
	curl_multi_remove_handle(c->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(t);
}
