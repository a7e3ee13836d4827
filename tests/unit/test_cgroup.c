/* Box cgroups on the real cgroup filesystem: limits hold for a process put
 * into a box, usage is read back, removal waits for the box to empty, and
 * nothing is left behind.  Needs root; skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/host_features.h"

#define BASE "/sys/fs/cgroup"

static struct cgroup_root *root;

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	return cgroup_root_setup(cgroup_mode_detect(BASE), BASE, &root);
}

static int teardown(void **state)
{
	(void)state;
	char path[PATH_MAX];
	if (!root)
		return 0;
	snprintf(path, sizeof(path), "%s", cgroup_root_path(root));
	cgroup_root_free(root);
	root = NULL;
	struct stat st;
	/* The daemon's directory must be gone once its root is freed. */
	return stat(path, &st) == 0 ? -1 : 0;
}

static bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A child that waits on a pipe, then runs fn in the box. */
static pid_t spawn_in(struct cgroup_box *box, int (*fn)(void))
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		_exit(fn());
	}
	close(p[0]);
	assert_int_equal(cgroup_box_attach(box, pid), 0);
	assert_int_equal(write(p[1], "g", 1), 1);
	close(p[1]);
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int sleep_forever(void)
{
	pause();
	return 0;
}

static int fork_many(void)
{
	/* pids.max is 8: the ninth process cannot be made. */
	for (int i = 0; i < 20; i++) {
		pid_t c = fork();
		if (c < 0)
			return errno == EAGAIN ? 0 : 2;
		if (c == 0) {
			pause();
			_exit(0);
		}
	}
	return 1;
}

static int eat_memory(void)
{
	size_t len = 256u << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 3;
	for (size_t i = 0; i < len; i += 4096)
		m[i] = 1;
	return 0;
}

static int burn_cpu(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec <
	       50000000L);
	return 0;
}

static void test_root_below_own_cgroup(void **state)
{
	(void)state;
	if (!root)
		skip();
	char want[32];
	snprintf(want, sizeof(want), "/isol8d-%d", (int)getpid());
	const char *path = cgroup_root_path(root);
	assert_non_null(strstr(path, want));
	assert_true(strncmp(path, BASE "/", strlen(BASE) + 1) == 0);
	assert_true(dir_exists(path));
}

static void test_box_dir_removed_only_when_empty(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 16 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-empty", &lim, &box), 0);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/t-empty", cgroup_root_path(root));
	assert_true(dir_exists(path));
	assert_true(cgroup_box_empty(box));

	pid_t pid = spawn_in(box, sleep_forever);
	assert_false(cgroup_box_empty(box));
	assert_int_equal(cgroup_box_destroy(box), -EBUSY);
	assert_true(dir_exists(path));
	if (cgroup_box_kill(box) == -EOPNOTSUPP)
		kill(pid, SIGKILL);
	int status = wait_status(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The kernel may take a moment to let go of a reaped task. */
	int r;
	for (int i = 0; (r = cgroup_box_destroy(box)) == -EBUSY && i < 100; i++)
		usleep(10000);
	assert_int_equal(r, 0);
	assert_false(dir_exists(path));
}

static void destroy_after(struct cgroup_box *box)
{
	int r;
	for (int i = 0; (r = cgroup_box_destroy(box)) == -EBUSY && i < 100; i++)
		usleep(10000);
	assert_int_equal(r, 0);
}

static void test_pids_limit_stops_forks(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 8 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-pids", &lim, &box), 0);
	pid_t pid = spawn_in(box, fork_many);
	int status = wait_status(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The paused grandchildren are still in the box. */
	assert_false(cgroup_box_empty(box));
	if (cgroup_box_kill(box) == -EOPNOTSUPP) {
		char cmd[PATH_MAX + 64];
		snprintf(cmd, sizeof(cmd),
			 "for p in $(cat %s/t-pids/cgroup.procs); do kill -9 $p;"
			 " done",
			 cgroup_root_path(root));
		assert_int_equal(system(cmd), 0);
	}
	destroy_after(box);
}

static void test_memory_limit_oom_counted(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 32u << 20, .pids = 16 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-mem", &lim, &box), 0);
	pid_t pid = spawn_in(box, eat_memory);
	int status = wait_status(pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	struct cgroup_usage u;
	assert_int_equal(cgroup_box_usage(box, &u), 0);
	assert_true(u.oom_kills >= 1);
	assert_true(u.peak_memory_bytes > (16u << 20));
	assert_true(u.peak_memory_bytes <= (32u << 20));
	destroy_after(box);
}

static void test_cpu_time_reported(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20,
				     .pids = 16,
				     .cpus = 0.5 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-cpu", &lim, &box), 0);
	pid_t pid = spawn_in(box, burn_cpu);
	int status = wait_status(pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct cgroup_usage u;
	assert_int_equal(cgroup_box_usage(box, &u), 0);
	assert_true(u.cpu_time_ns >= 50000000u);
	assert_int_equal(u.oom_kills, 0);
	destroy_after(box);
}

static void test_limits_can_change(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 16 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-change", &lim, &box), 0);
	lim.memory_bytes = 16u << 20; /* lower, then higher than before */
	assert_int_equal(cgroup_box_set_limits(box, &lim), 0);
	lim.memory_bytes = 128u << 20;
	lim.pids = 0;
	lim.cpus = 2;
	assert_int_equal(cgroup_box_set_limits(box, &lim), 0);
	destroy_after(box);
}

static void test_duplicate_name_refused(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 16 };
	struct cgroup_box *a, *b = NULL;
	assert_int_equal(cgroup_box_create(root, "t-dup", &lim, &a), 0);
	assert_int_equal(cgroup_box_create(root, "t-dup", &lim, &b), -EEXIST);
	assert_null(b);
	destroy_after(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_below_own_cgroup),
		cmocka_unit_test(test_box_dir_removed_only_when_empty),
		cmocka_unit_test(test_pids_limit_stops_forks),
		cmocka_unit_test(test_memory_limit_oom_counted),
		cmocka_unit_test(test_cpu_time_reported),
		cmocka_unit_test(test_limits_can_change),
		cmocka_unit_test(test_duplicate_name_refused),
	};
	return cmocka_run_group_tests_name("cgroup", tests, setup, teardown);
}
