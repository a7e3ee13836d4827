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
#include <stdbool.h>
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

/* The administrator's policy: dir (absolute) holds the named custom
 * profiles; drops_denials makes "unconfined" mean no filter at all instead
 * of the mandatory denials alone.  Before any lookup; dir is copied. */
int seccomp_set_policy(const char *dir, bool drops_denials);

/* The program for a request's seccomp mode: "strict" (built in),
 * "unconfined" (the mandatory denials alone, or *out = NULL for no filter
 * when the policy says so) or "custom" (custom_name, a profile of the
 * policy's directory, see seccomp_named.h; recompiled when the file
 * changes).  A program stays valid until its file is found changed or
 * seccomp_cache_clear(): take it into a box (clone copies it) before the
 * next lookup.  e gets a message for the client, which names a custom
 * profile and the place of a fault in it but never quotes its content. */
int seccomp_lookup(const char *mode, const char *custom_name,
		   const struct seccomp_prog **out, struct error *e);
void seccomp_cache_clear(void);

/* Writes p and then the mandatory denials, which therefore win over
 * anything p allows, to fd in the form seccomp_load() installs
 * (seccomp_load.h); for "unconfined" only the denials.  p must come from
 * seccomp_lookup() (-EINVAL if the denials have not been built).  Only
 * writev: safe in a cloned child.  0 or a negative errno. */
int seccomp_export(const struct seccomp_prog *p, int fd);
/* p's export in a sealed memfd, made once and shared by the boxes that
 * install it (each init reads it with pread and closes its copy); the
 * fd stays the cache's.  The fd, or a negative errno. */
int seccomp_export_shared(const struct seccomp_prog *p);

#endif
