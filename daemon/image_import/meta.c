#include "meta.h"

#include "cleanup.h"
#include "runtimes/runtimes.h"
#include "sandbox/open_beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The tools' JSON about one image; anything bigger is not trusted. */
#define JSON_MAX (1u << 20)

static int read_small(int dir, const char *name, char *buf, size_t len)
{
	_cleanup_close_ int fd = open_beneath(dir, name, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	size_t got = 0;
	for (ssize_t n; got + 1 < len; got += (size_t)n)
		if ((n = read(fd, buf + got, len - 1 - got)) <= 0) {
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n < 0)
				return -errno;
			break;
		}
	buf[got] = '\0';
	return got + 1 < len ? (int)got : -EFBIG;
}

static struct json_object *read_json(int dir, const char *name)
{
	_cleanup_free_ char *buf = malloc(JSON_MAX);
	if (!buf || read_small(dir, name, buf, JSON_MAX) < 0)
		return NULL;
	struct json_object *o = json_tokener_parse(buf);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static bool is_digest(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return false;
	return strspn(s + 7, "0123456789abcdef") == 64;
}

static void add_string(struct json_object *to, const char *key,
		       struct json_object *from, const char *from_key,
		       bool digest)
{
	struct json_object *v;
	const char *s = json_object_object_get_ex(from, from_key, &v) &&
					json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: NULL;
	if (s && digest && !is_digest(s))
		s = NULL;
	json_object_object_add(to, key, s ? json_object_new_string(s) : NULL);
}

/* An array of strings as is; anything else as null. */
static void add_strings(struct json_object *to, const char *key,
			struct json_object *from, const char *from_key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(from, from_key, &v) ||
	    !json_object_is_type(v, json_type_array)) {
		json_object_object_add(to, key, NULL);
		return;
	}
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *s = json_object_array_get_idx(v, i);
		if (json_object_is_type(s, json_type_string))
			json_object_array_add(
				a, json_object_new_string(
					   json_object_get_string(s)));
	}
	json_object_object_add(to, key, a);
}

/* Whether the image has name as an executable regular file in one of the
 * usual directories, with symlinks resolved as inside the image. */
static int has_program(int rootfs, const char *name)
{
	static const char *const dirs[] = { "usr/local/bin", "usr/bin", "bin" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		struct open_how how = {
			.flags = O_PATH | O_CLOEXEC,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
				   RESOLVE_NO_XDEV,
		};
		_cleanup_close_ int fd = (int)syscall(SYS_openat2, rootfs, path,
						      &how, sizeof(how));
		if (fd < 0 && (errno == ENOSYS || errno == EPERM))
			return -errno;
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 0111))
			return 1;
	}
	return 0;
}

static int add_runtimes(struct json_object *meta, int rootfs, const char *want,
			struct error *e)
{
	struct json_object *found = json_object_new_array();
	json_object_object_add(meta, "runtimes", found);
	bool want_found = false;
	for (size_t i = 0; runtime_at(i); i++) {
		const struct runtime *rt = runtime_at(i);
		const char *program = strrchr(rt->binary, '/') + 1;
		int r = has_program(rootfs, program);
		if (r < 0)
			return error_set(e, ERR_UNSUPPORTED, r,
					 "cannot look for runtimes in the "
					 "image without openat2");
		if (r == 0)
			continue;
		json_object_array_add(found, json_object_new_string(rt->name));
		want_found |= want && strcmp(want, rt->name) == 0;
	}
	if (want && !want_found)
		return error_set(e, ERR_INVALID_ARGUMENT, ENOENT,
				 "--runtime %s: the image has no executable "
				 "%s in /usr/local/bin, /usr/bin or /bin",
				 want,
				 strrchr(runtime_find(want)->binary, '/') + 1);
	json_object_object_add(meta, "runtime",
			       want ? json_object_new_string(want) : NULL);
	return 0;
}

static void add_count(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

int import_meta_build(int layout, int rootfs, const struct copy_stats *st,
		      const char *runtime, struct json_object **out,
		      struct error *e)
{
	char format[32];
	int r = read_small(layout, "format", format, sizeof(format));
	if (r < 0)
		return error_set(e, ERR_INTERNAL, r,
				 "the unpacking named no format");
	format[strcspn(format, "\n")] = '\0';

	_cleanup_json_ struct json_object *meta = json_object_new_object();
	json_object_object_add(meta, "format", json_object_new_string(format));
	/* A `docker export` tar has no manifest nor configuration of its
	 * own: those umoci made for it say nothing about the source. */
	_cleanup_json_ struct json_object *inspect =
		read_json(layout, "inspect.json");
	_cleanup_json_ struct json_object *manifest =
		read_json(layout, "manifest.json");
	_cleanup_json_ struct json_object *config =
		read_json(layout, "config.json");
	_cleanup_json_ struct json_object *empty = json_object_new_object();
	struct json_object *mconfig = NULL, *cconfig = NULL;
	if (manifest)
		json_object_object_get_ex(manifest, "config", &mconfig);
	if (config)
		json_object_object_get_ex(config, "config", &cconfig);
	if (!json_object_is_type(mconfig, json_type_object))
		mconfig = empty;
	if (!json_object_is_type(cconfig, json_type_object))
		cconfig = empty;

	add_string(meta, "digest", inspect ? inspect : empty, "Digest", true);
	add_string(meta, "config_digest", mconfig, "digest", true);
	add_string(meta, "created", config ? config : empty, "created", false);
	add_string(meta, "architecture", config ? config : empty,
		   "architecture", false);
	add_string(meta, "os", config ? config : empty, "os", false);
	add_strings(meta, "entrypoint", cconfig, "Entrypoint");
	add_strings(meta, "cmd", cconfig, "Cmd");
	add_strings(meta, "env", cconfig, "Env");
	add_string(meta, "workdir", cconfig, "WorkingDir", false);
	add_string(meta, "user", cconfig, "User", false);
	add_count(meta, "size", st->bytes);
	add_count(meta, "files",
		  st->files + st->dirs + st->symlinks + st->hardlinks);

	struct json_object *removed = json_object_new_object();
	json_object_object_add(meta, "removed", removed);
	add_count(removed, "devices", st->devices);
	add_count(removed, "fifos", st->fifos);
	add_count(removed, "sockets", st->sockets);
	add_count(removed, "setid_bits", st->setid_cleared);

	if ((r = add_runtimes(meta, rootfs, runtime, e)) < 0)
		return r;
	*out = TAKE_PTR(meta);
	return 0;
}
