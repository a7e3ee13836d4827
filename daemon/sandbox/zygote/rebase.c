#include "rebase.h"

#include "fault.h"
#include "sandbox/memfd_sealed.h"
#include "sandbox/zygote_proto.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/prctl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_MAPS 512
/* /proc/self/pagemap: the page is present; it is a file page (or shared
 * anonymous); it is swapped. */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)

struct remap {
	uintptr_t start, end;
	int prot;
	/* MAP_PRIVATE, or MAP_SHARED for a read-only one, or
	 * MAP_PRIVATE | MAP_ANONYMOUS for memory of no file (fd -1) */
	int flags;
	off_t off;
	int fd;
	size_t first, count; /* its pages in changed[] */
	/* Of a file, made memory of no file: every page is copied. */
	bool whole;
};

/* In memory of its own (rebase_memory): remap_all reads them while this
 * module's data may be moved aside. */
struct rebase_memory {
	struct remap maps[MAX_MAPS];
	/* The addresses of the pages of each mapping that are no longer
	 * the file's (relocated, written). */
	uintptr_t changed[16384];
};
static struct remap *maps;
static uintptr_t *changed;
#define MAX_CHANGED                                                            \
	(sizeof(((struct rebase_memory *)0)->changed) / sizeof(uintptr_t))
static size_t nmaps;
static char text[256 * 1024];

/* Phase two runs while libc's own data may be the file's again: system
 * calls and copies of its own, nothing through a PLT. */
static inline long raw6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
#else
	/* libc's wrapper would go through this module's moved data: the
	 * rebase fails, and the daemon stops the zygote. */
	(void)n, (void)a, (void)b, (void)c, (void)d, (void)e, (void)f;
	return -ENOSYS;
#endif
}

__attribute__((no_stack_protector)) static void copy_page(uint64_t *to,
							  const uint64_t *from)
{
#if defined(__x86_64__)
	size_t n = PAGE;
	__asm__ volatile("rep movsb"
			 : "+D"(to), "+S"(from), "+c"(n)
			 :
			 : "memory");
#else
	const volatile uint64_t *f = from;
	volatile uint64_t *t = to;
	for (size_t i = 0; i < PAGE / sizeof(uint64_t); i++)
		t[i] = f[i];
#endif
}

static int read_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err == 0 && len == sizeof(text) - 1)
		err = -E2BIG;
	text[len] = '\0';
	return err;
}

/* The zygote's module, as /proc/self/maps names it. */
#define MODULE_MAPPED "/memfd:" ZYGOTE_MODULE_FILE " (deleted)"

/* A copy of the zygote's module (its memfd, module_fd) in a memfd
 * of the box's own: CRIU restores a memfd with its owner, which the
 * zygote's (the host's root) is not in the box. */
static int module_copy(int module_fd, unsigned long ino)
{
	struct stat st;
	if (fstat(module_fd, &st) < 0)
		return -errno;
	if (st.st_ino != ino || st.st_size <= 0)
		return -ESTALE;
	void *src = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			 module_fd, 0);
	if (src == MAP_FAILED)
		return -errno;
	int fd = memfd_holding(ZYGOTE_MODULE_FILE, src, (size_t)st.st_size,
			       true);
	munmap(src, (size_t)st.st_size);
	return fd;
}

/* The mappings to make again: memory of no file, to copy; those of files
 * outside memfds (but for the module's), each opened again by its path in
 * the box, which must give the same file; with uffd, files' private
 * writable data is copied as memory of no file. */
