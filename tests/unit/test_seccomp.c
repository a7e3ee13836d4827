/* Seccomp profiles: parsing errors name their place, the strict profile
 * and the mandatory denials hold in a real process, and every runtime
 * still works under them.  Filters are installed only in forked children
 * with no_new_privs set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

static int compile(const char *json, struct seccomp_prog *p, char *err,
		   size_t len)
{
	return seccomp_compile_json(json, strlen(json), p, err, len);
}

static void expect_error(const char *json, const char *words)
{
	struct seccomp_prog p = { 0 };
	char err[256] = "";
	assert_int_equal(compile(json, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, words))
		fail_msg("error \"%s\" does not mention \"%s\"", err, words);
	assert_null(p.insns);
}

static void test_bad_profiles_name_the_place(void **state)
{
	(void)state;
	expect_error("{", "not valid JSON");
	expect_error("[]", "must be a JSON object");
	expect_error("{\"syscalls\":[]}", "defaultAction: missing");
	expect_error("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
		     "defaultAction: unknown action \"SCMP_ACT_NOPE\"");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		     "{\"names\":[\"write\"],\"action\":\"FOO\"}]}",
		     "syscalls[1].action: unknown action \"FOO\"");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		     "\"args\":[{\"index\":6,\"value\":1,\"op\":"
		     "\"SCMP_CMP_EQ\"}]}]}",
		     "syscalls[0].args[0].index: must be 0 to 5");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
		     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		     "\"args\":[{\"index\":0,\"value\":1,\"op\":\"LIKE\"}]}]}",
		     "syscalls[0].args[0].op: unknown operator \"LIKE\"");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}",
		     "syscalls: must be an array");
}

static void test_builtin_and_modes(void **state)
{
	(void)state;
	const struct seccomp_prog *p = NULL;
	char err[256];
	assert_int_equal(seccomp_lookup("strict", NULL, &p, err, sizeof(err)),
			 0);
	assert_non_null(p);
	assert_true(p->len > 50);
	const struct seccomp_prog *again = NULL;
	seccomp_lookup("strict", NULL, &again, err, sizeof(err));
	assert_ptr_equal(p, again); /* compiled once */
	assert_int_equal(
		seccomp_lookup("unconfined", NULL, &p, err, sizeof(err)), 0);
	assert_null(p);
	assert_int_equal(seccomp_lookup("custom", "/nonexistent/profile.json",
					&p, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "customProfilePath: cannot read "
				    "/nonexistent/profile.json"));
	assert_int_equal(seccomp_lookup("custom", "/dev/null", &p, err,
					sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_custom_profile_recompiled_when_changed(void **state)
{
	(void)state;
	char path[] = "/tmp/isol8-seccomp-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *a = "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}";
	assert_int_equal(write(fd, a, strlen(a)), (ssize_t)strlen(a));
	const struct seccomp_prog *p1 = NULL, *p2 = NULL;
	char err[256];
	assert_int_equal(seccomp_lookup("custom", path, &p1, err, sizeof(err)),
			 0);
	assert_non_null(p1);
	unsigned short len1 = p1->len;
	const char *b = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
			"[{\"names\":[\"uname\",\"getcwd\"],\"action\":"
			"\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
	assert_int_equal(pwrite(fd, b, strlen(b), 0), (ssize_t)strlen(b));
	close(fd);
	assert_int_equal(seccomp_lookup("custom", path, &p2, err, sizeof(err)),
			 0);
	assert_true(p2->len > len1);
	/* A broken file is refused, never silently replaced. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_int_equal(write(fd, "{", 1), 1);
	close(fd);
	assert_int_equal(seccomp_lookup("custom", path, &p2, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
	unlink(path);
}

static long raw(long nr, long a, long b, long c)
{
	return syscall(nr, a, b, c, 0, 0, 0);
}

/* Runs fn in a child under mode's filter; returns its wait status. */
static int under_filter(const char *mode, const char *path, int (*fn)(void))
{
	const struct seccomp_prog *p = NULL;
	char err[256];
	assert_int_equal(seccomp_lookup(mode, path, &p, err, sizeof(err)), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_install(p) < 0)
			_exit(100);
		_exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

#define DENIED(call, want)                                                     \
	do {                                                                   \
		errno = 0;                                                     \
		if ((call) != -1 || errno != (want))                           \
			return __LINE__ % 100 + 1;                             \
	} while (0)

static int attacks(void)
{
	DENIED(raw(SYS_keyctl, 0, 0, 0), EPERM);
	DENIED(raw(SYS_bpf, 0, 0, 0), EPERM);
	DENIED(raw(SYS_perf_event_open, 0, 0, -1), EPERM);
	DENIED(raw(SYS_io_uring_setup, 8, 0, 0), EPERM);
	DENIED(raw(SYS_userfaultfd, 0, 0, 0), EPERM);
	DENIED(raw(SYS_mount, 0, (long)"/tmp", (long)"tmpfs"), EPERM);
	DENIED(raw(SYS_unshare, CLONE_NEWUSER, 0, 0), EPERM);
	DENIED(raw(SYS_ptrace, 0, 0, 0), EPERM);
	DENIED(raw(SYS_clone3, 0, 0, 0), ENOSYS);
	DENIED(raw(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0), EPERM);
	DENIED(raw(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0), EPERM);
	DENIED(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
	DENIED(socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
	DENIED(socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	/* Ordinary work still goes through. */
	if (getpid() <= 0 || getcwd((char[64]){ 0 }, 64) == NULL)
		return 90;
	pid_t c = fork(); /* clone without namespace flags */
	if (c == 0)
		_exit(0);
	if (c < 0 || waitpid(c, NULL, 0) != c)
		return 91;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 92;
	close(s);
	return 0;
}

static int x32_call(void)
{
	syscall(0x40000000 | SYS_getpid);
	return 0; /* not reached: the filter kills the process */
}

static void test_strict_blocks_attacks(void **state)
{
	(void)state;
	int st = under_filter("strict", NULL, attacks);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_x32_is_killed(void **state)
{
	(void)state;
	int st = under_filter("strict", NULL, x32_call);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_allow_all_profile_keeps_mandatory_denials(void **state)
{
	(void)state;
	char path[] = "/tmp/isol8-seccomp-XXXXXX";
	int fd = mkstemp(path);
	const char *a = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
			"[{\"names\":[\"keyctl\",\"clone3\",\"socket\"],"
			"\"action\":\"SCMP_ACT_ALLOW\"}]}";
	assert_int_equal(write(fd, a, strlen(a)), (ssize_t)strlen(a));
	close(fd);
	int st = under_filter("custom", path, attacks);
	unlink(path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_docker_style_features(void **state)
{
	(void)state;
	/* includes/excludes by capability, architecture and kernel, and
	 * masked comparisons, as Docker's own default profile uses them. */
	const char *json =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
		"\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
		"\"subArchitectures\":[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],"
		"\"syscalls\":["
		"{\"names\":[\"read\",\"write\",\"exit_group\",\"getpid\","
		"\"no_such_call_anywhere\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ALLOW\","
		"\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
		"{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ALLOW\","
		"\"excludes\":{\"caps\":[\"CAP_SYS_ADMIN\"]},"
		"\"includes\":{\"arches\":[\"amd64\",\"arm64\"],"
		"\"minKernel\":\"4.8\"}},"
		"{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ALLOW\","
		"\"includes\":{\"minKernel\":\"99.0\"}},"
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
		"\"args\":[{\"index\":0,\"value\":4294967295,\"valueTwo\":0,"
		"\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\","
		"\"args\":[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,"
		"\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}";
	struct seccomp_prog p = { 0 };
	char err[256] = "";
	assert_int_equal(compile(json, &p, err, sizeof(err)), 0);
	assert_true(p.len > 10);
	seccomp_prog_free(&p);
	assert_null(p.insns);
}

static int run_exec(const char *const argv[])
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 1) < 0)
		return 80;
	execv(argv[0], (char *const *)argv);
	return 81;
}

#define RUNTIME(fn, ...)                                                       \
	static int fn(void)                                                    \
	{                                                                      \
		return run_exec((const char *const[]){ __VA_ARGS__, NULL });   \
	}
RUNTIME(run_python, "/usr/bin/python3", "-c",
	"import subprocess, threading\n"
	"r = subprocess.run(['/bin/echo', 'ok'], capture_output=True)\n"
	"t = threading.Thread(target=print); t.start(); t.join()\n"
	"assert r.stdout == b'ok\\n'")
RUNTIME(run_node, "/usr/bin/node", "-e",
	"require('child_process').execSync('true'); "
	"require('fs').writeFileSync('/dev/null', 'x')")
RUNTIME(run_bun, "/opt/isol8/runtimes/bin/bun", "-e",
	"if (Bun.spawnSync(['/bin/true']).exitCode !== 0) process.exit(3)")
RUNTIME(run_deno, "/opt/isol8/runtimes/bin/deno", "eval",
	"const p = new Deno.Command('/bin/true').outputSync(); "
	"if (!p.success) Deno.exit(3)")
RUNTIME(run_bash, "/bin/bash", "-c", "ls / | wc -l; echo x | sort")

static void expect_runs(int (*fn)(void), const char *exe)
{
	if (access(exe, X_OK) != 0)
		skip();
	int st = under_filter("strict", NULL, fn);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s under the strict profile: status %#x", exe, st);
}

static void test_runtimes_work_under_strict(void **state)
{
	(void)state;
	expect_runs(run_python, "/usr/bin/python3");
	expect_runs(run_node, "/usr/bin/node");
	expect_runs(run_bun, "/opt/isol8/runtimes/bin/bun");
	expect_runs(run_deno, "/opt/isol8/runtimes/bin/deno");
	expect_runs(run_bash, "/bin/bash");
}

static int teardown(void **state)
{
	(void)state;
	seccomp_cache_clear();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_profiles_name_the_place),
		cmocka_unit_test(test_builtin_and_modes),
		cmocka_unit_test(test_custom_profile_recompiled_when_changed),
		cmocka_unit_test(test_strict_blocks_attacks),
		cmocka_unit_test(test_x32_is_killed),
		cmocka_unit_test(test_allow_all_profile_keeps_mandatory_denials),
		cmocka_unit_test(test_docker_style_features),
		cmocka_unit_test(test_runtimes_work_under_strict),
	};
	return cmocka_run_group_tests_name("seccomp", tests, NULL, teardown);
}
