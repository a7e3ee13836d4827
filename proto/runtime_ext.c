#include "runtime_ext.h"

#include "cleanup.h"

#include <string.h>
#include <strings.h>

static const struct {
	const char *ext;
	const char *runtime;
} ext_map[] = {
	{ ".py", "python" }, { ".js", "node" }, { ".mjs", "node" },
	{ ".cjs", "node" },  { ".ts", "bun" },	{ ".mts", "deno" },
	{ ".sh", "bash" },
};

const char *runtime_ext_lookup(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(ext_map); i++)
		if (strcasecmp(ext_map[i].ext, dot) == 0)
			return ext_map[i].runtime;
	return NULL;
}
