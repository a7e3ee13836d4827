/* SHA-1 (FIPS 180-4), only for the WebSocket handshake's accept key, where
 * RFC 6455 fixes the hash; it protects nothing. */
#ifndef ISOL8_SHA1_H
#define ISOL8_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

#endif
