/* The five runtimes: how each runs a file, its default extension, how it
 * installs packages, and isol8's extension → runtime map. */
#ifndef ISOL8D_RUNTIMES_H
#define ISOL8D_RUNTIMES_H

#define RUNTIME_NAMES "python, node, bun, deno, bash"

struct runtime {
	const char *name;
	/* Paths in the box; a leading '@' stands for the runtimes prefix. */
	const char *binary;
	const char *ext;      /* default file extension, with the dot */
	const char *const *run_args; /* between the binary and the file */
	const char *const *env;	     /* extra environment */
	const char *const *install;  /* argv prefix; NULL: unsupported */
};

const struct runtime *runtime_find(const char *name);
/* By the extension of a file name (or a bare ".ext"); NULL if unknown. */
const struct runtime *runtime_for_file(const char *name);
/* Expands a leading '@' in path to the runtimes prefix. */
void runtime_path(const char *path, const char *runtimes_dir, char *buf,
		  unsigned len);

#endif
