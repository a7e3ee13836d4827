#include "audit_writer.h"

#include "cleanup.h"
#include "log.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROTATED 100000000u
#define RETRY_MS 1000
#define RETENTION_EVERY_MS 3600000

struct writer {
	const struct audit_writer_cfg *c;
	int sock, dir, file;
	uint64_t size; /* of the current file */
	uint64_t seq;  /* of the last record written */
	char prev[AUDIT_HASH_HEX + 1];
	struct strbuf in;    /* read, not yet sealed */
	struct strbuf batch; /* sealed, not yet written */
	uint64_t batch_records, batch_seq;
	char batch_prev[AUDIT_HASH_HEX + 1];
	pid_t script;		  /* running, or 0 */
	uint64_t script_deadline; /* ms */
	bool script_again;
	uint64_t next_retention; /* ms */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void report(struct writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct writer *w, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(w->sock, line, (size_t)n);
}

/* ---- the files ---- */

static int make_dirs(const char *path)
{
	char p[4096];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0750) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

/* Rotated files, oldest first (their numbers grow). */
static size_t rotated(int dir, unsigned **out)
{
	*out = NULL;
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned num;
		if (!audit_rotated_name(de->d_name, &num))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			unsigned *t = realloc(*out, cap * sizeof(*t));
			if (!t)
				break;
			*out = t;
		}
		(*out)[n++] = num;
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
			unsigned t = (*out)[j];
			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = t;
		}
	return n;
}

/* The last complete line of fd (size bytes), without its newline. */
static int last_line(int fd, uint64_t size, struct strbuf *out)
{
	if (size == 0)
		return -ENOENT;
	uint64_t end = size - 1; /* the final newline */
	uint64_t start = end;
	char buf[4096];
	while (start > 0) {
		size_t n = start < sizeof(buf) ? (size_t)start : sizeof(buf);
		if (pread(fd, buf, n, (off_t)(start - n)) != (ssize_t)n)
			return -EIO;
		char *nl = memrchr(buf, '\n', n);
		if (nl) {
			start = start - n + (uint64_t)(nl - buf) + 1;
			break;
		}
		start -= n;
	}
	size_t len = (size_t)(end - start);
	strbuf_reset(out);
	if (strbuf_reserve(out, len) < 0)
		return -ENOMEM;
	if (pread(fd, out->p, len, (off_t)start) != (ssize_t)len)
		return -EIO;
	out->len = len;
	out->p[len] = '\0';
	return 0;
}

/* Where the chain goes on from: the last record of the newest file. */
static void take_last(struct writer *w, const struct strbuf *line)
{
	size_t body;
	char hash[AUDIT_HASH_HEX + 1];
	_cleanup_json_ json_object *o = json_tokener_parse(line->p);
	json_object *seq = NULL;
	if (!audit_chain_split(line->p, line->len, &body, hash) || !o ||
	    !json_object_object_get_ex(o, "seq", &seq)) {
		log_err("audit: the last record in %s is not one this daemon "
			"wrote; the chain goes on from it as it is, and "
			"`isol8ctl audit verify` will name it",
			w->c->dir);
		return;
	}
	w->seq = (uint64_t)json_object_get_int64(seq);
	memcpy(w->prev, hash, sizeof(hash));
}

/* Opens the current file, cutting off a torn last line, and finds the
 * chain's end. */
