/* The package names installPackages and prebuiltImages accept. */
#ifndef ISOL8D_PACKAGE_NAME_H
#define ISOL8D_PACKAGE_NAME_H

#include <stdbool.h>

/* Letters, digits and @_./=- only, not starting with '-' (which a
 * package manager would take for an option). */
bool package_name_valid(const char *name);
/* A Debian package, NAME or NAME=VERSION (apt-get's pin), with the
 * characters Debian allows (isol8-image-build checks the same). */
bool debian_package_valid(const char *name);

#endif
