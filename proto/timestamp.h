/* Times as isol8 writes them: ISO 8601 in UTC with milliseconds. */
#ifndef ISOL8_TIMESTAMP_H
#define ISOL8_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

#define TIMESTAMP_LEN 32

/* ms: milliseconds since the epoch, e.g. "2026-11-23T10:04:05.123Z". */
void timestamp_iso(uint64_t ms, char out[TIMESTAMP_LEN]);
/* 2026-03-10T12:00:00.000Z (fraction optional, Z or +hh:mm) in
 * milliseconds since the epoch; false when s is not such a time. */
bool timestamp_parse(const char *s, int64_t *ms);
/* Now, in milliseconds since the epoch. */
uint64_t timestamp_now_ms(void);

#endif
