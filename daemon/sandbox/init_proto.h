/* How a box's init (daemon/sandbox/init/, its own program) is started and
 * talked to.  The box's cloned child sets the box up, then execs the init
 * with the fds below in place and nothing else open, argv { INIT_NAME }
 * and an environment holding only the ISOL8D_FAULT* variables (fault.h).
 *
 * Messages between the daemon and the init go over their SOCK_SEQPACKET
 * control socket.  One message per packet; fds travel as SCM_RIGHTS.  The
 * init answers requests in order; EXITED comes whenever a command ends. */
#ifndef ISOL8D_INIT_PROTO_H
#define ISOL8D_INIT_PROTO_H

#include <stdint.h>

#define INIT_MSG_MAX ((size_t)256 * 1024)
#define BOX_USER_UID 1000
#define BOX_USER_GID 1000

#define INIT_NAME "isol8-init"
/* argv[1] of the init's program exec'd as the box forker (zygote.h), which
 * serves the daemon on ZYGOTE_FD (zygote_proto.h) instead. */
#define INIT_FORKER_ARG "--fork-boxes"
/* The fds the init starts with. */
enum init_fd {
	INIT_FD_CTL = 3,     /* its end of the control socket */
	INIT_FD_SANDBOX = 4, /* O_PATH of /sandbox */
	INIT_FD_TMP = 5,     /* O_PATH of /tmp */
	/* The seccomp programs every command installs, in order, as
	 * seccomp_load() reads them; not open when the box is unconfined. */
	INIT_FD_SECCOMP = 6,
	/* A box made from a zygote (zygote.h): the socket to the interpreter
	 * it holds, the init's child, which INIT_RUN_HELD makes a command;
	 * not open in other boxes. */
	INIT_FD_HELD = 7,
};

enum init_op {
	/* daemon → init */
	INIT_GO = 1, /* maps written, cgroups joined: build the box */
	INIT_RUN, /* payload: struct init_run + strings; fds: stdin, stdout, stderr */
	INIT_OPEN, /* payload: struct init_open + path */
	INIT_KILL, /* value: a command's pid; SIGKILL to its process
		       * group; no answer */
	/* init → daemon */
	INIT_READY,   /* set-up done */
	INIT_STARTED, /* value: pid of the command */
	INIT_FD,      /* fds: the opened file */
	INIT_ERROR,   /* value: errno; text: what failed */
	INIT_EXITED,  /* value: pid; status: wait status */
	/* daemon -> init, after a restore by CRIU, which leaves the init
	 * not dumpable: it becomes dumpable again, as after its exec, so
	 * that CRIU can hibernate it again; no answer.  Last, so that the
	 * numbers above stay those of inits hibernated before it came. */
	INIT_DUMPABLE,
	/* daemon -> init: INIT_RUN for the held interpreter (INIT_FD_HELD),
	 * which becomes the command as an exec'd one would, but for the
	 * exec: argv and envp are not used (it runs as it was started).
	 * Answered as INIT_RUN; once per box. */
	INIT_RUN_HELD,
};

struct init_msg {
	uint32_t op;
	int32_t value;
	int32_t status;
	uint32_t len; /* bytes of payload that follow */
};

/* RUN payload: the strings follow as NUL-terminated runs: cwd, then argc
 * arguments, then envc environment entries. */
struct init_run {
	uint32_t argc;
	uint32_t envc;
	uint64_t rlimit_fsize;
	uint32_t rlimit_nofile;
	uint32_t rlimit_nproc;
	int32_t seccomp; /* 1: install the box's seccomp program */
};

enum init_open_flags {
	INIT_OPEN_READ = 0,
	INIT_OPEN_WRITE = 1,  /* create or truncate, parents made */
	INIT_OPEN_MKDIR = 2,  /* create the directory, parents made */
	INIT_OPEN_REMOVE = 3, /* remove the file or empty directory;
				    * answered with INIT_FD and no fd */
};

struct init_open {
	uint32_t flags;
	uint32_t mode;
	/* path follows, NUL-terminated: absolute, inside /sandbox or /tmp */
};

#endif
