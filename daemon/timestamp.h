/* Times as isol8 writes them: ISO 8601 in UTC with milliseconds. */
#ifndef ISOL8D_TIMESTAMP_H
#define ISOL8D_TIMESTAMP_H

#include <stdint.h>

#define TIMESTAMP_LEN 32

/* ms: milliseconds since the epoch, e.g. "2026-11-23T10:04:05.123Z". */
void timestamp_iso(uint64_t ms, char out[TIMESTAMP_LEN]);
/* Now, in milliseconds since the epoch. */
uint64_t timestamp_now_ms(void);

#endif
