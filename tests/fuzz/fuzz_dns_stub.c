/* Fuzz target: a UDP datagram as a box sends it to the DNS stub, through
 * the query parser and, when it parses, the answer builder.
 *
 * Invariants checked besides memory safety:
 * - a name given back is lower case, at most 253 bytes, with no empty
 *   label, no trailing dot and only host name characters;
 * - the question is copied as it came, and the answer is within
 *   DNS_ANSWER_MAX: the records that do not fit are left out, never
 *   written past the buffer;
 * - the answer's header says what it holds: the id, QR set, rcode, one
 *   question and as many answers as were written. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns_stub.h"

#define HEADER 12

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void check_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 253 || name[0] == '.' || name[n - 1] == '.' ||
	    strstr(name, ".."))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (isupper(c) ||
		    !(isalnum(c) || c == '-' || c == '_' || c == '.'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_question q;
	if (dns_parse_query(data, size, &q) != 0)
		return 0;
	check_name(q.name);
	if (q.qlen < 5 || HEADER + q.qlen > size ||
	    memcmp(q.question, data + HEADER, q.qlen) != 0)
		abort();
	/* As many addresses as the input's last byte says, from its bytes. */
	static unsigned char addrs[64][16];
	size_t naddrs = data[size - 1] % 64;
	for (size_t i = 0; i < naddrs; i++)
		for (size_t k = 0; k < 16; k++)
			addrs[i][k] = data[(i * 16 + k) % size];
	unsigned char out[DNS_ANSWER_MAX + 64];
	memset(out, 0xa5, sizeof(out));
	unsigned rcode = data[0] % 4;
	size_t n = dns_build_answer(
		&q, rcode, (const unsigned char(*)[16])addrs, naddrs, out);
	for (size_t i = DNS_ANSWER_MAX; i < sizeof(out); i++)
		if (out[i] != 0xa5)
			abort();
	size_t rdlen = q.type == DNS_TYPE_AAAA ? 16 : 4;
	size_t fit = (DNS_ANSWER_MAX - HEADER - q.qlen) / (12 + rdlen);
	size_t written = naddrs < fit ? naddrs : fit;
	if (n != HEADER + q.qlen + written * (12 + rdlen) || n > DNS_ANSWER_MAX)
		abort();
	if (get16(out) != q.id || !(out[2] & 0x80) || (out[3] & 0xf) != rcode ||
	    get16(out + 4) != 1 || get16(out + 6) != written ||
	    memcmp(out + HEADER, q.question, q.qlen) != 0)
		abort();
	return 0;
}
