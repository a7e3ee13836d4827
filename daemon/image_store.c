#include "image_store.h"

#include "cleanup.h"
#include "image_building.h"
#include "image_ref.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define MAX_IMAGES 4096

/* Reads the one-line file at path into buf (its newline dropped). */
static int read_line(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The hex of a "sha256:<hex>" string, or NULL. */
static const char *digest_hex(json_object *v)
{
	const char *s = json_object_get_string(v);
	return json_object_is_type(v, json_type_string) &&
			       strncmp(s, "sha256:", 7) == 0 &&
			       image_hex_valid(s + 7)
		       ? s + 7
		       : NULL;
}

/* Loads images/<hex>.json and checks it against the store. */
static int load_meta(const char *dir, const char *hex, struct image_desc *out,
		     json_object **meta)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/images/%s.json", dir, hex);
	if (access(path, F_OK) < 0)
		return -errno;
	_cleanup_json_ json_object *o = json_object_from_file(path);
	json_object *v, *layers;
	if (!o || !json_object_object_get_ex(o, "digest", &v) ||
	    !digest_hex(v) || strcmp(digest_hex(v), hex) != 0 ||
	    !json_object_object_get_ex(o, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return log_errno(LOG_ERR, -EBADMSG, "image metadata %s", path);
	size_t n = json_object_array_length(layers);
	if (n < 1 || n > IMAGE_MAX_LAYERS)
		return log_errno(LOG_ERR, -EBADMSG, "%s: %zu layers", path, n);
	snprintf(out->digest, sizeof(out->digest), "%s", hex);
	out->nlayers = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		const char *l =
			digest_hex(json_object_array_get_idx(layers, i));
		char lp[4096];
		if (l)
			snprintf(lp, sizeof(lp), "%s/layers/%s", dir, l);
		if (!l || !is_dir(lp))
			return log_errno(LOG_ERR, -EBADMSG,
					 "%s: layer %zu is missing", path, i);
		snprintf(out->layers[i], sizeof(out->layers[i]), "%s", l);
	}
	if (meta)
		*meta = TAKE_PTR(o);
	return 0;
}

int image_store_resolve(const struct config *cfg, const char *field,
			const char *ref, struct image_desc *out,
			json_object **meta, struct error *e)
{
	struct image_ref r;
	int err = image_ref_parse(field, ref, &r, e);
	if (err < 0)
		return err;
	if (r.kind == IMAGE_REF_DEFAULT &&
	    strcmp(cfg->images_default, IMAGE_DEFAULT_AUTO) == 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: images.default is \"auto\", each "
				 "runtime's base image; name an image",
				 field);
	if (r.kind == IMAGE_REF_DEFAULT) {
		err = image_ref_parse("images.default", cfg->images_default, &r,
				      e);
		if (err < 0)
			return err;
		if (r.kind == IMAGE_REF_DEFAULT)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "images.default: must name an image");
	}
	if (r.kind == IMAGE_REF_HOST)
		return 0;
	if (r.kind == IMAGE_REF_TAG) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/tags/%s:%s", cfg->images_dir,
			 r.name, r.tag);
		err = read_line(path, r.digest, sizeof(r.digest));
		if (err == -ENOENT && image_building_has(r.name, r.tag))
			return error_set(e, ERR_BUSY, EBUSY,
					 "%s: the image %s:%s is being built "
					 "(images.build; isol8ctl health "
					 "shows how far); try again once it "
					 "is ready, or use \"host\"",
					 field, r.name, r.tag);
		if (err == -ENOENT)
			return error_set(e, ERR_NOT_FOUND, ENOENT,
					 "%s: no image %s:%s (isol8ctl image "
					 "ls lists them; isol8ctl setup "
					 "builds the base images)",
					 field, r.name, r.tag);
		if (err < 0 || !image_hex_valid(r.digest))
			return error_set(e, ERR_INTERNAL,
					 err < 0 ? err : EBADMSG,
					 "%s: the tag %s:%s cannot be read",
					 field, r.name, r.tag);
	}
	err = load_meta(cfg->images_dir, r.digest, out, meta);
	if (err == -ENOENT)
		return error_set(e, ERR_NOT_FOUND, ENOENT,
				 "%s: no image sha256:%s", field, r.digest);
	if (err < 0)
		return error_set(e, ERR_INTERNAL, err,
				 "%s: image sha256:%s is damaged: %s", field,
				 r.digest, strerror(-err));
	return 1;
}

