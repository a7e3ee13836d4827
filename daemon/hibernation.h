/* A hibernated session's state: where its box waits on disk and what its
 * restore needs (session_hibernate.h does the work). */
#ifndef ISOL8D_HIBERNATION_H
#define ISOL8D_HIBERNATION_H

#include "sandbox/box_hibernate.h"
#include "sandbox/box_spec.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct box_host;

struct hibernation {
	char dir[PATH_MAX];
	struct box_image img; /* uid_base -1 once a box has it back */
	struct box_spec spec; /* its network and limits count */
	uint64_t at_ms;
	bool by_stop; /* restored when the next daemon starts */
};

/* Frees h; remove: its directory too (the session is deleted), else it
 * stays for the next daemon.  Its uid range goes back to host. */
void hibernation_free(struct hibernation *h, struct box_host *host,
		      bool remove);
uint64_t hibernation_at_ms(const struct hibernation *h);
/* Removes dir and what CRIU and the daemon put in it: files and the empty
 * root directory, nothing deeper.  0 (also when dir is gone) or -errno. */
int hibernation_remove_dir(const char *dir);

#endif
