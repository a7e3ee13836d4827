#include "environment.h"

#include "cleanup.h"
#include "net/egress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* %R is the runtimes prefix. */
static const char *const base[] = {
	"PATH=%R/bin:/usr/local/bin:/usr/bin:/bin",
	"HOME=/sandbox",
	"USER=sandbox",
	"LOGNAME=sandbox",
	"LANG=C.UTF-8",
	"TMPDIR=/tmp",
	"HOSTNAME=sandbox",
};

#define PROXY_URL "http://" EGRESS_PROXY_ADDR ":" PROXY_PORT_TEXT
#define PROXY_PORT_TEXT STRINGIFY(EGRESS_PROXY_PORT)
#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_(x) #x

/* A filtered box's way out, under every name programs look for. */
static const char *const proxied[] = {
	"HTTP_PROXY=" PROXY_URL,
	"HTTPS_PROXY=" PROXY_URL,
	"http_proxy=" PROXY_URL,
	"https_proxy=" PROXY_URL,
	"NO_PROXY=localhost,127.0.0.1,::1",
	"no_proxy=localhost,127.0.0.1,::1",
	NULL,
};

static size_t count(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");
	return strncmp(a, b, n) == 0 && b[n] == '=';
}

void environment_free(char **envp)
{
	for (size_t i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/* Appends kv, replacing an earlier variable of the same name (getenv
 * returns the first match, so earlier duplicates must go).  0 or
 * -ENOMEM. */
static int put(char **envp, size_t *k, const char *kv)
{
	char *copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	for (size_t j = 0; j < *k; j++)
		if (same_name(kv, envp[j])) {
			free(envp[j]);
			envp[j] = envp[--*k];
			envp[*k] = NULL;
			break;
		}
	envp[(*k)++] = copy;
	return 0;
}

/* The variables of base with the runtimes prefix in place of %R. */
static int put_base(char **envp, size_t *k, const char *runtimes_dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		const char *mark = strstr(base[i], "%R");
		int len = mark ? (int)(mark - base[i]) : (int)strlen(base[i]);
		if (asprintf(&envp[*k], "%.*s%s%s", len, base[i],
			     mark ? runtimes_dir : "",
			     mark ? mark + 2 : "") < 0) {
			envp[*k] = NULL;
			return -ENOMEM;
		}
		++*k;
	}
	return 0;
}

int environment_build(const char *runtimes_dir, const struct runtime *rt,
		      bool proxy, const char *const *extra, char ***out)
{
	size_t n = ARRAY_SIZE(base) + count(rt->env) + count(proxied) +
		   count(extra);
	char **envp = calloc(n + 1, sizeof(char *));
	if (!envp)
		return -ENOMEM;
	size_t k = 0;
	int r = put_base(envp, &k, runtimes_dir);
	for (size_t i = 0; r == 0 && rt->env[i]; i++)
		r = put(envp, &k, rt->env[i]);
	for (size_t i = 0; r == 0 && proxy && proxied[i]; i++)
		r = put(envp, &k, proxied[i]);
	for (size_t i = 0; r == 0 && extra && extra[i]; i++)
		r = put(envp, &k, extra[i]);
	if (r < 0) {
		environment_free(envp);
		return r;
	}
	*out = envp;
	return 0;
}

bool environment_is_default(const struct runtime *rt, const char *kv)
{
	for (size_t i = 0; i < ARRAY_SIZE(base); i++)
		if (same_name(kv, base[i]))
			return true;
	for (size_t i = 0; rt->env[i]; i++)
		if (same_name(kv, rt->env[i]))
			return true;
	return false;
}