static int open_files(struct writer *w)
{
	int r = make_dirs(w->c->dir);
	if (r < 0)
		return r;
	w->dir = open(w->c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir < 0)
		return -errno;
	w->file = openat(w->dir, AUDIT_FILE,
			 O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			 0640);
	struct stat st;
	if (w->file < 0 || fstat(w->file, &st) < 0)
		return -errno;
	uint64_t size = (uint64_t)st.st_size;
	char c = '\n';
	if (size && pread(w->file, &c, 1, (off_t)size - 1) != 1)
		return -EIO;
	if (c != '\n') {
		/* A line is whole up to its newline: find the last one. */
		uint64_t keep = size;
		while (keep > 0) {
			char b;
			if (pread(w->file, &b, 1, (off_t)keep - 1) != 1 ||
			    b == '\n')
				break;
			keep--;
		}
		if (ftruncate(w->file, (off_t)keep) < 0)
			return -errno;
		log_warn("audit: cut off %llu bytes of a record torn by a "
			 "crash at the end of %s/" AUDIT_FILE,
			 (unsigned long long)(size - keep), w->c->dir);
		size = keep;
	}
	w->size = size;
	struct strbuf line = { 0 };
	if (last_line(w->file, size, &line) == 0)
		take_last(w, &line);
	else {
		_cleanup_free_ unsigned *nums = NULL;
		size_t n = rotated(w->dir, &nums);
		char name[32];
		if (n) {
			snprintf(name, sizeof(name), AUDIT_ROTATED_FMT,
				 nums[n - 1]);
			_cleanup_close_ int fd =
				openat(w->dir, name, O_RDONLY | O_CLOEXEC);
			if (fd >= 0 && fstat(fd, &st) == 0 &&
			    last_line(fd, (uint64_t)st.st_size, &line) == 0)
				take_last(w, &line);
		}
	}
	strbuf_free(&line);
	return 0;
}

static int sync_dir(struct writer *w)
{
	return fsync(w->dir) < 0 ? -errno : 0;
}

/* The first record's seq and prevHash of a file, as the anchor a chain
 * that lost older files starts from. */
static int write_anchor(struct writer *w, uint64_t seq, const char *prev)
{
	char text[160];
	int n = snprintf(text, sizeof(text),
			 "{\"seq\":%llu,\"prevHash\":\"%s\"}\n",
			 (unsigned long long)seq, prev);
	_cleanup_close_ int fd = openat(
		w->dir, AUDIT_ANCHOR ".tmp",
		O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0 ||
	    renameat(w->dir, AUDIT_ANCHOR ".tmp", w->dir, AUDIT_ANCHOR) < 0)
		return -errno;
	return sync_dir(w);
}

/* The anchor for the file named: its first line's seq and prevHash. */
static int anchor_of(struct writer *w, const char *name)
{
	_cleanup_fclose_ FILE *f = NULL;
	int fd = openat(w->dir, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "re"))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	if (getline(&line, &cap, f) <= 0) /* empty: the next record */
		return write_anchor(w, w->seq + 1, w->prev);
	_cleanup_json_ json_object *o = json_tokener_parse(line);
	json_object *seq = NULL, *prev = NULL;
	if (!o || !json_object_object_get_ex(o, "seq", &seq) ||
	    !json_object_object_get_ex(o, "prevHash", &prev))
		return -EBADMSG;
	return write_anchor(w, (uint64_t)json_object_get_int64(seq),
			    json_object_get_string(prev));
}

/* retentionDays: whole rotated files whose last record is older go,
 * oldest first; the anchor names where the remaining chain starts. */
