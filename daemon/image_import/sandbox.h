/* The sandbox `isol8-image import` unpacks an archive in: skopeo and umoci
 * run as an unprivileged user of a new user namespace mapped to an
 * unprivileged host id range, with new mount, PID, network, IPC, UTS and
 * cgroup namespaces, seeing only the host's /usr (read-only), the archive
 * (read-only) and size-limited tmpfs mounts; a wall-clock timeout kills the
 * whole PID namespace. */
#ifndef ISOL8_IMAGE_IMPORT_SANDBOX_H
#define ISOL8_IMAGE_IMPORT_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct import_limits {
	uint64_t max_bytes; /* each of the layout and the unpacked tree */
	uint64_t max_files; /* inodes of the unpacked tree */
	unsigned timeout_s; /* wall clock, and CPU seconds per process */
	uint32_t id_base;   /* host id the sandbox's id 0 maps to */
};

/* What the sandbox left, as O_RDONLY directory fds of its tmpfs mounts,
 * written by untrusted code: bundle holds image/rootfs, layout the files
 * format, inspect.json, config.json and manifest.json. */
struct import_output {
	int bundle;
	int layout;
};

/* Runs the unpacking of archive_fd (any fd of a regular file or a
 * directory) and waits for it, at most l->timeout_s seconds; every process
 * it started is gone when it returns.  On success the caller owns out's
 * fds. */
int import_sandbox_run(int archive_fd, const struct import_limits *l,
		       struct import_output *out, struct error *e);

#endif