static int collect(int module_fd, bool uffd, const char **step)
{
	*step = "read the interpreter's mappings";
	int r = read_maps();
	if (r < 0)
		return r;
	int last_fd = -1;
	const char *last_path = NULL;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long start, end, off, ino;
		unsigned maj, min;
		char perms[5];
		int path = 0;
		int fields =
			sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start,
			       &end, perms, &off, &maj, &min, &ino, &path);
		/* No memory the box shares writable with another process,
		 * whatever it maps. */
		*step = "map the interpreter's files from the box";
		if (fields < 7 || (perms[3] == 's' && perms[1] == 'w'))
			return -ENOTSUP;
		/* The heap and other private memory, shared copy-on-write
		 * with the zygote: its pages are copied now, while the box is
		 * built in the background, not paid for by the program as it
		 * runs.  Not the memory this copying reads its list from. */
		bool anon = ino == 0 &&
			    (!line[path] || !strcmp(line + path, "[heap]"));
		bool module = !strcmp(line + path, MODULE_MAPPED);
		/* So is a file's private writable data (the interpreter's
		 * static objects, nearly every page of them changed) where
		 * the kernel copies: then memory of no file, which costs less
		 * than a copy of each page out of the file first. */
		bool data = uffd && line[path] == '/' && !module;
		if (!strcmp(perms, "rw-p") && (anon || data) &&
		    !((uintptr_t)maps >= start && (uintptr_t)maps < end)) {
			if (nmaps == MAX_MAPS)
				return -ENOTSUP;
			maps[nmaps++] = (struct remap){
				.start = start,
				.end = end,
				.prot = PROT_READ | PROT_WRITE,
				.flags = MAP_PRIVATE | MAP_ANONYMOUS,
				.fd = -1,
				.whole = !anon,
			};
			continue;
		}
		if (line[path] != '/')
			continue;
		if (!module && !strncmp(line + path, "/memfd:", 7))
			continue;
		static char what[160];
		snprintf(what, sizeof(what), "map %s from the box",
			 line + path);
		*step = what;
		/* A shared one is read-only data (gconv's cache): the file
		 * alone, nothing to keep. */
		if ((!module && strstr(line + path, " (deleted)")) ||
		    nmaps == MAX_MAPS)
			return -ENOTSUP;
		if (!last_path || strcmp(last_path, line + path) != 0) {
			last_fd = module ? module_copy(module_fd, ino)
					 : open(line + path,
						O_RDONLY | O_CLOEXEC);
			struct stat st;
			if (last_fd < 0 || fstat(last_fd, &st) < 0)
				return last_fd < 0 && module ? last_fd : -errno;
			/* The box's /usr is the zygote's, bound again. */
			if (!module &&
			    (st.st_ino != ino || major(st.st_dev) != maj ||
			     minor(st.st_dev) != min))
				return -ESTALE;
			last_path = line + path;
		}
		maps[nmaps++] = (struct remap){
			.start = start,
			.end = end,
			.prot = (perms[0] == 'r' ? PROT_READ : 0) |
				(perms[1] == 'w' ? PROT_WRITE : 0) |
				(perms[2] == 'x' ? PROT_EXEC : 0),
			.flags = perms[3] == 's' ? MAP_SHARED : MAP_PRIVATE,
			.off = (off_t)off,
			.fd = last_fd,
		};
	}
	return 0;
}

static int find_changed(const char **step)
{
	*step = "find the interpreter's changed pages";
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return -errno;
	static uint64_t entries[8192];
	size_t k = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < nmaps; i++) {
		struct remap *m = &maps[i];
		m->first = k;
		for (uintptr_t a = m->start;
		     r == 0 && !m->whole && a < m->end;) {
			size_t n = (m->end - a) / PAGE;
			if (n > sizeof(entries) / sizeof(entries[0]))
				n = sizeof(entries) / sizeof(entries[0]);
			ssize_t got = pread(pm, entries, n * 8,
					    (off_t)(a / PAGE * 8));
			if (got != (ssize_t)(n * 8)) {
				r = got < 0 ? -errno : -EIO;
				break;
			}
			for (size_t j = 0; j < n; j++, a += PAGE) {
				uint64_t e = entries[j];
				if (!(e & (PM_PRESENT | PM_SWAPPED)) ||
				    (e & PM_FILE))
					continue;
				if (k == MAX_CHANGED) {
					r = -E2BIG;
					break;
				}
				changed[k++] = a;
			}
		}
		m->count = k - m->first;
	}
	close(pm);
	return r;
}

