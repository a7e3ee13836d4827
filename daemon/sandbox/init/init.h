/* isol8-init, PID 1 of every box: a program of its own (linking only libc
 * and a few libc-only parts of the sandbox), exec'd from a sealed memfd by
 * the box's cloned child once the box is set up (box_init.h), so that no
 * box keeps a copy of the daemon's memory.  It starts commands for the
 * daemon, opens files as the box user, reaps zombies and reports exits;
 * what it starts with is in init_proto.h. */
#ifndef ISOL8D_INIT_H
#define ISOL8D_INIT_H

#include <stddef.h>
#include <stdint.h>

struct init_open;

void init_send_error(int err, const char *what);
int init_send(uint32_t op, int32_t value, int32_t status, const void *payload,
	      uint32_t len, int pass_fd);

/* Opens, creates or removes a path below /sandbox or /tmp as the box user
 * and answers with INIT_FD or INIT_ERROR. */
void init_open_file(char *payload, size_t len);

#endif
