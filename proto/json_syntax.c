#include "json_syntax.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NONFINITE "NaN and Infinity are not JSON numbers"

/* Where the check is, and the first error it met. */
struct cursor {
	const unsigned char *s;
	size_t len;
	size_t pos;
	size_t at;
	const char *reason; /* NULL with at set: nesting too deep */
};

/* What is expected next.  The ..._FIRST states are right after an opening
 * bracket, where the closing one may come instead. */
enum state {
	S_VALUE,
	S_ELEM_FIRST,
	S_KEY,
	S_KEY_FIRST,
	S_COLON,
	S_AFTER, /* a value is complete: ',' or a closing bracket, or the end */
};

static int fail(struct cursor *c, size_t at, const char *reason)
{
	c->at = at;
	c->reason = reason;
	return -EINVAL;
}

static bool looking_at(const struct cursor *c, size_t pos, const char *word)
{
	size_t n = strlen(word);
	return c->len - pos >= n && memcmp(c->s + pos, word, n) == 0;
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Characters that, right after a number or a literal, make one token of it
 * to the eye: "0x1f", "1.2.3", "nullx". */
static bool is_word(unsigned char ch)
{
	return is_digit(ch) || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') ||
	       ch == '_' || ch == '.' || ch == '+' || ch == '-';
}

static bool word_follows(const struct cursor *c)
{
	return c->pos < c->len && is_word(c->s[c->pos]);
}

/* RFC 8259 whitespace only: json-c also skips \f and \v. */
static void skip_ws(struct cursor *c)
{
	while (c->pos < c->len &&
	       (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
		c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
		c->pos++;
}

static bool is_escape(unsigned char ch)
{
	switch (ch) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return true;
	default:
		return false;
	}
}

/* The reason for a character other dialects allow where it stands, or
 * NULL; quotes only where a value or key begins. */
static const char *foreign(const struct cursor *c, bool quotes)
{
	unsigned char ch = c->s[c->pos];
	if (quotes && ch == '\'')
		return "single-quoted string";
	if (ch == '/')
		return "comments are not JSON";
	if (ch == '\f' || ch == '\v')
		return "whitespace other than space, tab, LF and CR";
	if (ch < 0x20)
		return "control character outside a string";
	if (looking_at(c, c->pos, "\xef\xbb\xbf"))
		return "byte order mark";
	return NULL;
}

static int unexpected(struct cursor *c, bool quotes, const char *otherwise)
{
	const char *r = foreign(c, quotes);
	return fail(c, c->pos, r ? r : otherwise);
}

/* The four hex digits at pos as a number, or -1. */
static long hex4(const struct cursor *c, size_t pos)
{
	if (c->len - pos < 4)
		return -1;
	long v = 0;
	for (size_t i = pos; i < pos + 4; i++) {
		unsigned char ch = c->s[i];
		int d;
		if (is_digit(ch))
			d = ch - '0';
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			d = (ch | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Whether none of the eight bytes at p ends a plain run in a string: no
 * quote, backslash or control character (bit tricks on a 64-bit word;
 * bytes >= 0x80 never match). */
static bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	uint64_t q = w ^ (ones * '"');
	uint64_t b = w ^ (ones * '\\');
	uint64_t special = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
			   ((b - ones) & ~b);
	return (special & (ones * 0x80)) == 0;
}

/* A string from its opening quote at c->pos; leaves c->pos after the
 * closing one.  Bytes of multibyte characters are all >= 0x80, so they
 * pass one at a time.  A key may not hold \u0000: json-c would cut it
 * there, and a client's name would quietly become another. */
static int scan_string(struct cursor *c, bool key)
{
	size_t start = c->pos++;
	while (c->pos < c->len) {
		while (c->len - c->pos >= 8 && plain8(c->s + c->pos))
			c->pos += 8;
		if (c->pos == c->len)
			break;
		unsigned char ch = c->s[c->pos];
		if (ch == '"') {
			c->pos++;
			return 0;
		}
		if (ch < 0x20)
			return fail(c, c->pos, "control character in a string");
		if (ch != '\\') {
			c->pos++;
			continue;
		}
		size_t esc = c->pos;
		if (c->len - esc < 2)
			break;
		ch = c->s[esc + 1];
		if (ch != 'u') {
			if (!is_escape(ch))
				return fail(c, esc,
					    "invalid escape in a string");
			c->pos = esc + 2;
			continue;
		}
		long cp = hex4(c, esc + 2);
		if (cp < 0)
			return fail(c, esc, "\\u needs four hex digits");
		c->pos = esc + 6;
		if (cp == 0 && key)
			return fail(c, esc, "NUL character (\\u0000) in a key");
		/* json-c would quietly turn a lone surrogate into U+FFFD. */
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(c, esc, "lone low surrogate escape");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (!looking_at(c, c->pos, "\\u"))
				return fail(c, esc,
					    "lone high surrogate escape");
			long lo = hex4(c, c->pos + 2);
			if (lo < 0)
				return fail(c, c->pos,
					    "\\u needs four hex digits");
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(c, esc,
					    "lone high surrogate escape");
			c->pos += 6;
		}
	}
	return fail(c, start, "unterminated string");
}

/* Digits from c->pos; false when there are none. */
static bool digits(struct cursor *c)
{
	size_t from = c->pos;
	while (c->pos < c->len && is_digit(c->s[c->pos]))
		c->pos++;
	return c->pos > from;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? from c->pos, which holds
 * '-' or a digit.  Any size and exponent is fine here. */
static int scan_number(struct cursor *c)
{
	size_t start = c->pos;
	if (c->s[c->pos] == '-') {
		c->pos++;
		if (looking_at(c, c->pos, "Infinity"))
			return fail(c, start, NONFINITE);
	}
	if (c->pos < c->len && c->s[c->pos] == '0') {
		c->pos++;
		if (c->pos < c->len && is_digit(c->s[c->pos]))
			return fail(c, start, "leading zero in a number");
	} else if (!digits(c)) {
		return fail(c, c->pos, "expected a digit after '-'");
	}
	if (c->pos < c->len && c->s[c->pos] == '.') {
		c->pos++;
		if (!digits(c))
			return fail(c, c->pos,
				    "expected a digit after the decimal point");
	}
	if (c->pos < c->len && (c->s[c->pos] | 0x20) == 'e') {
		c->pos++;
		if (c->pos < c->len &&
		    (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
			c->pos++;
		if (!digits(c))
			return fail(c, c->pos,
				    "expected a digit in the exponent");
	}
	if (word_follows(c))
		return fail(c, start, "malformed number");
	return 0;
}

static int scan_literal(struct cursor *c, const char *word)
{
	size_t start = c->pos;
	if (!looking_at(c, start, word))
		return fail(c, start, "invalid literal");
	c->pos += strlen(word);
	if (word_follows(c))
		return fail(c, start, "invalid literal");
	return 0;
}

/* A scalar, or the reason why none starts at c->pos.  after_comma: in an
 * array, right after a ','. */
static int scan_scalar(struct cursor *c, bool after_comma)
{
	unsigned char ch = c->s[c->pos];
	if (ch == '"')
		return scan_string(c, false);
	if (ch == '-' || is_digit(ch))
		return scan_number(c);
	if (ch == 't')
		return scan_literal(c, "true");
	if (ch == 'f')
		return scan_literal(c, "false");
	if (ch == 'n')
		return scan_literal(c, "null");
	if (looking_at(c, c->pos, "NaN") || looking_at(c, c->pos, "Infinity"))
		return fail(c, c->pos, NONFINITE);
	if (ch == '+' || ch == '.')
		return fail(c, c->pos,
			    "a number must begin with a digit or '-'");
	if (ch == ']' && after_comma)
		return fail(c, c->pos, "trailing comma");
	return unexpected(c, true, "expected a value");
}

static int bad_key(struct cursor *c, bool after_comma)
{
	unsigned char ch = c->s[c->pos];
	if (ch == '}' && after_comma)
		return fail(c, c->pos, "trailing comma");
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
		return fail(c, c->pos, "unquoted key");
	return unexpected(c, true, "expected a string key");
}

/* The open containers are a stack of bits, set for an object, so that
 * nothing is allocated and nothing recurses. */
static bool in_object(const unsigned char *objects, unsigned depth)
{
	unsigned d = depth - 1;
	return depth > 0 && (objects[d / CHAR_BIT] >> (d % CHAR_BIT)) & 1;
}

static void push(unsigned char *objects, unsigned depth, bool object)
{
	unsigned char bit = (unsigned char)(1u << (depth % CHAR_BIT));
	if (object)
		objects[depth / CHAR_BIT] |= bit;
	else
		objects[depth / CHAR_BIT] &= (unsigned char)~bit;
}

static int check(struct cursor *c, unsigned max_depth)
{
	unsigned char objects[JSON_SYNTAX_DEPTH_MAX / CHAR_BIT] = { 0 };
	unsigned depth = 0;
	enum state st = S_VALUE;
	for (;;) {
		skip_ws(c);
		if (c->pos == c->len) {
			if (st == S_AFTER && depth == 0)
				return 0;
			return fail(c, c->pos,
				    st == S_VALUE && depth == 0
					    ? "no value"
					    : "the text ends early");
		}
		unsigned char ch = c->s[c->pos];
		bool obj = in_object(objects, depth);
		int r = 0;
		switch (st) {
		case S_AFTER:
			if (depth == 0) {
				r = unexpected(c, false,
					       "trailing data after the value");
			} else if (ch == ',') {
				c->pos++;
				st = obj ? S_KEY : S_VALUE;
			} else if (ch == (obj ? '}' : ']')) {
				c->pos++;
				depth--;
			} else {
				r = unexpected(c, false,
					       obj ? "expected ',' or '}'"
						   : "expected ',' or ']'");
			}
			break;
		case S_KEY_FIRST:
		case S_KEY:
			if (ch == '}' && st == S_KEY_FIRST) {
				c->pos++;
				depth--;
				st = S_AFTER;
			} else if (ch == '"') {
				r = scan_string(c, true);
				st = S_COLON;
			} else {
				r = bad_key(c, st == S_KEY);
			}
			break;
		case S_COLON:
			if (ch == ':') {
				c->pos++;
				st = S_VALUE;
			} else {
				r = unexpected(c, false,
					       "expected ':' after a key");
			}
			break;
		case S_ELEM_FIRST:
		case S_VALUE:
			if (ch == ']' && st == S_ELEM_FIRST) {
				c->pos++;
				depth--;
				st = S_AFTER;
			} else if (ch == '[' || ch == '{') {
				if (depth >= max_depth)
					return fail(c, c->pos, NULL);
				push(objects, depth, ch == '{');
				depth++;
				c->pos++;
				st = ch == '{' ? S_KEY_FIRST : S_ELEM_FIRST;
			} else {
				r = scan_scalar(c, st == S_VALUE && depth > 0 &&
							   !obj);
				st = S_AFTER;
			}
			break;
		}
		if (r < 0)
			return r;
	}
}

int json_syntax_check(const char *text, size_t len, unsigned max_depth,
		      struct error *e)
{
	struct cursor c = { .s = (const unsigned char *)text, .len = len };
	if (max_depth > JSON_SYNTAX_DEPTH_MAX)
		max_depth = JSON_SYNTAX_DEPTH_MAX;
	int r = check(&c, max_depth);
	if (r < 0 && c.reason)
		return error_set(e, ERR_INVALID_ARGUMENT, r,
				 "invalid JSON at byte %zu: %s", c.at,
				 c.reason);
	if (r < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, r,
				 "invalid JSON at byte %zu: nesting deeper "
				 "than %u",
				 c.at, max_depth);
	return r;
}
