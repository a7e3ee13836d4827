/* What an execution's code left behind, and isol8's ExecutionResult made
 * of it: output with the truncation and timeout markers, exit code,
 * signal, OOM and resource usage. */
#ifndef ISOL8D_EXECUTION_RESULT_H
#define ISOL8D_EXECUTION_RESULT_H

#include "command.h"
#include "sandbox/box.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The stream's error event on a timeout, and isol8's line appended to a
 * whole result's stderr. */
#define TIMEOUT_TEXT "EXECUTION TIMED OUT"
#define TIMEOUT_MARKER "\n--- " TIMEOUT_TEXT " ---"

struct exec_outcome {
	int status; /* as from waitpid */
	bool timed_out, truncated;
	char *stdout_text,
		*stderr_text; /* may hold NUL bytes: use the lengths */
	size_t stdout_len, stderr_len;
	json_object *files; /* outputPaths read, or NULL */
	/* the box's usage before the execution (pooled boxes, sessions) */
	uint64_t cpu_before_ns, oom_before;
	/* through the egress proxy (network "filtered"; else 0) */
	uint64_t net_in, net_out;
};

/* isol8's resourceUsage fields and ours, into ru: cpuTimeMs and
 * cpuPercent (of one CPU, over wall_ms) from cpu_ns, memoryMB now and
 * peakMemoryMB from u, networkBytesIn/Out. */
void exec_usage_json(json_object *ru, uint64_t cpu_ns, uint64_t wall_ms,
		     const struct cgroup_usage *u, uint64_t net_in,
		     uint64_t net_out);

/* Takes the command's output: the truncation marker where it was cut,
 * TIMEOUT_MARKER at the end of stderr on a timeout, as isol8 has them. */
void exec_outcome_take_output(struct exec_outcome *o, struct command *c);
json_object *exec_outcome_result(const struct exec_outcome *o,
				 const struct box *box, const char *id,
				 const char *runtime, uint64_t duration_ms);
/* About the bytes the output and files take in the result, known before
 * the result is made. */
uint64_t exec_outcome_size(const struct exec_outcome *o);
void exec_outcome_free(struct exec_outcome *o);
/* The exit code a shell would show for a wait status. */
int exec_exit_code(int status);

#endif
