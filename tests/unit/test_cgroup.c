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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/cgroup_priv.h"
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

/* Moves pid into the box from outside (boxes join their cgroup themselves
 * in the daemon). */
static int attach_pid(struct cgroup_box *box, pid_t pid)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int c = 0; c < CG_NCTL; c++) {
		if (box->fd[c] < 0 || cg_same_dir_as(box->root, c) >= 0)
			continue;
		int r = cg_write_at(box->fd[c], "cgroup.procs", v);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool box_is_empty(const struct cgroup_box *box)
{
	char buf[64];
	if (box->root->v2) {
		uint64_t populated = 1;
		cg_read_key_at(box->fd[0], "cgroup.events", "populated",
			       &populated);
		return populated == 0;
	}
	for (int c = 0; c < CG_NCTL; c++)
		if (box->fd[c] >= 0 && (cg_read_at(box->fd[c], "cgroup.procs",
						   buf, sizeof(buf)) < 0 ||
					buf[0]))
			return false;
	return true;
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
	assert_int_equal(attach_pid(box, pid), 0);
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
	assert_true(box_is_empty(box));

	pid_t pid = spawn_in(box, sleep_forever);
	assert_false(box_is_empty(box));
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
	assert_false(box_is_empty(box));
	if (cgroup_box_kill(box) == -EOPNOTSUPP) {
		char cmd[PATH_MAX + 64];
		snprintf(
			cmd, sizeof(cmd),
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

/* Leaves a double-forked, setsid'd grandchild behind, as daemons do. */
static int leave_a_daemon(void)
{
	pid_t c = fork();
	if (c == 0) {
		setsid();
		if (fork() == 0)
			pause();
		_exit(0);
	}
	waitpid(c, NULL, 0);
	pause();
	return 0;
}

static void test_kill_takes_every_process(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 16 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-kill", &lim, &box), 0);
	pid_t pid = spawn_in(box, leave_a_daemon);
	char procs[PATH_MAX];
	snprintf(procs, sizeof(procs), "%s/t-kill/%s", cgroup_root_path(root),
		 cgroup_mode_detect(BASE) == CGROUP_MODE_V2 ? "cgroup.procs"
							    : "tasks");
	int n = 0;
	for (int i = 0; i < 200 && n != 2; i++) {
		FILE *f = fopen(procs, "re");
		char line[32];
		for (n = 0; f && fgets(line, sizeof(line), f);)
			n++;
		if (f)
			fclose(f);
		usleep(10000);
	}
	/* the child and its daemon, once the middle process has exited */
	assert_int_equal(n, 2);
	int r = cgroup_box_kill(box);
	struct host_features hf;
	host_features_probe(&hf);
	if (hf.cgroup_kill) {
		assert_int_equal(r, 0);
	} else {
		/* v1, or v2 before 5.14: the caller kills by other means. */
		assert_int_equal(r, -EOPNOTSUPP);
		char cmd[PATH_MAX + 64];
		snprintf(cmd, sizeof(cmd),
			 "for p in $(cat %s); do kill -9 $p; done", procs);
		assert_int_equal(system(cmd), 0);
	}
	int status = wait_status(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	destroy_after(box);
}

static int frozen_within(struct cgroup_box *box, int want)
{
	int r = -1;
	for (int i = 0; i < 500 && (r = cgroup_box_frozen(box)) != want; i++)
		usleep(10000);
	return r;
}

/* Frozen, the box's processes stand still; killed then thawed (as
 * box_kill does), they die, on v1 too where frozen ones cannot. */
static void test_freeze_and_thaw(void **state)
{
	(void)state;
	if (!root)
		skip();
	struct cgroup_limits lim = { .memory_bytes = 64u << 20, .pids = 16 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-freeze", &lim, &box), 0);
	pid_t pid = spawn_in(box, sleep_forever);
	assert_int_equal(cgroup_box_frozen(box), 0);
	assert_int_equal(cgroup_box_freeze(box, true), 0);
	assert_int_equal(frozen_within(box, 1), 1);
	assert_int_equal(cgroup_box_freeze(box, false), 0);
	assert_int_equal(frozen_within(box, 0), 0);
	assert_int_equal(cgroup_box_freeze(box, true), 0);
	assert_int_equal(frozen_within(box, 1), 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(cgroup_box_freeze(box, false), 0);
	int status = wait_status(pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	destroy_after(box);
}

static bool file_has_words(const char *path, const char *const *words, size_t n)
{
	char buf[512] = "";
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!strstr(buf, words[i]))
			return false;
	return true;
}

static void test_v2_delegation_layout(void **state)
{
	(void)state;
	if (!root || cgroup_mode_detect(BASE) != CGROUP_MODE_V2)
		skip();
	/* The process sits in isol8d-<pid>/daemon, a leaf beside the boxes,
	 * and the boxes get the controllers the limits need. */
	char self[PATH_MAX] = "", want[64];
	FILE *f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	assert_non_null(fgets(self, sizeof(self), f));
	fclose(f);
	snprintf(want, sizeof(want), "/isol8d-%d/daemon\n", (int)getpid());
	size_t sl = strlen(self), wl = strlen(want);
	assert_true(sl > wl && strcmp(self + sl - wl, want) == 0);
	char path[PATH_MAX + 32];
	static const char *const ctls[] = { "memory", "pids", "cpu" };
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control",
		 cgroup_root_path(root));
	assert_true(file_has_words(path, ctls, 3));
	struct cgroup_limits lim = { .memory_bytes = 64u << 20,
				     .pids = 16,
				     .cpus = 0.5 };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-layout", &lim, &box), 0);
	snprintf(path, sizeof(path), "%s/t-layout/memory.max",
		 cgroup_root_path(root));
	static const char *const mem[] = { "67108864" };
	assert_true(file_has_words(path, mem, 1));
	snprintf(path, sizeof(path), "%s/t-layout/cpu.max",
		 cgroup_root_path(root));
	static const char *const cpu[] = { "50000 100000" };
	assert_true(file_has_words(path, cpu, 1));
	destroy_after(box);
}

static void assert_file_is(const char *path, const char *want)
{
	char got[64] = "";
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	assert_string_equal(got, want);
}

static void test_v2_background_share(void **state)
{
	(void)state;
	if (!root || cgroup_mode_detect(BASE) != CGROUP_MODE_V2)
		skip();
	struct cgroup_limits lim = { .background = true };
	struct cgroup_box *box;
	assert_int_equal(cgroup_box_create(root, "t-bg", &lim, &box), 0);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/t-bg/cpu.weight",
		 cgroup_root_path(root));
	assert_file_is(path, "1\n");
	assert_int_equal(cgroup_box_set_background(box, false), 0);
	assert_file_is(path, "100\n");
	destroy_after(box);
}

/* A pid no process has now: a child's, once reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	wait_status(pid);
	return pid;
}

static void test_trees_of_a_dead_daemon_are_swept(void **state)
{
	(void)state;
	if (!root)
		skip();
	/* isol8d-<dead>/box beside this process's own tree, with a process
	 * in it that nobody waits for. */
	char own[PATH_MAX], stale[PATH_MAX + 32], box_dir[PATH_MAX + 64];
	snprintf(own, sizeof(own), "%s", cgroup_root_path(root));
	*strrchr(own, '/') = '\0';
	snprintf(stale, sizeof(stale), "%s/isol8d-%d", own, (int)dead_pid());
	snprintf(box_dir, sizeof(box_dir), "%s/box", stale);
	assert_int_equal(mkdir(stale, 0755), 0);
	assert_int_equal(mkdir(box_dir, 0755), 0);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t child = fork();
	if (child == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			char procs[PATH_MAX + 96], me[32];
			snprintf(procs, sizeof(procs), "%s/%s", box_dir,
				 cgroup_mode_detect(BASE) == CGROUP_MODE_V2
					 ? "cgroup.procs"
					 : "tasks");
			snprintf(me, sizeof(me), "%d", (int)getpid());
			FILE *f = fopen(procs, "we");
			if (!f || fputs(me, f) < 0 || fclose(f) != 0)
				_exit(1);
			pid_t self = getpid();
			(void)!write(p[1], &self, sizeof(self));
			pause();
		}
		_exit(gc > 0 ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(wait_status(child), 0);
	pid_t orphan = 0;
	assert_int_equal(read(p[0], &orphan, sizeof(orphan)),
			 (ssize_t)sizeof(orphan));
	close(p[0]);
	assert_int_equal(kill(orphan, 0), 0);

	/* A new root (a daemon's next start) removes the tree and kills
	 * what was in it. */
	cgroup_root_free(root);
	root = NULL;
	assert_int_equal(
		cgroup_root_setup(cgroup_mode_detect(BASE), BASE, &root), 0);
	assert_false(dir_exists(stale));
	int alive = 1;
	for (int i = 0; i < 200 && alive; i++) {
		alive = kill(orphan, 0) == 0;
		usleep(10000);
	}
	/* Dead, and reaped by whoever adopted it. */
	assert_false(alive);
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
		cmocka_unit_test(test_kill_takes_every_process),
		cmocka_unit_test(test_freeze_and_thaw),
		cmocka_unit_test(test_v2_delegation_layout),
		cmocka_unit_test(test_v2_background_share),
		cmocka_unit_test(test_trees_of_a_dead_daemon_are_swept),
	};
	return cmocka_run_group_tests_name("cgroup", tests, setup, teardown);
}
