#include "package_name.h"

#include <regex.h>
#include <stddef.h>

bool package_name_valid(const char *name)
{
	regex_t re;
	if (regcomp(&re, "^[@a-zA-Z0-9_./=-]+$", REG_EXTENDED | REG_NOSUB))
		return false;
	bool ok = regexec(&re, name, 0, NULL, 0) == 0 && name[0] != '-';
	regfree(&re);
	return ok;
}
