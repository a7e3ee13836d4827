/* Seccomp profiles: parsing errors name their place, Docker's profile
 * format reads as Docker reads it, the strict profile and the mandatory
 * denials hold in a real process, and every runtime still works under
 * them.  Filters are installed only in forked children with no_new_privs
 * set; the children run as whoever runs the tests (root included: the
 * filter is what is tested, and with root's capabilities an EPERM can only
 * come from it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_load.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

#include "seccomp_install.h"

static int compile(const char *json, struct seccomp_prog *p, struct error *err)
{
	return seccomp_compile_json(json, strlen(json), p, err);
}

static void expect_error(const char *json, const char *words)
{
	struct seccomp_prog p = { 0 };
	struct error err = { 0 };
	assert_int_equal(compile(json, &p, &err), -EINVAL);
	if (!strstr(err.message, words))
		fail_msg("error \"%s\" does not mention \"%s\"", err.message,
			 words);
	assert_null(p.insns);
}

#define PROFILE(rules)                                                         \
	"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" rules "]}"

static void test_bad_profiles_name_the_place(void **state)
{
	(void)state;
	expect_error("{", "not valid JSON");
	expect_error("", "not valid JSON");
	expect_error("not json", "not valid JSON");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\"} {}",
		     "data after the profile");
	expect_error("[]", "must be a JSON object");
	expect_error("{\"syscalls\":[]}", "defaultAction: missing");
	expect_error("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
		     "defaultAction: is not a known action");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\","
		     "\"defaultErrnoRet\":-1}",
		     "defaultErrnoRet: must be 0 to 4095");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\"},"
			     "{\"names\":[\"write\"],\"action\":\"FOO\"}"),
		     "syscalls[1].action: is not a known action");
	expect_error(PROFILE("{\"names\":[\"read\"]}"),
		     "syscalls[0].action: missing");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_NOTIFY\"}"),
		     "syscalls[0].action: is not supported here");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,"
			     "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}"),
		     "syscalls[0].args[0].index: must be 0 to 5");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
			     "\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,"
			     "\"value\":1,\"op\":\"LIKE\"}]}"),
		     "syscalls[0].args[1].op: is not a known operator");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
			     "\"value\":-5,\"op\":\"SCMP_CMP_EQ\"}]}"),
		     "syscalls[0].args[0].value: must be an unsigned");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
			     "\"value\":1}]}"),
		     "syscalls[0].args[0].op: missing");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ERRNO\",\"errnoRet\":5000}"),
		     "syscalls[0].errnoRet: must be 0 to 4095");
	expect_error(PROFILE("{\"name\":\"read\",\"names\":[\"write\"],"
			     "\"action\":\"SCMP_ACT_ALLOW\"}"),
		     "syscalls[0]: has both name and names");
	expect_error(PROFILE("{\"names\":[\"read\", 7],"
			     "\"action\":\"SCMP_ACT_ALLOW\"}"),
		     "syscalls[0].names[1]: must be a string");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\"},{\"names\":[\"read\"],"
			     "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":"
			     "{\"minKernel\":\"five\"}}"),
		     "syscalls[1].includes.minKernel: is not");
	/* Checked even where the rule would not apply. */
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":\"BAD\","
			     "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}"),
		     "syscalls[0].action: is not a known action");
	expect_error(PROFILE("{\"names\":[\"read\", null],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"includes\":{\"arches\":"
			     "[\"s390x\"]}}"),
		     "syscalls[0].names[1]: must be a string");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"excludes\":{\"arches\":"
			     "\"amd64\"}}"),
		     "syscalls[0].excludes.arches: must be an array");
	expect_error(PROFILE("{\"names\":[\"read\"],\"action\":"
			     "\"SCMP_ACT_ALLOW\",\"includes\":[]}"),
		     "syscalls[0].includes: must be an object");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":{}}",
		     "syscalls: must be an array");
	expect_error(PROFILE("3"), "syscalls[0]: must be an object");
	/* What the profile holds is never quoted back, whichever field it
	 * is in. */
	static const char *const leaks[] = {
		PROFILE("{\"names\":[\"read\"],\"action\":\"s3cr3t\"}"),
		"{\"defaultAction\":\"s3cr3t\"}",
		PROFILE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
			"\"args\":[{\"index\":0,\"op\":\"s3cr3t\"}]}"),
		PROFILE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
			"\"includes\":{\"minKernel\":\"s3cr3t\"}}"),
	};
	for (size_t i = 0; i < ARRAY_SIZE(leaks); i++) {
		struct seccomp_prog p = { 0 };
		struct error err = { 0 };
		assert_int_equal(compile(leaks[i], &p, &err), -EINVAL);
		if (strstr(err.message, "s3cr3t"))
			fail_msg("content quoted: %s", err.message);
	}
}

