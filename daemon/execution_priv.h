/* What execution.c (an execution's box, commands and result) and
 * execution_files.c (the files moved into and out of its box) share. */
#ifndef ISOL8D_EXECUTION_PRIV_H
#define ISOL8D_EXECUTION_PRIV_H

#include "execution_result.h"
#include "exec_request.h"
#include "metrics.h"
#include "session.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

enum phase { PH_BOX, PH_FILES, PH_INSTALL, PH_SETUP, PH_CODE, PH_OUTPUTS };

struct execution {
	struct daemon *d;
	struct rpc_call *call;
	struct exec_request req;
	struct box *box;
	struct command *cmd;
	enum phase phase;
	size_t next_file; /* files, then the code file, then workdir */
	size_t next_output;
	char id[37];
	uint64_t start_usec;
	sd_event_source *timer;
	char **envp;
	/* from the pool: the key to give back, the waiting interpreter until
	 * the code phase adopts it, what it is sent on stdin, and the CPU
	 * time the box had used before the claim */
	struct pool_key *pool_key;
	struct command *waiter;
	char *waiter_input;
	/* in a session: its box is lent for this execution only */
	struct session_job job;
	bool in_session;
	bool counted; /* in d->executions, and in the metrics once over */
	struct proxy *proxy; /* network "filtered" */
	json_object *net_logs; /* with logNetwork, up to NET_LOGS_MAX */
	uint64_t *net_log_seqs; /* each entry's connection, ascending */
	struct exec_outcome out;
	/* METRICS_FAILED until execution_complete() has made the result */
	enum metrics_outcome outcome;
	uint64_t duration_ms;
};

/* An error event and reply to the client, if still there; frees e.
 * Writing the files in fails with it too. */
void execution_fail(struct execution *e, enum error_kind kind, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* The result to the client; frees e.  Called once the output files are
 * read. */
void execution_complete(struct execution *e);
/* Runs the phase, then the ones after it; the install phase starts once
 * the files are written in. */
void execution_start_phase(struct execution *e, enum phase ph);

/* execution_files.c */

/* Writes the request's files and the code file, makes the working
 * directory, then starts the install phase: each call the next step. */
void execution_write_next_file(struct execution *e);
/* Reads the outputPaths into the result's files, then completes: each
 * call the next path. */
void execution_read_next_output(struct execution *e);

#endif
