/* profiles/strict.json, compiled into the daemon so that the default
 * profile is always there and always the one this build was tested with.
 *
 * .incbin reads the path relative to the compiler's working directory,
 * which is the repository root in the Makefile.  The assembler's reads are
 * invisible to -MMD, so the Makefile states the dependency itself:
 *   $(BUILD)/daemon/sandbox/seccomp_builtin.o: profiles/strict.json
 * The length is stored beside the bytes; a NUL follows them for anyone
 * who prints them. */
#include "seccomp.h"

__asm__(".section .rodata\n"
	".global seccomp_builtin_strict\n"
	".type seccomp_builtin_strict, @object\n"
	"seccomp_builtin_strict:\n"
	".incbin \"profiles/strict.json\"\n"
	"seccomp_builtin_strict_end:\n"
	".byte 0\n"
	".size seccomp_builtin_strict, . - seccomp_builtin_strict\n"
	".balign 8\n"
	".global seccomp_builtin_strict_len\n"
	".type seccomp_builtin_strict_len, @object\n"
	"seccomp_builtin_strict_len:\n"
	".quad seccomp_builtin_strict_end - seccomp_builtin_strict\n"
	".size seccomp_builtin_strict_len, 8\n"
	".previous\n");

_Static_assert(sizeof(size_t) == 8, "seccomp_builtin_strict_len is a .quad");
