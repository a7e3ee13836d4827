/* Profiles by mode, cached; the mandatory denials; exporting both. */
#include "seccomp.h"

#include "cleanup.h"
#include "log.h"
#include "memfd_sealed.h"
#include "seccomp_build.h"
#include "seccomp_named.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the mandatory denials ----
 *
 * A filter of their own, installed after the profile's.  The kernel runs
 * every installed filter and takes the strictest answer, so nothing a
 * profile says can lift them.  Merging them into the profile's filter
 * would not do: libseccomp lets an unconditional rule swallow conditional
 * ones for the same call (a profile's plain "socket: allow" would erase
 * the AF_VSOCK denial) and keeps the first of two unconditional ones. */

#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

static const char *const denied_calls[] = {
	"keyctl",
	"add_key",
	"request_key",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"userfaultfd",
	"bpf",
	"perf_event_open",
	"mount",
	"umount2",
	"unshare",
	"setns",
	"pivot_root",
	"chroot",
	"open_tree",
	"move_mount",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	/* Reaching into another process. */
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"pidfd_getfd",
	"process_madvise",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	/* File handles bypass path checks (the "shocker" escape). */
	"open_by_handle_at",
	"name_to_handle_at",
};

/* The kernel reads socket's family and type as int: compare the low 32
 * bits only, or a family with bit 32 set would slip past the rule. */
#define LOW32(v) (uint64_t)0xffffffffu, (uint64_t)(v)

static int deny_socket(scmp_filter_ctx ctx, int family, int type)
{
	const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	if (type < 0)
		return seccomp_rule_add(
			ctx, deny, SCMP_SYS(socket), 1,
			SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32(family)));
	/* The low bits of the type are the type, the rest flags. */
	return seccomp_rule_add(
		ctx, deny, SCMP_SYS(socket), 2,
		SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32(family)),
		SCMP_A1(SCMP_CMP_MASKED_EQ, (uint64_t)0xf, (uint64_t)type));
}

static int build_mandatory(struct seccomp_prog *out)
{
	_cleanup_ctx_ scmp_filter_ctx ctx = NULL;
	int r = seccomp_build_ctx(SCMP_ACT_ALLOW, &ctx);
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
	 * look absent so that libc falls back to clone. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
				  0)) < 0)
		return r;
	/* One rule per flag: any one of them set is refused.  The mask
	 * leaves out the high 32 bits, which clone ignores anyway. */
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t flag = 1ull << bit;
		if (!(CLONE_NS_FLAGS & flag))
			continue;
		if ((r = seccomp_rule_add(
			     ctx, deny, SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) < 0)
			return r;
	}
	if ((r = deny_socket(ctx, AF_VSOCK, -1)) < 0 ||
	    (r = deny_socket(ctx, AF_ALG, -1)) < 0 ||
	    (r = deny_socket(ctx, AF_PACKET, -1)) < 0 ||
	    (r = deny_socket(ctx, AF_INET, SOCK_RAW)) < 0 ||
	    (r = deny_socket(ctx, AF_INET6, SOCK_RAW)) < 0 ||
	    /* The kernel turns this old spelling into AF_PACKET. */
	    (r = deny_socket(ctx, AF_INET, SOCK_PACKET)) < 0)
		return r;
	return seccomp_build_export(ctx, &out->insns, &out->len);
}

/* ---- profiles by mode, cached ---- */

struct cached {
	struct cached *next;
	char *name; /* NULL: the built-in strict profile */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct seccomp_prog prog;
};

static struct cached *cache;
static struct seccomp_prog mandatory;

static struct cached *cache_find(const char *name)
{
	for (struct cached *c = cache; c; c = c->next)
		if ((!c->name && !name) ||
		    (c->name && name && !strcmp(c->name, name)))
			return c;
	return NULL;
}

static void cache_free(struct cached *c)
{
	seccomp_prog_free(&c->prog);
	free(c->name);
	free(c);
}

static void cache_drop(struct cached *gone)
{
	for (struct cached **p = &cache; *p; p = &(*p)->next)
		if (*p == gone) {
			*p = gone->next;
			break;
		}
	cache_free(gone);
}

