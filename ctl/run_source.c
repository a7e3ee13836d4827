/* Where isol8ctl run's code comes from: --cmd, a URL (--url, --github,
 * --gist), --eval, a FILE or standard input, as isol8's CLI reads them. */
#include "cleanup.h"
#include "cmd_run.h"
#include "ctl.h"
#include "runtime_ext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The code URL as isol8's CLI makes it: --url as given, then --github
 * and --gist expanded to GitHub's raw URLs.  NULL after an error. */
static char *code_url(const struct run_opts *o)
{
	char *url = NULL;
	if (o->url)
		return strdup(o->url);
	if (o->github) {
		/* owner/repo/ref/path, the path one segment or more */
		const char *p = o->github;
		int slashes = 0;
		for (const char *c = p; *c; c++)
			slashes += *c == '/';
		if (slashes < 3) {
			fprintf(stderr, "[ERR] --github format must be "
					"owner/repo/ref/path/to/file\n");
			return NULL;
		}
		if (asprintf(&url, "https://raw.githubusercontent.com/%s", p) <
		    0)
			return NULL;
		return url;
	}
	const char *slash = strchr(o->gist, '/');
	if (!slash || slash == o->gist) {
		fprintf(stderr,
			"[ERR] --gist format must be gistId/file.ext\n");
		return NULL;
	}
	if (asprintf(&url, "https://gist.githubusercontent.com/%.*s/raw/%s",
		     (int)(slash - o->gist), o->gist, slash + 1) < 0)
		return NULL;
	return url;
}

/* request.codeUrl, and the runtime from the extension of the URL's path
 * unless --runtime gave it. */
static int set_url_source(struct run_opts *o)
{
	_cleanup_free_ char *url = code_url(o);
	if (!url)
		return -EINVAL;
	json_object_object_add(o->request, "codeUrl",
			       json_object_new_string(url));
	if (o->runtime)
		return 0;
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	char name[1024] = "";
	if (path)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(path, "?#"),
			 path);
	const char *slash = strrchr(name, '/');
	o->runtime = runtime_ext_lookup(slash ? slash + 1 : name);
	if (!o->runtime) {
		fprintf(stderr, "[ERR] Cannot detect runtime from URL path. "
				"Use --runtime to specify.\n");
		return -EINVAL;
	}
	return 0;
}

int run_set_source(struct run_opts *o)
{
	json_object *req = o->request;
	if (o->url || o->github || o->gist) {
		if (set_url_source(o) < 0)
			return -EINVAL;
	} else if (o->cmd) {
		json_object_object_add(req, "cmd",
				       json_object_new_string(o->cmd));
	} else {
		char *code = NULL;
		size_t len = 0;
		if (o->eval) {
			code = strdup(o->eval);
			len = strlen(o->eval);
		} else if (o->file) {
			int r = ctl_read_file(o->file, &code, &len);
			if (r < 0) {
				fprintf(stderr, "[ERR] File not found: %s\n",
					o->file);
				return r;
			}
			const char *dot = strrchr(o->file, '.');
			const char *slash = strrchr(o->file, '/');
			if (dot && (!slash || dot > slash))
				json_object_object_add(
					req, "fileExtension",
					json_object_new_string(dot));
			if (!o->runtime && !runtime_ext_lookup(o->file)) {
				fprintf(stderr,
					"[ERR] Cannot detect runtime for %s. "
					"Use "
					"--runtime to specify one.\n",
					o->file);
				return -EINVAL;
			}
		} else if (ctl_read_fd(STDIN_FILENO, &code, &len) < 0) {
			fprintf(stderr, "[ERR] Cannot read code from standard "
					"input\n");
			return -EIO;
		}
		if (!code)
			return -ENOMEM;
		json_object_object_add(
			req, "code",
			json_object_new_string_len(code, (int)len));
		free(code);
		/* As isol8: inline and piped code is Python unless told. */
		if (!o->file && !o->runtime)
			o->runtime = "python";
	}
	if (o->runtime)
		json_object_object_add(req, "runtime",
				       json_object_new_string(o->runtime));
	return 0;
}
