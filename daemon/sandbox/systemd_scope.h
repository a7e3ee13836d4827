/* Asking systemd for a cgroup of the daemon's own.  Started outside a
 * unit with Delegate=yes (from a shell, a CI job, a container with
 * systemd), the daemon sits in a cgroup it must not reorganise; like
 * crun and podman it then asks the service manager over D-Bus for a
 * transient scope with Delegate=yes and moves into it. */
#ifndef ISOL8D_SYSTEMD_SCOPE_H
#define ISOL8D_SYSTEMD_SCOPE_H

#include "error.h"

/* Moves the calling process into a new transient scope
 * isol8d-<pid>.scope with Delegate=yes and no tasks limit, waiting (at
 * most a few seconds) until systemd has done it.  0, or a negative errno
 * with what failed in e: -EHOSTDOWN when systemd is not the service
 * manager here. */
int systemd_scope_enter(struct error *e);

#endif
