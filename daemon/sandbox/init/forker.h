/* The box forker (forker.c): isol8-init started with INIT_FORKER_ARG. */
#ifndef ISOL8D_INIT_FORKER_H
#define ISOL8D_INIT_FORKER_H

/* Serves the daemon's requests on ZYGOTE_FD until it goes. */
_Noreturn void init_fork_boxes(void);

#endif
