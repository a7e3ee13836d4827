/* Docker's seccomp profile format compiled to BPF (see seccomp.h for how
 * it is read). */
#include "seccomp.h"

#include "cleanup.h"
#include "seccomp_build.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* Error messages say where in the profile a fault is, never what the
 * profile holds there: they go back to clients, who did not write it. */
#define MAX_ARGS 16 /* comparisons in one rule; 6 unless indices repeat */

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
	/* Kept as TRACE, as runc does: nothing in a box can trace (ptrace is
	 * among the mandatory denials), and without a tracer the kernel fails
	 * the call with ENOSYS. */
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(errno_ret);
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	/* It needs an agent listening for the box's calls; there is none. */
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return -EOPNOTSUPP;
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

/* The names profiles use for this machine's architecture: Docker's
 * includes/excludes.arches spell it as Go does ("amd64"); the kernel's and
 * libseccomp's spellings are accepted too. */
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

/* "<major>.<minor>", as Docker writes minKernel. */
static int parse_version(const char *s, unsigned *major, unsigned *minor)
{
	int end = 0;
	if (sscanf(s, "%3u.%3u%n", major, minor, &end) != 2 || s[end] ||
	    *major > 255 || *minor > 255 || (*major == 0 && *minor == 0))
		return -EINVAL;
	return 0;
}

static bool kernel_at_least(unsigned want_major, unsigned want_minor)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > want_major ||
	       (major == want_major && minor >= want_minor);
}

/* A filter's field that must be a list of strings; NULL when absent. */
static int string_list(json_object *filter, const char *key, const char *where,
		       const char *which, json_object **out, struct error *e)
{
	*out = NULL;
	json_object *v = NULL;
	if (!json_object_object_get_ex(filter, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.%s.%s: must be an array of strings", where,
				 which, key);
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i),
					 json_type_string))
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.%s.%s[%zu]: must be a string",
					 where, which, key, i);
	*out = v;
	return 0;
}

static bool has_native(json_object *arr)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		if (is_native_arch(json_object_get_string(
			    json_object_array_get_idx(arr, i))))
			return true;
	return false;
}

/* includes/excludes: {arches, caps, minKernel}.  *match says whether the
 * box matches the filter the way Docker reads it for `which`: includes
 * match when every condition holds, excludes when any does. */
static int filter_matches(json_object *rule, const char *which,
			  const char *where, bool *match, struct error *e)
{
	bool inc = !strcmp(which, "includes");
	json_object *f = NULL, *arches = NULL, *caps = NULL, *v = NULL;
	*match = inc;
	if (!json_object_object_get_ex(rule, which, &f) || !f)
		return 0;
	if (!json_object_is_type(f, json_type_object))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.%s: must be an object", where, which);
	int r = string_list(f, "arches", where, which, &arches, e);
	if (r == 0)
		r = string_list(f, "caps", where, which, &caps, e);
	if (r < 0)
		return r;
	bool arch_listed = arches && json_object_array_length(arches) > 0;
	/* Boxes hold no capabilities at all. */
	bool caps_listed = caps && json_object_array_length(caps) > 0;
	bool kernel_listed = false, kernel_ok = false;
	if (json_object_object_get_ex(f, "minKernel", &v) && v) {
		const char *s = json_object_get_string(v);
		unsigned major, minor;
		if (!json_object_is_type(v, json_type_string))
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.%s.minKernel: must be a string",
					 where, which);
		if (*s) {
			if (parse_version(s, &major, &minor) < 0)
				return error_set(e, ERR_INVALID_ARGUMENT,
						 EINVAL,
						 "%s.%s.minKernel: is not "
						 "\"<major>.<minor>\"",
						 where, which);
			kernel_listed = true;
			kernel_ok = kernel_at_least(major, minor);
		}
	}
	if (inc)
		*match = (!arch_listed || has_native(arches)) && !caps_listed &&
			 (!kernel_listed || kernel_ok);
	else
		*match = (arch_listed && has_native(arches)) ||
			 (kernel_listed && kernel_ok);
	return 0;
}

