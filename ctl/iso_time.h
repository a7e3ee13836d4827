/* ISO 8601 times as isol8 and isol8d write them. */
#ifndef ISOL8CTL_ISO_TIME_H
#define ISOL8CTL_ISO_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* 2026-03-10T12:00:00.000Z (fraction optional, Z or +hh:mm) in
 * milliseconds since the epoch; false when s is not such a time. */
bool iso_time_parse(const char *s, int64_t *ms);
/* The form isol8 writes, in UTC with milliseconds: sorts as the times
 * do. */
#define ISO_TIME_LEN 32
void iso_time_format(int64_t ms, char out[ISO_TIME_LEN]);
/* The real time now, in the same unit. */
int64_t iso_time_now_ms(void);

#endif
