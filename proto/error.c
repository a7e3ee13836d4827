#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

static void log_stderr(int prio, int err, const char *func, int line,
		       const char *msg)
{
	(void)err;
	(void)func;
	(void)line;
	if (prio <= LOG_WARNING)
		fprintf(stderr, "%s\n", msg);
}

static error_log_fn log_hook = log_stderr;

void error_log_hook(error_log_fn fn)
{
	log_hook = fn ? fn : log_stderr;
}

int error_set_at(struct error *e, enum error_kind kind, int errnum,
		 const char *func, int line, const char *fmt, ...)
{
	char msg[ERROR_MESSAGE_MAX];
	FORMAT_ARGS(msg, fmt);
	errnum = abs(errnum);
	if (e) {
		e->kind = kind;
		e->err = errnum;
		memcpy(e->message, msg, sizeof(msg));
	}
	log_hook(LOG_DEBUG, errnum, func, line, msg);
	return -errnum;
}

int error_log_at(int prio, int r, const char *func, int line, const char *fmt,
		 ...)
{
	char msg[1024];
	FORMAT_ARGS(msg, fmt);
	r = abs(r);
	size_t n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(r));
	log_hook(prio, r, func, line, msg);
	return -r;
}
