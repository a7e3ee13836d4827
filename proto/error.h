/* The project's one error convention.  A function returns 0 (or a count)
 * on success and a negative errno on failure.  Where the client needs a
 * message, the function also takes a struct error, which the place that
 * knows what went wrong fills in with error_set(): the kind (proto/jsonrpc.h),
 * the errno and a sentence.  error_set() and log_errno() log with the errno,
 * function and line through a hook the program sets (the daemon's logger;
 * stderr by default), so proto/ depends on no program's logger.
 *
 *	if (v > max)
 *		return error_set(e, ERR_INVALID_ARGUMENT, EINVAL,
 *				 "%s: %llu is out of range", path, v);
 *	...
 *	if ((r = bind_socket(path)) < 0)
 *		return log_errno(LOG_ERR, r, "cannot bind %s", path);
 */
#ifndef ISOL8_ERROR_H
#define ISOL8_ERROR_H

#include <syslog.h>

#include "jsonrpc.h"

#define ERROR_MESSAGE_MAX 512

struct error {
	enum error_kind kind;
	int err; /* positive errno, or 0 for none */
	char message[ERROR_MESSAGE_MAX];
};

/* Fills e (which may be NULL: then it only logs) with kind, |errnum| and the
 * formatted message, logs the message at LOG_DEBUG (an error for a client is
 * not the daemon's error; --debug shows where each came from) and returns
 * -|errnum|.  errnum may be given as a positive or a negative errno. */
#define error_set(e, kind, errnum, ...)                                        \
	error_set_at(e, kind, errnum, __func__, __LINE__, __VA_ARGS__)
int error_set_at(struct error *e, enum error_kind kind, int errnum,
		 const char *func, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Logs "message: strerror(|r|)" at prio and returns -|r|, for the errors
 * the daemon reports in its log only. */
#define log_errno(prio, r, ...)                                                \
	error_log_at(prio, r, __func__, __LINE__, __VA_ARGS__)
int error_log_at(int prio, int r, const char *func, int line, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

/* Where error_set() and log_errno() send their lines: err is the positive
 * errno (0 for none), msg the whole line (with the errno's text where
 * log_errno() added it).  NULL restores the default, which writes msg to
 * stderr at LOG_WARNING and above. */
typedef void (*error_log_fn)(int prio, int err, const char *func, int line,
			     const char *msg);
void error_log_hook(error_log_fn fn);

#endif
