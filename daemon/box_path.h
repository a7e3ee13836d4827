/* Paths inside a box as clients name them, checked before any is used:
 * files, outputPaths, the working directory, file.put and file.get. */
#ifndef ISOL8D_BOX_PATH_H
#define ISOL8D_BOX_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Normalises path (relative ones are taken from /sandbox) and checks that
 * it stays inside /sandbox (or /tmp when allow_tmp).  0 or -EINVAL. */
int box_path_normalize(const char *path, bool allow_tmp, char *out,
		       size_t out_len);

#endif
