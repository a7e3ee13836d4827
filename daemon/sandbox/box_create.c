/* Making a box: a uid range, a cgroup, the image's mount, a network
 * namespace and the control socket, then clone3 into new namespaces with
 * the init exec'd inside (box_init.h), by the python zygote for a box to
 * hold its interpreter, else by the box forker (zygote.h), else by the
 * daemon itself; or a box around an init CRIU restored. */
#include "box_priv.h"

#include "box_host.h"
#include "box_init.h"
#include "cgroup.h"
#include "fault.h"
#include "log.h"
#include "netns.h"
#include "seccomp.h"
#include "userns.h"
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct clone_ctx {
	const struct box_host *host;
	const struct box *box;
	int *pidfd;
};

/* The network namespace is not new here: the daemon stands in a prepared
 * one while it clones (netns_clone_into). */
static pid_t clone_box(void *arg)
{
	const struct clone_ctx *c = arg;
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
			 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)c->pidfd,
		.exit_signal = SIGCHLD,
	};
	if (c->host->into_cgroup && cgroup_box_dirfd(c->box->cg) >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_box_dirfd(c->box->cg);
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static int ctl_pair(void *sp)
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0
		       ? -errno
		       : 0;
}

static struct box *box_alloc(struct box_host *host, box_died_fn died,
			     void *userdata)
{
	struct box *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	host->live++;
	b->host = host;
	b->ctl = -1;
	for (int i = 0; i < EGRESS_WAYS; i++)
		b->egress[i] = -1;
	b->uid_base = -1;
	b->on_died = died;
	b->userdata = userdata;
	snprintf(b->name, sizeof(b->name), "%llu",
		 (unsigned long long)++host->next_id);
	return b;
}

/* A dead box holding only cg: box_destroy removes the cgroup once the
 * kernel lets go of it (a just-reaped init may hold it a moment longer),
 * from the event loop, and the box with it. */
void box_drop_cgroup(struct box_host *host, struct cgroup_box *cg)
{
	if (!cg)
		return;
	struct box *b = box_alloc(host, NULL, NULL);
	if (!b) {
		if (cgroup_box_destroy(cg) < 0)
			log_err("a box cgroup stays behind: out of memory");
		return;
	}
	b->cg = cg;
	b->dead = true;
	b->ready = true;
	box_destroy(b);
}

int box_take_net(struct box_host *host, enum box_net net, int *egress,
		 const char **step)
{
	*step = "bring up loopback";
	int fd = net == BOX_NET_HOST ? fcntl(host->net.host, F_DUPFD_CLOEXEC, 3)
				     : netns_take(&host->net);
	if (fd < 0)
		return net == BOX_NET_HOST ? -errno : fd;
	if (net == BOX_NET_FILTERED) {
		*step = "open the ways out";
		int r = egress_open(&host->net, fd, egress);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	return fd;
}

int box_ctl_pair(struct box_host *host, int netfd, int sp[2],
		 uint64_t *peer_ino)
{
	int r = netns_call_in(&host->net, netfd, ctl_pair, sp);
	if (r < 0)
		return r;
	/* The daemon's end never blocks the event loop. */
	struct stat st;
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0 || fstat(sp[1], &st) < 0) {
		r = -errno;
		close(sp[0]);
		close(sp[1]);
		sp[0] = sp[1] = -1;
		return r;
	}
	*peer_ino = st.st_ino;
	return 0;
}

static void kill_and_reap(pid_t pid, int pidfd)
{
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	waitpid(pid, NULL, 0);
	close(pidfd);
}

int box_restored(struct box_host *host, const struct box_restored_parts *p,
		 box_died_fn died, void *userdata, struct box **out)
{
	struct box *b = box_alloc(host, died, userdata);
	if (!b)
		return -ENOMEM;
	b->pid = p->pid;
	b->spec = *p->spec;
	b->host_net = p->spec->net == BOX_NET_HOST;
	b->cg = p->cg;
	b->uid_base = p->uid_base;
	b->ctl = p->ctl;
	b->ctl_ino = p->ctl_ino;
	for (int i = 0; i < EGRESS_WAYS; i++)
		b->egress[i] = p->egress[i];
	b->ready = true;
	int r = sd_event_add_child_pidfd(host->event, &b->child_src, p->pidfd,
					 WEXITED, box_on_child, b);
	if (r >= 0) {
		sd_event_source_set_child_pidfd_own(b->child_src, true);
		sd_event_source_set_child_process_own(b->child_src, true);
		r = sd_event_add_io(host->event, &b->ctl_src, b->ctl, EPOLLIN,
				    box_on_ctl, b);
	}
	if (r < 0) {
		log_errno(LOG_ERR, r, "box %s: cannot watch its restored init",
			  b->name);
		if (!b->child_src) {
			/* Nobody else would reap it. */
			kill_and_reap(p->pid, p->pidfd);
			b->dead = true;
		}
		b->on_died = NULL;
		box_destroy(b);
		return r;
	}
	struct init_msg m = { .op = INIT_DUMPABLE };
	r = box_send_to_init(b, &m, NULL, NULL, 0);
	if (r < 0)
		log_errno(LOG_WARNING, r,
			  "box %s: its init may not be hibernated again",
			  b->name);
	log_info("box %s: restored, init %d", b->name, (int)b->pid);
	*out = b;
	return 0;
}