int image_store_base_tag(const char *runtime, char *out, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
	if (!f)
		return -errno;
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VERSION_CODENAME=", 17) != 0)
			continue;
		char *v = line + 17 + strspn(line + 17, "\"'");
		v[strcspn(v, "\"'\n")] = '\0';
		if (!*v)
			break;
		int n = snprintf(out, len, "%s:%s", runtime, v);
		return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
	}
	return -ENOENT;
}

/* images.default "auto": the runtime's base image, or the host's while
 * the store lacks it (or it is being built). */
static int pick_base(const struct config *cfg, const char *runtime,
		     struct image_desc *out, struct error *e)
{
	char tag[IMAGE_NAME_MAX + IMAGE_TAG_MAX + 2];
	if (image_store_base_tag(runtime, tag, sizeof(tag)) < 0)
		return 0;
	int r = image_store_resolve(cfg, "images.default", tag, out, NULL, e);
	return r == -ENOENT || r == -EBUSY ? 0 : r;
}

int image_store_pick(const struct config *cfg, const char *field,
		     const char *ref, const char *runtime,
		     struct image_desc *out, struct error *e)
{
	if ((!ref || strcmp(ref, "default") == 0) &&
	    strcmp(cfg->images_default, IMAGE_DEFAULT_AUTO) == 0)
		return pick_base(cfg, runtime, out, e);
	_cleanup_json_ json_object *meta = NULL;
	int r = image_store_resolve(cfg, field, ref ? ref : "default", out,
				    &meta, e);
	if (r <= 0)
		return r;
	json_object *v = NULL;
	json_object_object_get_ex(meta, "runtime", &v);
	const char *its = v ? json_object_get_string(v) : "";
	if (strcmp(runtime, "bash") == 0 || strcmp(its, runtime) == 0)
		return 1;
	if (!ref || strcmp(ref, "default") == 0)
		return 0;
	return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
			 "%s: %s is an image for %s, not for the request's "
			 "runtime %s",
			 field, ref, its, runtime);
}

