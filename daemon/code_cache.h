/* Remote code kept after its fetch (remoteCode.enableCache): keyed by the
 * URL and the codeHash the request gave (none is a key of its own), each
 * entry for remoteCode.cacheTtl seconds, all of them within
 * remoteCode.cacheMaxBytes and 256 entries (the oldest go first). */
#ifndef ISOL8D_CODE_CACHE_H
#define ISOL8D_CODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct code_cache;

int code_cache_new(uint64_t max_bytes, struct code_cache **out);
void code_cache_free(struct code_cache *c);
/* 1 with a copy of the code (NUL-terminated) in *code, 0 on a miss, or
 * -ENOMEM.  hash may be NULL; times are CLOCK_MONOTONIC microseconds. */
int code_cache_get(struct code_cache *c, const char *url, const char *hash,
		   uint64_t now, char **code, size_t *len);
/* Keeps a copy until expires; code that would not fit is not kept. */
void code_cache_put(struct code_cache *c, const char *url, const char *hash,
		    const char *code, size_t len, uint64_t now,
		    uint64_t expires);

#endif
