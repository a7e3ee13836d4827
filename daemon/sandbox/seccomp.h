/* Seccomp profiles in Docker's JSON format, compiled to BPF for the native
 * architecture, and the mandatory denials installed on top of any profile.
 * "strict" is profiles/strict.json, compiled into the daemon.
 *
 * Read as Docker and runc read a profile: rules whose includes (arches,
 * caps, minKernel) do not all hold, or whose excludes hold, are left out;
 * a box has no capabilities, so any includes.caps leaves a rule out and no
 * excludes.caps does.  Syscall names this architecture lacks are skipped.
 * Several comparisons of the same argument in one rule become one rule
 * each.  SCMP_ACT_KILL is KILL_THREAD; SCMP_ACT_TRACE stays TRACE (no
 * tracer: ENOSYS); SCMP_ACT_NOTIFY is refused.  architectures/archMap are
 * not used: only the native ABI is ever allowed, others (ia32, x32) kill
 * the process. */
#ifndef ISOL8D_SECCOMP_H
#define ISOL8D_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct seccomp_prog {
	struct sock_filter *insns;
	unsigned short len;
	/* Unique to each compilation, never 0: tells a recompiled profile
	 * from the program it replaced. */
	uint64_t serial;
};

/* profiles/strict.json, seccomp_builtin.c. */
extern const char seccomp_builtin_strict[];
extern const size_t seccomp_builtin_strict_len;

/* Compiles a profile; on -EINVAL e names what is wrong and where (the
 * JSON path, e.g. `syscalls[3].action: unknown action "FOO"`). */
int seccomp_compile_json(const char *json, size_t len, struct seccomp_prog *out,
			 struct error *e);
void seccomp_prog_free(struct seccomp_prog *p);

/* The program for a request's seccomp mode: "strict" (built in),
 * "unconfined" (*out = NULL) or "custom" (custom_path, an absolute path,
 * recompiled when its size or mtime changes).  A program stays valid
 * until its file is found changed or seccomp_cache_clear(): take it into a
 * box (clone copies it) before the next lookup.  e gets a message for
 * the client (kind invalid_argument). */
int seccomp_lookup(const char *mode, const char *custom_path,
		   const struct seccomp_prog **out, struct error *e);
void seccomp_cache_clear(void);

/* Writes p and then the mandatory denials, which therefore win over
 * anything p allows, to fd in the form seccomp_load() installs
 * (seccomp_load.h); p must come from seccomp_lookup() (-EINVAL if the
 * denials have not been built).  Only writev: safe in a cloned child.
 * 0 or a negative errno. */
int seccomp_export(const struct seccomp_prog *p, int fd);

#endif
