/* A file of the source tree compiled into the daemon as bytes, followed by
 * a NUL, and its length beside it.
 *
 * .incbin reads the path relative to the compiler's working directory,
 * which is the repository root in the Makefile.  The assembler's reads are
 * invisible to -MMD, so the Makefile states each such dependency itself. */
#ifndef ISOL8D_INCBIN_H
#define ISOL8D_INCBIN_H

#include <stddef.h>

_Static_assert(sizeof(size_t) == 8, "the length is stored as a .quad");

#define INCBIN(sym, file)                                                      \
	__asm__(".section .rodata\n"                                           \
		".global " #sym "\n"                                           \
		".type " #sym ", @object\n" #sym ":\n"                         \
		".incbin \"" file "\"\n" #sym "_end:\n"                        \
		".byte 0\n"                                                    \
		".size " #sym ", . - " #sym "\n"                               \
		".balign 8\n"                                                  \
		".global " #sym "_len\n"                                       \
		".type " #sym "_len, @object\n" #sym "_len:\n"                 \
		".quad " #sym "_end - " #sym "\n"                              \
		".size " #sym "_len, 8\n"                                      \
		".previous\n")

#endif
