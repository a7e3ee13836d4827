#include "resolver.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST_MAX 253
#define MAX_THREADS 32
#define NOBODY 65534

struct lookup_msg {
	int64_t id;
	uint16_t port;
	char host[HOST_MAX + 1];
};

struct answer_msg {
	int64_t id;
	struct resolver_result res;
};

struct pending {
	int64_t id;
	resolver_done_fn done;
	void *userdata;
	struct pending *next;
};

struct resolver {
	sd_event *event;
	int fd;
	pid_t pid;
	sd_event_source *io;
	int64_t next_id;
	struct pending *pending;
};

/* ---- the helper process ---- */

static int helper_fd;
static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helper_cond = PTHREAD_COND_INITIALIZER;
static int helper_threads;

static void *lookup_thread(void *arg)
{
	struct lookup_msg *m = arg;
	struct answer_msg a = { .id = m->id };
	char port[8];
	snprintf(port, sizeof(port), "%u", m->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai = NULL;
	a.res.err = getaddrinfo(m->host, port, &hints, &ai);
	for (struct addrinfo *p = ai; p && a.res.n < RESOLVER_MAX_ADDRS;
	     p = p->ai_next) {
		if (p->ai_addrlen > sizeof(a.res.addrs[0]))
			continue;
		memcpy(&a.res.addrs[a.res.n], p->ai_addr, p->ai_addrlen);
		a.res.lens[a.res.n++] = p->ai_addrlen;
	}
	if (ai)
		freeaddrinfo(ai);
	free(m);
	(void)!send(helper_fd, &a, sizeof(a), MSG_NOSIGNAL);
	pthread_mutex_lock(&helper_lock);
	helper_threads--;
	pthread_cond_signal(&helper_cond);
	pthread_mutex_unlock(&helper_lock);
	return NULL;
}

static __attribute__((noreturn)) void helper_main(int fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "isol8d-resolve");
	if (dup2(fd, 3) < 0)
		_exit(1);
	close_range(4, ~0u, 0);
	helper_fd = 3;
	/* Reading /etc/resolv.conf and /etc/hosts needs no privilege. */
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	for (;;) {
		struct lookup_msg *m = malloc(sizeof(*m));
		if (!m)
			_exit(1);
		ssize_t n = recv(helper_fd, m, sizeof(*m), 0);
		if (n <= 0)
			_exit(0);
		if ((size_t)n != sizeof(*m)) {
			free(m);
			continue;
		}
		m->host[HOST_MAX] = '\0';
		pthread_mutex_lock(&helper_lock);
		while (helper_threads >= MAX_THREADS)
			pthread_cond_wait(&helper_cond, &helper_lock);
		helper_threads++;
		pthread_mutex_unlock(&helper_lock);
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_t t;
		if (pthread_create(&t, &attr, lookup_thread, m) != 0)
			lookup_thread(m);
		pthread_attr_destroy(&attr);
	}
}

/* ---- the daemon's side ---- */

static void fail_all(struct resolver *r)
{
	struct resolver_result res = { .err = EAI_SYSTEM };
	while (r->pending) {
		struct pending *p = r->pending;
		r->pending = p->next;
		p->done(p->userdata, &res);
		free(p);
	}
}

/* Unlinks the pending lookup id; NULL when there is none. */
static struct pending *take(struct resolver *r, int64_t id)
{
	for (struct pending **pp = &r->pending; *pp; pp = &(*pp)->next) {
		struct pending *p = *pp;
		if (p->id == id) {
			*pp = p->next;
			return p;
		}
	}
	return NULL;
}

static void stop_helper(struct resolver *r)
{
	r->io = sd_event_source_disable_unref(r->io);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = -1;
}

static int on_answer(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	(void)s;
	struct resolver *r = userdata;
	struct answer_msg a;
	ssize_t n = recv(fd, &a, sizeof(a), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n != (ssize_t)sizeof(a)) {
		log_err("the resolver helper is gone%s; lookups fail until it "
			"is started again",
			revents & EPOLLHUP ? "" : " (bad answer)");
		stop_helper(r);
		fail_all(r);
		return 0;
	}
	struct pending *p = take(r, a.id);
	if (p) {
		p->done(p->userdata, &a.res);
		free(p);
	}
	return 0;
}

static int start_helper(struct resolver *r)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sp[0]);
		close(sp[1]);
		return e;
	}
	if (pid == 0)
		helper_main(sp[1]);
	close(sp[1]);
	r->fd = sp[0];
	r->pid = pid;
	int e = sd_event_add_io(r->event, &r->io, r->fd, EPOLLIN, on_answer, r);
	if (e < 0)
		stop_helper(r);
	return e;
}

int resolver_start(sd_event *event, struct resolver **out)
{
	struct resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->event = event;
	r->fd = -1;
	r->pid = -1;
	/* The helper is forked on the first lookup: a daemon that never
	 * proxies never has it. */
	*out = r;
	return 0;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	while (r->pending) {
		struct pending *p = r->pending;
		r->pending = p->next;
		free(p);
	}
	stop_helper(r);
	free(r);
}

bool resolver_numeric(const char *host, uint16_t port,
		      struct resolver_result *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->addrs[0];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->addrs[0];
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		out->lens[0] = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		out->lens[0] = sizeof(*s6);
	} else {
		return false;
	}
	out->n = 1;
	return true;
}

int64_t resolver_lookup(struct resolver *r, const char *host, uint16_t port,
			resolver_done_fn done, void *userdata)
{
	if (strlen(host) > HOST_MAX)
		return -ENAMETOOLONG;
	if (r->fd < 0) {
		int e = start_helper(r);
		if (e < 0)
			return e;
	}
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	struct lookup_msg m = { .id = ++r->next_id, .port = port };
	memcpy(m.host, host, strlen(host) + 1);
	if (send(r->fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		int e = -errno;
		free(p);
		return e;
	}
	p->id = m.id;
	p->done = done;
	p->userdata = userdata;
	p->next = r->pending;
	r->pending = p;
	return p->id;
}

void resolver_cancel(struct resolver *r, int64_t id)
{
	free(take(r, id));
}
