#include "execution_result.h"

#include "json_build.h"
#include "output.h"
#include "sandbox/cgroup.h"
#include "timestamp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* isol8's marker: the bytes the program wrote on the stream, and the
 * limit (options.maxOutputSize). */
static char *take_text(struct output *o, bool *truncated, size_t *len)
{
	struct strbuf t = o->text;
	if (o->truncated) {
		char marker[96];
		int n = snprintf(marker, sizeof(marker),
				 "\n\n--- OUTPUT TRUNCATED (%zu bytes, limit: "
				 "%zu) ---",
				 o->raw_total, o->max);
		*truncated = true;
		strbuf_add(&t, marker, (size_t)n);
	}
	o->text = (struct strbuf){ 0 };
	*len = t.p ? t.len : 0;
	return t.p ? t.p : strdup("");
}

void exec_outcome_take_output(struct exec_outcome *o, struct command *c)
{
	bool t = false;
	o->stdout_text =
		take_text(command_output(c, false), &t, &o->stdout_len);
	o->stderr_text = take_text(command_output(c, true), &t, &o->stderr_len);
	o->truncated = t;
	if (!o->timed_out)
		return;
	struct strbuf s = { .p = o->stderr_text,
			    .len = o->stderr_len,
			    .cap = o->stderr_len + 1 };
	strbuf_add(&s, TIMEOUT_MARKER, strlen(TIMEOUT_MARKER));
	o->stderr_text = s.p;
	o->stderr_len = s.len;
}

int exec_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* digits decimals, written as such rather than as the nearest double's
 * seventeen digits. */
static json_object *rounded(double v, int digits)
{
	char text[32];
	snprintf(text, sizeof(text), "%.*f", digits, v);
	return json_object_new_double_s(strtod(text, NULL), text);
}

void exec_usage_json(json_object *ru, uint64_t cpu_ns, uint64_t wall_ms,
		     const struct cgroup_usage *u, uint64_t net_in,
		     uint64_t net_out)
{
	const double mib = 1024.0 * 1024.0;
	json_object_object_add(ru, "cpuTimeMs",
			       rounded((double)cpu_ns / 1e6, 3));
	/* As isol8's (Docker's) figure: 100 is one CPU busy all along. */
	double pct = wall_ms ? (double)cpu_ns / 1e4 / (double)wall_ms : 0;
	json_object_object_add(ru, "cpuPercent", rounded(pct, 2));
	json_object_object_add(
		ru, "memoryMB",
		json_object_new_int64(
			(int64_t)((double)u->memory_bytes / mib + 0.5)));
	json_object_object_add(ru, "peakMemoryMB",
			       rounded((double)u->peak_memory_bytes / mib, 3));
	json_object_object_add(ru, "networkBytesIn",
			       json_object_new_int64((int64_t)net_in));
	json_object_object_add(ru, "networkBytesOut",
			       json_object_new_int64((int64_t)net_out));
}

json_object *exec_outcome_result(const struct exec_outcome *o,
				 const struct box *box, const char *id,
				 const char *runtime, uint64_t duration_ms)
{
	struct cgroup_usage u = { 0 };
	box_usage(box, &u);
	bool oom = u.oom_kills > o->oom_before && WIFSIGNALED(o->status) &&
		   WTERMSIG(o->status) == SIGKILL;
	int code = o->timed_out || oom ? 137 : exec_exit_code(o->status);

	json_object *r = json_object_new_object();
	json_object_object_add(r, "stdout",
			       json_object_new_string_len(o->stdout_text ?: "",
							  (int)o->stdout_len));
	json_object_object_add(r, "stderr",
			       json_object_new_string_len(o->stderr_text ?: "",
							  (int)o->stderr_len));
	json_object_object_add(r, "exitCode", json_object_new_int(code));
	json_object_object_add(r, "durationMs",
			       json_object_new_int64((int64_t)duration_ms));
	json_object_object_add(r, "truncated",
			       json_object_new_boolean(o->truncated));
	json_object_object_add(r, "executionId", json_object_new_string(id));
	json_object_object_add(r, "runtime", json_object_new_string(runtime));
	char ts[TIMESTAMP_LEN];
	timestamp_iso(timestamp_now_ms(), ts);
	json_object_object_add(r, "timestamp", json_object_new_string(ts));
	char cid[48];
	snprintf(cid, sizeof(cid), "isol8-box-%s", box_name(box));
	json_object_object_add(r, "containerId", json_object_new_string(cid));
	if (o->files)
		json_object_object_add(r, "files", json_object_get(o->files));
	json_object *ru = json_object_new_object();
	uint64_t cpu = u.cpu_time_ns > o->cpu_before_ns
			       ? u.cpu_time_ns - o->cpu_before_ns
			       : 0;
	exec_usage_json(ru, cpu, duration_ms, &u, o->net_in, o->net_out);
	json_object_object_add(r, "resourceUsage", ru);
	if (o->timed_out)
		json_object_object_add(r, "timedOut",
				       json_object_new_boolean(true));
	if (oom)
		json_object_object_add(r, "oomKilled",
				       json_object_new_boolean(true));
	if (WIFSIGNALED(o->status) || o->timed_out) {
		int sig = o->timed_out ? SIGKILL : WTERMSIG(o->status);
		char name[24];
		snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(sig) ?: "?");
		json_object_object_add(r, "signal",
				       json_object_new_string(name));
	}
	return r;
}

uint64_t exec_outcome_size(const struct exec_outcome *o)
{
	uint64_t n = json_string_size(o->stdout_text ?: "", o->stdout_len) +
		     json_string_size(o->stderr_text ?: "", o->stderr_len);
	if (o->files) {
		json_object_object_foreach(o->files, path, b64)
		{
			n += json_string_size(path, strlen(path)) + 4 +
			     (uint64_t)json_object_get_string_len(b64);
		}
	}
	return n;
}

void exec_outcome_free(struct exec_outcome *o)
{
	json_object_put(o->files);
	free(o->stdout_text);
	free(o->stderr_text);
}
