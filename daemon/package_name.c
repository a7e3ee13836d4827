#include "package_name.h"

#include <regex.h>
#include <stddef.h>

static bool matches(const char *pattern, const char *name)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return false;
	bool ok = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

bool package_name_valid(const char *name)
{
	return matches("^[@a-zA-Z0-9_./=-]+$", name) && name[0] != '-';
}

bool debian_package_valid(const char *name)
{
	return matches("^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$", name);
}
