/* Building seccomp filters with libseccomp, shared by the profile
 * compiler and the mandatory denials: a context that lets only the native
 * ABI through, exported to BPF the kernel takes as it is. */
#ifndef ISOL8D_SECCOMP_BUILD_H
#define ISOL8D_SECCOMP_BUILD_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

static inline void seccomp_build_release(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}
#define _cleanup_ctx_ __attribute__((cleanup(seccomp_build_release)))

/* A context whose default action is def_action; 0 or a negative errno. */
int seccomp_build_ctx(uint32_t def_action, scmp_filter_ctx *out);
/* The context's filter as BPF: a new array of *len instructions. */
int seccomp_build_export(scmp_filter_ctx ctx, struct sock_filter **insns,
			 unsigned short *len);

#endif
