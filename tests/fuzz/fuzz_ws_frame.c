/* Fuzz target: a WebSocket client's byte stream into the bridge's frame
 * reader, fed whole and fed in pieces of a size the input picks.
 *
 * Invariants checked besides memory safety:
 * - how the stream is cut never changes the messages that come out, byte
 *   for byte, nor the close code of the error that ends them;
 * - data is NUL-terminated at its length; text messages and close reasons
 *   are valid UTF-8; messages stay within the limit, control frames
 *   within 125 bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "ws_frame.h"

#define MAX 2048 /* a small limit, so that it is reached */

/* Every message as opcode, code, length, data; the final answer. */
static int run(const uint8_t *data, size_t size, size_t step,
	       struct strbuf *log, uint16_t *error_code)
{
	struct ws_reader r;
	ws_reader_init(&r, MAX);
	int ret = 0;
	for (size_t at = 0; at < size && ret >= 0; at += step) {
		size_t n = size - at < step ? size - at : step;
		if (ws_reader_feed(&r, data + at, n) < 0)
			abort();
		struct ws_message m;
		while ((ret = ws_reader_next(&r, &m)) == 1) {
			if (m.data[m.len] != '\0')
				abort();
			if ((m.opcode & 0x08) ? m.len > WS_CONTROL_MAX
					      : m.len > MAX)
				abort();
			if ((m.opcode == WS_TEXT || m.opcode == WS_CLOSE) &&
			    !utf8_valid(m.data, m.len))
				abort();
			uint8_t head[1 + 2 + sizeof(size_t)];
			head[0] = (uint8_t)m.opcode;
			memcpy(head + 1, &m.code, 2);
			memcpy(head + 3, &m.len, sizeof(size_t));
			if (strbuf_add(log, head, sizeof(head)) < 0 ||
			    strbuf_add(log, m.data, m.len) < 0)
				abort();
		}
	}
	*error_code = r.error_code;
	ws_reader_free(&r);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 16 + 1;
	data++;
	size--;
	struct strbuf whole = { 0 }, cut = { 0 };
	uint16_t code_whole, code_cut;
	int a = run(data, size, size ? size : 1, &whole, &code_whole);
	int b = run(data, size, step, &cut, &code_cut);
	if (a != b || code_whole != code_cut || whole.len != cut.len ||
	    (whole.len && memcmp(whole.p, cut.p, whole.len) != 0))
		abort();
	strbuf_free(&whole);
	strbuf_free(&cut);
	return 0;
}
