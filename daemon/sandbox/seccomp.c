#include "seccomp.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static void cleanup_ctx(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}
#define _cleanup_ctx_ __attribute__((cleanup(cleanup_ctx)))

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- Docker's profile format ---- */

static int parse_action(const char *name, uint32_t errno_ret, uint32_t *out)
{
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(errno_ret);
	else if (!strcmp(name, "SCMP_ACT_KILL") ||
		 !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	/* Nothing traces a box: the kernel answers ENOSYS, as documented. */
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(errno_ret);
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else
		return -EINVAL;
	return 0;
}

static int parse_op(const char *name, enum scmp_compare *out)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE },
		{ "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE },
		{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE },
		{ "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (!strcmp(ops[i].name, name)) {
			*out = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

/* The names Docker profiles use for this machine's architecture. */
static bool is_native_arch(const char *name)
{
#if defined(__x86_64__)
	static const char *const names[] = { "amd64", "x86_64",
					     "SCMP_ARCH_X86_64" };
#elif defined(__aarch64__)
	static const char *const names[] = { "arm64", "aarch64",
					     "SCMP_ARCH_AARCH64" };
#else
	static const char *const names[] = { "" };
#endif
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

static bool kernel_at_least(const char *version)
{
	struct utsname u;
	unsigned want_major = 0, want_minor = 0, major = 0, minor = 0;
	if (sscanf(version, "%u.%u", &want_major, &want_minor) < 1 ||
	    uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) < 1)
		return false;
	return major > want_major ||
	       (major == want_major && minor >= want_minor);
}

static bool array_has_native(json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s =
			json_object_get_string(json_object_array_get_idx(arr, i));
		if (s && is_native_arch(s))
			return true;
	}
	return false;
}

static bool nonempty_array(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_array) &&
	       json_object_array_length(v) > 0;
}

/* Whether a rule applies to a box: boxes hold no capabilities, run on the
 * native architecture and on this kernel. */
