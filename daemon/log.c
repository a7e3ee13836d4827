#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "error.h"

static int max_prio = LOG_INFO;
static bool journal;

/* systemd sets JOURNAL_STREAM to the device:inode of the stream it connected
 * stderr to; only when stderr still is that stream do we talk to the journal
 * directly (a redirected stderr means the caller wants the lines). */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

/* error_set() and log_errno() lines, with the journal's fields for where
 * they come from. */
static void log_error_line(int prio, int err, const char *func, int line,
			   const char *msg)
{
	if (prio > max_prio)
		return;
	char f[48], l[32], e[32];
	snprintf(f, sizeof(f), "CODE_FUNC=%s", func);
	snprintf(l, sizeof(l), "CODE_LINE=%d", line);
	snprintf(e, sizeof(e), "ERRNO=%d", err);
	const char *const fields[] = { f, l, err ? e : NULL, NULL };
	log_fields(prio, fields, "%s", msg);
}

void log_setup(bool debug)
{
	max_prio = debug ? LOG_DEBUG : LOG_INFO;
	journal = stderr_is_journal();
	error_log_hook(log_error_line);
}

bool log_enabled(int prio)
{
	return prio <= max_prio;
}

void log_fields(int prio, const char *const *fields, const char *fmt, ...)
{
	if (prio > max_prio)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	size_t nfields = 0;
	while (fields && fields[nfields])
		nfields++;

	if (journal) {
		struct iovec iov[16];
		char mbuf[2100], pbuf[32];
		size_t n = 0;
		snprintf(mbuf, sizeof(mbuf), "MESSAGE=%s", msg);
		snprintf(pbuf, sizeof(pbuf), "PRIORITY=%d", prio);
		iov[n++] = (struct iovec){ mbuf, strlen(mbuf) };
		iov[n++] = (struct iovec){ pbuf, strlen(pbuf) };
		iov[n++] = (struct iovec){ (void *)"SYSLOG_IDENTIFIER=isol8d",
					   strlen("SYSLOG_IDENTIFIER=isol8d") };
		for (size_t i = 0; i < nfields && n < 16; i++)
			iov[n++] = (struct iovec){ (void *)fields[i],
						   strlen(fields[i]) };
		sd_journal_sendv(iov, (int)n);
		return;
	}
	static const char *const names[] = {
		"emerg", "alert",  "crit", "error",
		"warn",	 "notice", "info", "debug"
	};
	/* One write a line (stderr is unbuffered): whole lines, and one
	 * system call where a printf a piece made five. */
	char line[4096];
	size_t n = 0;
	n += (size_t)snprintf(line, sizeof(line) - 2, "isol8d[%s]: %s",
			      names[prio & 7], msg);
	for (size_t i = 0; i < nfields && n < sizeof(line) - 2; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - 2 - n, "%s%s",
				      i ? " " : " [", fields[i]);
	if (n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	if (nfields)
		line[n++] = ']';
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

void log_helper_ended(const siginfo_t *si, const char *who, const char *then)
{
	log_warn("%s ended (%s %d); %s", who,
		 si->si_code == CLD_EXITED ? "status" : "signal", si->si_status,
		 then);
}
