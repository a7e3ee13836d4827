/* Between a box's init and the interpreter it holds (INIT_FD_HELD, in a
 * box made from a zygote): the init sends struct init_run and the working
 * directory (NUL-terminated) with the command's stdin, stdout and stderr;
 * the interpreter becomes the command (command_enter) and answers with
 * struct held_answer.  Once: then both close the socket. */
#ifndef ISOL8D_HELD_H
#define ISOL8D_HELD_H

#include <stdint.h>

struct held_answer {
	int32_t err; /* 0, or the errno of the failed step */
	int32_t pid; /* the interpreter's, in the box */
	char step[120];
};

#endif
