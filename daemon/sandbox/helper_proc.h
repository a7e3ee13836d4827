/* The daemon's helper processes (the namespace maker, the zygote): forked
 * with a socket to the daemon and watched through a pidfd, so that the
 * daemon learns when one ends and stops it when it ends itself. */
#ifndef ISOL8D_HELPER_PROC_H
#define ISOL8D_HELPER_PROC_H

#include <systemd/sd-event.h>

/* Runs in the forked child with its end of a SOCK_SEQPACKET socket
 * pair; never returns. */
typedef void (*helper_main_fn)(int sock, void *arg);

/* Forks a helper running fn(sock, arg).  The daemon gets its end of the
 * socket in *sock and a child source in *exit that calls ended when the
 * helper ends, and kills and reaps it when the source is freed.  0, or
 * -errno with nothing left behind. */
int helper_proc_fork(sd_event *event, helper_main_fn fn, void *arg,
		     sd_event_child_handler_t ended, void *userdata, int *sock,
		     sd_event_source **exit);

#endif
