/* What the parts of an execution share: its state, and the steps the
 * session part (execution_session.c) calls back into. */
#ifndef ISOL8D_EXECUTION_INTERNAL_H
#define ISOL8D_EXECUTION_INTERNAL_H

#include "exec_audit.h"
#include "execution_files.h"
#include "execution_result.h"
#include "exec_request.h"
#include "metrics.h"
#include "net_log.h"
#include "rpc_call.h"
#include "session.h"
#include "tenant.h"

#include <stdbool.h>
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
	struct execution_files files; /* moving files in, then out */
	char id[37];
	uint64_t start_usec;
	sd_event_source *timer;
	char **envp;
	/* the request's secrets, masked in all the box controls */
	struct secret_mask *mask;
	/* from the pool: the key to give back, the waiting interpreter until
	 * the code phase adopts it, what it is sent on stdin, and the CPU
	 * time the box had used before the claim */
	struct pool_key *pool_key;
	struct command *waiter;
	int entry_fd; /* the pooled box's code file, open; -1 */
	/* a new box's interpreter from the zygote, until it waits; then
	 * the execution begins from the loop (begin) */
	struct waiter *held;
	sd_event_source *begin;
	char *waiter_input;
	/* in a session: its box is lent for this execution only */
	struct session_job job;
	bool in_session;
	bool counted; /* in d->executions, and in the metrics once over */
	bool error_streamed;	/* the error event went out with its phase */
	struct caller caller;	/* counted in its tenant's executions too */
	struct proxy *proxy;	/* network "filtered" */
	struct net_log net_log; /* with logNetwork */
	struct exec_outcome out;
	/* request.codeUrl: the fetch under way, before any box; the seccomp
	 * program the box is made with once it is over */
	struct code_fetch *fetch;
	const struct seccomp_prog *prog;
	/* METRICS_FAILED until execution_complete() has made the result */
	enum metrics_outcome outcome;
	uint64_t duration_ms;
	struct exec_audit audit; /* with audit.enabled */
};

/* Answers the client with an error (masked) and frees the execution. */
void execution_fail(struct execution *e, enum error_kind kind, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* The execution's steps: at debug level, or at info level for one whose
 * request set options.debug, so its steps show without raising the
 * daemon's level for every tenant. */
void execution_trace(const struct execution *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The box is the execution's: its proxy, then its files. */
void execution_begin(struct execution *e);

/* Gets the execution its box (execution_box.c), then begins it. */
void execution_launch(struct execution *e);

/* options.persist: the box that ran is kept as a session of the caller's
 * tenant, named in the result, unless it is dead or over a quota. */
void execution_keep_box(struct execution *e, json_object *result);

/* Creates the session on first use, then queues the execution in it. */
void execution_run_in_session(struct execution *e);

#endif