/* An optional unsigned integer member; absent or null reads as 0. */
static int get_u64(json_object *o, const char *key, uint64_t *out)
{
	json_object *v = NULL;
	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

static int parse_args(json_object *rule, const char *where,
		      struct scmp_arg_cmp cmp[MAX_ARGS], unsigned *n,
		      bool *repeated, struct error *e)
{
	json_object *args = NULL;
	unsigned seen = 0;
	*n = 0;
	*repeated = false;
	if (!json_object_object_get_ex(rule, "args", &args) || !args)
		return 0;
	if (!json_object_is_type(args, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.args: must be an array", where);
	size_t len = json_object_array_length(args);
	if (len > MAX_ARGS)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.args: at most %d comparisons", where,
				 MAX_ARGS);
	for (size_t i = 0; i < len; i++) {
		json_object *a = json_object_array_get_idx(args, i), *v;
		uint64_t index, value, value2;
		enum scmp_compare op;
		if (!json_object_is_type(a, json_type_object))
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.args[%zu]: must be an object",
					 where, i);
		if (get_u64(a, "index", &index) < 0 || index > 5)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.args[%zu].index: must be 0 to 5",
					 where, i);
		if (get_u64(a, "value", &value) < 0)
			return error_set(
				e, ERR_INVALID_ARGUMENT, EINVAL,
				"%s.args[%zu].value: must be an unsigned "
				"64-bit integer",
				where, i);
		if (get_u64(a, "valueTwo", &value2) < 0)
			return error_set(
				e, ERR_INVALID_ARGUMENT, EINVAL,
				"%s.args[%zu].valueTwo: must be an unsigned "
				"64-bit integer",
				where, i);
		const char *ops = json_object_object_get_ex(a, "op", &v) && v
					  ? json_object_get_string(v)
					  : NULL;
		if (!ops)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.args[%zu].op: missing", where, i);
		if (parse_op(ops, &op) < 0)
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.args[%zu].op: is not a known "
					 "operator",
					 where, i);
		if (seen & (1u << index))
			*repeated = true;
		seen |= 1u << index;
		cmp[i] = (struct scmp_arg_cmp){ .arg = (unsigned)index,
						.op = op,
						.datum_a = value,
						.datum_b = value2 };
	}
	*n = (unsigned)len;
	return 0;
}

static int add_one(scmp_filter_ctx ctx, const char *where, size_t idx, int nr,
		   uint32_t action, const struct scmp_arg_cmp *cmp,
		   unsigned ncmp, struct error *e)
{
	int r = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp);
	/* The default action already (EACCES), or a rule libseccomp already
	 * holds (EEXIST): runc skips these as well. */
	if (r == -EACCES || r == -EEXIST)
		return 0;
	if (r < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.names[%zu]: cannot add the rule: %s",
				 where, idx, strerror(-r));
	return 0;
}

/* Adds the rule for each of its names, or with apply false only checks
 * them. */
