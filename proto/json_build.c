#include "json_build.h"

#include <errno.h>
#include <json-c/printbuf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Where building is in a text already known to be valid JSON, so that
 * nothing here re-checks the syntax. */
struct reader {
	const char *s;
	size_t pos;
};

static void skip_ws(struct reader *r)
{
	while (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
	       r->s[r->pos] == '\n' || r->s[r->pos] == '\r')
		r->pos++;
}

static uint32_t hex4(const char *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char ch = (unsigned char)p[i];
		v = v * 16 + (ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The bytes of the string whose opening quote is at r->pos, escapes
 * decoded, into a new buffer; r->pos ends after the closing quote. */
static int decode_string(struct reader *r, char **out, size_t *out_len)
{
	const char *start = r->s + r->pos + 1;
	size_t raw = 0;
	for (;;) {
		raw += strcspn(start + raw, "\"\\");
		if (start[raw] == '"')
			break;
		raw += 2; /* the escape's letter; \u's digits are plain */
	}
	r->pos += raw + 2;
	/* An escape never decodes to more bytes than it takes. */
	char *buf = malloc(raw + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < raw;) {
		const char *esc = memchr(start + i, '\\', raw - i);
		size_t plain = esc ? (size_t)(esc - (start + i)) : raw - i;
		memcpy(buf + n, start + i, plain);
		n += plain;
		i += plain;
		if (i == raw)
			break;
		char e = start[i + 1];
		i += 2;
		switch (e) {
		case 'b':
			buf[n++] = '\b';
			break;
		case 'f':
			buf[n++] = '\f';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp = hex4(start + i);
			i += 4;
			/* The syntax check let only whole pairs through. */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = hex4(start + i + 2);
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			n += put_utf8(buf + n, cp);
			break;
		}
		default: /* '"', '\\' and '/' stand for themselves */
			buf[n++] = e;
			break;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

static int string(struct reader *r, json_object **out)
{
	const char *start = r->s + r->pos + 1;
	size_t plain = strcspn(start, "\"\\");
	if (start[plain] == '"') {
		r->pos += plain + 2;
		*out = json_object_new_string_len(start, (int)plain);
		return *out ? 0 : -ENOMEM;
	}
	char *buf;
	size_t len;
	int e = decode_string(r, &buf, &len);
	if (e < 0)
		return e;
	*out = json_object_new_string_len(buf, (int)len);
	free(buf);
	return *out ? 0 : -ENOMEM;
}

/* As json-c: an integer beyond int64 (or uint64 when positive) clamps,
 * a fraction or exponent makes a double that keeps its text. */
static int number(struct reader *r, json_object **out)
{
	const char *start = r->s + r->pos;
	size_t len = strspn(start, "-+.eE0123456789");
	r->pos += len;
	char *text = strndup(start, len);
	if (!text)
		return -ENOMEM;
	if (strpbrk(text, ".eE"))
		*out = json_object_new_double_s(strtod(text, NULL), text);
	else if (text[0] == '-')
		*out = json_object_new_int64(strtoll(text, NULL, 10));
	else {
		unsigned long long u = strtoull(text, NULL, 10);
		*out = u <= INT64_MAX ? json_object_new_int64((int64_t)u)
				      : json_object_new_uint64(u);
	}
	free(text);
	return *out ? 0 : -ENOMEM;
}

static int value(struct reader *r, json_object **out);

static int array(struct reader *r, json_object **out)
{
	json_object *a = json_object_new_array();
	if (!a)
		return -ENOMEM;
	r->pos++;
	skip_ws(r);
	if (r->s[r->pos] == ']') {
		r->pos++;
		*out = a;
		return 0;
	}
	for (;;) {
		json_object *v = NULL;
		int e = value(r, &v);
		if (e == 0 && json_object_array_add(a, v) < 0) {
			json_object_put(v);
			e = -ENOMEM;
		}
		if (e < 0) {
			json_object_put(a);
			return e;
		}
		skip_ws(r);
		if (r->s[r->pos++] == ']')
			break;
	}
	*out = a;
	return 0;
}

static int object(struct reader *r, json_object **out)
{
	json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	r->pos++;
	skip_ws(r);
	if (r->s[r->pos] == '}') {
		r->pos++;
		*out = o;
		return 0;
	}
	for (;;) {
		skip_ws(r);
		char *key = NULL;
		size_t key_len;
		int e = decode_string(r, &key, &key_len);
		json_object *v = NULL;
		if (e == 0) {
			skip_ws(r);
			r->pos++; /* ':' */
			e = value(r, &v);
		}
		/* A key holding "\u0000" ends there, as in json-c. */
		if (e == 0 && json_object_object_add(o, key, v) < 0) {
			json_object_put(v);
			e = -ENOMEM;
		}
		free(key);
		if (e < 0) {
			json_object_put(o);
			return e;
		}
		skip_ws(r);
		if (r->s[r->pos++] == '}')
			break;
	}
	*out = o;
	return 0;
}

static int value(struct reader *r, json_object **out)
{
	skip_ws(r);
	*out = NULL;
	switch (r->s[r->pos]) {
	case '{':
		return object(r, out);
	case '[':
		return array(r, out);
	case '"':
		return string(r, out);
	case 't':
		r->pos += 4;
		*out = json_object_new_boolean(1);
		break;
	case 'f':
		r->pos += 5;
		*out = json_object_new_boolean(0);
		break;
	case 'n':
		r->pos += 4;
		return 0;
	default:
		return number(r, out);
	}
	return *out ? 0 : -ENOMEM;
}

int json_build(const char *text, json_object **out)
{
	struct reader r = { .s = text };
	return value(&r, out);
}

static int verbatim_to_json(json_object *jso, struct printbuf *pb, int level,
			    int flags)
{
	(void)level;
	(void)flags;
	if (printbuf_memappend(pb, "\"", 1) < 0 ||
	    printbuf_memappend(pb, json_object_get_string(jso),
			       json_object_get_string_len(jso)) < 0 ||
	    printbuf_memappend(pb, "\"", 1) < 0)
		return -1;
	return 0;
}

json_object *json_string_verbatim(const char *s, size_t len)
{
	json_object *o = json_object_new_string_len(s, (int)len);
	if (o)
		json_object_set_serializer(o, verbatim_to_json, NULL, NULL);
	return o;
}

size_t json_string_size(const char *s, size_t len)
{
	size_t n = 2;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c == '\b' || c == '\f' ||
		    c == '\n' || c == '\r' || c == '\t')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}
