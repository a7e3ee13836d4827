#include "curl_loader.h"

#include "log.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#define LIBCURL "libcurl.so.4"

struct curl_loaded curl_loaded;

#define ENTRY(name) { "curl_" #name, offsetof(struct curl_loaded, name) },
static const struct {
	const char *symbol;
	size_t offset;
} entries[] = { CURL_LOADED_FUNCTIONS(ENTRY) };

int curl_loader_open(void)
{
	static void *lib;
	if (lib)
		return 0;
	void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_err("cannot load %s for remote code: %s", LIBCURL,
			dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(entries) / sizeof(*entries); i++) {
		/* POSIX's way to store what dlsym found in a function
		 * pointer. */
		void **slot =
			(void **)((char *)&curl_loaded + entries[i].offset);
		*slot = dlsym(h, entries[i].symbol);
		if (!*slot) {
			log_err("%s has no %s", LIBCURL, entries[i].symbol);
			curl_loaded = (struct curl_loaded){ 0 };
			dlclose(h);
			return -ENOENT;
		}
	}
	lib = h;
	return 0;
}
