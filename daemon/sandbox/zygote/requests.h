/* The requests of the daemon a zygote answers (zygote_proto.h), with libc
 * only: the python zygote's module (serve.c) and the box forker, isol8-init
 * started with INIT_FORKER_ARG, answer them alike.  Each one clones a
 * box's first process into its namespaces as the daemon's child. */
#ifndef ISOL8D_ZYGOTE_REQUESTS_H
#define ISOL8D_ZYGOTE_REQUESTS_H

#include "sandbox/box_init.h"

/* Called in the zygote around each clone (a Python runtime's fork
 * hooks); NULL: none. */
struct zygote_hooks {
	void (*before_clone)(void);
	void (*after_clone)(void);
};

/* Says the zygote serves, then answers requests on ZYGOTE_FD until the
 * daemon goes, when it exits.  Returns only in a box's first process, in
 * its namespaces, with ZYGOTE_FD closed and how it is to set the box up
 * in *a. */
void zygote_requests_serve(const struct zygote_hooks *h,
			   struct box_init_args *a);

#endif
