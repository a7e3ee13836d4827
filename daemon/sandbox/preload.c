/* preload/ compiled into the daemon; the Makefile states the
 * dependencies of this object on those files. */
#include "incbin.h"
#include "preload.h"

INCBIN(preload_python, "daemon/sandbox/preload/usercustomize.py");
INCBIN(preload_node, "daemon/sandbox/preload/node_preload.js");
INCBIN(preload_bash, "daemon/sandbox/preload/bash_preload.sh");
