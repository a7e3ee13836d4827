/* Fuzz target: the TLS ClientHello reader the proxy runs on the first
 * bytes of an intercepted connection, as they arrive.
 *
 * Invariants checked besides memory safety:
 * - the result is one of the documented ones;
 * - a name given back is NUL-terminated, non-empty, lower case and made of
 *   host name characters only;
 * - reading is incremental: once a prefix of the bytes gives a verdict
 *   (a name or an error), the whole gives the same one, as the proxy
 *   stops reading at the first verdict. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/tls_sni.h"

#define HOST_SIZE 256

static void check_name(const char *host)
{
	size_t n = strnlen(host, HOST_SIZE);
	if (n == 0 || n == HOST_SIZE)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];
		if (isupper(c) ||
		    !(isalnum(c) || c == '-' || c == '.' || c == '_'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char whole[HOST_SIZE], part[HOST_SIZE];
	int r = tls_sni_parse(data, size, whole, sizeof(whole));
	if (r != 1 && r != 0 && r != -ENOENT && r != -EPROTO)
		abort();
	if (r == 1)
		check_name(whole);
	/* Two cut points taken from the input itself. */
	size_t cuts[2] = { size > 0 ? data[0] * size / 256 : 0,
			   size > 1 ? data[size - 1] * size / 256 : 0 };
	for (int i = 0; i < 2; i++) {
		int p = tls_sni_parse(data, cuts[i], part, sizeof(part));
		if (p == 0)
			continue;
		if (p != r || (p == 1 && strcmp(part, whole) != 0))
			abort();
	}
	return 0;
}
