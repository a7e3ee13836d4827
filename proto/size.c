#include "size.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>

int size_parse(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t whole = 0;
	for (; isdigit((unsigned char)*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
	}
	/* Fractions are kept as a decimal numerator over a power of ten so
	 * "1.5g" is exact; more than 9 digits of fraction gains nothing. */
	uint64_t frac = 0, frac_div = 1;
	bool frac_rest = false; /* non-zero digits beyond the ninth */
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (frac_div < 1000000000ull) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				frac_div *= 10;
			} else if (*s != '0') {
				frac_rest = true;
			}
		}
	}
	uint64_t mult = 1;
	switch (tolower((unsigned char)*s)) {
	case 'k':
		mult = 1024ull;
		s++;
		break;
	case 'm':
		mult = 1024ull * 1024;
		s++;
		break;
	case 'g':
		mult = 1024ull * 1024 * 1024;
		s++;
		break;
	default:
		break;
	}
	if (tolower((unsigned char)*s) == 'b')
		s++;
	if (*s != '\0')
		return -EINVAL;
	if (mult == 1 && (frac != 0 || frac_rest))
		return -EINVAL; /* fractional bytes */
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	/* Parts of a byte left over from a fraction of a unit are dropped. */
	uint64_t part = frac * mult / frac_div;
	if (whole * mult > UINT64_MAX - part)
		return -ERANGE;
	*out = whole * mult + part;
	return 0;
}

void size_format_error(char *buf, size_t len, const char *value)
{
	snprintf(buf, len,
		 "Invalid memory limit format: \"%s\". Use e.g. \"512m\", "
		 "\"1g\".",
		 value);
}

void size_format(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = { 'g', 'm', 'k' };
	for (size_t i = 0; i < sizeof(units); i++) {
		uint64_t m = 1ull << (10 * (3 - i));
		if (bytes >= m && bytes % m == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes / m), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}