int image_store_setup_script(const struct config *cfg, const char *hex,
			     char **out)
{
	_cleanup_json_ json_object *meta = NULL;
	struct image_desc img;
	*out = NULL;
	int r = load_meta(cfg->images_dir, hex, &img, &meta);
	if (r < 0)
		return r;
	json_object *v = NULL;
	if (!json_object_object_get_ex(meta, "setupScript", &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return log_errno(LOG_ERR, -EBADMSG,
				 "image sha256:%s: setupScript is not a string",
				 hex);
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

/* Calls fn for each entry of dir/sub whose name ends in suffix. */
static int each_entry(const char *dir, const char *sub, const char *suffix,
		      int (*fn)(const char *name, void *arg), void *arg)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	_cleanup_dir_ DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t slen = strlen(suffix);
	for (struct dirent *de; (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= slen ||
		    strcmp(de->d_name + n - slen, suffix) != 0)
			continue;
		int r = fn(de->d_name, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

struct tag_scan {
	const char *dir;
	const char *hex;  /* only tags naming this image; NULL: all */
	json_object *out; /* {hex: [tags]} or [tags] for hex */
};

static int scan_tag(const char *name, void *arg)
{
	struct tag_scan *s = arg;
	char path[4096], hex[IMAGE_HEX_LEN + 2];
	snprintf(path, sizeof(path), "%s/tags/%s", s->dir, name);
	if (read_line(path, hex, sizeof(hex)) < 0 || !image_hex_valid(hex))
		return 0;
	if (s->hex && strcmp(hex, s->hex) != 0)
		return 0;
	json_object *list = s->out;
	if (!s->hex && !json_object_object_get_ex(s->out, hex, &list)) {
		list = json_object_new_array();
		json_object_object_add(s->out, hex, list);
	}
	json_object_array_add(list, json_object_new_string(name));
	return 0;
}

struct list_scan {
	const struct config *cfg;
	const struct image_mounts *m;
	json_object *tags; /* {hex: [tags]} */
	json_object *out;
};

static int list_one(const char *name, void *arg)
{
	struct list_scan *s = arg;
	char hex[IMAGE_HEX_LEN + 1];
	snprintf(hex, sizeof(hex), "%.*s", (int)(strlen(name) - 5), name);
	struct image_desc d;
	json_object *meta = NULL;
	if (!image_hex_valid(hex) ||
	    load_meta(s->cfg->images_dir, hex, &d, &meta) < 0)
		return 0;
	json_object *tags = NULL;
	json_object_object_get_ex(s->tags, hex, &tags);
	json_object_object_add(meta, "tags",
			       tags ? json_object_get(tags)
				    : json_object_new_array());
	json_object_object_add(
		meta, "inUse",
		json_object_new_int64(s->m ? image_mount_users(s->m, hex) : 0));
	json_object_array_add(s->out, meta);
	return json_object_array_length(s->out) < MAX_IMAGES ? 0 : -E2BIG;
}

int image_store_list(const struct config *cfg, const struct image_mounts *m,
		     json_object **out, struct error *e)
{
	_cleanup_json_ json_object *tags = json_object_new_object();
	struct tag_scan ts = { cfg->images_dir, NULL, tags };
	struct list_scan ls = { cfg, m, tags, json_object_new_array() };
	int r = each_entry(cfg->images_dir, "tags", "", scan_tag, &ts);
	if (r == 0)
		r = each_entry(cfg->images_dir, "images", ".json", list_one,
			       &ls);
	if (r < 0) {
		json_object_put(ls.out);
		return error_set(e, ERR_INTERNAL, r, "cannot read %s",
				 cfg->images_dir);
	}
	*out = ls.out;
	return 0;
}

static int unlink_in(const char *dir, const char *sub, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int image_store_remove(const struct config *cfg, const struct image_mounts *m,
		       const char *ref, json_object **out, struct error *e)
{
	struct image_desc d;
	struct image_ref r;
	int err = image_ref_parse("ref", ref, &r, e);
	if (err < 0)
		return err;
	if (r.kind == IMAGE_REF_HOST || r.kind == IMAGE_REF_DEFAULT)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "ref: \"%s\" is not an image of the store "
				 "and cannot be removed",
				 ref);
	err = image_store_resolve(cfg, "ref", ref, &d, NULL, e);
	if (err < 0)
		return err;
	unsigned users = m ? image_mount_users(m, d.digest) : 0;
	if (users)
		return error_set(e, ERR_CONFLICT, EBUSY,
				 "image %s is in use by %u sandbox%s; remove "
				 "it once they are gone",
				 ref, users, users == 1 ? "" : "es");
	_cleanup_json_ json_object *tags = json_object_new_array();
	struct tag_scan ts = { cfg->images_dir, d.digest, tags };
	if ((err = each_entry(cfg->images_dir, "tags", "", scan_tag, &ts)) < 0)
		return error_set(e, ERR_INTERNAL, err, "cannot read the tags");
	json_object *untagged = json_object_new_array();
	*out = json_object_new_object();
	json_object_object_add(*out, "untagged", untagged);
	bool last = true;
	for (size_t i = 0; i < json_object_array_length(tags); i++) {
		const char *t = json_object_get_string(
			json_object_array_get_idx(tags, i));
		char want[IMAGE_NAME_MAX + IMAGE_TAG_MAX + 2];
		snprintf(want, sizeof(want), "%s:%s", r.name, r.tag);
		if (r.kind == IMAGE_REF_TAG && strcmp(t, want) != 0) {
			last = false;
			continue;
		}
		if ((err = unlink_in(cfg->images_dir, "tags", t)) < 0)
			return error_set(e, ERR_INTERNAL, err,
					 "cannot remove the tag %s", t);
		json_object_array_add(untagged, json_object_new_string(t));
	}
	char name[IMAGE_HEX_LEN + 8];
	snprintf(name, sizeof(name), "%s.json", d.digest);
	if (last && (err = unlink_in(cfg->images_dir, "images", name)) < 0)
		return error_set(e, ERR_INTERNAL, err,
				 "cannot remove image sha256:%s", d.digest);
	char digest[IMAGE_HEX_LEN + 8];
	snprintf(digest, sizeof(digest), "sha256:%s", d.digest);
	json_object_object_add(*out, "deleted",
			       last ? json_object_new_string(digest) : NULL);
	return 0;
}

struct prune_scan {
	const char *dir;
	json_object *used; /* {hex: true} */
};

static int mark_used(const char *name, void *arg)
{
	struct prune_scan *s = arg;
	char hex[IMAGE_HEX_LEN + 1];
	snprintf(hex, sizeof(hex), "%.*s", (int)(strlen(name) - 5), name);
	char path[4096];
	snprintf(path, sizeof(path), "%s/images/%s", s->dir, name);
	_cleanup_json_ json_object *o = json_object_from_file(path);
	json_object *layers;
	if (!o || !json_object_object_get_ex(o, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		/* A layer of an image the daemon cannot read is kept. */
		return log_errno(LOG_WARNING, -EBADMSG,
				 "image metadata %s: pruning stops", path);
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		const char *l =
			digest_hex(json_object_array_get_idx(layers, i));
		if (l)
			json_object_object_add(s->used, l,
					       json_object_new_boolean(1));
	}
	return 0;
}

static int on_rm_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	(void)userdata;
	if (si->si_code != CLD_EXITED || si->si_status != 0)
		log_warn("removing pruned layers failed (status %d)",
			 si->si_status);
	sd_event_source_disable_unref(s);
	return 0;
}

struct layer_scan {
	struct prune_scan *p;
	json_object *gone;
};

static int collect_unused(const char *name, void *arg)
{
	struct layer_scan *s = arg;
	if (image_hex_valid(name) &&
	    !json_object_object_get_ex(s->p->used, name, NULL))
		json_object_array_add(s->gone, json_object_new_string(name));
	return 0;
}

/* The lock the image builder holds while it writes layers and images
 * (tools/isol8-image-build): a layer it has put in place before its image's
 * metadata must not look unreferenced.  -EBUSY while a build runs. */
static int lock_builds(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/tmp/build.lock", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	return fd;
}

int image_store_prune(const struct config *cfg, sd_event *ev, json_object **out,
		      struct error *e)
{
	const char *dir = cfg->images_dir;
	/* Held until the layers are out of the store. */
	_cleanup_close_ int lock = lock_builds(dir);
	if (lock == -EBUSY)
		return error_set(e, ERR_CONFLICT, EBUSY,
				 "an image is being built in %s; prune once "
				 "it is done",
				 dir);
	_cleanup_json_ json_object *used = json_object_new_object();
	_cleanup_json_ json_object *gone = json_object_new_array();
	struct prune_scan ps = { dir, used };
	struct layer_scan ls = { &ps, gone };
	int r = each_entry(dir, "images", ".json", mark_used, &ps);
	if (r == 0)
		r = each_entry(dir, "layers", "", collect_unused, &ls);
	if (r < 0)
		return error_set(e, ERR_INTERNAL, r,
				 "cannot read the image store %s", dir);
	size_t n = json_object_array_length(gone);
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	if (n && mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return error_set(e, ERR_INTERNAL, errno, "cannot make %s", tmp);
	_cleanup_free_ char **argv = calloc(n + 4, sizeof(char *));
	_cleanup_json_ json_object *paths = json_object_new_array();
	if (!argv)
		return -ENOMEM;
	size_t argc = 0;
	argv[argc++] = (char *)"rm";
	argv[argc++] = (char *)"-rf";
	argv[argc++] = (char *)"--";
	*out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const char *hex = json_object_get_string(
			json_object_array_get_idx(gone, i));
		char from[4096], to[4200];
		snprintf(from, sizeof(from), "%s/layers/%s", dir, hex);
		snprintf(to, sizeof(to), "%s/pruned-%s", tmp, hex);
		if (rename(from, to) < 0) {
			log_errno(LOG_WARNING, -errno, "cannot prune %s", from);
			continue;
		}
		json_object *p = json_object_new_string(to);
		json_object_array_add(paths, p);
		argv[argc++] = (char *)json_object_get_string(p);
		char digest[IMAGE_HEX_LEN + 8];
		snprintf(digest, sizeof(digest), "sha256:%s", hex);
		json_object_array_add(*out, json_object_new_string(digest));
	}
	if (argc == 3)
		return 0;
	/* A big tree takes a while to delete: a child does it, off the
	 * loop; the layers are already out of the store. */
	pid_t pid;
	r = posix_spawn(&pid, "/bin/rm", NULL, NULL, argv, environ);
	if (r != 0)
		return log_errno(LOG_ERR, -r, "cannot start rm for %zu layers",
				 argc - 3);
	sd_event_source *src;
	r = sd_event_add_child(ev, &src, pid, WEXITED, on_rm_exit, NULL);
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot watch rm (pid %d)", pid);
	return 0;
}
