/* Seccomp profiles in Docker's JSON format, compiled to BPF for the native
 * architecture, and the mandatory denials installed on top of any profile.
 * "strict" is profiles/strict.json, compiled into the daemon. */
#ifndef ISOL8D_SECCOMP_H
#define ISOL8D_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

struct seccomp_prog {
	struct sock_filter *insns;
	unsigned short len;
};

extern const char seccomp_builtin_strict[];
extern const size_t seccomp_builtin_strict_len;

/* Compiles a profile; on -EINVAL err names what is wrong and where (the
 * JSON path). */
int seccomp_compile_json(const char *json, size_t len, struct seccomp_prog *out,
			 char *err, size_t errlen);
void seccomp_prog_free(struct seccomp_prog *p);

/* The program for a request's seccomp mode: "strict" (built in),
 * "unconfined" (*out = NULL) or "custom" (custom_path, recompiled when the
 * file changes).  Programs stay valid until seccomp_cache_clear().  err is
 * a message for the client. */
int seccomp_lookup(const char *mode, const char *custom_path,
		   const struct seccomp_prog **out, char *err, size_t errlen);
void seccomp_cache_clear(void);

/* Installs p and then the mandatory denials, which therefore win over
 * anything p allows.  For a forked child right before exec, with
 * no_new_privs set: allocates nothing.  0 or a negative errno. */
int seccomp_install(const struct seccomp_prog *p);

#endif
