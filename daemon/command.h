/* One command run in a box: its pipes, stdin feeding, output capture and
 * exit, all on the event loop. */
#ifndef ISOL8D_COMMAND_H
#define ISOL8D_COMMAND_H

#include "output.h"
#include "sandbox/box.h"

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct command;

struct command_spec {
	struct box_cmd cmd;
	const char *stdin_data; /* NULL: stdin is at end of file at once */
	size_t stdin_len;
	size_t max_output;
	const struct secret_mask *mask; /* borrowed; NULL: none */
	/* With no stdin_data: keep stdin open for command_adopt(). */
	bool hold_stdin;
};

/* Masked, valid UTF-8 pieces of output as they arrive. */
typedef void (*command_output_fn)(void *userdata, bool is_stderr,
				  const char *data, size_t len);
/* Called once: err < 0 when the command could not start (what says where),
 * else the wait status of the process. */
typedef void (*command_done_fn)(void *userdata, int err, const char *what,
				int status);

int command_start(sd_event *event, struct box *b,
		  const struct command_spec *spec, command_output_fn on_output,
		  command_done_fn on_done, void *userdata,
		  struct command **out);
void command_set_callbacks(struct command *c, command_output_fn on_output,
			   command_done_fn on_done, void *userdata);
/* Gives a command started with hold_stdin to a new owner: output limits,
 * secret mask and callbacks from spec, its stdin_data written and then stdin
 * closed.  -ESRCH if the command has ended. */
int command_adopt(struct command *c, const struct command_spec *spec,
		  command_output_fn on_output, command_done_fn on_done,
		  void *userdata);
struct output *command_output(struct command *c, bool is_stderr);
/* Kills the command's process group; on_done follows with the status. */
void command_kill(struct command *c);
/* Stops watching and closes everything; kills nothing. */
void command_free(struct command *c);
/* Kills and frees: for a box that lives on after the command. */
void command_discard(struct command *c);

#endif
