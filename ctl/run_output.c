/* isol8ctl run's output: the stream's events as they come, the result as
 * isol8's CLI shows it, and the files it asks to write here. */
#include "base64.h"
#include "cleanup.h"
#include "cmd_run.h"
#include "json_field.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void run_print_event(json_object *params, void *userdata)
{
	(void)userdata;
	json_object *type = NULL, *data = NULL;
	json_object_object_get_ex(params, "type", &type);
	json_object_object_get_ex(params, "data", &data);
	const char *t = json_object_get_string(type);
	if (!t || !data)
		return;
	if (strcmp(t, "stdout") == 0) {
		fwrite(json_object_get_string(data), 1,
		       (size_t)json_object_get_string_len(data), stdout);
		fflush(stdout);
	} else if (strcmp(t, "stderr") == 0) {
		fwrite(json_object_get_string(data), 1,
		       (size_t)json_object_get_string_len(data), stderr);
		fflush(stderr);
	}
}

/* Writes the fetched --out files next to us, under their base names. */
static int save_outputs(json_object *result)
{
	json_object *files = NULL;
	if (!json_object_object_get_ex(result, "files", &files))
		return 0;
	json_object_object_foreach(files, path, b64)
	{
		unsigned char *data;
		size_t len;
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (base64_decode(json_object_get_string(b64),
				  (size_t)json_object_get_string_len(b64),
				  &data, &len) < 0)
			continue;
		_cleanup_close_ int fd = open(
			base, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, data, len) != (ssize_t)len)
			fprintf(stderr, "[ERR] Cannot write %s: %s\n", base,
				strerror(errno));
		free(data);
	}
	return 0;
}

/* --out: as isol8's CLI, the program's stdout (when there is any) goes to
 * the file as the result holds it, in buffered runs only. */
static void write_out(const struct run_opts *o, json_object *result,
		      bool streamed)
{
	if (!o->out)
		return;
	if (streamed) {
		fprintf(stderr,
			"[WARN] --out %s not written: it takes the "
			"output of --no-stream runs\n",
			o->out);
		return;
	}
	json_object *out = json_field(result, "stdout");
	size_t len = out ? (size_t)json_object_get_string_len(out) : 0;
	if (len == 0)
		return;
	_cleanup_close_ int fd =
		open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    write(fd, json_object_get_string(out), len) != (ssize_t)len) {
		fprintf(stderr, "[ERR] Cannot write %s: %s\n", o->out,
			strerror(errno));
		return;
	}
	/* isol8 says so on stdout; ours keeps stdout for the program. */
	fprintf(stderr, "[Run] Output written to %s\n", o->out);
}

/* --persist: where the kept box is, from the result's sessionId or
 * containerId (a daemon or server that kept nothing names neither). */
static void report_kept(json_object *result)
{
	const char *sid = json_field_str(result, "sessionId", NULL);
	const char *cid = json_field_str(result, "containerId", NULL);
	if (sid)
		fprintf(stderr,
			"[Run] Box kept for inspection: session %s "
			"(isol8ctl session exec %s ...; removed by isol8ctl "
			"session rm %s or isol8ctl cleanup)\n",
			sid, sid, sid);
	else if (cid)
		fprintf(stderr, "[Run] Box kept for inspection: container %s\n",
			cid);
	else
		fprintf(stderr, "[WARN] --persist: the server named no kept "
				"box\n");
}

int run_print_result(const struct run_opts *o, json_object *result,
		     bool streamed)
{
	if (o->json) {
		ctl_print_json(result);
	} else if (!streamed) {
		/* By length: the output may hold NUL bytes. */
		json_object *out = json_field(result, "stdout");
		json_object *err = json_field(result, "stderr");
		if (out)
			fwrite(json_object_get_string(out), 1,
			       (size_t)json_object_get_string_len(out), stdout);
		if (err)
			fwrite(json_object_get_string(err), 1,
			       (size_t)json_object_get_string_len(err), stderr);
	}
	if (o->debug && json_field_str(result, "durationMs", NULL))
		fprintf(stderr, "[DEBUG] durationMs: %s\n",
			json_field_str(result, "durationMs", NULL));
	json_object *t = NULL, *code = NULL;
	if (json_object_object_get_ex(result, "truncated", &t) &&
	    json_object_get_boolean(t))
		fprintf(stderr, "[WARN] Output was truncated\n");
	if (streamed && json_field_str(result, "timedOut", NULL))
		fprintf(stderr, TIMEOUT_TEXT "\n");
	json_object *logs = NULL;
	if (!o->json &&
	    json_object_object_get_ex(result, "networkLogs", &logs)) {
		fprintf(stderr, "--- Network Logs ---\n");
		for (size_t i = 0; i < json_object_array_length(logs); i++)
			fprintf(stderr, "%s\n",
				json_object_to_json_string_ext(
					json_object_array_get_idx(logs, i),
					JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	save_outputs(result);
	write_out(o, result, streamed);
	if (o->persist)
		report_kept(result);
	json_object_object_get_ex(result, "exitCode", &code);
	return code ? json_object_get_int(code) : CTL_EXIT_FAILURE;
}