static int add_names(scmp_filter_ctx ctx, json_object *rule, const char *where,
		     bool apply, uint32_t action,
		     const struct scmp_arg_cmp *cmp, unsigned ncmp,
		     bool repeated, struct error *e)
{
	json_object *names = NULL, *one = NULL;
	json_object_object_get_ex(rule, "names", &names);
	json_object_object_get_ex(rule, "name", &one);
	if (names && !json_object_is_type(names, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.names: must be an array", where);
	if (one && !json_object_is_type(one, json_type_string))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.name: must be a string", where);
	size_t n = names ? json_object_array_length(names) : 0;
	if (one && n)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: has both name and names", where);
	for (size_t i = 0; i < n || (i == 0 && one); i++) {
		json_object *nv =
			one ? one : json_object_array_get_idx(names, i);
		if (!json_object_is_type(nv, json_type_string))
			return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
					 "%s.names[%zu]: must be a string",
					 where, i);
		if (!apply)
			continue;
		const char *name = json_object_get_string(nv);
		int nr = seccomp_syscall_resolve_name(name);
		/* Profiles list calls that other architectures or kernels
		 * have. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r = 0;
		/* Several comparisons of one argument: each is a rule of its
		 * own (so any of them matches), as runc reads such a rule;
		 * libseccomp refuses them in one. */
		if (repeated)
			for (unsigned k = 0; k < ncmp && r == 0; k++)
				r = add_one(ctx, where, i, nr, action, &cmp[k],
					    1, e);
		else
			r = add_one(ctx, where, i, nr, action, cmp, ncmp, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, json_object *rule, size_t idx,
		    struct error *e)
{
	char where[48];
	snprintf(where, sizeof(where), "syscalls[%zu]", idx);
	if (!json_object_is_type(rule, json_type_object))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s: must be an object", where);
	bool included = false, excluded = true;
	int r = filter_matches(rule, "includes", where, &included, e);
	if (r == 0)
		r = filter_matches(rule, "excludes", where, &excluded, e);
	if (r < 0)
		return r;
	json_object *v = NULL;
	uint64_t eret = EPERM;
	if (json_object_object_get_ex(rule, "errnoRet", &v) && v &&
	    (get_u64(rule, "errnoRet", &eret) < 0 || eret > 4095))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.errnoRet: must be 0 to 4095", where);
	const char *act = json_object_object_get_ex(rule, "action", &v) && v
				  ? json_object_get_string(v)
				  : NULL;
	uint32_t action;
	if (!act)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "%s.action: missing", where);
	if ((r = parse_action(act, (uint32_t)eret, &action)) < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 r == -EOPNOTSUPP
					 ? "%s.action: is not supported here"
					 : "%s.action: is not a known action",
				 where);
	struct scmp_arg_cmp cmp[MAX_ARGS];
	unsigned ncmp;
	bool repeated;
	if ((r = parse_args(rule, where, cmp, &ncmp, &repeated, e)) < 0)
		return r;
	/* A rule that does not apply here is still checked in full, so that
	 * a mistake in it shows wherever the profile is tried. */
	return add_names(ctx, rule, where, included && !excluded, action, cmp,
			 ncmp, repeated, e);
}

int seccomp_compile_json(const char *json, size_t len, struct seccomp_prog *out,
			 struct error *e)
{
	*out = (struct seccomp_prog){ 0 };
	if (len > INT_MAX)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "the profile is too large");
	_cleanup_json_ json_object *root = NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "not valid JSON: %s",
				 jerr == json_tokener_continue
					 ? "unexpected end of data"
					 : json_tokener_error_desc(jerr));
	for (; end < len; end++)
		if (!strchr(" \t\r\n", json[end]) || !json[end])
			return error_set(
				e, ERR_INVALID_ARGUMENT, EINVAL,
				"not valid JSON: data after the profile "
				"at byte %zu",
				end);
	if (!json_object_is_type(root, json_type_object))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "the profile must be a JSON object");

	json_object *v = NULL;
	int r;
	uint64_t def_errno = EPERM;
	if (json_object_object_get_ex(root, "defaultErrnoRet", &v) && v &&
	    (get_u64(root, "defaultErrnoRet", &def_errno) < 0 ||
	     def_errno > 4095))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "defaultErrnoRet: must be 0 to 4095");
	const char *def =
		json_object_object_get_ex(root, "defaultAction", &v) && v
			? json_object_get_string(v)
			: NULL;
	uint32_t def_action;
	if (!def || !*def)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "defaultAction: missing");
	if ((r = parse_action(def, (uint32_t)def_errno, &def_action)) < 0)
		return error_set(
			e, ERR_INVALID_ARGUMENT, EINVAL,
			r == -EOPNOTSUPP
				? "defaultAction: is not supported here"
				: "defaultAction: is not a known "
				  "action");
	/* architectures and archMap are read for their shape only: a box
	 * gets the native ABI and nothing else, whatever they list. */
	if (json_object_object_get_ex(root, "architectures", &v) && v &&
	    !json_object_is_type(v, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "architectures: must be an array");
	if (json_object_object_get_ex(root, "archMap", &v) && v &&
	    !json_object_is_type(v, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "archMap: must be an array");
	json_object *calls = NULL;
	if (json_object_object_get_ex(root, "syscalls", &calls) && calls &&
	    !json_object_is_type(calls, json_type_array))
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "syscalls: must be an array");

	_cleanup_ctx_ scmp_filter_ctx ctx = NULL;
	r = seccomp_build_ctx(def_action, &ctx);
	if (r < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "cannot start a filter: %s", strerror(-r));
	for (size_t i = 0; calls && i < json_object_array_length(calls); i++)
		if ((r = add_rule(ctx, json_object_array_get_idx(calls, i), i,
				  e)) < 0)
			return r;
	r = seccomp_build_export(ctx, &out->insns, &out->len);
	if (r < 0)
		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
				 "cannot compile the filter: %s", strerror(-r));
	static uint64_t serial;
	out->serial = ++serial;
	return 0;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}
