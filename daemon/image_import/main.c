/* isol8-image: turns an OCI image layout, a `docker save` or a `docker
 * export` archive into one sanitized root filesystem directory and its
 * metadata, for the image store.  The archive is read by skopeo and umoci
 * in a sandbox (sandbox.h); only the copy out of it (copy.h) and the
 * metadata (meta.h) run with the caller's privileges. */
#include "cleanup.h"
#include "copy.h"
#include "meta.h"
#include "runtimes/runtimes.h"
#include "sandbox.h"
#include "sandbox/open_beneath.h"
#include "size.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Just below the boxes' default sandbox.uidBase, so no box shares it. */
#define DEFAULT_ID_BASE (1000000000u - 65536u)
#define DEFAULT_MAX_BYTES (2ull << 30)
#define DEFAULT_MAX_FILES 500000u
#define DEFAULT_TIMEOUT 600u

static const char usage[] =
	"Usage: isol8-image import --archive PATH --out DIR --meta FILE\n"
	"                          [--max-bytes SIZE] [--max-files N]\n"
	"                          [--timeout SECONDS] [--runtime NAME]\n"
	"                          [--owner UID:GID] [--id-base ID]\n"
	"       isol8-image --help | --version\n"
	"\n"
	"Unpacks an OCI image layout (a directory or a tar), a `docker save`\n"
	"archive or a `docker export` tar with skopeo and umoci in a sandbox\n"
	"(new user, mount, PID and network namespaces, no network), then\n"
	"copies the root filesystem to DIR without device nodes, FIFOs,\n"
	"sockets, setuid/setgid bits or file capabilities, every entry owned\n"
	"by UID:GID, and writes the image's metadata as JSON to FILE.\n"
	"\n"
	"  --archive PATH     the image: a directory or a tar file\n"
	"  --out DIR          the root filesystem; must not exist yet\n"
	"  --meta FILE        the metadata, replaced if it exists\n"
	"  --max-bytes SIZE   most bytes unpacked, and most bytes of layers\n"
	"                     (\"512m\", \"2g\"; default 2g)\n"
	"  --max-files N      most files unpacked (default 500000)\n"
	"  --timeout SECONDS  wall clock for the unpacking (default 600)\n"
	"  --runtime NAME     fail unless the image has this runtime's\n"
	"                     program (" RUNTIME_NAMES ")\n"
	"  --owner UID:GID    owner of every copied entry (default 0:0)\n"
	"  --id-base ID       host id of the sandbox's root, the first of\n"
	"                     65536 unused ids (default 999934464)\n"
	"\n"
	"Exit status: 0 imported, 1 the import failed (the reason on stderr,\n"
	"DIR removed), 2 bad usage.\n";

struct args {
	const char *archive, *out, *meta, *runtime;
	struct import_limits limits;
	uid_t uid;
	gid_t gid;
};

_Noreturn __attribute__((format(printf, 1, 2))) static void
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("isol8-image: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'isol8-image --help'.\n", stderr);
	exit(2);
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int parse_owner(const char *s, struct args *a)
{
	char buf[32];
	uint64_t uid, gid;
	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	if (!colon || strlen(s) >= sizeof(buf))
		return -EINVAL;
	*colon = '\0';
	if (!parse_u64(buf, 0, UINT32_MAX - 1, &uid) ||
	    !parse_u64(colon + 1, 0, UINT32_MAX - 1, &gid))
		return -EINVAL;
	a->uid = (uid_t)uid;
	a->gid = (gid_t)gid;
	return 0;
}

/* Exits with status 2 on bad usage. */
static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "archive", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "meta", required_argument, NULL, 'm' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "max-files", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "owner", required_argument, NULL, 'u' },
		{ "id-base", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	uint64_t v;
	int c;
	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a->archive = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'm':
			a->meta = optarg;
			break;
		case 'r':
			if (!runtime_find(optarg))
				usage_error("--runtime %s: not a runtime "
					    "(" RUNTIME_NAMES ")",
					    optarg);
			a->runtime = optarg;
			break;
		case 'b':
			if (size_parse(optarg, &v) < 0 || v < (1u << 20) ||
			    v > (1ull << 40))
				usage_error("--max-bytes %s: not a size "
					    "from 1m to 1t",
					    optarg);
			a->limits.max_bytes = v;
			break;
		case 'f':
			if (!parse_u64(optarg, 16, 100000000, &v))
				usage_error("--max-files %s: not a "
					    "number from 16 to 100000000",
					    optarg);
			a->limits.max_files = v;
			break;
		case 't':
			if (!parse_u64(optarg, 1, 86400, &v))
				usage_error("--timeout %s: not a number "
					    "of seconds from 1 to 86400",
					    optarg);
			a->limits.timeout_s = (unsigned)v;
			break;
		case 'u':
			if (parse_owner(optarg, a) < 0)
				usage_error("--owner %s: not UID:GID", optarg);
			break;
		case 'i':
			if (!parse_u64(optarg, 65536, UINT32_MAX - 65536, &v))
				usage_error("--id-base %s: not an id "
					    "from 65536 to 4294901759",
					    optarg);
			a->limits.id_base = (uint32_t)v;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'V':
			puts("isol8-image " ISOL8_VERSION);
			exit(0);
		default:
			usage_error("%s", "bad option");
		}
	}
	if (optind >= argc || strcmp(argv[optind], "import") != 0)
		usage_error("%s", "the command must be 'import'");
	if (optind + 1 < argc)
		usage_error("unexpected argument %s", argv[optind + 1]);
	if (!a->archive || !a->out || !a->meta)
		usage_error("%s", "--archive, --out and --meta are required");
}

