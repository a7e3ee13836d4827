/* Logging: structured journal entries when systemd started us, plain lines
 * on stderr otherwise.  Never pass secrets or user code in. */
#ifndef ISOL8D_LOG_H
#define ISOL8D_LOG_H

#include <signal.h>
#include <stdbool.h>
#include <syslog.h>

#include "error.h" /* log_errno() for the messages that end in an errno */

void log_setup(bool debug);
/* Whether a message at prio would be written: lets callers skip building
 * fields nobody will see. */
bool log_enabled(int prio);

/* Extra journal fields as "KEY=value" strings, NULL-terminated; on stderr
 * they are appended to the line in brackets. */
void log_fields(int prio, const char *const *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_msg(prio, ...) log_fields(prio, NULL, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* A helper process of the daemon ended: "<who> ended (status N|signal
 * N); <then>", a warning. */
void log_helper_ended(const siginfo_t *si, const char *who, const char *then);

#endif
