/* Messages with fds (SCM_RIGHTS) on a Unix socket.  Only libc: the box's
 * init and the zygote (zygote.h) use it as the daemon does. */
#ifndef ISOL8D_FD_PASS_H
#define ISOL8D_FD_PASS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The most fds one message carries. */
#define FD_PASS_MAX 16

/* Sends iov with nfds fds (none: nfds 0), without SIGPIPE.  The bytes sent
 * (on a stream socket, maybe fewer than iov holds; the fds go with the
 * first of them), or -errno. */
ssize_t fd_pass_send(int sock, const struct iovec *iov, size_t niov,
		     const int *fds, size_t nfds);
/* Receives into iov; up to max fds land in fds[] (close-on-exec), *nfds
 * says how many; fds beyond max are closed.  The bytes read (0: the peer
 * has gone), or -errno: -EBADMSG, all fds closed, when the message did not
 * fit.  flags go to recvmsg (MSG_DONTWAIT). */
ssize_t fd_pass_recv(int sock, const struct iovec *iov, size_t niov, int *fds,
		     size_t max, size_t *nfds, int flags);

#endif
