/* CRIU through its RPC service: `criu swrk FD` started as a child of the
 * daemon with one end of a socketpair, one request (criu_rpc.proto) and
 * its answer.  The answer is awaited on the event loop: a box's dump or
 * restore takes tens of milliseconds to seconds (its memory is written or
 * read), and other clients are served meanwhile. */
#ifndef ISOL8D_CRIU_RPC_H
#define ISOL8D_CRIU_RPC_H

#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct criu_call {
	sd_event *event;
	const char *criu; /* the criu program; must outlive the call */
	/* Runs in the child before the exec, as the daemon's fork: enters
	 * namespaces, builds mounts, joins cgroups.  0 or -errno.  Its
	 * argument is read at the fork only. */
	int (*setup)(void *arg);
	void *setup_arg;
};

struct criu_op;
/* The end of a call, once: r is 0 (a dump) or the restored init's pid (a
 * restore), else -errno with why saying what went wrong (CRIU's own
 * message where it gave one).  The operation is gone once it returns. */
typedef void (*criu_done_fn)(void *userdata, int r, const char *why);

/* Starts dumping the process tree of pid (a box's init) into the
 * directory images_fd, killing it once written.  external: CRIU's
 * "--external" keys (unix[ino] of a socket whose peer stays outside).
 * 0 with *op set and done called later, or -errno (done never called). */
int criu_dump_start(const struct criu_call *c, pid_t pid, int images_fd,
		    const char *const *external, size_t n_external,
		    criu_done_fn done, void *userdata, struct criu_op **op);

/* Starts restoring the tree dumped in images_fd with root as its root
 * directory.  The restored init becomes the daemon's child; CRIU gives it
 * fd in place of the socket it had (inherit_key "socket:[ino]").  As
 * criu_dump_start. */
int criu_restore_start(const struct criu_call *c, int images_fd,
		       const char *root, const char *inherit_key, int fd,
		       criu_done_fn done, void *userdata, struct criu_op **op);

/* Waits for op's answer here and now, and calls its done: for the
 * daemon's stop, when the loop no longer runs. */
void criu_op_wait(struct criu_op *op);

#endif
