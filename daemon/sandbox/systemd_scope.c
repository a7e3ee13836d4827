#include "systemd_scope.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define WAIT_USEC (10 * 1000000ull)

static uint64_t mono_usec(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000ull + (uint64_t)t.tv_nsec / 1000;
}

struct job_wait {
	const char *unit;
	bool done;
	char result[32];
};

/* JobRemoved(u id, o job, s unit, s result); matched by the unit's name,
 * which is known before the job's path is. */
static int on_job_removed(sd_bus_message *m, void *userdata,
			  sd_bus_error *error)
{
	(void)error;
	struct job_wait *w = userdata;
	const char *unit = NULL, *result = NULL;
	if (sd_bus_message_read(m, "uoss", NULL, NULL, &unit, &result) < 0 ||
	    strcmp(unit, w->unit) != 0)
		return 0;
	w->done = true;
	snprintf(w->result, sizeof(w->result), "%s", result);
	return 0;
}

static int start_scope(sd_bus *bus, const char *unit, sd_bus_error *error)
{
	sd_bus_message *m = NULL, *reply = NULL;
	int r = sd_bus_message_new_method_call(
		bus, &m, "org.freedesktop.systemd1",
		"/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
		"StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(
			m, "ssa(sv)a(sa(sv))", unit, "fail", 5, "Description",
			"s", "isol8 sandbox daemon started outside its unit",
			"PIDs", "au", 1, (uint32_t)getpid(), "Delegate", "b", 1,
			"TasksMax", "t", UINT64_MAX, "CollectMode", "s",
			"inactive-or-failed", 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, WAIT_USEC, error, &reply);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return r;
}

int systemd_scope_enter(struct error *e)
{
	if (sd_booted() <= 0)
		return error_set(e, ERR_UNSUPPORTED, EHOSTDOWN,
				 "systemd is not the service manager");
	char unit[64];
	snprintf(unit, sizeof(unit), "isol8d-%d.scope", (int)getpid());
	struct job_wait w = { .unit = unit };
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);
	const char *step = "connect to the system bus";
	if (r >= 0) {
		step = "watch systemd's jobs";
		r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1",
					"/org/freedesktop/systemd1",
					"org.freedesktop.systemd1.Manager",
					"JobRemoved", on_job_removed, &w);
	}
	if (r >= 0) {
		step = "start the transient scope";
		r = start_scope(bus, unit, &error);
	}
	/* Start-up, before the event loop runs: waiting here delays
	 * nobody. */
	uint64_t deadline = mono_usec() + WAIT_USEC, now;
	while (r >= 0 && !w.done && (now = mono_usec()) < deadline) {
		step = "wait for the scope";
		r = sd_bus_process(bus, NULL);
		if (r == 0)
			r = sd_bus_wait(bus, deadline - now);
	}
	if (r >= 0 && !w.done)
		r = -ETIMEDOUT;
	if (r >= 0 && strcmp(w.result, "done") != 0)
		r = error_set(e, ERR_INTERNAL, EIO,
			      "systemd's job for %s ended with \"%s\"", unit,
			      w.result);
	else if (r < 0)
		error_set(e, ERR_INTERNAL, r, "cannot %s for %s: %s", step,
			  unit,
			  sd_bus_error_is_set(&error) ? error.message
						      : strerror(-r));
	sd_bus_error_free(&error);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}
