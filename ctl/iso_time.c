#include "iso_time.h"

#include <stdio.h>
#include <time.h>

bool iso_time_parse(const char *s, int64_t *ms)
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

int64_t iso_time_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void iso_time_format(int64_t ms, char out[ISO_TIME_LEN])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, ISO_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, ISO_TIME_LEN - n, ".%03uZ", (unsigned)(ms % 1000));
}
