/* profiles/strict.json, compiled into the daemon so that the default
 * profile is always there and always the one this build was tested with.
 * The Makefile makes this object depend on the JSON file. */
#include "seccomp.h"

__asm__(".section .rodata\n"
	".global seccomp_builtin_strict\n"
	".type seccomp_builtin_strict, @object\n"
	"seccomp_builtin_strict:\n"
	".incbin \"profiles/strict.json\"\n"
	"seccomp_builtin_strict_end:\n"
	".byte 0\n"
	".balign 8\n"
	".global seccomp_builtin_strict_len\n"
	".type seccomp_builtin_strict_len, @object\n"
	"seccomp_builtin_strict_len:\n"
	".quad seccomp_builtin_strict_end - seccomp_builtin_strict\n"
	".previous\n");
