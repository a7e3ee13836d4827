/* Read-only data in a memfd that no one can change: the boxes' init, the
 * zygote's module, seccomp exports shared by boxes. */
#ifndef ISOL8D_MEMFD_SEALED_H
#define ISOL8D_MEMFD_SEALED_H

#include <stdbool.h>
#include <stddef.h>

/* A memfd named name (O_CLOEXEC) holding len bytes of data, sealed against
 * any change; exec: it may be executed or mapped executable.  The fd, or
 * -errno. */
int memfd_sealed(const char *name, const void *data, size_t len, bool exec);
/* Seals fd, a memfd made with MFD_ALLOW_SEALING, the same way. */
int memfd_seal(int fd);
/* As memfd_sealed, but not sealed. */
int memfd_holding(const char *name, const void *data, size_t len, bool exec);

#endif
