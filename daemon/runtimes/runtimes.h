/* The five runtimes: how each runs a file, its default extension, how it
 * installs packages, and isol8's extension → runtime map. */
#ifndef ISOL8D_RUNTIMES_H
#define ISOL8D_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>

#define RUNTIME_NAMES "python, node, bun, deno, bash"
#define RUNTIME_COUNT 5

struct runtime {
	const char *name;
	/* Paths in the box; a leading '@' stands for the runtimes prefix. */
	const char *binary;
	const char *ext;	     /* default file extension, with the dot */
	const char *const *run_args; /* between the binary and the file */
	const char *const *env;	     /* extra environment */
	const char *const *install;  /* argv prefix; NULL: unsupported */
	/* A pooled box starts the interpreter ahead, stopped in this script
	 * (preload.h) before its program; NULL: the runtime cannot keep its
	 * semantics that way, and the pooled box starts it at claim time. */
	const char *preload;	      /* the script's text */
	const char *preload_name;     /* its file name in PRELOAD_DIR */
	bool preload_stays;	      /* the pool removes it, not the script */
	const char *const *warm_args; /* between run_args and the file */
	/* The interpreter looks for its file before the script runs: the
	 * pool leaves an empty one there for the execution to overwrite. */
	bool entry_first;
	const char *const *warm_env; /* extra environment while waiting */
	/* Prefixes of variables the interpreter reads as it starts: a
	 * request that sets one is not given a started interpreter. */
	const char *const *startup_env;
	/* Pooled boxes on the host's image are made from a zygote started
	 * with the waiting interpreter's command (sandbox/zygote.h). */
	bool zygote;
};

const struct runtime *runtime_find(const char *name);
/* The i-th runtime, NULL past the last. */
const struct runtime *runtime_at(size_t i);
/* The i of runtime_at(i) that gives rt. */
size_t runtime_index(const struct runtime *rt);
/* By the extension of a file name (or a bare ".ext"); NULL if unknown. */
const struct runtime *runtime_for_file(const char *name);
/* Expands a leading '@' in path to the runtimes prefix. */
void runtime_path(const char *path, const char *runtimes_dir, char *buf,
		  unsigned len);

#endif