static int cache_add(const char *name, const struct stat *st, const char *json,
		     size_t len, struct cached **out, struct error *e)
{
	struct cached *c = calloc(1, sizeof(*c));
	if (!c || (name && !(c->name = strdup(name)))) {
		free(c);
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	}
	int r = seccomp_compile_json(json, len, &c->prog, e);
	if (r < 0) {
		free(c->name);
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

/* The administrator's policy (seccomp_set_policy). */
static char *profile_dir;
static bool unconfined_drops_denials;

int seccomp_set_policy(const char *dir, bool drops_denials)
{
	char *d = strdup(dir);
	if (!d)
		return -ENOMEM;
	free(profile_dir);
	profile_dir = d;
	unconfined_drops_denials = drops_denials;
	return 0;
}

/* A file's content is never quoted back: say which profile, and where in
 * it the fault is. */
static int lookup_custom(const char *given, struct cached **out,
			 struct error *e)
{
	char name[SECCOMP_NAME_MAX + 1];
	struct stat st;
	int r;
	if (!profile_dir)
		return error_set(e, ERR_INTERNAL, EINVAL,
				 "no seccomp profile directory is set");
	if ((r = seccomp_named_parse(profile_dir, given, name, e)) < 0)
		return r;
	_cleanup_close_ int fd = seccomp_named_open(profile_dir, name, &st, e);
	if (fd < 0)
		return fd;
	struct cached *c = cache_find(name);
	if (c && c->dev == st.st_dev && c->ino == st.st_ino &&
	    c->size == st.st_size && c->mtime.tv_sec == st.st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		*out = c;
		return 0;
	}
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "options.security.customProfilePath: profile "
				 "'%s' changed while it was read; try again",
				 name);
	struct error why;
	r = cache_add(name, &st, buf, (size_t)n, out, &why);
	if (r < 0)
		return error_set(e, why.kind, r,
				 "options.security.customProfilePath: profile "
				 "'%s': %s",
				 name, why.message);
	/* The file changed.  Boxes that got the old program hold their own
	 * copy since their clone, so it can go. */
	if (c)
		cache_drop(c);
	return 0;
}

static int build_denials(struct error *e)
{
	if (mandatory.insns)
		return 0;
	int r = build_mandatory(&mandatory);
	if (r < 0) {
		log_errno(LOG_ERR, r,
			  "cannot build the mandatory seccomp filter");
		return error_set(e, ERR_INTERNAL, EINVAL,
				 "the seccomp filter cannot be built: %s",
				 strerror(-r));
	}
	return 0;
}

int seccomp_lookup(const char *mode, const char *custom_name,
		   const struct seccomp_prog **out, struct error *e)
{
	*out = NULL;
	if (!mode)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "seccomp: missing");
	bool unconfined = !strcmp(mode, "unconfined");
	if (!unconfined && strcmp(mode, "strict") != 0 &&
	    strcmp(mode, "custom") != 0)
		return error_set(
			e, ERR_INVALID_ARGUMENT, EINVAL,
			"seccomp: must be \"strict\", \"unconfined\" or "
			"\"custom\"");
	if (unconfined && unconfined_drops_denials)
		return 0;
	int r = build_denials(e);
	if (r < 0)
		return r;
	if (unconfined) {
		/* The denials alone: seccomp_install knows this program. */
		*out = &mandatory;
		return 0;
	}
	struct cached *c = NULL;
	if (!strcmp(mode, "strict")) {
		c = cache_find(NULL);
		if (!c) {
			struct error why;
			r = cache_add(NULL, NULL, seccomp_builtin_strict,
				      seccomp_builtin_strict_len, &c, &why);
			if (r < 0) {
				log_err("the built-in strict profile does not "
					"compile: %s",
					why.message);
				return error_set(
					e, ERR_INTERNAL, EINVAL,
					"the built-in seccomp profile does "
					"not compile: %s",
					why.message);
			}
		}
	} else {
		if (!custom_name)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "options.security.customProfilePath: "
					 "required when seccomp is "
					 "\"custom\"");
		if ((r = lookup_custom(custom_name, &c, e)) < 0)
			return r;
	}
	*out = &c->prog;
	return 0;
}

/* Exports shared by the boxes of each program, by serial (the mandatory
 * denials alone, "unconfined", have 0): a recompiled profile gets its
 * own, the oldest one makes room. */
#define SHARED_EXPORTS 8
static struct {
	uint64_t serial;
	int fd; /* 0: none */
} shared[SHARED_EXPORTS];
static unsigned shared_next;

void seccomp_cache_clear(void)
{
	while (cache) {
		struct cached *c = cache;
		cache = c->next;
		cache_free(c);
	}
	seccomp_prog_free(&mandatory);
	free(profile_dir);
	profile_dir = NULL;
	for (unsigned i = 0; i < SHARED_EXPORTS; i++)
		if (shared[i].fd > 0)
			close(shared[i].fd);
	memset(shared, 0, sizeof(shared));
}

static int write_prog(int fd, const struct seccomp_prog *p)
{
	uint32_t n = p->len;
	struct iovec iov[2] = {
		{ &n, sizeof(n) },
		{ p->insns, (size_t)p->len * sizeof(*p->insns) },
	};
	ssize_t want = (ssize_t)(iov[0].iov_len + iov[1].iov_len);
	ssize_t w = writev(fd, iov, 2);
	return w < 0 ? -errno : w != want ? -EIO : 0;
}

int seccomp_export(const struct seccomp_prog *p, int fd)
{
	/* Every program comes from seccomp_lookup(), which builds the
	 * denials first; without them, refuse rather than run half
	 * confined. */
	if (!mandatory.insns || !p->insns)
		return -EINVAL;
	/* "unconfined" is the denials alone. */
	int r = p == &mandatory ? 0 : write_prog(fd, p);
	/* Installed last, the denials' errno also wins among actions of
	 * the same rank. */
	return r < 0 ? r : write_prog(fd, &mandatory);
}

int seccomp_export_shared(const struct seccomp_prog *p)
{
	for (unsigned i = 0; i < SHARED_EXPORTS; i++)
		if (shared[i].fd > 0 && shared[i].serial == p->serial)
			return shared[i].fd;
	_cleanup_close_ int fd =
		memfd_create("isol8-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = seccomp_export(p, fd);
	/* Read by every box it goes to: none may change it. */
	if (r == 0)
		r = memfd_seal(fd);
	if (r < 0)
		return r;
	unsigned i = shared_next++ % SHARED_EXPORTS;
	if (shared[i].fd > 0)
		close(shared[i].fd);
	shared[i].serial = p->serial;
	shared[i].fd = TAKE_FD(fd);
	return shared[i].fd;
}
