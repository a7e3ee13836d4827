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

bool timestamp_parse(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return false;
	int64_t frac = 0;
	if (*end == '.') {
		int64_t scale = 100;
		for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
			frac += (*end - '0') * scale;
	}
	int64_t offset = 0;
	if (*end == 'Z') {
		end++;
	} else if (*end == '+' || *end == '-') {
		int h, m, n = 0;
		if (sscanf(end + 1, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5)
			return false;
		offset = (int64_t)(*end == '-' ? -1 : 1) * (h * 60 + m) * 60;
		end += 6;
	} else {
		return false;
	}
	if (*end)
		return false;
	*ms = ((int64_t)timegm(&tm) - offset) * 1000 + frac;
	return true;
}
