/* A zygote: a Python interpreter started once, which boxes are cloned from
 * instead of each starting its own.  The daemon forks it at start (named
 * isol8d-zygote) and execs the runtime's interpreter in it exactly as a
 * pooled box starts its waiting one, with the same arguments and
 * environment; the preload script loads a module of the daemon's
 * (zygote/serve.c) and serves there.  Each box it makes is a clone3 with
 * the flags of box_create's own (new user, mount, pid, ipc and uts
 * namespaces, into the box's network namespace and cgroup), made the
 * daemon's child (CLONE_PARENT): the daemon writes its id maps and starts
 * it as any box.  That first process builds the box's root, forks the
 * interpreter the box holds (stopped in the preload script, as a pooled
 * box's waits; it maps its files again from the box's mounts,
 * zygote/rebase.h) and execs the box's init, which makes the held
 * interpreter its first command (INIT_RUN_HELD): the box user, its
 * rlimits, seccomp programs and stdio, without an exec.
 *
 * The zygote runs no user code: it reads the daemon's requests only.  It
 * stands outside any box, as the daemon's root, because it clones boxes
 * into namespaces and cgroups only that root may hand out; it keeps
 * CAP_SYS_ADMIN alone, in a mount namespace of its own where /usr is
 * read-only and /usr/local hidden as in a box, so that it sees and loads
 * what a box's interpreter would.  What a held interpreter shares with its
 * zygote, and so with other boxes made from it, is read-only memory at
 * the same addresses and Python's start-up state (its hash seed among
 * it): isol8d(8) says which properties differ from a fresh start.
 *
 * The box forker is a zygote of the same kind for every other box: the
 * boxes' init program (isol8d-forker), which keeps CAP_SYS_ADMIN alone
 * too, in the daemon's mount namespace.  Its clone of a box's first
 * process copies a few pages instead of the daemon's whole address space;
 * that process sets the box up and execs the init as the daemon's own
 * clone does, which the daemon falls back on while the forker does not
 * serve. */
#ifndef ISOL8D_ZYGOTE_H
#define ISOL8D_ZYGOTE_H

#include "box_init.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct zygote;

/* What a box made by a zygote gets: how its first process sets it up
 * (a->ctl_fd, the init's end of the control socket; a->rootfs, the
 * host's image for the python zygote's boxes), and the network namespace
 * and cgroup it is cloned into. */
struct zygote_box {
	const struct box_init_args *a;
	uint64_t ctl_ino; /* a->ctl_fd's inode */
	int net;	  /* its network namespace */
	int cgroup;	  /* -1, or the cgroup dir for CLONE_INTO_CGROUP */
};

/* Forks the zygote, which execs argv (envp); it serves once it has said
 * so, on the event loop (zygote_ready).  One that ends (killed, say) is
 * started again after a wait that doubles while it keeps ending soon
 * after its start (1 s up to 300 s). */
int zygote_start(sd_event *event, const char *const *argv,
		 const char *const *envp, struct zygote **out);
/* The same for the box forker: isol8-init exec'd from exe (init_exe.h)
 * with INIT_FORKER_ARG, which answers requests as the python zygote does
 * but makes boxes that hold no interpreter, from its own small address
 * space instead of the daemon's. */
int zygote_start_forker(sd_event *event, int exe, struct zygote **out);
/* Whether it serves now: started, not ended. */
bool zygote_ready(const struct zygote *z);
/* The answer to zygote_clone, from the event loop: the box's first
 * process (pid and its pidfd, which done owns), or pid -errno and pidfd
 * -1.  -ECONNABORTED: the zygote gave no answer in time or in shape, or
 * ended; it may have cloned a process that waits on the box's control
 * socket, which is then not to be handed to another. */
typedef void (*zygote_cloned_fn)(pid_t pid, int pidfd, void *userdata);
/* Asks the zygote to clone a box's first process.  0: sent, and done is
 * called once with the answer (answers come in the order asked; one 2 s
 * late stops the zygote), unless zygote_free comes first.
 * -errno: nothing was sent (-EAGAIN: the zygote has too many requests
 * waiting), and done is not called. */
int zygote_clone(struct zygote *z, const struct zygote_box *b,
		 zygote_cloned_fn done, void *userdata);
/* Boxes made from it fail (their interpreter did not start, for what:
 * err): it is stopped for good, and later boxes start their own
 * interpreter. */
void zygote_give_up(struct zygote *z, int err, const char *what);
/* Stops it (it ends when its socket closes) and frees z. */
void zygote_free(struct zygote *z);

#endif
