#include "timestamp.h"

#include <stdio.h>
#include <time.h>

void timestamp_iso(uint64_t ms, char out[TIMESTAMP_LEN])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TIMESTAMP_LEN - n, ".%03uZ", (unsigned)(ms % 1000));
}

uint64_t timestamp_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}
