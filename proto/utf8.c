#include "utf8.h"

#include "strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	int n;
	uint32_t min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else
		return 0;
	uint32_t cp = c & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
		/* Overlong, surrogate and out-of-range forms show in the second
		 * byte already, as a strict decoder sees them. */
		if (i == 1 && ((n == 3 && c == 0xe0 && s[1] < 0xa0) ||
			       (n == 3 && c == 0xed && s[1] >= 0xa0) ||
			       (n == 4 && c == 0xf0 && s[1] < 0x90) ||
			       (n == 4 && c == 0xf4 && s[1] >= 0x90)))
			return 0;
	}
	return cp >= min ? n : 0;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		/* ASCII, the bulk of any JSON text, eight bytes at a time. */
		uint64_t w;
		while (len - i >= sizeof(w) &&
		       (memcpy(&w, p + i, sizeof(w)),
			(w & 0x8080808080808080ULL) == 0))
			i += sizeof(w);
		if (i == len)
			break;
		int n = utf8_seq(p + i, len - i);
		if (n <= 0)
			return false;
		i += (size_t)n;
	}
	return true;
}

size_t utf8_prefix(const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

long utf8_repair(const char *in, size_t len, bool final, struct strbuf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, run = 0;
	while (i < len) {
		int n = utf8_seq(s + i, len - i);
		if (n > 0) {
			i += (size_t)n;
			continue;
		}
		if (n < 0 && !final)
			break;
		if (strbuf_add(out, in + run, i - run) < 0 ||
		    strbuf_add(out, "\xef\xbf\xbd", 3) < 0)
			return -ENOMEM;
		i++;
		run = i;
	}
	if (strbuf_add(out, in + run, i - run) < 0)
		return -ENOMEM;
	return (long)i;
}
