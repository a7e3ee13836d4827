#include "ws_frame.h"

#include "base64.h"
#include "sha1.h"
#include "utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RFC 6455, 1.3: appended to the client's key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	size_t klen = strlen(key);
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	if (klen != 24 || base64_decode(key, klen, &raw, &raw_len) < 0)
		return -EINVAL;
	free(raw);
	if (raw_len != 16)
		return -EINVAL;
	char joined[24 + sizeof(ws_guid)];
	memcpy(joined, key, 24);
	memcpy(joined + 24, ws_guid, sizeof(ws_guid));
	uint8_t digest[SHA1_LEN];
	sha1(joined, 24 + sizeof(ws_guid) - 1, digest);
	base64_encode_to(digest, sizeof(digest), out);
	return 0;
}

void ws_reader_init(struct ws_reader *r, size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->max_message = max_message;
}

void ws_reader_free(struct ws_reader *r)
{
	strbuf_free(&r->in);
	strbuf_free(&r->msg);
}

int ws_reader_feed(struct ws_reader *r, const void *data, size_t len)
{
	/* What was taken goes, so the buffer holds at most one frame and
	 * the piece of the next that came with it. */
	if (r->off) {
		memmove(r->in.p, r->in.p + r->off, r->in.len - r->off);
		r->in.len -= r->off;
		r->in.p[r->in.len] = '\0';
		r->off = 0;
	}
	return strbuf_add(&r->in, data, len);
}

static int fail(struct ws_reader *r, uint16_t code, const char *reason)
{
	r->error_code = code;
	r->error_reason = reason;
	return -EPROTO;
}

/* Codes a peer may send (RFC 6455 7.4; 1012-1014 registered since). */
static bool close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

static int control_frame(struct ws_reader *r, enum ws_opcode op,
			 const unsigned char *p, size_t len,
			 struct ws_message *m)
{
	m->opcode = op;
	m->code = 0;
	memcpy(r->control, p, len);
	r->control[len] = '\0';
	m->data = r->control;
	m->len = len;
	if (op != WS_CLOSE)
		return 1;
	if (len == 1)
		return fail(r, WS_CLOSE_PROTOCOL, "Close frame of one byte");
	if (len == 0) {
		m->code = WS_CLOSE_NO_STATUS;
		return 1;
	}
	m->code = (uint16_t)(p[0] << 8 | p[1]);
	if (!close_code_valid(m->code))
		return fail(r, WS_CLOSE_PROTOCOL, "Invalid close code");
	m->data += 2;
	m->len -= 2;
	if (!utf8_valid(m->data, m->len))
		return fail(r, WS_CLOSE_BAD_DATA, "Close reason is not UTF-8");
	return 1;
}

/* The frame's header, checked: its length in *hdr and the payload's in
 * *plen; 0 when more bytes are needed. */
static int frame_header(struct ws_reader *r, const unsigned char *p,
			size_t avail, size_t *hdr, uint64_t *plen)
{
	if (avail < 2)
		return 0;
	enum ws_opcode op = p[0] & 0x0f;
	bool fin = p[0] & 0x80, control = op & 0x08;
	unsigned len7 = p[1] & 0x7f;
	if (p[0] & 0x70)
		return fail(r, WS_CLOSE_PROTOCOL, "Reserved bits set");
	if (op != WS_CONTINUATION && op != WS_TEXT && op != WS_BINARY &&
	    op != WS_CLOSE && op != WS_PING && op != WS_PONG)
		return fail(r, WS_CLOSE_PROTOCOL, "Unknown opcode");
	if (control && (!fin || len7 > WS_CONTROL_MAX))
		return fail(r, WS_CLOSE_PROTOCOL,
			    "Control frames must be whole and short");
	if (!(p[1] & 0x80))
		return fail(r, WS_CLOSE_PROTOCOL,
			    "Client frames must be masked");
	if (op == WS_CONTINUATION && !r->msg_opcode)
		return fail(r, WS_CLOSE_PROTOCOL,
			    "Continuation frame outside a message");
	if ((op == WS_TEXT || op == WS_BINARY) && r->msg_opcode)
		return fail(r, WS_CLOSE_PROTOCOL,
			    "New message before the last one ended");
	size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	if (avail < 2 + ext)
		return 0;
	*plen = len7;
	if (ext) {
		*plen = 0;
		for (size_t i = 0; i < ext; i++)
			*plen = *plen << 8 | p[2 + i];
	}
	/* Refused from the length, before any of the payload is kept. */
	if (!control && *plen > r->max_message - r->msg.len)
		return fail(r, WS_CLOSE_TOO_BIG, "Message too big");
	*hdr = 2 + ext + 4;
	return avail >= *hdr;
}

int ws_reader_next(struct ws_reader *r, struct ws_message *m)
{
	if (r->error_code)
		return -EPROTO;
	if (r->delivered) {
		strbuf_reset(&r->msg);
		r->delivered = false;
	}
	for (;;) {
		unsigned char *p = (unsigned char *)r->in.p + r->off;
		size_t avail = r->in.len - r->off, hdr = 0;
		uint64_t plen = 0;
		int err = frame_header(r, p, avail, &hdr, &plen);
		if (err <= 0)
			return err;
		if (avail - hdr < plen)
			return 0;
		enum ws_opcode op = p[0] & 0x0f;
		bool fin = p[0] & 0x80;
		unsigned char *payload = p + hdr;
		for (size_t i = 0; i < plen; i++)
			payload[i] ^= p[hdr - 4 + i % 4];
		r->off += hdr + plen;
		if (op & 0x08)
			return control_frame(r, op, payload, plen, m);
		if (strbuf_add(&r->msg, payload, plen) < 0)
			return fail(r, WS_CLOSE_INTERNAL, "Out of memory");
		if (op != WS_CONTINUATION)
			r->msg_opcode = op;
		if (!fin)
			continue;
		m->opcode = r->msg_opcode;
		m->code = 0;
		m->data = r->msg.p ? r->msg.p : "";
		m->len = r->msg.len;
		r->msg_opcode = WS_CONTINUATION;
		r->delivered = true;
		if (m->opcode == WS_TEXT && !utf8_valid(m->data, m->len))
			return fail(r, WS_CLOSE_BAD_DATA,
				    "Text message is not UTF-8");
		return 1;
	}
}

int ws_frame_append(struct strbuf *out, enum ws_opcode opcode,
		    const void *payload, size_t len)
{
	if ((opcode & 0x08) && len > WS_CONTROL_MAX)
		return -EINVAL;
	unsigned char h[10];
	size_t n = 2;
	h[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		n = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] =
				(unsigned char)((uint64_t)len >> (56 - 8 * i));
		n = 10;
	}
	size_t before = out->len;
	int err = strbuf_add(out, h, n);
	if (err == 0 && len)
		err = strbuf_add(out, payload, len);
	if (err < 0 && out->p) {
		out->len = before;
		out->p[before] = '\0';
	}
	return err;
}

int ws_close_append(struct strbuf *out, uint16_t code, const char *reason)
{
	char p[WS_CONTROL_MAX];
	size_t n = utf8_prefix(reason, WS_CONTROL_MAX - 2);
	p[0] = (char)(code >> 8);
	p[1] = (char)code;
	memcpy(p + 2, reason, n);
	return ws_frame_append(out, WS_CLOSE, p, n + 2);
}
