/* An execution request as isol8 shapes it ({request, options, sessionId}),
 * validated field by field against the daemon's defaults and limits. */
#ifndef ISOL8D_EXEC_REQUEST_H
#define ISOL8D_EXEC_REQUEST_H

#include "config.h"
#include "error.h"
#include "exec_compat.h"
#include "net/net_policy.h"
#include "sandbox/box_spec.h"
#include "sandbox/image_mount.h"
#include "runtimes/runtimes.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The least a box can run with: below these it cannot be made or cannot
 * start a process (cpu.max takes no quota under 1% of a CPU). */
#define EXEC_MIN_MEMORY ((uint64_t)4 << 20)
#define EXEC_MIN_PIDS 2
#define EXEC_MIN_CPUS 0.01
#define EXEC_MIN_FS ((uint64_t)1 << 20)

struct exec_file {
	char *path; /* absolute, normalised, inside /sandbox or /tmp */
	char *content;
	size_t len;
};

struct exec_request {
	const struct runtime *runtime;
	char *code; /* inline code, or NULL */
	char *cmd;  /* a shell command, or NULL */
	/* remote code (code_fetch.h): fetched into code before the box */
	char *code_url;
	char *code_hash; /* 64 hex digits, or NULL */
	bool allow_insecure_code_url;
	char *code_path; /* where code is written in the box */
	uint64_t timeout_ms;
	char **env;	      /* "K=V", NULL-terminated, secrets included */
	char **secret_values; /* NULL-terminated */
	char *stdin_data;     /* NULL: no stdin */
	size_t stdin_len;
	struct exec_file *files;
	size_t nfiles;
	char **output_paths; /* normalised, NULL-terminated */
	char **packages;     /* NULL-terminated, or NULL */
	char *setup_script;
	char *workdir; /* normalised, inside /sandbox */
	uint64_t memory, pids, max_output, sandbox_size, tmp_size;
	double cpus;
	bool readonly_root;
	char *network;
	enum box_net net;
	struct net_filter filter; /* BOX_NET_FILTERED */
	char *seccomp_mode;
	char *seccomp_path;
	bool log_network;
	char *session_id;
	bool resume; /* a paused session is resumed for it, else refused */
	/* options.image, resolved (image_store.h); else the host image */
	bool has_image;
	struct image_desc image;
	/* no options.image (or "default"): what images.default gives */
	bool default_image;
	struct exec_compat compat; /* isol8's hints, debug and persist */
};

/* Parses params of `execute`.  On error returns -EINVAL with e's message
 * naming the offending field (or another negative errno, its text the
 * message). */
int exec_request_parse(json_object *params, const struct config *cfg,
		       struct exec_request *out, struct error *e);
void exec_request_free(struct exec_request *r);
/* Whether an interpreter started ahead runs r exactly as a fresh one
 * would: nothing it read as it started set differently. */
bool exec_request_runs_as_started(const struct exec_request *r);

/* The box the request asks for, under the seccomp program prog. */
struct box_spec exec_request_box_spec(const struct exec_request *r,
				      const struct config *cfg,
				      const struct seccomp_prog *prog);

#endif