static int rule_applies(json_object *rule, const char *where, bool *applies,
			char *err, size_t errlen)
{
	json_object *inc = NULL, *exc = NULL, *v;
	*applies = true;
	json_object_object_get_ex(rule, "includes", &inc);
	json_object_object_get_ex(rule, "excludes", &exc);
	if (inc && !json_object_is_type(inc, json_type_object))
		return fail(err, errlen, "%s.includes: must be an object",
			    where);
	if (exc && !json_object_is_type(exc, json_type_object))
		return fail(err, errlen, "%s.excludes: must be an object",
			    where);
	if (inc) {
		if (nonempty_array(inc, "caps"))
			*applies = false;
		if (json_object_object_get_ex(inc, "arches", &v) &&
		    json_object_is_type(v, json_type_array) &&
		    json_object_array_length(v) > 0 && !array_has_native(v))
			*applies = false;
		if (json_object_object_get_ex(inc, "minKernel", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    !kernel_at_least(json_object_get_string(v)))
			*applies = false;
	}
	if (exc && json_object_object_get_ex(exc, "arches", &v) &&
	    json_object_is_type(v, json_type_array) && array_has_native(v))
		*applies = false;
	return 0;
}

static int get_u64(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v)) {
		*out = 0;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

static int parse_args(json_object *args, const char *where,
		      struct scmp_arg_cmp *cmp, unsigned *n, char *err,
		      size_t errlen)
{
	*n = 0;
	if (!args)
		return 0;
	if (!json_object_is_type(args, json_type_array))
		return fail(err, errlen, "%s.args: must be an array", where);
	size_t len = json_object_array_length(args);
	if (len > 6)
		return fail(err, errlen, "%s.args: at most 6 comparisons",
			    where);
	for (size_t i = 0; i < len; i++) {
		json_object *a = json_object_array_get_idx(args, i), *v;
		uint64_t index, value, value2;
		enum scmp_compare op;
		if (!json_object_is_type(a, json_type_object))
			return fail(err, errlen, "%s.args[%zu]: must be an object",
				    where, i);
		if (get_u64(a, "index", &index) < 0 || index > 5)
			return fail(err, errlen,
				    "%s.args[%zu].index: must be 0 to 5", where,
				    i);
		if (get_u64(a, "value", &value) < 0 ||
		    get_u64(a, "valueTwo", &value2) < 0)
			return fail(err, errlen,
				    "%s.args[%zu]: value and valueTwo must be "
				    "integers",
				    where, i);
		const char *ops = json_object_object_get_ex(a, "op", &v)
					  ? json_object_get_string(v)
					  : NULL;
		if (!ops || parse_op(ops, &op) < 0)
			return fail(err, errlen,
				    "%s.args[%zu].op: unknown operator \"%s\"",
				    where, i, ops ? ops : "");
		cmp[i] = (struct scmp_arg_cmp){ .arg = (unsigned)index,
						.op = op,
						.datum_a = value,
						.datum_b = value2 };
	}
	*n = (unsigned)len;
	return 0;
}

static int add_names(scmp_filter_ctx ctx, json_object *rule, const char *where,
		     uint32_t action, const struct scmp_arg_cmp *cmp,
		     unsigned ncmp, char *err, size_t errlen)
{
	json_object *names = NULL, *one = NULL;
	json_object_object_get_ex(rule, "names", &names);
	json_object_object_get_ex(rule, "name", &one);
	if (names && !json_object_is_type(names, json_type_array))
		return fail(err, errlen, "%s.names: must be an array", where);
	size_t n = names ? json_object_array_length(names) : 0;
	for (size_t i = 0; i <= n; i++) {
		json_object *nv = i < n ? json_object_array_get_idx(names, i)
					: one;
		if (!nv)
			continue;
		if (!json_object_is_type(nv, json_type_string))
			return fail(err, errlen, "%s.names[%zu]: must be a string",
				    where, i);
		const char *name = json_object_get_string(nv);
		int nr = seccomp_syscall_resolve_name(name);
		/* Profiles list calls other architectures or kernels have. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp);
		/* Same as the default action, or already covered: nothing to
		 * add. */
		if (r == -EACCES || r == -EEXIST)
			continue;
		if (r < 0)
			return fail(err, errlen, "%s: cannot add a rule for %s: %s",
				    where, name, strerror(-r));
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_object *rule, size_t idx,
		    char *err, size_t errlen)
{
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu]", idx);
	if (!json_object_is_type(rule, json_type_object))
		return fail(err, errlen, "%s: must be an object", where);
	bool applies;
	int r = rule_applies(rule, where, &applies, err, errlen);
	if (r < 0 || !applies)
		return r;
	json_object *v;
	uint64_t eret = EPERM;
	if (json_object_object_get_ex(rule, "errnoRet", &v) &&
	    (get_u64(rule, "errnoRet", &eret) < 0 || eret > 4095))
		return fail(err, errlen, "%s.errnoRet: must be 0 to 4095",
			    where);
	const char *act = json_object_object_get_ex(rule, "action", &v)
				  ? json_object_get_string(v)
				  : NULL;
	uint32_t action;
	if (!act)
		return fail(err, errlen, "%s.action: missing", where);
	if (parse_action(act, (uint32_t)eret, &action) < 0)
		return fail(err, errlen, "%s.action: unknown action \"%s\"",
			    where, act);
	struct scmp_arg_cmp cmp[6];
	unsigned ncmp;
	json_object *args = NULL;
	json_object_object_get_ex(rule, "args", &args);
	if ((r = parse_args(args, where, cmp, &ncmp, err, errlen)) < 0)
		return r;
	return add_names(ctx, rule, where, action, cmp, ncmp, err, errlen);
}

/* libseccomp writes the program to an fd only (before 2.6). */
static int export_bpf(scmp_filter_ctx ctx, struct seccomp_prog *out)
{
	_cleanup_close_ int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	struct sock_filter *insns = malloc((size_t)size);
	if (!insns)
		return -ENOMEM;
	if (pread(fd, insns, (size_t)size, 0) != size) {
		free(insns);
		return -EIO;
	}
	out->insns = insns;
	out->len = (unsigned short)(size / sizeof(struct sock_filter));
	return 0;
}

static int new_ctx(uint32_t def_action, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);
	if (!ctx)
		return -ENOMEM;
	/* Only the native ABI: any other (x32, ia32) kills the process. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				 SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* A binary tree instead of a chain of comparisons: the kernel
	 * evaluates the filter for every system call number when it is
	 * installed (to cache the always-allowed ones), and a chain of 300
	 * makes that the slowest step of starting a command. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

int seccomp_compile_json(const char *json, size_t len, struct seccomp_prog *out,
			 char *err, size_t errlen)
{
	_cleanup_json_ json_object *root = NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success)
		return fail(err, errlen, "not valid JSON: %s",
			    json_tokener_error_desc(jerr));
	if (!json_object_is_type(root, json_type_object))
		return fail(err, errlen, "the profile must be a JSON object");

	json_object *v;
	uint64_t def_errno = EPERM;
	if (json_object_object_get_ex(root, "defaultErrnoRet", &v) &&
	    (get_u64(root, "defaultErrnoRet", &def_errno) < 0 ||
	     def_errno > 4095))
		return fail(err, errlen, "defaultErrnoRet: must be 0 to 4095");
	const char *def = json_object_object_get_ex(root, "defaultAction", &v)
				  ? json_object_get_string(v)
				  : NULL;
	uint32_t def_action;
	if (!def)
		return fail(err, errlen, "defaultAction: missing");
	if (parse_action(def, (uint32_t)def_errno, &def_action) < 0)
		return fail(err, errlen, "defaultAction: unknown action \"%s\"",
			    def);
	json_object *calls = NULL;
	if (json_object_object_get_ex(root, "syscalls", &calls) &&
	    !json_object_is_type(calls, json_type_array))
		return fail(err, errlen, "syscalls: must be an array");

	_cleanup_ctx_ scmp_filter_ctx ctx = NULL;
	int r = new_ctx(def_action, &ctx);
	if (r < 0)
		return fail(err, errlen, "cannot start a filter: %s",
			    strerror(-r));
	for (size_t i = 0; calls && i < json_object_array_length(calls); i++)
		if ((r = add_rule(ctx, json_object_array_get_idx(calls, i), i,
				  err, errlen)) < 0)
			return r;
	r = export_bpf(ctx, out);
	if (r < 0)
		return fail(err, errlen, "cannot compile the filter: %s",
			    strerror(-r));
	return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}

/* ---- the mandatory denials ---- */

#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

static const char *const denied_calls[] = {
	"keyctl",	     "add_key",	      "request_key",
	"io_uring_setup",    "io_uring_enter", "io_uring_register",
	"userfaultfd",	     "bpf",	      "perf_event_open",
	"mount",	     "umount2",	      "unshare",
	"setns",	     "pivot_root",     "chroot",
	"open_tree",	     "move_mount",     "fsopen",
	"fsconfig",	     "fsmount",	      "fspick",
	"mount_setattr",     "ptrace",	      "process_vm_readv",
	"process_vm_writev", "kexec_load",     "kexec_file_load",
	"init_module",	     "finit_module",   "delete_module",
	"open_by_handle_at", "name_to_handle_at",
};

static int build_mandatory(struct seccomp_prog *out)
{
	_cleanup_ctx_ scmp_filter_ctx ctx = NULL;
	int r = new_ctx(SCMP_ACT_ALLOW, &ctx);
	if (r < 0)
		return r;
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	for (size_t i = 0; i < ARRAY_SIZE(denied_calls); i++) {
		int nr = seccomp_syscall_resolve_name(denied_calls[i]);
		if (nr != __NR_SCMP_ERROR &&
		    (r = seccomp_rule_add(ctx, deny, nr, 0)) < 0)
			return r;
	}
	/* clone3 passes its flags in memory a filter cannot read: it must
	 * look absent so that libc uses clone. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				  SCMP_SYS(clone3), 0)) < 0)
		return r;
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t flag = 1ull << bit;
		if (!(CLONE_NS_FLAGS & flag))
			continue;
		if ((r = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ, flag,
						  flag))) < 0)
			return r;
	}
	static const int families[] = { AF_VSOCK, AF_ALG, AF_PACKET };
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if ((r = seccomp_rule_add(ctx, deny, SCMP_SYS(socket), 1,
					  SCMP_A0(SCMP_CMP_EQ,
						  (uint64_t)families[i], 0))) < 0)
			return r;
	return export_bpf(ctx, out);
}

/* ---- profiles by mode, cached ---- */

struct cached {
	struct cached *next;
	char *path; /* NULL: the built-in strict profile */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct seccomp_prog prog;
};

static struct cached *cache;
static struct seccomp_prog mandatory;

static struct cached *cache_find(const char *path)
{
	for (struct cached *c = cache; c; c = c->next)
		if ((!c->path && !path) ||
		    (c->path && path && !strcmp(c->path, path)))
			return c;
	return NULL;
}

static void cache_drop(struct cached *gone)
{
	for (struct cached **p = &cache; *p; p = &(*p)->next)
		if (*p == gone) {
			*p = gone->next;
			break;
		}
	seccomp_prog_free(&gone->prog);
	free(gone->path);
	free(gone);
}

static int cache_add(const char *path, const struct stat *st,
		     const char *json, size_t len, struct cached **out,
		     char *err, size_t errlen)
{
	struct cached *c = calloc(1, sizeof(*c));
	if (!c || (path && !(c->path = strdup(path)))) {
		free(c);
		return fail(err, errlen, "out of memory");
	}
	int r = seccomp_compile_json(json, len, &c->prog, err, errlen);
	if (r < 0) {
		free(c->path);
		free(c);
		return r;
	}
	if (st) {
		c->dev = st->st_dev;
		c->ino = st->st_ino;
		c->size = st->st_size;
		c->mtime = st->st_mtim;
	}
	c->next = cache;
	cache = c;
	*out = c;
	return 0;
}

#define MAX_PROFILE_BYTES (4u << 20)

static int lookup_custom(const char *path, struct cached **out, char *err,
			 size_t errlen)
{
	char why[256];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(err, errlen, "customProfilePath: cannot read %s: %s",
			    path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_PROFILE_BYTES)
		return fail(err, errlen,
			    "customProfilePath: %s is not a regular file of at "
			    "most 4 MiB",
			    path);
	struct cached *c = cache_find(path);
	if (c && c->dev == st.st_dev && c->ino == st.st_ino &&
	    c->size == st.st_size && c->mtime.tv_sec == st.st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		*out = c;
		return 0;
	}
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return fail(err, errlen, "out of memory");
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return fail(err, errlen, "customProfilePath: cannot read %s: %s",
			    path, n < 0 ? strerror(errno) : "short read");
	int r = cache_add(path, &st, buf, (size_t)n, out, why, sizeof(why));
	if (r < 0)
		return fail(err, errlen, "customProfilePath: %s: %s", path,
			    why);
	if (c)
		cache_drop(c); /* replaced: the file changed */
	return 0;
}

int seccomp_lookup(const char *mode, const char *custom_path,
		   const struct seccomp_prog **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!strcmp(mode, "unconfined"))
		return 0;
	if (!mandatory.insns) {
		int r = build_mandatory(&mandatory);
		if (r < 0) {
			log_err("cannot build the mandatory seccomp filter: %s",
				strerror(-r));
			return fail(err, errlen,
				    "the seccomp filter cannot be built: %s",
				    strerror(-r));
		}
	}
	struct cached *c = NULL;
	int r;
	if (!strcmp(mode, "strict")) {
		c = cache_find(NULL);
		if (!c) {
			char why[256];
			r = cache_add(NULL, NULL, seccomp_builtin_strict,
				      seccomp_builtin_strict_len, &c, why,
				      sizeof(why));
			if (r < 0) {
				log_err("the built-in strict profile does not "
					"compile: %s",
					why);
				return fail(err, errlen,
					    "the built-in seccomp profile does "
					    "not compile: %s",
					    why);
			}
		}
	} else if (!strcmp(mode, "custom")) {
		if (!custom_path || custom_path[0] != '/')
			return fail(err, errlen,
				    "customProfilePath: must be an absolute "
				    "path");
		if ((r = lookup_custom(custom_path, &c, err, errlen)) < 0)
			return r;
	} else {
		return fail(err, errlen,
			    "seccomp: must be \"strict\", \"unconfined\" or "
			    "\"custom\"");
	}
	*out = &c->prog;
	return 0;
}

void seccomp_cache_clear(void)
{
	while (cache)
		cache_drop(cache);
	seccomp_prog_free(&mandatory);
}

static int install_one(const struct seccomp_prog *p)
{
	struct sock_fprog f = { .len = p->len, .filter = p->insns };
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &f) < 0 ? -errno : 0;
}

int seccomp_install(const struct seccomp_prog *p)
{
	if (!p)
		return 0;
	int r = install_one(p);
	/* The kernel runs every filter and keeps the strictest answer, so
	 * the denials hold whatever the profile allows; installed last,
	 * their errno wins among equal actions. */
	if (r == 0 && mandatory.insns)
		r = install_one(&mandatory);
	return r;
}
