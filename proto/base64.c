#include "base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two characters for every 12 bits: half the lookups of one per 6. */
static char pairs[4096][2];

__attribute__((constructor)) static void pairs_init(void)
{
	for (unsigned v = 0; v < 4096; v++) {
		pairs[v][0] = alphabet[v >> 6];
		pairs[v][1] = alphabet[v & 63];
	}
}

char *base64_encode(const void *data, size_t len)
{
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (out)
		base64_encode_to(data, len, out);
	return out;
}

size_t base64_encode_to(const void *data, size_t len, char *out)
{
	const unsigned char *in = data;
	char *o = out;
	size_t i = 0;
	/* Six bytes at a time, read as eight (two beyond them), while those
	 * are there. */
	for (; i + 8 <= len; i += 6) {
		uint64_t v;
		memcpy(&v, in + i, 8);
		v = __builtin_bswap64(v);
		memcpy(o, pairs[v >> 52], 2);
		memcpy(o + 2, pairs[(v >> 40) & 4095], 2);
		memcpy(o + 4, pairs[(v >> 28) & 4095], 2);
		memcpy(o + 6, pairs[(v >> 16) & 4095], 2);
		o += 8;
	}
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		memcpy(o, pairs[v >> 12], 2);
		memcpy(o + 2, pairs[v & 4095], 2);
		o += 4;
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* A table, not a chain of comparisons: file contents of megabytes pass
 * through here.  -1 marks a byte outside the alphabet. */
static const signed char value_table[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63, 52, 53, 54, 55, 56, 57,
	58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,	1,  2,	3,  4,	5,  6,
	7,  8,	9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
	25, -1, -1, -1, -1, -1, -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
	37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1,
};

/* Each character's bits already in place for its position in a group;
 * a character outside the alphabet sets the top bit. */
static uint32_t placed[4][256];

__attribute__((constructor)) static void placed_init(void)
{
	for (int c = 0; c < 256; c++)
		for (int k = 0; k < 4; k++)
			placed[k][c] = value_table[c] < 0
					       ? 0x80000000u
					       : (uint32_t)value_table[c]
							 << (18 - 6 * k);
}

static int value_of(char c)
{
	return value_table[(unsigned char)c];
}

int base64_decode(const char *text, size_t len, unsigned char **out,
		  size_t *out_len)
{
	if (len % 4 != 0)
		return -EINVAL;
	unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0, i = 0;
	/* Whole groups before the last one, which alone may hold padding. */
	const unsigned char *t = (const unsigned char *)text;
	/* Two groups at a time, their six bytes stored as eight: the two
	 * beyond are inside the buffer, which still has the last group's
	 * room, and are overwritten by what follows. */
	for (; len >= 12 && i < len - 12; i += 8) {
		uint32_t a = placed[0][t[i]] | placed[1][t[i + 1]] |
			     placed[2][t[i + 2]] | placed[3][t[i + 3]];
		uint32_t b = placed[0][t[i + 4]] | placed[1][t[i + 5]] |
			     placed[2][t[i + 6]] | placed[3][t[i + 7]];
		if ((a | b) & 0x80000000u) {
			free(buf);
			return -EINVAL;
		}
		uint64_t v = __builtin_bswap64((uint64_t)a << 40 |
					       (uint64_t)b << 16);
		memcpy(buf + n, &v, 8);
		n += 6;
	}
	for (; len >= 4 && i < len - 4; i += 4) {
		uint32_t w = placed[0][t[i]] | placed[1][t[i + 1]] |
			     placed[2][t[i + 2]] | placed[3][t[i + 3]];
		if (w & 0x80000000u) {
			free(buf);
			return -EINVAL;
		}
		buf[n] = (unsigned char)(w >> 16);
		buf[n + 1] = (unsigned char)(w >> 8);
		buf[n + 2] = (unsigned char)w;
		n += 3;
	}
	for (; i < len; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = text[i + k];
			bool last_group = i + 4 == len;
			if (c == '=' && last_group && k >= 2 &&
			    (k == 3 || text[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = value_of(c);
			if (v[k] < 0 || pad) {
				free(buf);
				return -EINVAL;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[n++] = (unsigned char)(w >> 16);
		if (pad < 2)
			buf[n++] = (unsigned char)(w >> 8);
		if (pad < 1)
			buf[n++] = (unsigned char)w;
	}
	*out = buf;
	*out_len = n;
	return 0;
}
