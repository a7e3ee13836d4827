/* isol8ctl config: the effective isol8 configuration (isol8.config.json or
 * ~/.isol8/config.json over isol8's defaults), printed as `isol8 config`
 * prints it: its human layout, or with --json JavaScript's
 * JSON.stringify(config, null, 2). */
#include "cleanup.h"
#include "ctl.h"
#include "isol8_config.h"
#include "json_field.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char config_help[] =
	"Usage: isol8ctl config [--json]\n"
	"\n"
	"Shows the resolved isol8 configuration: the first of\n"
	"./isol8.config.json and ~/.isol8/config.json that exists, merged "
	"over\n"
	"isol8's defaults, as isol8's `isol8 config` shows it.  isol8ctl run\n"
	"takes defaults.timeoutMs, memoryLimit, cpuLimit, network.whitelist,\n"
	"network.blacklist and debug from it (flags win; the daemon's limits\n"
	"still apply).  The daemon's own configuration: isol8ctl "
	"daemon-config.\n"
	"  --json   print the configuration as JSON\n"
	"  -h, --help\n";

/* A number as JavaScript's String(n) writes it: 1 not 1.0, 0.5, 1e+21. */
static void js_number(char *buf, size_t len, json_object *v)
{
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
		return;
	}
	double d = json_object_get_double(v);
	double a = d < 0 ? -d : d;
	/* Integral: every double from 2^53 up is; below, the cast is exact. */
	if (a < 1e21 && (a >= 9007199254740992.0 || d == (double)(int64_t)d)) {
		snprintf(buf, len, "%.0f", d == 0 ? 0.0 : d);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

/* A value as a JavaScript template string shows it. */
static const char *js_text(json_object *v, char *buf, size_t len)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "true" : "false";
	js_number(buf, len, v);
	return buf;
}

static void js_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *esc = NULL;
		switch (ch) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			break;
		}
		if (esc)
			fputs(esc, stdout);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* JSON.stringify(v, null, 2) at the given depth.  In the top two levels a
 * null member is a key isol8 leaves undefined, which JSON.stringify skips. */
static void js_json(json_object *v, int depth)
{
	char num[64];
	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("null", stdout);
		return;
	case json_type_boolean:
	case json_type_int:
	case json_type_double:
		fputs(js_text(v, num, sizeof(num)), stdout);
		return;
	case json_type_string:
		js_string(json_object_get_string(v),
			  (size_t)json_object_get_string_len(v));
		return;
	case json_type_array: {
		size_t n = json_object_array_length(v);
		if (n == 0) {
			fputs("[]", stdout);
			return;
		}
		fputs("[\n", stdout);
		for (size_t i = 0; i < n; i++) {
			printf("%*s", 2 * (depth + 1), "");
			js_json(json_object_array_get_idx(v, i), depth + 1);
			fputs(i + 1 < n ? ",\n" : "\n", stdout);
		}
		printf("%*s]", 2 * depth, "");
		return;
	}
	case json_type_object: {
		bool first = true;
		json_object_object_foreach(v, k, m)
		{
			if (depth < 2 && json_object_is_type(m, json_type_null))
				continue;
			fputs(first ? "{\n" : ",\n", stdout);
			first = false;
			printf("%*s", 2 * (depth + 1), "");
			js_string(k, strlen(k));
			fputs(": ", stdout);
			js_json(m, depth + 1);
		}
		if (first)
			fputs("{}", stdout);
		else
			printf("\n%*s}", 2 * depth, "");
		return;
	}
	}
}

/* A string array as JavaScript's join(", "), or "(none)" when empty. */
static void print_list(const char *label, json_object *list, bool none)
{
	size_t n = json_object_array_length(list);
	printf("  %-17s", label);
	if (n == 0 && none)
		fputs("(none)", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "",
		       json_object_get_string(
			       json_object_array_get_idx(list, i)));
	putchar('\n');
}

