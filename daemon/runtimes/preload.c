/* preload/ compiled into the daemon; the Makefile states the
 * dependencies of this object on those files. */
#include "incbin.h"
#include "preload.h"

INCBIN(preload_python, "daemon/runtimes/preload/usercustomize.py");
INCBIN(preload_node, "daemon/runtimes/preload/node_preload.js");
INCBIN(preload_bun, "daemon/runtimes/preload/bun_preload.js");
INCBIN(preload_deno, "daemon/runtimes/preload/deno_preload.js");
INCBIN(preload_bash, "daemon/runtimes/preload/bash_preload.sh");