static void prune(struct writer *w)
{
	w->next_retention = now_ms() + RETENTION_EVERY_MS;
	if (!w->c->retention_days)
		return;
	_cleanup_free_ unsigned *nums = NULL;
	size_t n = rotated(w->dir, &nums), old = 0;
	time_t cutoff = time(NULL) - (time_t)(w->c->retention_days * 86400);
	char name[32];
	for (; old < n; old++) {
		struct stat st;
		snprintf(name, sizeof(name), AUDIT_ROTATED_FMT, nums[old]);
		if (fstatat(w->dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime >= cutoff)
			break;
	}
	if (!old)
		return;
	if (old < n)
		snprintf(name, sizeof(name), AUDIT_ROTATED_FMT, nums[old]);
	else
		snprintf(name, sizeof(name), "%s", AUDIT_FILE);
	int r = anchor_of(w, name);
	if (r < 0) {
		log_errno(LOG_ERR, r,
			  "audit: cannot write the anchor of %s; "
			  "old files are kept",
			  name);
		return;
	}
	for (size_t i = 0; i < old; i++) {
		snprintf(name, sizeof(name), AUDIT_ROTATED_FMT, nums[i]);
		if (unlinkat(w->dir, name, 0) < 0)
			log_errno(LOG_ERR, -errno, "audit: cannot remove %s",
				  name);
	}
	log_info("audit: removed %zu file(s) older than %llu days", old,
		 (unsigned long long)w->c->retention_days);
}

/* The current file becomes the next numbered one, and a new one starts. */
static int rotate(struct writer *w)
{
	_cleanup_free_ unsigned *nums = NULL;
	size_t n = rotated(w->dir, &nums);
	unsigned next = n ? nums[n - 1] + 1 : 1;
	if (next >= MAX_ROTATED)
		return -ENOSPC;
	char name[32];
	snprintf(name, sizeof(name), AUDIT_ROTATED_FMT, next);
	int fd = openat(w->dir, AUDIT_FILE ".new",
			O_RDWR | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC |
				O_NOFOLLOW,
			0640);
	if (fd < 0)
		return -errno;
	if (renameat(w->dir, AUDIT_FILE, w->dir, name) < 0 ||
	    renameat(w->dir, AUDIT_FILE ".new", w->dir, AUDIT_FILE) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	close(w->file);
	w->file = fd;
	w->size = 0;
	int r = sync_dir(w);
	prune(w);
	return r;
}

/* ---- the post-log script ---- */

static void run_script(struct writer *w)
{
	if (w->script) {
		w->script_again = true;
		return;
	}
	w->script_again = false;
	char path[4200];
	snprintf(path, sizeof(path), "%s/" AUDIT_FILE, w->c->dir);
	pid_t pid = fork();
	if (pid < 0) {
		log_errno(LOG_ERR, -errno, "audit: cannot run postLogScript");
		return;
	}
	if (pid == 0) {
		/* Unprivileged: the file comes as stdin, opened here. */
		int in = openat(w->dir, AUDIT_FILE, O_RDONLY);
		int null = open("/dev/null", O_RDWR);
		if (in < 0 || null < 0 || dup2(in, 0) < 0 ||
		    dup2(null, 1) < 0 || setsid() < 0)
			_exit(127);
		close_range(3, ~0u, 0);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(w->c->script_gid, w->c->script_gid,
			      w->c->script_gid) < 0 ||
		    setresuid(w->c->script_uid, w->c->script_uid,
			      w->c->script_uid) < 0 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execl(w->c->script, w->c->script, path, (char *)NULL);
		_exit(127);
	}
	w->script = pid;
	w->script_deadline = now_ms() + w->c->script_timeout_ms;
}

static void reap_script(struct writer *w)
{
	int status;
	if (!w->script)
		return;
	pid_t p = waitpid(w->script, &status, WNOHANG);
	if (p == 0) {
		if (now_ms() < w->script_deadline)
			return;
		log_warn("audit: postLogScript ran past %llu ms; killed",
			 (unsigned long long)w->c->script_timeout_ms);
		kill(-w->script, SIGKILL);
		kill(w->script, SIGKILL);
		waitpid(w->script, &status, 0);
	} else if (p > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
		log_warn("audit: postLogScript failed (status %d)", status);
	w->script = 0;
	if (w->script_again)
		run_script(w);
}

/* ---- records ---- */

/* Seals each whole line read into the batch. */
static int seal_input(struct writer *w)
{
	size_t done = 0;
	char *nl;
	while ((nl = memchr(w->in.p + done, '\n', w->in.len - done))) {
		char *line = w->in.p + done;
		size_t len = (size_t)(nl - line);
		done += len + 1;
		if (len < 2 || line[0] != '{' || line[len - 1] != '}')
			continue; /* not the daemon's: never sent */
		uint64_t seq = w->batch_seq + 1;
		char chain[128], hash[AUDIT_HASH_HEX + 1];
		int n = snprintf(chain, sizeof(chain),
				 ",\"seq\":%llu,\"prevHash\":\"%s\"",
				 (unsigned long long)seq, w->batch_prev);
		size_t start = w->batch.len;
		if (strbuf_add(&w->batch, line, len - 1) < 0 ||
		    strbuf_add(&w->batch, chain, (size_t)n) < 0)
			return -ENOMEM;
		int r = audit_chain_hash(w->c->key, w->batch_prev,
					 w->batch.p + start,
					 w->batch.len - start, hash);
		if (r < 0)
			return r;
		char tail[AUDIT_HASH_SUFFIX + 2];
		n = snprintf(tail, sizeof(tail), ",\"hash\":\"%s\"}\n", hash);
		if (strbuf_add(&w->batch, tail, (size_t)n) < 0)
			return -ENOMEM;
		memcpy(w->batch_prev, hash, sizeof(hash));
		w->batch_seq = seq;
		w->batch_records++;
	}
	memmove(w->in.p, w->in.p + done, w->in.len - done);
	w->in.len -= done;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One write and one fdatasync for the batch; undone whole on failure. */
static int flush_batch(struct writer *w)
{
	if (!w->c->dir)
		return write_all(STDOUT_FILENO, w->batch.p, w->batch.len);
	int r = 0;
	if (w->size && w->size + w->batch.len > w->c->max_file_bytes)
		r = rotate(w);
	if (r == 0)
		r = write_all(w->file, w->batch.p, w->batch.len);
	if (r == 0 && fdatasync(w->file) < 0)
		r = -errno;
	if (r < 0) {
		(void)!ftruncate(w->file, (off_t)w->size);
		return r;
	}
	w->size += w->batch.len;
	return 0;
}

static void try_batch(struct writer *w)
{
	if (!w->batch_records)
		return;
	int r = flush_batch(w);
	if (r < 0) {
		report(w, "err %d %llu\n", -r,
		       (unsigned long long)w->batch_records);
		return;
	}
	report(w, "ok %llu\n", (unsigned long long)w->batch_records);
	w->seq = w->batch_seq;
	memcpy(w->prev, w->batch_prev, sizeof(w->prev));
	w->batch_records = 0;
	strbuf_reset(&w->batch);
	if (w->c->script && w->c->dir)
		run_script(w);
}

void audit_writer_main(int fd, const struct audit_writer_cfg *c)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "isol8d-audit");
	signal(SIGPIPE, SIG_IGN);
	struct writer w = { .c = c, .sock = fd, .dir = -1, .file = -1 };
	memcpy(w.prev, AUDIT_GENESIS, sizeof(w.prev));
	for (;;) {
		int r = c->dir ? open_files(&w) : 0;
		if (r == 0)
			break;
		report(&w, "err %d 0\n", -r);
		if (w.file >= 0)
			close(w.file);
		if (w.dir >= 0)
			close(w.dir);
		w.file = w.dir = -1;
		struct pollfd p = { .fd = fd, .events = POLLRDHUP };
		if (poll(&p, 1, RETRY_MS) > 0)
			_exit(0);
	}
	report(&w, "ok 0\n");
	if (c->dir)
		prune(&w);
	w.batch_seq = w.seq;
	memcpy(w.batch_prev, w.prev, sizeof(w.prev));
	for (;;) {
		bool stuck = w.batch_records > 0;
		int timeout = stuck ? RETRY_MS : -1;
		if (w.script)
			timeout = 100;
		else if (c->dir && c->retention_days && timeout < 0)
			timeout = RETENTION_EVERY_MS;
		struct pollfd p = { .fd = fd, .events = stuck ? 0 : POLLIN };
		int n = poll(&p, 1, timeout);
		reap_script(&w);
		if (c->dir && now_ms() >= w.next_retention)
			prune(&w);
		if (n > 0 && (p.revents & (POLLHUP | POLLERR)) &&
		    !(p.revents & POLLIN))
			break;
		if (n > 0 && (p.revents & POLLIN)) {
			char buf[65536];
			ssize_t got = read(fd, buf, sizeof(buf));
			if (got == 0)
				break;
			if (got > 0 &&
			    (strbuf_add(&w.in, buf, (size_t)got) < 0 ||
			     seal_input(&w) < 0))
				_exit(1);
		}
		try_batch(&w);
	}
	/* The daemon is gone: what it sent last is written, then we go. */
	try_batch(&w);
	if (w.script)
		waitpid(w.script, NULL, 0);
	_exit(0);
}
