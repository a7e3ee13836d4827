/* The Makefile builds the program first and states the dependency:
 *   $(BUILD)/daemon/sandbox/init_exe.o: $(BUILD)/isol8-init
 * and names it in ISOL8_INIT_EXE. */
#include "init_exe.h"

#include "incbin.h"
#include "init_proto.h"
#include "memfd_sealed.h"

extern const char isol8_init_exe[];
extern const size_t isol8_init_exe_len;
INCBIN(isol8_init_exe, ISOL8_INIT_EXE);

int init_exe_open(void)
{
	return memfd_sealed(INIT_NAME, isol8_init_exe, isol8_init_exe_len,
			    true);
}
