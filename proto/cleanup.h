/* Scope-bound release helpers: a variable declared with one of these
 * attributes is released when it goes out of scope, so error paths need no
 * goto ladders.  Take ownership out of one with TAKE_PTR()/TAKE_FD(). */
#ifndef ISOL8_CLEANUP_H
#define ISOL8_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct json_object;
int json_object_put(struct json_object *obj);

static inline void cleanup_free(void *p)
{
	free(*(void **)p);
}
static inline void cleanup_close(const int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void cleanup_fclose(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void cleanup_closedir(DIR **d)
{
	if (*d)
		closedir(*d);
}
static inline void cleanup_json(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

#define _cleanup_free_ __attribute__((cleanup(cleanup_free)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_close)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclose)))
#define _cleanup_dir_ __attribute__((cleanup(cleanup_closedir)))
#define _cleanup_json_ __attribute__((cleanup(cleanup_json)))

#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _taken = (p);                                    \
		(p) = NULL;                                                    \
		_taken;                                                        \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _taken = (fd);                                             \
		(fd) = -1;                                                     \
		_taken;                                                        \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