/* The administrator's profile directory for these tests (group setup). */
static char profdir[] = "/tmp/isol8-seccomp-XXXXXX";

static void profile_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", profdir, name);
}

static void use_profdir(bool drops_denials)
{
	assert_int_equal(seccomp_set_policy(profdir, drops_denials), 0);
}

static void test_builtin_and_modes(void **state)
{
	(void)state;
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	assert_true(seccomp_builtin_strict_len > 1000);
	assert_int_equal(seccomp_builtin_strict[0], '{');
	assert_int_equal(seccomp_lookup("strict", NULL, &p, &err), 0);
	assert_non_null(p);
	assert_true(p->len > 50);
	const struct seccomp_prog *again = NULL;
	seccomp_lookup("strict", NULL, &again, &err);
	assert_ptr_equal(p, again); /* compiled once */
	use_profdir(false);
	/* Unconfined still has the mandatory denials, alone... */
	const struct seccomp_prog *un = NULL;
	assert_int_equal(seccomp_lookup("unconfined", NULL, &un, &err), 0);
	assert_non_null(un);
	assert_ptr_not_equal(un, p);
	/* ...unless the administrator's setting drops them. */
	use_profdir(true);
	assert_int_equal(seccomp_lookup("unconfined", NULL, &un, &err), 0);
	assert_null(un);
	use_profdir(false);
	assert_int_equal(seccomp_lookup("lax", NULL, &p, &err), -EINVAL);
	assert_non_null(strstr(err.message, "seccomp: must be"));
	assert_int_equal(seccomp_lookup("custom", "nonexistent.json", &p, &err),
			 -EINVAL);
	assert_string_equal(err.message,
			    "options.security.customProfilePath: there is no "
			    "seccomp profile named 'nonexistent.json'");
	/* A program that did not come through the lookup has no mandatory
	 * denials to go with it... */
	seccomp_cache_clear();
	struct seccomp_prog own = { 0 };
	assert_int_equal(
		compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", &own, &err),
		0);
	assert_int_equal(seccomp_install(&own), -EINVAL);
	seccomp_prog_free(&own);
	/* ...and installing nothing is nothing. */
	assert_int_equal(seccomp_install(NULL), 0);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_custom_profile_recompiled_when_changed(void **state)
{
	(void)state;
	/* Named as the directory's path and the name: the same profile. */
	char path[PATH_MAX];
	profile_path(path, sizeof(path), "changing.json");
	write_file(path, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	const struct seccomp_prog *p1 = NULL, *p2 = NULL, *p3 = NULL;
	struct error err = { 0 };
	use_profdir(false);
	assert_int_equal(seccomp_lookup("custom", path, &p1, &err), 0);
	assert_non_null(p1);
	unsigned short len1 = p1->len;
	assert_int_equal(seccomp_lookup("custom", path, &p3, &err), 0);
	assert_ptr_equal(p1, p3); /* unchanged: cached */
	write_file(path, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
			 "[{\"names\":[\"uname\",\"getcwd\"],\"action\":"
			 "\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
	assert_int_equal(seccomp_lookup("custom", "changing.json", &p2, &err),
			 0);
	assert_true(p2->len > len1);
	/* A broken file is refused, never silently replaced, and the error
	 * says which profile and where in it, not what it holds there. */
	write_file(path,
		   "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":"
		   "[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		   "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		   "{\"names\":[\"exit\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		   "{\"names\":[\"close\"],\"action\":\"FOO\"}]}");
	assert_int_equal(seccomp_lookup("custom", path, &p3, &err), -EINVAL);
	assert_string_equal(err.message,
			    "options.security.customProfilePath: profile "
			    "'changing.json': syscalls[3].action: is not a "
			    "known action");
	write_file(path, "{");
	assert_int_equal(seccomp_lookup("custom", path, &p3, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not valid JSON"));
	unlink(path);
}

static void expect_refused(const char *given, const char *words)
{
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	assert_int_equal(seccomp_lookup("custom", given, &p, &err), -EINVAL);
	assert_null(p);
	if (!strstr(err.message, words))
		fail_msg("%s: error \"%s\" does not mention \"%s\"", given,
			 err.message, words);
	if (strstr(err.message, "root:"))
		fail_msg("%s: content quoted: %s", given, err.message);
}

static void test_named_profiles_only(void **state)
{
	(void)state;
	char path[PATH_MAX], big[PATH_MAX];
	use_profdir(false);
	/* Host paths, however spelt, and names that climb out. */
	expect_refused("/etc/passwd", "not another path");
	expect_refused("/proc/self/root/etc/passwd", "not another path");
	expect_refused("relative/passwd", "a profile name is");
	expect_refused("../passwd", "a profile name is");
	expect_refused("..", "a profile name is");
	expect_refused("", "a profile name is");
	snprintf(path, sizeof(path), "%s/../passwd", profdir);
	expect_refused(path, "a profile name is");
	snprintf(path, sizeof(path), "%sx/passwd", profdir);
	expect_refused(path, "not another path");
	/* In the directory, only regular files: no symlink is followed, no
	 * FIFO or device opened (a FIFO opened for reading would block). */
	profile_path(path, sizeof(path), "link.json");
	assert_int_equal(symlink("/etc/passwd", path), 0);
	expect_refused("link.json",
		       "profile 'link.json' is not a regular file");
	profile_path(path, sizeof(path), "fifo.json");
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_refused("fifo.json",
		       "profile 'fifo.json' is not a regular file");
	profile_path(path, sizeof(path), "dir.json");
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused("dir.json", "profile 'dir.json' is not a regular file");
	profile_path(path, sizeof(path), "null.json");
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0)
		expect_refused("null.json",
			       "profile 'null.json' is not a regular file");
	profile_path(big, sizeof(big), "big.json");
	int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (2 << 20)), 0);
	close(fd);
	expect_refused("big.json", "profile 'big.json' is larger than");
	/* The directory's own spelling with trailing slashes still names
	 * it. */
	profile_path(path, sizeof(path), "ok.json");
	write_file(path, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	char slashed[PATH_MAX + 8];
	snprintf(slashed, sizeof(slashed), "%s//", profdir);
	assert_int_equal(seccomp_set_policy(slashed, false), 0);
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	assert_int_equal(seccomp_lookup("custom", path, &p, &err), 0);
	assert_non_null(p);
}

/* ---- filters at work, in forked children ---- */

static long raw(long nr, long a, long b, long c)
{
	return syscall(nr, a, b, c, 0, 0, 0);
}

/* Runs fn in a child under the program; returns its wait status. */
/* fn's exit status in a child under p (NULL: no filter).  The child dies
 * of its signals: cmocka's handlers would report them as this test's
 * failure and carry on in the child. */
static int run_under(const struct seccomp_prog *p, int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS };
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		if (p && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			  seccomp_install(p) < 0))
			_exit(100);
		_exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int under_filter(const char *mode, const char *path, int (*fn)(void))
{
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	if (seccomp_lookup(mode, path, &p, &err) < 0)
		fail_msg("%s %s: %s", mode, path ? path : "", err.message);
	return run_under(p, fn);
}

static void expect_exit0(int st, const char *what)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s: child %s %d", what,
			 WIFEXITED(st) ? "exited with" : "killed by signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* In the child: the call must fail with errno want. */
#define DENIED(call, want)                                                     \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		if (r_ != -1 || errno != (want)) {                             \
			dprintf(2, "line %d: %s = %ld, errno %d, not %d\n",    \
				__LINE__, #call, r_, errno, (want));           \
			return 1;                                              \
		}                                                              \
	} while (0)

/* In the child: the call must not fail with errno bad. */
#define NOT_DENIED(call, bad)                                                  \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		if (r_ == -1 && errno == (bad)) {                              \
			dprintf(2, "line %d: %s failed with %d\n", __LINE__,   \
				#call, errno);                                 \
			return 1;                                              \
		}                                                              \
	} while (0)

static int mandatory_denials(void)
{
	DENIED(raw(SYS_keyctl, 0, 0, 0), EPERM);
	DENIED(raw(SYS_add_key, 0, 0, 0), EPERM);
	DENIED(raw(SYS_request_key, 0, 0, 0), EPERM);
	DENIED(raw(SYS_bpf, 0, 0, 0), EPERM);
	DENIED(raw(SYS_perf_event_open, 0, 0, -1), EPERM);
	DENIED(raw(SYS_io_uring_setup, 8, 0, 0), EPERM);
	DENIED(raw(SYS_io_uring_enter, 0, 0, 0), EPERM);
	DENIED(raw(SYS_userfaultfd, 0, 0, 0), EPERM);
	DENIED(raw(SYS_mount, 0, (long)"/tmp", (long)"tmpfs"), EPERM);
	DENIED(raw(SYS_umount2, (long)"/tmp", 0, 0), EPERM);
	DENIED(raw(SYS_unshare, CLONE_NEWUSER, 0, 0), EPERM);
	DENIED(raw(SYS_unshare, 0, 0, 0), EPERM);
	DENIED(raw(SYS_setns, 0, 0, 0), EPERM);
	DENIED(raw(SYS_chroot, (long)"/", 0, 0), EPERM);
	DENIED(raw(SYS_pivot_root, (long)"/", (long)"/", 0), EPERM);
	DENIED(raw(SYS_fsopen, (long)"tmpfs", 0, 0), EPERM);
	DENIED(raw(SYS_open_tree, AT_FDCWD, (long)"/", 0), EPERM);
	DENIED(raw(SYS_ptrace, 0, 0, 0), EPERM);
	DENIED(raw(SYS_process_vm_readv, getppid(), 0, 0), EPERM);
	DENIED(raw(SYS_kexec_load, 0, 0, 0), EPERM);
	DENIED(raw(SYS_init_module, 0, 0, 0), EPERM);
	DENIED(raw(SYS_delete_module, (long)"x", 0, 0), EPERM);
	DENIED(raw(SYS_open_by_handle_at, 0, 0, 0), EPERM);
	DENIED(raw(SYS_clone3, 0, 0, 0), ENOSYS);
	DENIED(raw(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0), EPERM);
	DENIED(raw(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0), EPERM);
	DENIED(raw(SYS_clone, CLONE_NEWNS | CLONE_VFORK | SIGCHLD, 0, 0),
	       EPERM);
	DENIED(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
	DENIED(socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM);
	DENIED(socket(AF_PACKET, SOCK_RAW, 0), EPERM);
	DENIED(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP), EPERM);
	DENIED(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
	DENIED(socket(AF_INET, SOCK_PACKET, 0), EPERM);
	/* The kernel reads the family as an int: high bits do not hide
	 * it. */
	DENIED(raw(SYS_socket, (long)(1ul << 32) | AF_VSOCK, SOCK_STREAM, 0),
	       EPERM);
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
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 93;
	close(s);
	return 0;
}

static int strict_only(void)
{
	int r = mandatory_denials();
	if (r)
		return r;
	/* The profile's own refusals. */
	DENIED(raw(SYS_reboot, 0, 0, 0), EPERM);
	DENIED(raw(SYS_syslog, 3, 0, 0), EPERM);
	DENIED(raw(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */, 0, 0),
	       EPERM);
	DENIED(raw(SYS_personality, (long)(1ul << 32), 0, 0), EPERM);
	NOT_DENIED(raw(SYS_personality, 0xffffffffL, 0, 0), EPERM);
	NOT_DENIED(raw(SYS_personality, 0, 0, 0), EPERM);
	return 0;
}

static void test_strict_blocks_attacks(void **state)
{
	(void)state;
	expect_exit0(under_filter("strict", NULL, strict_only), "strict");
}

static int x32_call(void)
{
	syscall(0x40000000 | SYS_getpid);
	return 0; /* not reached: the filter kills the process */
}

static int ia32_call(void)
{
	/* int 0x80 is the 32-bit ABI, whatever the binary. */
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret < 0 ? 2 : 0;
}

/* Kernels built without IA32 emulation, or booted with it off, have no
 * 32-bit entry: int 0x80 then faults with SIGSEGV before any filter
 * sees it.  Tried once without a filter to know which kernel this is. */
static bool ia32_entry_present(void)
{
	int st = run_under(NULL, ia32_call);
	if (WIFSIGNALED(st))
		assert_int_equal(WTERMSIG(st), SIGSEGV);
	return WIFEXITED(st);
}

static void test_other_abis_are_killed(void **state)
{
	(void)state;
	int st = under_filter("strict", NULL, x32_call);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
#if defined(__x86_64__)
	bool present = ia32_entry_present();
	st = under_filter("strict", NULL, ia32_call);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), present ? SIGSYS : SIGSEGV);
	print_message("checked x32 and %s\n",
		      present ? "ia32 (int 0x80)"
			      : "that this kernel has no ia32 entry (int 0x80 "
				"faults with or without the filter)");
#else
	(void)ia32_call;
#endif
}

