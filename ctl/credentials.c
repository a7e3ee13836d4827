/* The stored login token: written so that no other user ever reads or
 * swaps it, read only from a file that is plainly the caller's own. */
#include "credentials.h"

#include "cleanup.h"
#include "ctl.h"
#include "timestamp.h"
#include "isol8_config.h"
#include "jsonrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_NAME ".isol8"
#define FILE_NAME "credentials.json"
#define FILE_MAX ((off_t)64 * 1024) /* far more than four short strings */

/* ~/.isol8 opened (made first, 0700, when create), or a negative errno
 * with why set; -ENOENT alone when it is missing and not to be made. */
static int open_dir(bool create, char *why, size_t len)
{
	const char *home = isol8_home_dir();
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/" DIR_NAME, home) < 0)
		return -ENOMEM;
	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		int e = -errno;
		snprintf(why, len, "cannot make %s: %s", path, strerror(-e));
		return e;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		snprintf(why, len, "cannot open %s: %s", path, strerror(-e));
		return e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, len,
			 "%s is not trusted: it must be a directory of yours "
			 "that no one else may write to",
			 path);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Whether st, the file now in the stored file's place, may be read or
 * replaced: a regular file of the caller's; else why says what it is. */
static bool trusted(const struct stat *st, char *why, size_t len)
{
	if (S_ISLNK(st->st_mode))
		snprintf(why, len,
			 CREDENTIALS_SHOWN " is a symbolic link: not "
					   "followed (remove it to go on)");
	else if (!S_ISREG(st->st_mode))
		snprintf(why, len, CREDENTIALS_SHOWN " is not a regular file");
	else if (st->st_uid != geteuid())
		snprintf(why, len,
			 CREDENTIALS_SHOWN " belongs to uid %u, not to you: "
					   "not trusted (remove it to go on)",
			 (unsigned)st->st_uid);
	else
		return true;
	return false;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int credentials_save(const struct credentials *c, char *why, size_t len)
{
	_cleanup_close_ int dir = open_dir(true, why, len);
	if (dir < 0)
		return dir;
	struct stat st;
	if (fstatat(dir, FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !trusted(&st, why, len))
		return -EPERM;
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string(c->host));
	json_object_object_add(o, "token", json_object_new_string(c->token));
	json_object_object_add(o, "expiresAt",
			       json_object_new_string(c->expires_at));
	json_object_object_add(o, "keyId", json_object_new_string(c->key_id));
	/* isol8 writes JSON.stringify(creds, null, 2). */
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			   JSON_C_TO_STRING_NOSLASHESCAPE);
	/* A fresh file of mode 0600 from birth, then renamed into place: the
	 * token is never readable by others, nor half written. */
	char tmp[64];
	unsigned char rnd[8];
	ctl_random(rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), "." FILE_NAME ".%02x%02x%02x%02x%02x%02x",
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	_cleanup_close_ int fd = openat(
		dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0600);
	int e = fd < 0 ? -errno : 0;
	if (!e && fchmod(fd, 0600) < 0)
		e = -errno;
	if (!e)
		e = write_all(fd, text, strlen(text));
	if (!e && fsync(fd) < 0)
		e = -errno;
	if (!e && renameat(dir, tmp, dir, FILE_NAME) < 0)
		e = -errno;
	if (e) {
		if (fd >= 0)
			unlinkat(dir, tmp, 0);
		snprintf(why, len, "cannot write " CREDENTIALS_SHOWN ": %s",
			 strerror(-e));
	}
	return e;
}

int credentials_remove(void)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/" DIR_NAME "/" FILE_NAME, isol8_home_dir()) < 0)
		return -ENOMEM;
	/* Unlinking never follows a link: whatever is there may go. */
	if (unlink(path) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

/* The file's contents in *o, 0 when there is none, or a negative errno
 * with why set. */
static int load(json_object **o, char *why, size_t len)
{
	_cleanup_close_ int dir = open_dir(false, why, len);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0)
		return dir;
	_cleanup_close_ int fd = openat(
		dir, FILE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP &&
	    fstatat(dir, FILE_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		trusted(&st, why, len);
		return -EPERM;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		snprintf(why, len, "cannot read " CREDENTIALS_SHOWN ": %s",
			 strerror(-e));
		return e;
	}
	if (!trusted(&st, why, len))
		return -EPERM;
	if (st.st_size > FILE_MAX) {
		snprintf(why, len,
			 CREDENTIALS_SHOWN " is larger than %lld bytes",
			 (long long)FILE_MAX);
		return -EFBIG;
	}
	_cleanup_free_ char *text = NULL;
	size_t n;
	int e = ctl_read_fd(fd, &text, &n);
	if (e < 0) {
		snprintf(why, len, "cannot read " CREDENTIALS_SHOWN ": %s",
			 strerror(-e));
		return e;
	}
	struct error err;
	if (json_parse_strict(text, n, o, &err) < 0) {
		snprintf(why, len, CREDENTIALS_SHOWN " is not JSON: %.400s",
			 err.message);
		return -EINVAL;
	}
	return 1;
}

/* s without one trailing '/', as isol8 compares hosts. */
static bool same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	la -= la && a[la - 1] == '/';
	lb -= lb && b[lb - 1] == '/';
	return la == lb && memcmp(a, b, la) == 0;
}

/* The stored token for host: 1 with *token (borrowed from o), 0 none,
 * or a negative errno with why set. */
static int stored_token(json_object *o, const char *host, const char **token,
			char *why, size_t len)
{
	static const char *const keys[] = { "host", "token", "expiresAt" };
	const char *v[ARRAY_SIZE(keys)];
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_object *f = NULL;
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, keys[i], &f) ||
		    !json_object_is_type(f, json_type_string)) {
			snprintf(why, len,
				 CREDENTIALS_SHOWN ": \"%s\" must be a string",
				 keys[i]);
			return -EINVAL;
		}
		v[i] = json_object_get_string(f);
	}
	if (!same_host(host, v[0]))
		return 0;
	int64_t expires;
	if (!timestamp_parse(v[2], &expires)) {
		snprintf(why, len,
			 CREDENTIALS_SHOWN ": \"expiresAt\" is not an ISO 8601 "
					   "time");
		return -EINVAL;
	}
	if (expires <= (int64_t)timestamp_now_ms()) {
		fputs("[WARN] Stored credentials have expired. Run `isol8ctl "
		      "login` to re-authenticate.\n",
		      stderr);
		return 0;
	}
	*token = v[1];
	return 1;
}

char *credentials_api_key(const char *host, const char *key)
{
	if (key && *key)
		return strdup(key);
	const char *env = getenv("ISOL8_API_KEY");
	if (env && *env)
		return strdup(env);
	_cleanup_json_ json_object *o = NULL;
	char why[512];
	const char *token = NULL;
	int r = load(&o, why, sizeof(why));
	if (r > 0)
		r = stored_token(o, host, &token, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "[ERR] %s\n", why);
		return NULL;
	}
	if (r > 0)
		return strdup(token);
	fputs("[ERR] API key required. Use --key, ISOL8_API_KEY env var, or "
	      "`isol8ctl login`.\n",
	      stderr);
	return NULL;
}
