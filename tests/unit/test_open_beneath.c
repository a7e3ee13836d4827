/* Opening names below a directory: openat2 and the fallback give the same
 * answers for plain files, directories, symlinks, "..", mount points and
 * truncation.  Each case runs in both modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/open_beneath.h"

static char top[] = "/tmp/isol8-open-beneath-XXXXXX";
static int dir = -1;

static void put_file(const char *name, const char *text)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	dir = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || mkdirat(dir, "sub", 0755) < 0 ||
	    symlinkat("/etc/hostname", dir, "abs") < 0 ||
	    symlinkat("sub", dir, "rel") < 0 ||
	    symlinkat("missing", dir, "dangling") < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	close(dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs check once with openat2 (where the kernel has it) and once with
 * the fallback. */
static void both(void (*check)(void))
{
	if (open_beneath_probe())
		check();
	open_beneath_use_openat2(false);
	check();
	open_beneath_probe();
}

static void plain(void)
{
	put_file("f.txt", "hello");
	char buf[16] = "";
	int fd = open_beneath(dir, "f.txt", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
	assert_string_equal(buf, "hello");
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = open_beneath(dir, "sub", O_PATH | O_DIRECTORY, 0);
	assert_true(fd >= 0);
	close(fd);
	fd = open_beneath(dir, "new.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	close(fd);
	unlinkat(dir, "new.txt", 0);
	assert_int_equal(open_beneath(dir, "nope", O_RDONLY, 0), -ENOENT);
	assert_int_equal(open_beneath(dir, "", O_RDONLY, 0), -ENOENT);
}

static void test_plain(void **state)
{
	(void)state;
	both(plain);
}

static void truncates(void)
{
	put_file("t.txt", "0123456789");
	int fd = open_beneath(dir, "t.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	close(fd);
}

static void test_truncates(void **state)
{
	(void)state;
	both(truncates);
}

static void symlinks_refused(void)
{
	const char *links[] = { "abs", "rel", "dangling" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(open_beneath(dir, links[i], O_RDONLY, 0),
				 -ELOOP);
		/* The one exception, as openat2 has it: O_PATH with
		 * O_NOFOLLOW names the link itself, which is no directory. */
		assert_int_equal(
			open_beneath(dir, links[i], O_PATH | O_DIRECTORY, 0),
			-ENOTDIR);
		assert_int_equal(open_beneath(dir, links[i],
					      O_WRONLY | O_CREAT | O_TRUNC,
					      0644),
				 -ELOOP);
	}
	struct stat sb;
	assert_int_equal(fstatat(dir, "missing", &sb, 0), -1);
}

static void test_symlinks_refused(void **state)
{
	(void)state;
	both(symlinks_refused);
}

static void climbing_refused(void)
{
	int sub = open_beneath(dir, "sub", O_PATH | O_DIRECTORY, 0);
	assert_true(sub >= 0);
	assert_int_equal(open_beneath(sub, "..", O_PATH | O_DIRECTORY, 0),
			 -EXDEV);
	assert_int_equal(open_beneath(dir, "sub/../f.txt", O_RDONLY, 0),
			 -EXDEV);
	assert_int_equal(open_beneath(dir, "/etc/hostname", O_RDONLY, 0),
			 -EXDEV);
	close(sub);
}

static void test_climbing_refused(void **state)
{
	(void)state;
	both(climbing_refused);
}

/* A tmpfs mounted on "sub" in a mount namespace of a child's own; the
 * file under it keeps its content. */
static void mount_point_refused(void)
{
	put_file("sub/keep.txt", "kept");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char path[64];
		snprintf(path, sizeof(path), "%s/sub", top);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", path, "tmpfs", 0, "size=64k") < 0)
			_exit(3);
		/* dir still shows the mounts of the namespace it was
		 * opened in. */
		int here = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int r1 = open_beneath(here, "sub", O_PATH | O_DIRECTORY, 0);
		int r2 = open_beneath(here, "sub", O_RDONLY | O_DIRECTORY, 0);
		if (r1 != -EXDEV || r2 != -EXDEV)
			fprintf(stderr, "mount point: %d %d\n", r1, r2);
		_exit(r1 == -EXDEV && r2 == -EXDEV ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		return; /* no mount namespaces here: nothing to check */
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_mount_point_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	both(mount_point_refused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_truncates),
		cmocka_unit_test(test_symlinks_refused),
		cmocka_unit_test(test_climbing_refused),
		cmocka_unit_test(test_mount_point_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
