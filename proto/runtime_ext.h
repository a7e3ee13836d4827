/* isol8's map from a file's extension to the runtime that runs it, shared
 * by the daemon and the client so both name the same runtime. */
#ifndef ISOL8_RUNTIME_EXT_H
#define ISOL8_RUNTIME_EXT_H

/* The runtime's name for a file name or bare extension (".py"), or NULL
 * when there is no extension or it is not one of isol8's. */
const char *runtime_ext_lookup(const char *name);

#endif
