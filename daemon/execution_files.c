/* The files moved through the box: the request's files in before the
 * run, its outputPaths out after it. */
#include "execution_files.h"

#include "box_file.h"
#include "exec_request.h"
#include "file_reader.h"
#include "log.h"
#include "sandbox/box.h"
#include "size.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Ends the transfer with "<action> <path>: <reason>" for the client (no
 * path: "<action>: <reason>"). */
static void fail(struct execution_files *f, enum error_kind kind,
		 const char *action, const char *path, const char *reason)
{
	char msg[1024];
	if (path)
		snprintf(msg, sizeof(msg), "%s %s: %s", action, path, reason);
	else
		snprintf(msg, sizeof(msg), "%s: %s", action, reason);
	f->done(f, kind, msg);
}

/* ---- files in ---- */

/* The n-th thing to put in the box: request files, then the code file. */
static bool file_at(const struct exec_request *req, size_t n, const char **path,
		    const char **content, size_t *len)
{
	if (n < req->nfiles) {
		*path = req->files[n].path;
		*content = req->files[n].content;
		*len = req->files[n].len;
		return true;
	}
	if (n == req->nfiles && req->code) {
		*path = req->code_path;
		*content = req->code;
		*len = strlen(req->code);
		return true;
	}
	return false;
}

static void on_file_opened(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution_files *f = userdata;
	const char *path = "", *content = "";
	size_t len = 0;
	file_at(f->req, f->next++, &path, &content, &len);
	if (err < 0) {
		fail(f, ERR_INVALID_ARGUMENT, "Cannot write", path,
		     err == -ELOOP || err == -EXDEV
			     ? "the path leads outside the sandbox"
			     : strerror(-err));
		return;
	}
	int r = box_file_write(fd, content, len);
	close(fd);
	if (r < 0) {
		fail(f, ERR_INVALID_ARGUMENT, "Cannot write", path,
		     r == -ENOSPC || r == -EFBIG ? "the sandbox is full"
						 : strerror(-r));
		return;
	}
	execution_files_write(f);
}

static void on_workdir_made(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution_files *f = userdata;
	if (fd >= 0)
		close(fd);
	if (err < 0) {
		fail(f, ERR_INVALID_ARGUMENT,
		     "Cannot create the working directory", f->req->workdir,
		     strerror(-err));
		return;
	}
	f->done(f, ERR_INTERNAL, NULL);
}

void execution_files_write(struct execution_files *f)
{
	const char *path, *content;
	size_t len;
	int r;
	if (f->next == f->req->nfiles && f->req->code && f->code_fd &&
	    *f->code_fd >= 0) {
		/* Truncated as box_open would: a request file may have been
		 * written there. */
		int fd = *f->code_fd;
		*f->code_fd = -1;
		r = ftruncate(fd, 0) < 0 ? -errno : 0;
		if (r < 0) {
			close(fd);
			fd = -1;
		}
		on_file_opened(f->box, r, fd, f);
		return;
	}
	if (file_at(f->req, f->next, &path, &content, &len))
		r = box_open(f->box, path, BOX_OPEN_WRITE, 0644, on_file_opened,
			     f);
	else if (f->req->workdir && strcmp(f->req->workdir, "/sandbox") != 0)
		r = box_open(f->box, f->req->workdir, BOX_OPEN_MKDIR, 0755,
			     on_workdir_made, f);
	else {
		f->done(f, ERR_INTERNAL, NULL);
		return;
	}
	if (r < 0)
		fail(f, ERR_INTERNAL, "Cannot reach the box", NULL,
		     strerror(-r));
}

/* ---- output files ---- */

static void on_output_read(void *userdata, int err, json_object *content,
			   size_t len)
{
	struct execution_files *f = userdata;
	const char *path = f->req->output_paths[f->next - 1];
	f->reader = NULL;
	if (err < 0)
		log_errno(LOG_WARNING, err, "execution %s: output %s not read",
			  f->id, path);
	else {
		json_object_object_add(*f->files, path, content);
		f->total += len;
	}
	execution_files_read(f);
}

static void on_output_opened(struct box *b, int err, int fd, void *userdata)
{
	(void)b;
	struct execution_files *f = userdata;
	const char *path = f->req->output_paths[f->next++];
	if (err < 0) {
		log_errno(LOG_DEBUG, err, "execution %s: output %s not read",
			  f->id, path);
		execution_files_read(f);
		return;
	}
	uint64_t left = f->max_total - f->total;
	uint64_t cap = f->max_file_bytes < left ? f->max_file_bytes : left;
	uint64_t size = 0;
	int r = file_reader_start(f->event, fd, cap, &size, on_output_read, f,
				  &f->reader);
	if (r == -EFBIG && size <= f->max_file_bytes) {
		char limit[24], msg[512];
		size_format(limit, sizeof(limit), f->max_total);
		snprintf(msg, sizeof(msg),
			 "the output files come to more than the "
			 "administrator's ceiling limits.outputFilesBytes "
			 "(%s)",
			 limit);
		fail(f, ERR_INVALID_ARGUMENT, "Cannot read", path, msg);
		return;
	}
	if (r == -EFBIG)
		log_warn("execution %s: output %s skipped: larger than %llu "
			 "bytes",
			 f->id, path, (unsigned long long)cap);
	if (r < 0)
		execution_files_read(f);
}

void execution_files_stop(struct execution_files *f)
{
	file_reader_free(f->reader);
	f->reader = NULL;
}

void execution_files_read(struct execution_files *f)
{
	if (!f->req->output_paths || !f->req->output_paths[f->next] ||
	    *f->stop) {
		f->done(f, ERR_INTERNAL, NULL);
		return;
	}
	if (!*f->files)
		*f->files = json_object_new_object();
	int r = box_open(f->box, f->req->output_paths[f->next], BOX_OPEN_READ,
			 0, on_output_opened, f);
	if (r < 0)
		f->done(f, ERR_INTERNAL, NULL);
}
