#include "ctl.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int ctl_connect(struct ctl *ctl, struct rpc_client *c)
{
	const char *path = rpc_client_socket_path(ctl->socket_flag);
	int r = rpc_client_connect(c, path);
	if (r < 0) {
		rpc_client_report_connect_error(path, -r);
		return CTL_EXIT_UNREACHABLE;
	}
	return CTL_EXIT_OK;
}

int ctl_report_error(json_object *error)
{
	json_object *m = NULL;
	json_object_object_get_ex(error, "message", &m);
	fprintf(stderr, "isol8ctl: %s\n",
		m ? json_object_get_string(m) : "the daemon reported an error");
	return CTL_EXIT_FAILURE;
}

int ctl_call(struct ctl *ctl, const char *method, json_object *params,
	     json_object **result)
{
	struct rpc_client c;
	int code = ctl_connect(ctl, &c);
	if (code != CTL_EXIT_OK) {
		json_object_put(params);
		return code;
	}
	json_object *error = NULL;
	int r = rpc_client_call(&c, method, params, NULL, NULL, result, &error);
	rpc_client_close(&c);
	if (r < 0) {
		fprintf(stderr,
			"isol8ctl: connection to isol8d at %s failed: "
			"%s\n",
			c.path, strerror(-r));
		return CTL_EXIT_UNREACHABLE;
	}
	if (error) {
		code = ctl_report_error(error);
		json_object_put(error);
		return code;
	}
	return CTL_EXIT_OK;
}

void ctl_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			   JSON_C_TO_STRING_NOSLASHESCAPE));
}

int ctl_switch_args(struct ctl *ctl, int argc, char **argv,
		    const char *help_text, const char *name, bool *on)
{
	const struct option opts[] = {
		{ name, no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+hs:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*on = true;
			break;
		case 's':
			ctl->socket_flag = optarg;
			break;
		case 'h':
			fputs(help_text, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(help_text, stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isol8ctl: unexpected argument '%s'\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	return -1;
}

int ctl_simple_args(struct ctl *ctl, int argc, char **argv,
		    const char *help_text, bool *json)
{
	return ctl_switch_args(ctl, argc, argv, help_text, "json", json);
}

void ctl_random(void *buf, size_t len)
{
	if (getrandom(buf, len, 0) != (ssize_t)len)
		for (size_t i = 0; i < len; i++)
			((unsigned char *)buf)[i] = (unsigned char)rand();
}

int ctl_read_fd(int fd, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return -ENOMEM;
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int ctl_read_file(const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return ctl_read_fd(fd, out, len);
}
