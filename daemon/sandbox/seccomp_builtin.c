/* profiles/strict.json, compiled into the daemon so that the default
 * profile is always there and always the one this build was tested with.
 * The Makefile states the dependency:
 *   $(BUILD)/daemon/sandbox/seccomp_builtin.o: profiles/strict.json */
#include "incbin.h"
#include "seccomp.h"

INCBIN(seccomp_builtin_strict, "profiles/strict.json");
