/* WebSocket (RFC 6455), the server's side: the handshake's accept key,
 * messages out of a client's byte stream, frames to send.  No extensions
 * and no subprotocols are negotiated, so any RSV bit is an error. */
#ifndef ISOL8_WS_FRAME_H
#define ISOL8_WS_FRAME_H

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */
#define WS_CONTROL_MAX 125

enum ws_opcode {
	WS_CONTINUATION = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

/* Close codes (RFC 6455, 7.4.1). */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005, /* received without a code; never sent */
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key; -EINVAL unless
 * the key is the base64 of 16 bytes. */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* One message, or one control frame (which may come between the
 * fragments of a message).  data is borrowed until the next call and
 * NUL-terminated; for WS_CLOSE, code and the reason in data. */
struct ws_message {
	enum ws_opcode opcode;
	const char *data;
	size_t len;
	uint16_t code;
};

struct ws_reader {
	size_t max_message; /* largest message, all fragments together */
	struct strbuf in;   /* bytes fed, from off on not yet taken */
	size_t off;
	struct strbuf msg;	   /* the fragments so far */
	enum ws_opcode msg_opcode; /* the message's, while fragments come */
	bool delivered;		   /* msg went out; emptied on the next call */
	char control[WS_CONTROL_MAX + 1]; /* the last control frame's payload */
	uint16_t error_code;		  /* after an error: the close code */
	const char *error_reason;	  /* and its reason */
};

void ws_reader_init(struct ws_reader *r, size_t max_message);
void ws_reader_free(struct ws_reader *r);
/* Adds bytes read from the client: 0 or -ENOMEM. */
int ws_reader_feed(struct ws_reader *r, const void *data, size_t len);
/* 1 with the next message in *m, 0 when more bytes are needed, or, when
 * the client broke the protocol, -EPROTO with error_code/error_reason set
 * for the close frame to answer with (the reader is then done). */
int ws_reader_next(struct ws_reader *r, struct ws_message *m);

/* Appends one unmasked frame with FIN set: 0 or -ENOMEM (or -EINVAL for a
 * control frame over WS_CONTROL_MAX). */
int ws_frame_append(struct strbuf *out, enum ws_opcode opcode,
		    const void *payload, size_t len);
/* Appends a close frame; a reason too long is cut on a character
 * boundary. */
int ws_close_append(struct strbuf *out, uint16_t code, const char *reason);

#endif
