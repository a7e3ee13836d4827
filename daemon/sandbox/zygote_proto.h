/* Between the daemon and a zygote (zygote.h), on their SOCK_SEQPACKET
 * socket: the zygote's fd ZYGOTE_FD.  Once started, the zygote sends one
 * struct zygote_answer with pid 0: it waits for requests.  Then, per box,
 * the daemon sends a struct zygote_request with the fds it names, in the
 * order of enum zygote_req_fd (those whose flag is not set left out), and
 * the zygote answers with a struct zygote_answer and, on success, the
 * pidfd of the box's first process.  That process is the daemon's child
 * (CLONE_PARENT): it waits for INIT_GO on its control socket as a box the
 * daemon cloned itself does (box_init.h). */
#ifndef ISOL8D_ZYGOTE_PROTO_H
#define ISOL8D_ZYGOTE_PROTO_H

#include <stdint.h>

#define ZYGOTE_FD 3
/* The module, a memfd the preload script loads it from; each box's first
 * process copies it (zygote/rebase.c).  The preload script names it by
 * this number and ZYGOTE_MODULE_FILE. */
#define ZYGOTE_MODULE_FD 4
/* The python zygote's name in ps, and the module that serves in it. */
#define ZYGOTE_NAME "isol8d-zygote"
/* The box forker's (init/forker.h). */
#define FORKER_NAME "isol8d-forker"
#define ZYGOTE_MODULE "_isol8_zygote"
#define ZYGOTE_MODULE_FILE ZYGOTE_MODULE ".abi3.so"

enum zygote_flags {
	ZYGOTE_INTO_CGROUP = 1,	  /* a cgroup dir fd comes: CLONE_INTO_CGROUP */
	ZYGOTE_READONLY_ROOT = 2, /* rootfs_spec.readonly_root */
	ZYGOTE_SECCOMP = 4,	  /* a seccomp export comes (seccomp_load.h) */
	ZYGOTE_IMAGE = 8, /* an image's mount comes (rootfs_spec.image_fd) */
};

/* The fds of a request, in this order; then ntasks cgroup "tasks" files. */
enum zygote_req_fd {
	ZYGOTE_FD_CTL,	   /* the init's end of the control socket */
	ZYGOTE_FD_NET,	   /* the box's network namespace */
	ZYGOTE_FD_INIT,	   /* the init's program (init_exe.h) */
	ZYGOTE_FD_SECCOMP, /* if ZYGOTE_SECCOMP */
	ZYGOTE_FD_CGROUP,  /* if ZYGOTE_INTO_CGROUP */
	ZYGOTE_FD_IMAGE,   /* if ZYGOTE_IMAGE */
};

struct zygote_request {
	uint64_t sandbox_size;
	uint64_t tmp_size;
	uint32_t flags;
	uint32_t ntasks;
	char runtimes_dir[256]; /* NUL-terminated; "" for none */
};

struct zygote_answer {
	int32_t pid; /* the box's first process, or -errno */
};

#endif
