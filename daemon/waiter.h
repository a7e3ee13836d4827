/* An interpreter started in a box ahead of its program: it waits in its
 * runtime's preload script (runtimes/preload/) until an execution adopts
 * it (command_adopt) with the working directory, environment and stdin.
 * The warm pool and sessions keep one ready this way. */
#ifndef ISOL8D_WAITER_H
#define ISOL8D_WAITER_H

#include "command.h"
#include "config.h"
#include "sandbox/box.h"
#include "runtimes/runtimes.h"

struct waiter;

/* Once: 0 when the interpreter waits, or the error and the failed step. */
typedef void (*waiter_ready_fn)(void *userdata, int err, const char *what);
/* The interpreter ended after it was ready and before waiter_take(); may
 * be NULL for an owner that takes it as soon as it is ready. */
typedef void (*waiter_ended_fn)(void *userdata);

/* The waiting interpreter's command: argv[0] is bin; free envp with
 * environment_free. */
struct waiter_command {
	char bin[512];
	char code[64];
	const char *argv[16];
	char **envp;
};
int waiter_command(const struct config *cfg, const struct runtime *rt,
		   struct waiter_command *c);

/* For a runtime with a preload script (rt->preload).  In a box that holds
 * an interpreter (box_holds_interpreter), that one is the waiting one. */
int waiter_start(sd_event *event, struct box *box, const struct config *cfg,
		 const struct runtime *rt, waiter_ready_fn ready,
		 waiter_ended_fn ended, void *userdata, struct waiter **out);
/* Before waiter_take: the program file's placeholder (entry_first),
 * opened for writing by the box user, for the execution to write its code
 * through without asking the box's init; -1 if none.  The caller closes
 * it. */
int waiter_take_entry(struct waiter *w);
/* Hands over the waiting interpreter, for command_adopt(); frees w. */
struct command *waiter_take(struct waiter *w);
/* Kills the interpreter and frees w; no callback fires after this. */
void waiter_free(struct waiter *w);

#endif
