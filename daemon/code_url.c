#include "code_url.h"

#include "cleanup.h"
#include "curl_loader.h"
#include "net/resolver.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define bad(e, ...) error_set(e, ERR_INVALID_ARGUMENT, EINVAL, __VA_ARGS__)

static void curl_url_cleanupp(CURLU **u)
{
	curl_url_cleanup(*u);
}

static void curl_freep(char **p)
{
	curl_free(*p);
}

static bool listed(char *const *list, const char *word)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcasecmp(list[i], word) == 0)
			return true;
	return false;
}

/* The scheme and the host as the URL has them; a URL libcurl cannot
 * parse is isol8's "Invalid URL". */
static int parse(CURLU *h, const char *url, struct code_url *out,
		 struct error *e)
{
	__attribute__((cleanup(curl_freep))) char *scheme = NULL;
	__attribute__((cleanup(curl_freep))) char *host = NULL;
	__attribute__((cleanup(curl_freep))) char *port = NULL;
	if (strlen(url) > CODE_URL_MAX ||
	    curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0))
		return bad(e,
			   "Failed to fetch remote code: Invalid URL: %.200s",
			   url);
	for (char *p = scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strlen(scheme) >= sizeof(out->scheme)) {
		/* No allowed scheme is this long. */
		return bad(e, "URL scheme not allowed: %.40s", scheme);
	}
	snprintf(out->scheme, sizeof(out->scheme), "%s", scheme);
	size_t n = strlen(host);
	bool v6 = host[0] == '[' && n > 2 && host[n - 1] == ']';
	snprintf(out->name, sizeof(out->name), "%.*s", (int)(v6 ? n - 2 : n),
		 v6 ? host + 1 : host);
	for (char *p = out->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (n >= sizeof(out->name) ||
	    !net_host_canonical(out->name, sizeof(out->name)))
		return bad(e,
			   "Failed to fetch remote code: Invalid URL: %.200s",
			   url);
	if (!curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))
		out->port = (uint16_t)atoi(port);
	return 0;
}

int code_url_check(const char *url, bool allow_insecure,
		   const struct config_remote_code *pol,
		   const struct net_filter *hosts, struct code_url *out,
		   struct error *e)
{
	*out = (struct code_url){ 0 };
	__attribute__((cleanup(curl_url_cleanupp))) CURLU *h = curl_url();
	if (!h)
		return error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
	int r = parse(h, url, out, e);
	if (r < 0)
		return r;
	if (strcmp(out->scheme, "http") == 0 && !allow_insecure)
		return bad(e, "Insecure code URL blocked. Use "
			      "allowInsecureCodeUrl=true to allow HTTP.");
	if (!listed(pol->allowed_schemes, out->scheme) ||
	    (strcmp(out->scheme, "http") != 0 &&
	     strcmp(out->scheme, "https") != 0))
		return bad(e, "URL scheme not allowed: %s", out->scheme);
	struct resolver_result lit;
	out->numeric = resolver_numeric(out->name, out->port, &lit);
	snprintf(out->host, sizeof(out->host),
		 out->numeric && strchr(out->name, ':') ? "[%s]" : "%s",
		 out->name);
	if (!net_filter_allows(hosts, out->host))
		return bad(e, "Blocked code URL host: %s", out->host);
	for (size_t i = 0; out->numeric && i < lit.n; i++)
		if (!pol->allow_private &&
		    net_addr_private((const struct sockaddr *)&lit.addrs[i]))
			return bad(e, "Blocked code URL host: %s", out->host);
	/* What is fetched names the host as it was checked. */
	__attribute__((cleanup(curl_freep))) char *full = NULL;
	if (curl_url_set(h, CURLUPART_HOST, out->host, 0) ||
	    curl_url_get(h, CURLUPART_URL, &full, 0))
		return bad(e,
			   "Failed to fetch remote code: Invalid URL: %.200s",
			   url);
	out->url = strdup(full);
	return out->url ? 0
			: error_set(e, ERR_INTERNAL, ENOMEM, "out of memory");
}

void code_url_free(struct code_url *u)
{
	free(u->url);
	u->url = NULL;
}
