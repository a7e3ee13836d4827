/* How the held interpreter of a box made from the zygote is ending, told
 * from its C stack.  Python ends a program that ran to its end in
 * Py_RunMain, which finalizes the interpreter and then returns the exit
 * status 0; a SystemExit ends it through Py_Exit, with a status only that
 * caller knows.  The preload script ends an interpreter whose end would
 * show nothing without its finalization (usercustomize.py) only when
 * main_end_is_normal() says so. */
#ifndef ISOL8D_ZYGOTE_MAIN_END_H
#define ISOL8D_ZYGOTE_MAIN_END_H

#include <stdbool.h>

/* In the zygote, before any box: finds the two functions. */
void main_end_learn(void);

/* Whether Py_FinalizeEx, on this thread's stack, was called by Py_RunMain
 * itself.  False where that cannot be told (functions not found, no
 * unwind tables, a different path). */
bool main_end_is_normal(void);

#endif
