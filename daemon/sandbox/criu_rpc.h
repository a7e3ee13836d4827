/* CRIU through its RPC service: `criu swrk FD` started as a child of the
 * daemon with one end of a socketpair, one request (criu_rpc.proto) and
 * its answer.  The call waits for CRIU: a box's dump or restore takes tens
 * to hundreds of milliseconds. */
#ifndef ISOL8D_CRIU_RPC_H
#define ISOL8D_CRIU_RPC_H

#include <stddef.h>
#include <sys/types.h>

struct criu_call {
	const char *criu; /* the criu program */
	/* Runs in the child before the exec, as the daemon's fork: enters
	 * namespaces, builds mounts, joins cgroups.  0 or -errno. */
	int (*setup)(void *arg);
	void *setup_arg;
	/* Written where a call fails: CRIU's own message when it gave one. */
	char *err;
	size_t err_len;
};

/* Dumps the process tree of pid (a box's init) into the directory
 * images_fd, killing it once written.  external: CRIU's "--external"
 * keys (unix[ino] of a socket whose peer stays outside).  0 or -errno. */
int criu_dump(const struct criu_call *c, pid_t pid, int images_fd,
	      const char *const *external, size_t n_external);

/* Restores the tree dumped in images_fd with root as its root directory.
 * The restored init becomes the daemon's child; CRIU gives it fd in
 * place of the socket it had (inherit_key "socket:[ino]").  The pid, or
 * -errno. */
pid_t criu_restore(const struct criu_call *c, int images_fd, const char *root,
		   const char *inherit_key, int fd);

#endif