static void print_value(const char *label, json_object *section,
			const char *key, const char *unit)
{
	char buf[64];
	printf("  %-17s%s%s\n", label,
	       js_text(json_field(section, key), buf, sizeof(buf)), unit);
}

static void print_flag(const char *label, json_object *section, const char *key)
{
	printf("  %-17s%s\n", label,
	       json_object_get_boolean(json_field(section, key)) ? "yes"
								 : "no");
}

static void print_human(const struct isol8_config *c)
{
	json_object *d = json_field(c->doc, "defaults");
	json_object *net = json_field(c->doc, "network");
	json_object *rc = json_field(c->doc, "remoteCode");
	json_object *cl = json_field(c->doc, "cleanup");
	json_object *pool = json_field(c->doc, "poolSize");
	char buf[64], age[64];

	printf("\nIsol8 Configuration\n\n");
	if (c->path)
		printf("  Source: %s\n", c->path);
	else
		printf("  Source: defaults (no config file found)\n");
	printf("\n  ── General ──\n");
	print_value("Max concurrent:", c->doc, "maxConcurrent", "");
	printf("\n  ── Defaults ──\n");
	print_value("Timeout:", d, "timeoutMs", "ms");
	print_value("Memory limit:", d, "memoryLimit", "");
	print_value("CPU limit:", d, "cpuLimit", "");
	print_value("Network:", d, "network", "");
	print_value("Sandbox size:", d, "sandboxSize", "");
	print_value("Tmp size:", d, "tmpSize", "");
	printf("\n  ── Network Filter ──\n");
	print_list("Whitelist:", json_field(net, "whitelist"), true);
	printf("\n  ── Remote Code ──\n");
	print_flag("Enabled:", rc, "enabled");
	print_list("Schemes:", json_field(rc, "allowedSchemes"), false);
	print_value("Max code size:", rc, "maxCodeSize", " bytes");
	print_value("Fetch timeout:", rc, "fetchTimeoutMs", "ms");
	print_flag("Require hash:", rc, "requireHash");
	/* isol8 prints the network blacklist here, under Remote Code. */
	print_list("Blacklist:", json_field(net, "blacklist"), true);
	printf("\n  ── Cleanup ──\n");
	print_flag("Auto-prune:", cl, "autoPrune");
	json_object *ms = json_field(cl, "maxContainerAgeMs");
	/* Math.round (halves go up) of a number >= 0. */
	double m = json_object_get_double(ms) / 60000.0;
	_cleanup_json_ json_object *mins = json_object_new_double(
		m < 9007199254740992.0 ? (double)(int64_t)(m + 0.5) : m);
	js_number(age, sizeof(age), mins);
	printf("  %-17s%sms (%smin)\n",
	       "Max idle time:", js_text(ms, buf, sizeof(buf)), age);
	printf("\n  ── Pool Defaults (Serve) ──\n");
	print_value("Pool strategy:", c->doc, "poolStrategy", "");
	if (json_object_is_type(pool, json_type_object)) {
		char clean[64], dirty[64];
		js_number(clean, sizeof(clean), json_field(pool, "clean"));
		js_number(dirty, sizeof(dirty), json_field(pool, "dirty"));
		printf("  %-17s%s,%s\n", "Pool size:", clean, dirty);
	} else {
		print_value("Pool size:", c->doc, "poolSize", "");
	}
	printf("\n");
}

int cmd_config(struct ctl *ctl, int argc, char **argv)
{
	bool json = false;
	int code = ctl_simple_args(ctl, argc, argv, config_help, &json);
	if (code >= 0)
		return code;
	struct isol8_config c;
	struct error e = { 0 };
	int r = isol8_config_load(&c, &e);
	if (r == 0 && json) {
		js_json(c.doc, 0);
		putchar('\n');
	} else if (r == 0) {
		print_human(&c);
	} else {
		fprintf(stderr, "[ERR] %s\n", e.message);
	}
	isol8_config_free(&c);
	return r == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
