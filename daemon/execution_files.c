/* The files moved through the box: the request's files in before the
 * run, its outputPaths out after it. */
#include "execution_priv.h"

#include "box_file.h"
#include "cleanup.h"
#include "daemon.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* ---- files in ---- */

/* The n-th thing to put in the box: request files, then the code file. */
static bool file_at(const struct execution *e, size_t n, const char **path,
		    const char **content, size_t *len)
{
	if (n < e->req.nfiles) {
		*path = e->req.files[n].path;
		*content = e->req.files[n].content;
		*len = e->req.files[n].len;
		return true;
	}
	if (n == e->req.nfiles && e->req.code) {
		*path = e->req.code_path;
		*content = e->req.code;
		*len = strlen(e->req.code);
		return true;
	}
	return false;
}

static void on_file_opened(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution *e = userdata;
	const char *path = "", *content = "";
	size_t len = 0;
	file_at(e, e->next_file++, &path, &content, &len);
	if (err < 0) {
		execution_fail(e, ERR_INVALID_ARGUMENT, "Cannot write %s: %s",
			       path,
			       err == -ELOOP || err == -EXDEV
				       ? "the path leads outside the sandbox"
				       : strerror(-err));
		return;
	}
	int r = box_file_write(fd, content, len);
	close(fd);
	if (r < 0) {
		execution_fail(
			e, ERR_INVALID_ARGUMENT, "Cannot write %s: %s", path,
			r == -ENOSPC || r == -EFBIG ? "the sandbox is full"
						    : strerror(-r));
		return;
	}
	execution_write_next_file(e);
}

static void on_workdir_made(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution *e = userdata;
	if (fd >= 0)
		close(fd);
	if (err < 0) {
		execution_fail(e, ERR_INVALID_ARGUMENT,
			       "Cannot create the working directory %s: %s",
			       e->req.workdir, strerror(-err));
		return;
	}
	execution_start_phase(e, PH_INSTALL);
}

void execution_write_next_file(struct execution *e)
{
	const char *path, *content;
	size_t len;
	int r;
	e->phase = PH_FILES;
	if (file_at(e, e->next_file, &path, &content, &len))
		r = box_open(e->box, path, INIT_OPEN_WRITE, 0644,
			     on_file_opened, e);
	else if (e->req.workdir && strcmp(e->req.workdir, "/sandbox") != 0)
		r = box_open(e->box, e->req.workdir, INIT_OPEN_MKDIR, 0755,
			     on_workdir_made, e);
	else {
		execution_start_phase(e, PH_INSTALL);
		return;
	}
	if (r < 0)
		execution_fail(e, ERR_INTERNAL, "Cannot reach the box: %s",
			       strerror(-r));
}

/* ---- output files ---- */

static void on_output_opened(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution *e = userdata;
	const char *path = e->req.output_paths[e->next_output++];
	if (err < 0) {
		log_debug("execution %s: output %s not read: %s", e->id, path,
			  strerror(-err));
		execution_read_next_output(e);
		return;
	}
	_cleanup_close_ int f = fd;
	json_object *content = NULL;
	size_t len;
	uint64_t cap = e->d->cfg.max_file_bytes;
	int r = box_file_read_base64(f, cap, &content, &len);
	if (r == 0)
		json_object_object_add(e->out.files, path, content);
	else if (r == -EFBIG)
		log_warn("execution %s: output %s skipped: larger than %llu "
			 "bytes",
			 e->id, path, (unsigned long long)cap);
	execution_read_next_output(e);
}

void execution_read_next_output(struct execution *e)
{
	e->phase = PH_OUTPUTS;
	if (!e->req.output_paths || !e->req.output_paths[e->next_output] ||
	    e->out.timed_out) {
		execution_complete(e);
		return;
	}
	if (!e->out.files)
		e->out.files = json_object_new_object();
	int r = box_open(e->box, e->req.output_paths[e->next_output],
			 INIT_OPEN_READ, 0, on_output_opened, e);
	if (r < 0)
		execution_complete(e);
}