/* What a box's first process is cloned with, kept while a zygote clones
 * it: the daemon clones it itself when the zygote cannot. */
struct box_clone {
	struct box_init_args a;
	int netfd;
};

static void release_clone(struct box_clone *c)
{
	if (c->netfd >= 0)
		close(c->netfd);
	if (c->a.ctl_fd >= 0)
		close(c->a.ctl_fd);
	if (c->a.rootfs.image_fd >= 0)
		close(c->a.rootfs.image_fd);
	for (int i = 0; i < c->a.ntasks_fds; i++)
		close(c->a.tasks_fds[i]);
}

/* The daemon's own clone: the child execs the init, the parent returns
 * its pid (pidfd in *pidfd) or -errno. */
static pid_t clone_here(struct box *b, struct box_clone *c, int *pidfd)
{
	struct clone_ctx ctx = { b->host, b, pidfd };
	pid_t pid = netns_clone_into(&b->host->net, c->netfd, clone_box, &ctx);
	if (pid == 0) {
		close(b->ctl);
		box_init_exec(box_init_prepare(&c->a));
	}
	return pid;
}

/* From the first process cloned to the init started: the box is watched
 * and told to go.  On failure *step names what failed; a child the box
 * does not watch yet is killed and reaped here, one it watches is the
 * caller's to kill. */
static int start_init(struct box *b, pid_t pid, int pidfd, const char **step)
{
	struct box_host *host = b->host;
	b->pid = pid;
	*step = "watch the box's init";
	int r = fault_inject(*step);
	if (r == 0)
		r = sd_event_add_child_pidfd(host->event, &b->child_src, pidfd,
					     WEXITED, box_on_child, b);
	if (r < 0) {
		/* Without a child source nobody would reap it. */
		kill_and_reap(pid, pidfd);
		return r;
	}
	sd_event_source_set_child_pidfd_own(b->child_src, true);
	sd_event_source_set_child_process_own(b->child_src, true);

	*step = "write the id maps";
	if ((r = fault_inject(*step)) < 0 ||
	    (r = userns_write_maps(pid, (uint32_t)b->uid_base)) < 0)
		return r;
	*step = "watch the control socket";
	if ((r = fault_inject(*step)) < 0 ||
	    (r = sd_event_add_io(host->event, &b->ctl_src, b->ctl, EPOLLIN,
				 box_on_ctl, b)) < 0)
		return r;
	struct init_msg go = { .op = INIT_GO };
	*step = "start the box's init";
	if ((r = fault_inject(*step)) < 0 ||
	    (r = box_send_to_init(b, &go, NULL, NULL, 0)) < 0)
		return r;
	return 0;
}

/* The daemon makes it, its interpreter to be started in it. */
static void without_zygote(struct box *b, int err)
{
	if (b->held)
		log_errno(LOG_WARNING, err,
			  "box %s: the python zygote cannot make it; made "
			  "without",
			  b->name);
	else
		log_errno(LOG_WARNING, err,
			  "box %s: the box forker cannot make it; the daemon "
			  "clones it",
			  b->name);
	b->held = b->spec.held = false;
}

/* A control socket in place of one a lost request handed the zygote: a
 * process it may have cloned waits on the old one, and ends when it
 * closes. */
static int replace_ctl(struct box *b, struct box_clone *c)
{
	int sp[2];
	int r = box_ctl_pair(b->host, c->netfd, sp, &b->ctl_ino);
	if (r < 0)
		return r;
	close(b->ctl);
	close(c->a.ctl_fd);
	b->ctl = sp[0];
	c->a.ctl_fd = sp[1];
	return 0;
}

/* The zygote's answer.  A box the zygote cannot make, or whose request was
 * lost (the zygote ended or stopped answering), the daemon makes. */
static void on_cloned(pid_t pid, int pidfd, void *userdata)
{
	struct box *b = userdata;
	struct box_clone *c = b->cloning;
	b->cloning = NULL;
	if (pid < 0 && !b->destroyed) {
		without_zygote(b, pid);
		pid = pid == -ECONNABORTED ? replace_ctl(b, c) : 0;
		if (pid == 0)
			pid = clone_here(b, c, &pidfd);
	}
	release_clone(c);
	free(c);
	const char *step = "clone the box";
	int r = pid < 0 ? pid : 0;
	if (r == 0 && b->destroyed) {
		kill_and_reap(pid, pidfd);
		r = -ECANCELED;
	} else if (r == 0) {
		r = start_init(b, pid, pidfd, &step);
	}
	if (r < 0 && r != -ECANCELED)
		log_errno(LOG_ERR, r, "box %s: cannot %s", b->name, step);
	if (r < 0)
		box_set_up_failed(b, r, step);
}