static void test_allow_all_profile_keeps_mandatory_denials(void **state)
{
	(void)state;
	char path[PATH_MAX];
	profile_path(path, sizeof(path), "allow-all.json");
	use_profdir(false);
	write_file(path,
		   "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
		   "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		   "{\"names\":[\"keyctl\",\"clone3\",\"socket\",\"clone\","
		   "\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		   "{\"names\":[\"unshare\"],\"action\":\"SCMP_ACT_ERRNO\","
		   "\"errnoRet\":22}]}");
	int st = under_filter("custom", "allow-all.json", mandatory_denials);
	expect_exit0(st, "allow-all profile");
	/* Unconfined means the mandatory denials alone. */
	expect_exit0(under_filter("unconfined", NULL, mandatory_denials),
		     "unconfined");
	/* And x32 still dies. */
	write_file(path, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	st = under_filter("custom", "allow-all.json", x32_call);
	unlink(path);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static int docker_style_rules(void)
{
	struct itimerval itv;
	gid_t g[3];
	uid_t u[3];
	DENIED(raw(SYS_getppid, 0, 0, 0), 100);
	NOT_DENIED(raw(SYS_getuid, 0, 0, 0), 101);  /* includes.caps */
	DENIED(raw(SYS_getgid, 0, 0, 0), 102);	    /* excludes.caps */
	DENIED(raw(SYS_geteuid, 0, 0, 0), 103);	    /* minKernel 3.10 */
	NOT_DENIED(raw(SYS_getegid, 0, 0, 0), 104); /* minKernel 99.0 */
	NOT_DENIED(raw(SYS_getpgrp, 0, 0, 0), 105); /* excludes.minKernel */
	DENIED(raw(SYS_getsid, 0, 0, 0), 106);	    /* includes.arches */
	NOT_DENIED(raw(SYS_getresuid, (long)&u[0], (long)&u[1], (long)&u[2]),
		   107); /* includes.arches elsewhere */
	NOT_DENIED(raw(SYS_getresgid, (long)&g[0], (long)&g[1], (long)&g[2]),
		   108); /* excludes.arches */
	DENIED(raw(SYS_getpgid, 0, 0, 0), 109);
	DENIED(raw(SYS_getpgid, 0x10000000, 0, 0), ESRCH);
	DENIED(raw(SYS_getpriority, 2 /* PRIO_USER */, 0, 0), 110);
	NOT_DENIED(raw(SYS_getpriority, 0 /* PRIO_PROCESS */, 0, 0), 110);
	DENIED(raw(SYS_ioprio_get, 1, 0, 0), 111);
	DENIED(raw(SYS_ioprio_get, 2, 0, 0), 111);
	NOT_DENIED(raw(SYS_ioprio_get, 3, 0, 0), 111);
	DENIED(raw(SYS_getitimer, 0, 0, 0), 112);
	NOT_DENIED(raw(SYS_getitimer, 0, (long)&itv, 0), 112);
	DENIED(raw(SYS_sched_getscheduler, 2000000, 0, 0), 113);
	NOT_DENIED(raw(SYS_sched_getscheduler, 0, 0, 0), 113);
	DENIED(raw(SYS_sched_getparam, 1000000, (long)&itv, 0), 114);
	DENIED(raw(SYS_sched_getparam, 1000000, 0, 0), EINVAL);
	DENIED(raw(SYS_sched_get_priority_max, 0, 0, 0), 115);
	NOT_DENIED(raw(SYS_sched_get_priority_max, 1, 0, 0), 115);
	DENIED(raw(SYS_sched_get_priority_min, 0, 0, 0), 116);
	NOT_DENIED(raw(SYS_sched_get_priority_min, 1, 0, 0), 116);
	DENIED(raw(SYS_capget, 0, 0, 0), EPERM);
	DENIED(raw(SYS_sysinfo, 0, 0, 0), ENOSYS);
	NOT_DENIED(raw(SYS_times, 0, 0, 0), EPERM);
	/* The profile allows these; the mandatory denials do not. */
	DENIED(raw(SYS_keyctl, 0, 0, 0), EPERM);
	DENIED(raw(SYS_clone3, 0, 0, 0), ENOSYS);
	DENIED(raw(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0), EPERM);
	DENIED(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
	return 0;
}

static char *fixture_path(const char *name)
{
	/* Next to this source file, as the compiler named it: relative to
	 * the repository root, where make runs the tests. */
	char rel[PATH_MAX];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(rel, sizeof(rel), "%.*s/fixtures/%s",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".",
		 name);
	char *abs = realpath(rel, NULL);
	if (!abs)
		fail_msg("fixture %s: %s", rel, strerror(errno));
	return abs;
}

static void test_docker_style_fixture(void **state)
{
	(void)state;
	_cleanup_free_ char *path = fixture_path("docker-style.json");
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	*strrchr(path, '/') = '\0';
	assert_int_equal(seccomp_set_policy(path, false), 0);
	if (seccomp_lookup("custom", "docker-style.json", &p, &err) < 0)
		fail_msg("%s", err.message);
	assert_true(p->len > 30);
	expect_exit0(run_under(p, docker_style_rules), "docker-style.json");
	int st = run_under(p, x32_call); /* its archMap adds no x32 */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(profdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	seccomp_cache_clear();
	char cmd[sizeof(profdir) + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", profdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_profiles_name_the_place),
		cmocka_unit_test(test_builtin_and_modes),
		cmocka_unit_test(test_custom_profile_recompiled_when_changed),
		cmocka_unit_test(test_named_profiles_only),
		cmocka_unit_test(test_strict_blocks_attacks),
		cmocka_unit_test(test_other_abis_are_killed),
		cmocka_unit_test(
			test_allow_all_profile_keeps_mandatory_denials),
		cmocka_unit_test(test_docker_style_fixture),
	};
	return cmocka_run_group_tests_name("seccomp", tests, setup, teardown);
}
