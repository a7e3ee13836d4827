/* A box seen from the daemon: creating it (clone3 into new namespaces, id
 * maps, cgroup, network), talking to its init, and tearing it down.  All of
 * it is asynchronous on the daemon's event loop. */
#ifndef ISOL8D_BOX_H
#define ISOL8D_BOX_H

#include "box_spec.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct box_host;
struct box_spec;
struct cgroup_limits;
struct cgroup_usage;

struct box;

typedef void (*box_ready_fn)(struct box *b, int err, const char *what,
			     void *userdata);
typedef void (*box_died_fn)(struct box *b, void *userdata);
typedef void (*box_started_fn)(struct box *b, int err, const char *what,
			       pid_t pid, void *userdata);
typedef void (*box_exited_fn)(struct box *b, pid_t pid, int status,
			      void *userdata);
typedef void (*box_opened_fn)(struct box *b, int err, int fd, void *userdata);

/* A command's resource limits (setrlimit in the box; 0: the default). */
struct box_rlimits {
	uint64_t rlimit_fsize;
	uint32_t rlimit_nofile;
	uint32_t rlimit_nproc;
};

struct box_cmd {
	const char *const *argv; /* argv[0] is an absolute path in the box */
	const char *const *envp;
	const char *cwd;
	struct box_rlimits limits;
	bool seccomp;
	/* The interpreter the box holds (box_holds_interpreter) becomes the
	 * command instead of argv: it keeps what it was started with. */
	bool held;
};

/* What box_open does with its path. */
enum box_open_how {
	BOX_OPEN_READ,	/* a regular file, for reading */
	BOX_OPEN_WRITE, /* create or truncate, parents made */
	BOX_OPEN_MKDIR, /* create the directory, parents made */
	BOX_OPEN_REMOVE /* the file or empty directory: success with fd -1 */
};

/* Starts creating a box.  ready is called once, from the event loop, with
 * 0 or a negative errno and the failed step; died when its init is gone
 * (not after box_destroy). */
int box_create(struct box_host *host, const struct box_spec *spec,
	       box_ready_fn ready, box_died_fn died, void *userdata,
	       struct box **out);

/* Starts a command with the given stdio fds (the box keeps copies only
 * until the command has started).  started reports the pid or the error;
 * exited comes when that process ends (status as from waitpid). */
int box_run(struct box *b, const struct box_cmd *cmd, const int fds[3],
	    box_started_fn started, box_exited_fn exited, void *userdata);

/* Opens a path inside /sandbox or /tmp as the box user; symlinks are
 * never followed. */
int box_open(struct box *b, const char *path, enum box_open_how how,
	     uint32_t mode, box_opened_fn opened, void *userdata);

/* Hands a ready box to a new owner (a pooled box to its execution). */
void box_set_died(struct box *b, box_died_fn died, void *userdata);
/* Rewrites the cgroup limits of a running box. */
int box_set_limits(struct box *b, const struct cgroup_limits *lim);
/* A pooled box is built in the background (cgroup_limits.background) and
 * brought to the foreground when claimed. */
int box_set_background(struct box *b, bool background);
int box_usage(const struct box *b, struct cgroup_usage *u);
/* box_usage's cpu_time_ns alone, read faster. */
int box_cpu_time(const struct box *b, uint64_t *ns);
/* Whether b shares the daemon's network namespace (network "host"). */
bool box_host_network(const struct box *b);
/* A TCP socket made in b's network namespace (non-blocking, CLOEXEC)
 * whose connection to 127.0.0.1:port has started (it may still be in
 * progress): the fd, or -EPERM for a box on the host's network (its
 * loopback is the host's), -ESRCH when the box is not running, another
 * -errno (-ECONNREFUSED: nothing listens). */
int box_connect_loopback(struct box *b, uint16_t port);
/* Freezes or thaws every process of the box (cgroup_box_freeze), and
 * whether all are frozen now (cgroup_box_frozen). */
int box_freeze(struct box *b, bool frozen);
int box_frozen(const struct box *b);
const char *box_name(const struct box *b);
/* What the box was made with. */
const struct box_spec *box_spec_of(const struct box *b);
/* The hex digest of the image the box's root is made of ("": the host's);
 * the box's own copy, valid as long as the box (spec.image need not be). */
const char *box_image(const struct box *b);
/* The init's pid, as the daemon sees it. */
pid_t box_pid(const struct box *b);
/* The inode of the init's end of its control socket (CRIU's key for it). */
uint64_t box_ctl_ino(const struct box *b);
/* The box's uid range becomes the caller's (uid_slots_release): a
 * hibernated box keeps it for its restore. */
int64_t box_take_uids(struct box *b);
/* Whether b's root is an image of the store (not the host's). */
bool box_on_image(const struct box *b);
/* Whether the loop watches for the init's exit: off while another process
 * (CRIU) traces it, whose exit the daemon cannot reap before it lets go. */
void box_watch_init(struct box *b, bool on);

/* A box's network namespace, as a new fd: the daemon's for BOX_NET_HOST,
 * else a spare one with loopback up, and for BOX_NET_FILTERED the ways out
 * opened into egress[EGRESS_WAYS].  -errno, *step naming what failed. */
int box_take_net(struct box_host *host, enum box_net net, int *egress,
		 const char **step);
/* A box's control socket, made in the network namespace netfd; *peer_ino
 * is the inode of sp[1], the init's end. */
int box_ctl_pair(struct box_host *host, int netfd, int sp[2],
		 uint64_t *peer_ino);

/* What box_restore_... brought back (box_hibernate.h): all of it becomes
 * the box's. */
struct box_restored_parts {
	const struct box_spec *spec;
	pid_t pid;
	int pidfd;
	int ctl;
	uint64_t ctl_ino;
	struct cgroup_box *cg;
	int64_t uid_base;
	int egress[4]; /* EGRESS_WAYS, -1 where none */
};
/* A ready box around an init CRIU restored as the daemon's child.  On
 * error everything in p is released (the init killed). */
int box_restored(struct box_host *host, const struct box_restored_parts *p,
		 box_died_fn died, void *userdata, struct box **out);
/* Removes cg (if not NULL), which no box holds, once the kernel lets go
 * of it: at once or later, from the event loop. */
void box_drop_cgroup(struct box_host *host, struct cgroup_box *cg);
/* BOX_NET_FILTERED: the sockets made inside the box's namespace for its
 * ways out, indexed by EGRESS_PROXY... (the box keeps them); else NULL. */
const int *box_egress_fds(const struct box *b);
/* Turns a box with a namespace of its own (BOX_NET_NONE, as pooled boxes
 * are) into a filtered one: its ways out are made in its namespace.  0
 * (also when it has them already) or a negative errno. */
int box_open_egress(struct box *b);
/* Whether the box holds an interpreter (box_spec.held) that no box_run
 * has taken yet. */
bool box_holds_interpreter(const struct box *b);
/* Whether the box's init still runs. */
bool box_alive(const struct box *b);
/* Kills everything in the box at once; the box stays until destroyed. */
void box_kill(struct box *b);
/* No callback with this userdata fires any more: its owner is gone while
 * the box lives on. */
void box_forget(struct box *b, void *userdata);
/* Kills a command's process group, leaving the box and its other
 * processes (a session's background jobs) alone. */
int box_kill_command(struct box *b, pid_t pid);
/* Kills the box and frees it once its init is reaped and its cgroup gone.
 * No callback fires after this. */
void box_destroy(struct box *b);

#endif
