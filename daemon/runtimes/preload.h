/* The scripts a pooled box's interpreter runs before its program, to wait
 * for the execution and then leave no trace (see preload/).  Each is a
 * NUL-terminated text compiled into the daemon. */
#ifndef ISOL8D_PRELOAD_H
#define ISOL8D_PRELOAD_H

#include <stddef.h>

/* Where in the box the script is written, as the box user; the script
 * removes the file and the directory, or the pool does once the script
 * says it waits (runtime.preload_stays). */
#define PRELOAD_DIR "/tmp/.isol8-preload"
/* What the script writes on stdout once it waits. */
#define PRELOAD_WAITING "isol8-waiting\n"

extern const char preload_python[];
extern const size_t preload_python_len;
extern const char preload_node[];
extern const size_t preload_node_len;
extern const char preload_bun[];
extern const size_t preload_bun_len;
extern const char preload_deno[];
extern const size_t preload_deno_len;
extern const char preload_bash[];
extern const size_t preload_bash_len;

#endif
