/* Every runtime still works under the strict seccomp profile with the
 * mandatory denials: each runs a small program that starts threads and
 * subprocesses in a forked child with no_new_privs and the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "seccomp_install.h"

static const char *const *run_argv;

static int exec_argv(void)
{
	execv(run_argv[0], (char *const *)run_argv);
	return 127;
}

/* Runs argv under the strict profile; returns its stdout. */
static char *run_strict(const char *const argv[], int *status)
{
	const struct seccomp_prog *p = NULL;
	struct error err = { 0 };
	assert_int_equal(seccomp_lookup("strict", NULL, &p, &err), 0);
	int out[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* dup2 leaves the new fd open across exec. */
		if (dup2(out[1], 1) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_install(p) < 0)
			_exit(100);
		run_argv = argv;
		_exit(exec_argv());
	}
	close(out[1]);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (len + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
		ssize_t n = read(out[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(out[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	return buf;
}

static int argc_last(const char *const argv[])
{
	int n = 0;
	while (argv[n + 1])
		n++;
	return n;
}

static void expect_output(const char *const argv[], const char *want)
{
	if (access(argv[0], X_OK) != 0) {
		print_message("%s is not installed: skipped\n", argv[0]);
		skip();
	}
	int st;
	_cleanup_free_ char *got = run_strict(argv, &st);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s %s under the strict profile: status %#x, output "
			 "\"%s\"",
			 argv[0], argv[argc_last(argv)], st, got);
	if (strcmp(got, want) != 0)
		fail_msg("%s: output \"%s\", not \"%s\"", argv[0], got, want);
}

static void test_python(void **state)
{
	(void)state;
	const char *const a[] = { "/usr/bin/python3", "-c",
				  "import os,subprocess,threading; "
				  "print(subprocess.run([\"/bin/echo\",\"ok\"],"
				  "capture_output=True).stdout)",
				  NULL };
	expect_output(a, "b'ok\\n'\n");
	const char *const b[] = {
		"/usr/bin/python3", "-c",
		"import threading, multiprocessing as mp, asyncio\n"
		"t = threading.Thread(target=print, args=('t',)); t.start(); "
		"t.join()\n"
		"with mp.Pool(2) as p: print(sum(p.map(abs, [-1, -2])))\n"
		"print(asyncio.run(asyncio.sleep(0, 'a')))",
		NULL
	};
	expect_output(b, "t\n3\na\n");
}

static void test_node(void **state)
{
	(void)state;
	const char *const a[] = {
		"/usr/bin/node", "-e",
		"require(\"child_process\").execSync(\"true\"); console.log(1)",
		NULL
	};
	expect_output(a, "1\n");
	const char *const b[] = {
		"/usr/bin/node", "-e",
		"const { Worker } = require('worker_threads');"
		"new Worker('require(\"worker_threads\").parentPort"
		".postMessage(2)', { eval: true })"
		".on('message', m => console.log(m))",
		NULL
	};
	expect_output(b, "2\n");
}

static void test_bun(void **state)
{
	(void)state;
	const char *const a[] = { "/opt/isol8/runtimes/bin/bun", "-e",
				  "console.log(1)", NULL };
	expect_output(a, "1\n");
	const char *const b[] = {
		"/opt/isol8/runtimes/bin/bun", "-e",
		"console.log(Bun.spawnSync(['/bin/echo', '2']).stdout"
		".toString().trim())",
		NULL
	};
	expect_output(b, "2\n");
}

static void test_deno(void **state)
{
	(void)state;
	const char *const a[] = { "/opt/isol8/runtimes/bin/deno", "eval",
				  "console.log(1)", NULL };
	expect_output(a, "1\n");
	const char *const b[] = {
		"/opt/isol8/runtimes/bin/deno", "eval",
		"const o = new Deno.Command('/bin/echo', { args: ['2'] })"
		".outputSync(); "
		"console.log(new TextDecoder().decode(o.stdout).trim())",
		NULL
	};
	expect_output(b, "2\n");
}

static void test_bash(void **state)
{
	(void)state;
	/* What `ls /` lists: every entry but the dot files. */
	DIR *d = opendir("/");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	char want[32];
	snprintf(want, sizeof(want), "%d\n", n);
	const char *const a[] = { "/bin/bash", "-c", "ls / | wc -l", NULL };
	expect_output(a, want);
	const char *const b[] = {
		"/bin/bash", "-c",
		"set -e; d=$(mktemp -d); echo b a | tr ' ' '\\n' | sort > "
		"$d/f; "
		"cp $d/f $d/g; chmod 600 $d/g; ln -s $d/g $d/l; cat $d/l | "
		"head -1; rm -r $d",
		NULL
	};
	expect_output(b, "a\n");
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
		cmocka_unit_test(test_python), cmocka_unit_test(test_node),
		cmocka_unit_test(test_bun),    cmocka_unit_test(test_deno),
		cmocka_unit_test(test_bash),
	};
	return cmocka_run_group_tests_name("seccomp runtimes", tests, NULL,
					   teardown);
}