int box_create(struct box_host *host, const struct box_spec *spec,
	       box_ready_fn ready, box_died_fn died, void *userdata,
	       struct box **out)
{
	struct box *b = box_alloc(host, died, userdata);
	if (!b)
		return -ENOMEM;
	b->on_ready = ready;
	b->spec = *spec;
	b->held = spec->held && !spec->image && zygote_ready(host->zygote);
	b->spec.held = b->held;
	b->host_net = spec->net == BOX_NET_HOST;

	const char *step = "reserve a uid range";
	int r = fault_inject(step);
	if (r < 0)
		goto fail;
	b->uid_base = uid_slots_acquire(host->uids);
	if (b->uid_base < 0) {
		r = (int)b->uid_base;
		goto fail;
	}
	step = "create the box cgroup";
	if ((r = fault_inject(step)) < 0)
		goto fail;
	r = cgroup_box_create(host->cgroups, b->name, &spec->limits, &b->cg);
	if (r < 0) {
		b->cg = NULL;
		goto fail;
	}
	int sp[2] = { -1, -1 };
	struct box_clone c = { .a = { .ctl_fd = -1,
				      .init_exe = host->init_exe,
				      .rootfs = spec->rootfs,
				      .seccomp_fd = -1 },
			       .netfd = -1 };
	c.a.rootfs.image_fd = -1;
	step = "export the seccomp programs";
	if (spec->seccomp &&
	    (r = c.a.seccomp_fd = seccomp_export_shared(spec->seccomp)) < 0)
		goto fail;
	step = "mount the image";
	if (spec->image) {
		r = host->images ? image_mount_get(host->images, spec->image,
						   &c.a.rootfs.image_fd)
				 : -ENOTSUP;
		if (r < 0)
			goto fail;
		memcpy(b->image, spec->image->digest, sizeof(b->image));
	}
	step = "open the box cgroup";
	r = fault_inject(step);
	c.a.ntasks_fds =
		r < 0 ? r : cgroup_box_open_tasks(b->cg, c.a.tasks_fds);
	if (c.a.ntasks_fds < 0) {
		r = c.a.ntasks_fds;
		c.a.ntasks_fds = 0;
		goto fail_clone;
	}
	c.netfd = box_take_net(host, spec->net, b->egress, &step);
	if (c.netfd < 0) {
		r = c.netfd;
		goto fail_clone;
	}
	/* Made in the box's namespace, where CRIU finds sockets when it
	 * hibernates the box. */
	step = "create the control socket";
	if ((r = fault_inject(step)) < 0 ||
	    (r = box_ctl_pair(host, c.netfd, sp, &b->ctl_ino)) < 0)
		goto fail_clone;
	b->ctl = sp[0];
	c.a.ctl_fd = sp[1];

	step = "clone the box";
	if ((r = fault_inject(step)) < 0)
		goto fail_clone;
	struct zygote *z = b->held ? host->zygote : host->forker;
	if (zygote_ready(z)) {
		struct box_clone *kept = malloc(sizeof(*kept));
		struct zygote_box zb = {
			.a = &c.a,
			.ctl_ino = b->ctl_ino,
			.net = c.netfd,
			.cgroup = host->into_cgroup ? cgroup_box_dirfd(b->cg)
						    : -1,
		};
		r = kept ? zygote_clone(z, &zb, on_cloned, b) : -ENOMEM;
		if (r == 0) {
			*kept = c;
			b->cloning = kept;
			*out = b;
			return 0;
		}
		free(kept);
		without_zygote(b, r);
	}
	int pidfd = -1;
	pid_t pid = clone_here(b, &c, &pidfd);
	release_clone(&c);
	if (pid < 0) {
		r = pid;
		goto fail;
	}
	r = start_init(b, pid, pidfd, &step);
	if (r < 0 && b->child_src)
		goto fail_child;
	if (r < 0)
		goto fail;
	*out = b;
	return 0;

fail_child:
	log_errno(LOG_ERR, r, "box %s: cannot %s", b->name, step);
	/* The child source reaps it and removes the cgroup. */
	b->on_ready = NULL;
	b->on_died = NULL;
	b->ready = true;
	box_destroy(b);
	return r;
fail_clone:
	release_clone(&c);
fail:
	log_errno(LOG_ERR, r, "box %s: cannot %s", b->name, step);
	box_drop_cgroup(host, b->cg);
	box_free(b);
	return r;
}