/* Memory of no file, in place: the kernel breaks the sharing of each
 * changed page, reading it through its own mapping.  A copy out of the
 * box's addresses (a userfaultfd's) costs more where the first touch of
 * each page of a new address space traps, as in a VM with shadow page
 * tables.  -EINVAL: a kernel before 5.14, without MADV_POPULATE_WRITE. */
__attribute__((no_stack_protector)) static long
populate_anon(const struct remap *m, const uintptr_t *pages)
{
	size_t end = m->first + m->count;
	long r = 0;
	for (size_t k = m->first; r >= 0 && k < end;) {
		size_t run = 1;
		while (k + run < end && pages[k + run] == pages[k] + run * PAGE)
			run++;
		r = raw6(SYS_madvise, (long)pages[k], (long)(run * PAGE),
			 MADV_POPULATE_WRITE, 0, 0, 0);
		k += run;
	}
	return r;
}

/* A file's private writable data as memory of no file, through a
 * userfaultfd (uffd): the kernel copies its pages into a mapping made for
 * them, without zeroing them first or a fault per page, and that mapping
 * takes the old one's place. */
__attribute__((no_stack_protector)) static int copy_whole(int uffd,
							  const struct remap *m)
{
	long len = (long)(m->end - m->start);
	long to = raw6(SYS_mmap, 0, len, m->prot, m->flags, -1, 0);
	if (to < 0)
		return (int)to;
	struct uffdio_register reg = {
		.range = { .start = (uint64_t)to, .len = (uint64_t)len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	long r = raw6(SYS_ioctl, uffd, UFFDIO_REGISTER, (long)&reg, 0, 0, 0);
	if (r >= 0) {
		struct uffdio_copy c = {
			.dst = (uint64_t)to,
			.src = m->start,
			.len = (uint64_t)len,
		};
		r = raw6(SYS_ioctl, uffd, UFFDIO_COPY, (long)&c, 0, 0, 0);
	}
	if (r >= 0)
		r = raw6(SYS_ioctl, uffd, UFFDIO_UNREGISTER, (long)&reg.range,
			 0, 0, 0);
	if (r >= 0)
		r = raw6(SYS_mremap, to, len, len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, (long)m->start, 0);
	return r < 0 ? (int)r : 0;
}

/* Each mapping again from the box's file, or, memory of no file, its
 * own.  One with changed pages is first moved aside whole (its page
 * tables, not its pages), then its changed pages are copied back from
 * there.  Only arguments and locals: this module's own data may be
 * aside. */
__attribute__((no_stack_protector)) static int
remap_all(const struct remap *all, size_t n, const uintptr_t *pages,
	  bool populate, int uffd)
{
	for (size_t i = 0; i < n; i++) {
		const struct remap *m = &all[i];
		long len = (long)(m->end - m->start), r, old = 0;
		if (m->fd < 0 && !m->whole && populate &&
		    (r = populate_anon(m, pages)) != -EINVAL) {
			if (r < 0)
				return (int)r;
			continue;
		}
		if (m->whole) {
			if ((r = copy_whole(uffd, m)) < 0)
				return (int)r;
			continue;
		}
		/* Onto a place taken for it: mremap does not move a mapping
		 * to a size it has already. */
		if (m->count) {
			old = raw6(SYS_mmap, 0, len, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (old >= 0)
				old = raw6(SYS_mremap, (long)m->start, len, len,
					   MREMAP_MAYMOVE | MREMAP_FIXED, old,
					   0);
			if (old < 0)
				return (int)old;
		}
		bool ro = m->count &&
			  (!(m->prot & PROT_WRITE) || !(m->prot & PROT_READ));
		r = raw6(SYS_mmap, (long)m->start, len,
			 ro ? PROT_READ | PROT_WRITE : m->prot,
			 m->flags | MAP_FIXED, m->fd, m->off);
		if (r != (long)m->start)
			return r < 0 ? (int)r : -EIO;
		for (size_t k = m->first; k < m->first + m->count; k++)
			copy_page((uint64_t *)pages[k],
				  (const uint64_t *)(old + (long)(pages[k] -
								  m->start)));
		if (ro && (r = raw6(SYS_mprotect, (long)m->start, len, m->prot,
				    0, 0, 0)) < 0)
			return (int)r;
		if (m->count &&
		    (r = raw6(SYS_munmap, old, len, 0, 0, 0, 0)) < 0)
			return (int)r;
	}
	return 0;
}

/* A userfaultfd for copy_whole, or -1 where the kernel has none or keeps
 * it from the box (remap_all then copies page by page). */
static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd,
			      O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	struct uffdio_api api = { .api = UFFD_API };
	if (fd >= 0 && ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* PR_SET_MM_EXE_FILE alone wants CAP_SYS_RESOURCE of the host;
 * PR_SET_MM_MAP, which CRIU restores with, only the user namespace's: the
 * layout it asks for is the current one, from /proc/self/stat. */
static int set_exe(int fd)
{
	int sf = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (sf < 0)
		return -errno;
	char buf[2048];
	ssize_t n = read(sf, buf, sizeof(buf) - 1);
	close(sf);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long long v[53] = { 0 };
	/* Fields from 3 (the state) on, after the name. */
	for (int f = 3; p && f < 53; f++) {
		p = strchr(p + 1, ' ');
		if (p)
			v[f] = strtoull(p + 1, NULL, 10);
	}
	struct prctl_mm_map m = {
		.start_code = v[26],
		.end_code = v[27],
		.start_stack = v[28],
		.start_data = v[45],
		.end_data = v[46],
		.start_brk = v[47],
		.brk = (uint64_t)syscall(SYS_brk, 0),
		.arg_start = v[48],
		.arg_end = v[49],
		.env_start = v[50],
		.env_end = v[51],
		.exe_fd = (uint32_t)fd,
	};
	if (!v[51])
		return -EIO; /* not all the fields */
	return prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof(m), 0) < 0 ? -errno
								     : 0;
}

/* /proc/self/exe: the box's file too, now that the zygote's is no longer
 * mapped. */
static int rebase_exe(const char **step)
{
	*step = "make the box's interpreter file its program";
	struct stat exe;
	if (stat("/proc/self/exe", &exe) < 0)
		return -errno;
	for (size_t i = 0; i < nmaps; i++) {
		struct stat st;
		if (fstat(maps[i].fd, &st) == 0 && st.st_ino == exe.st_ino &&
		    st.st_dev == exe.st_dev)
			return set_exe(maps[i].fd);
	}
	return -ENOENT;
}

int zygote_rebase(int module_fd, const char **step)
{
	*step = "map the interpreter's files from the box";
	struct rebase_memory *mem =
		mmap(NULL, sizeof(*mem), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	maps = mem->maps;
	changed = mem->changed;
	int r = fault_inject(*step);
	/* Not a failure: the box then copies page by page. */
	bool kernel_copies = fault_inject("copy memory in the kernel") == 0;
	int uffd = kernel_copies ? uffd_open() : -1;
	if (r == 0)
		r = collect(module_fd, uffd >= 0, step);
	if (r == 0)
		r = find_changed(step);
	if (r == 0) {
		*step = "map the interpreter's files from the box";
		r = remap_all(mem->maps, nmaps, mem->changed, kernel_copies,
			      uffd);
	}
	if (uffd >= 0)
		close(uffd);
	if (r == 0)
		r = rebase_exe(step);
	int last = -1;
	for (size_t i = 0; i < nmaps; i++)
		if (maps[i].fd >= 0 && maps[i].fd != last)
			close(last = maps[i].fd);
	munmap(mem, sizeof(*mem));
	return r;
}