/* An O_PATH fd of path's directory and its last component in *name. */
static int open_parent(const char *path, const char *opt, char *name,
		       size_t len, struct error *e)
{
	char copy[PATH_MAX];
	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return error_set(e, ERR_INVALID_ARGUMENT, ENAMETOOLONG,
				 "%s %s: path too long", opt, path);
	snprintf(name, len, "%s", basename(copy));
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "/"))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s %s: not a name in a directory", opt, path);
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, errno,
				 "%s %s: cannot open its directory: %m", opt,
				 path);
	return fd;
}

/* The unpacked root filesystem, where a name the sandbox made may be a
 * symlink: each component opened beneath the last. */
static int open_rootfs(int bundle, struct error *e)
{
	_cleanup_close_ int image =
		open_beneath(bundle, "image", O_PATH | O_DIRECTORY, 0);
	int fd = image < 0 ? image
			   : open_beneath(image, "rootfs",
					  O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return error_set(e, ERR_INTERNAL, fd,
				 "the unpacking left no root filesystem");
	return fd;
}

static int write_meta(int dir, const char *name, const char *path,
		      struct json_object *meta, struct error *e)
{
	const char *text =
		json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY);
	size_t len = strlen(text);
	_cleanup_close_ int fd = openat(
		dir, name,
		O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1)
		return error_set(e, ERR_INTERNAL, errno,
				 "--meta %s: cannot write: %m", path);
	return 0;
}

/* Everything after the argument checks; on failure DIR does not exist. */
static int import(const struct args *a, int archive, int out_parent,
		  const char *out_name, int meta_parent, const char *meta_name,
		  struct error *e)
{
	struct import_output o;
	int r = import_sandbox_run(archive, &a->limits, &o, e);
	if (r < 0)
		return r;
	_cleanup_close_ int bundle = o.bundle, layout = o.layout;
	_cleanup_close_ int rootfs = open_rootfs(bundle, e);
	if (rootfs < 0)
		return rootfs;
	if (mkdirat(out_parent, out_name, 0700) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, errno,
				 "--out %s: cannot create: %m", a->out);
	_cleanup_close_ int out =
		open_beneath(out_parent, out_name, O_RDONLY | O_DIRECTORY, 0);
	_cleanup_json_ struct json_object *meta = NULL;
	struct copy_stats st = { 0 };
	r = out < 0 ? error_set(e, ERR_INTERNAL, out, "--out %s: cannot open",
				a->out)
		    : import_copy(rootfs, out, a->uid, a->gid, &st, e);
	if (r == 0)
		r = import_meta_build(layout, out, &st, a->runtime, &meta, e);
	if (r == 0)
		r = write_meta(meta_parent, meta_name, a->meta, meta, e);
	if (r < 0) {
		struct error ignored;
		if (out >= 0)
			import_remove_below(out, &ignored);
		unlinkat(out_parent, out_name, AT_REMOVEDIR);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct args a = {
		.limits = { .max_bytes = DEFAULT_MAX_BYTES,
			    .max_files = DEFAULT_MAX_FILES,
			    .timeout_s = DEFAULT_TIMEOUT,
			    .id_base = DEFAULT_ID_BASE },
	};
	parse_args(argc, argv, &a);
	open_beneath_probe();

	struct error e = { 0 };
	int r;
	if (geteuid() != 0) {
		fputs("isol8-image: must run as root (it maps the sandbox's "
		      "ids)\n",
		      stderr);
		return 1;
	}
	char out_name[NAME_MAX + 1], meta_name[NAME_MAX + 1];
	struct stat st;
	_cleanup_close_ int archive = open(a.archive, O_PATH | O_CLOEXEC);
	_cleanup_close_ int out_parent = -1, meta_parent = -1;
	if (archive < 0 || fstat(archive, &st) < 0)
		r = error_set(&e, ERR_INVALID_ARGUMENT, errno,
			      "--archive %s: %m", a.archive);
	else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		r = error_set(&e, ERR_INVALID_ARGUMENT, EINVAL,
			      "--archive %s: neither a file nor a directory",
			      a.archive);
	else if ((r = out_parent = open_parent(a.out, "--out", out_name,
					       sizeof(out_name), &e)) < 0 ||
		 (r = meta_parent = open_parent(a.meta, "--meta", meta_name,
						sizeof(meta_name), &e)) < 0)
		;
	else if (fstatat(out_parent, out_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = error_set(&e, ERR_INVALID_ARGUMENT, EEXIST,
			      "--out %s: already exists", a.out);
	else
		r = import(&a, archive, out_parent, out_name, meta_parent,
			   meta_name, &e);
	if (r < 0) {
		fprintf(stderr, "isol8-image: import %s: %s\n", a.archive,
			e.message);
		return 1;
	}
	return 0;
}
