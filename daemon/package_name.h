/* The package names installPackages and prebuiltImages accept. */
#ifndef ISOL8D_PACKAGE_NAME_H
#define ISOL8D_PACKAGE_NAME_H

#include <stdbool.h>

/* Letters, digits and @_./=- only, not starting with '-' (which a
 * package manager would take for an option). */
bool package_name_valid(const char *name);

#endif
