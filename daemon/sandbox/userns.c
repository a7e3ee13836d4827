#include "userns.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct uid_slots {
	uint32_t base;
	uint32_t count;
	uint32_t next; /* where the search starts: spreads reuse out */
	bool used[];
};

int uid_slots_new(uint32_t base, uint32_t count, struct uid_slots **out)
{
	if (base == 0 || count == 0 ||
	    (uint64_t)base + (uint64_t)count * USERNS_RANGE > UINT32_MAX)
		return -ERANGE;
	struct uid_slots *s = calloc(1, sizeof(*s) + count * sizeof(bool));
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->count = count;
	*out = s;
	return 0;
}

void uid_slots_free(struct uid_slots *s)
{
	free(s);
}

int64_t uid_slots_acquire(struct uid_slots *s)
{
	for (uint32_t i = 0; i < s->count; i++) {
		uint32_t k = (s->next + i) % s->count;
		if (!s->used[k]) {
			s->used[k] = true;
			s->next = (k + 1) % s->count;
			return (int64_t)s->base + (int64_t)k * USERNS_RANGE;
		}
	}
	return -EBUSY;
}

void uid_slots_release(struct uid_slots *s, int64_t host_base)
{
	int64_t k = (host_base - s->base) / USERNS_RANGE;
	if (k >= 0 && k < s->count)
		s->used[k] = false;
}

int uid_slots_take(struct uid_slots *s, int64_t host_base)
{
	int64_t off = host_base - s->base;
	if (off < 0 || off % USERNS_RANGE || off / USERNS_RANGE >= s->count)
		return -ERANGE;
	if (s->used[off / USERNS_RANGE])
		return -EBUSY;
	s->used[off / USERNS_RANGE] = true;
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		int r = -errno;
		log_err("cannot write %s: %m", path);
		return r;
	}
	return 0;
}

int userns_write_maps(pid_t pid, uint32_t host_base)
{
	char map[64];
	snprintf(map, sizeof(map), "0 %u %u\n", host_base, USERNS_RANGE);
	int r = write_proc(pid, "setgroups", "deny");
	if (r == 0)
		r = write_proc(pid, "gid_map", map);
	if (r == 0)
		r = write_proc(pid, "uid_map", map);
	return r;
}
