/* isol8d: start-up, signals, readiness and shutdown around one sd-event loop. */
#include "audit.h"
#include "cleanup.h"
#include "code_fetch.h"
#include "config.h"
#include "curl_loader.h"
#include "daemon.h"
#include "expose.h"
#include "image_autobuild.h"
#include "log.h"
#include "pool.h"
#include "net/resolver.h"
#include "session.h"
#include "session_hibernate.h"
#include "sandbox/image_mount.h"
#include "sandbox/init_exe.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"
#include "sandbox/zygote.h"
#include "server.h"
#include "environment.h"
#include "waiter.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

struct options {
	const char *config_path;
	const char *socket_path;
	const char *pid_file;
	bool check_config;
	bool debug;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: isol8d [OPTIONS]\n"
		"\n"
		"Runs untrusted code in lightweight Linux containers and "
		"serves\n"
		"requests as JSON-RPC over a Unix socket.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE    read FILE instead of %s\n"
		"                       (which may be missing; FILE may not)\n"
		"  -s, --socket PATH    listen on PATH (overrides "
		"server.socket)\n"
		"      --pid-file PATH  write the daemon's pid to PATH, "
		"removed "
		"at exit\n"
		"      --check-config   validate the configuration and exit\n"
		"  -d, --debug          log debug messages\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        print the version and exit\n"
		"\n"
		"A socket passed by systemd (socket activation) is used "
		"instead "
		"of binding.\n"
		"Exit status: 0 after a clean stop, 1 on a start-up error, 2 "
		"on "
		"a usage error.\n"
		"See isol8d(8) and isol8d.json(5).\n",
		CONFIG_DEFAULT_PATH);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_PID_FILE = 256, OPT_CHECK };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:s:dhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case OPT_PID_FILE:
			o->pid_file = optarg;
			break;
		case OPT_CHECK:
			o->check_config = true;
			break;
		case 'd':
			o->debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("isol8d %s\n", ISOL8_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "isol8d: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int on_post_stop(sd_event_source *s, void *userdata)
{
	const struct daemon *d = userdata;
	return d->boxes.live == 0
		       ? sd_event_exit(sd_event_source_get_event(s), 0)
		       : 0;
}

static int on_stop_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	const struct daemon *d = userdata;
	(void)usec;
	log_warn("stopping with %u boxes still being torn down", d->boxes.live);
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si,
			  void *userdata)
{
	struct daemon *d = userdata;
	(void)s;
	if (d->stopping)
		return 0;
	d->stopping = true;
	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	/* Closing every connection cancels its executions; their boxes go
	 * asynchronously, so the loop runs until the last one is gone, or
	 * at most a second. */
	if (d->cfg.hibernate_on_stop)
		sessions_hibernate_all(d->sessions);
	sessions_free(d->sessions);
	d->sessions = NULL;
	server_stop(d->server);
	d->server = NULL;
	image_autobuild_free(d->autobuild);
	d->autobuild = NULL;
	pool_free(d->pool);
	d->pool = NULL;
	if (d->boxes.live == 0)
		return sd_event_exit(d->event, 0);
	int r = sd_event_add_post(d->event, NULL, on_post_stop, d);
	if (r >= 0)
		r = sd_event_add_time_relative(d->event, NULL, CLOCK_MONOTONIC,
					       1000000 - 100000, 0,
					       on_stop_deadline, d);
	return r < 0 ? sd_event_exit(d->event, 0) : 0;
}

/* Nothing is reloadable yet: the configuration is read at start-up. */
static int on_reload_signal(sd_event_source *s,
			    const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	(void)userdata;
	log_info("SIGHUP ignored: restart isol8d to apply configuration "
		 "changes");
	return 0;
}

static int write_pid_file(const char *path)
{
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0) {
		int r = -errno;
		log_err("cannot write pid file %s: %m", path);
		return r;
	}
	return 0;
}

static int setup_signals(struct daemon *d)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD); /* boxes are reaped through pidfds */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	int r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop_signal, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop_signal,
					d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGHUP,
					on_reload_signal, NULL);
	return r;
}

/* What every box shares: uid ranges and the cgroup tree. */
static int setup_boxes(struct daemon *d)
{
	struct box_host *h = &d->boxes;
	h->event = d->event;
	/* Supplementary groups of the daemon must not reach boxes. */
	if (setgroups(0, NULL) < 0)
		log_warn("cannot drop supplementary groups: %m");
	int r = -ERANGE;
	if (d->cfg.uid_base <= UINT32_MAX && d->cfg.max_boxes <= UINT32_MAX)
		r = uid_slots_new((uint32_t)d->cfg.uid_base,
				  (uint32_t)d->cfg.max_boxes, &h->uids);
	if (r < 0) {
		log_err("sandbox.uidBase %llu with sandbox.maxBoxes %llu "
			"leaves the 32-bit uid space",
			(unsigned long long)d->cfg.uid_base,
			(unsigned long long)d->cfg.max_boxes);
		return r;
	}
	r = cgroup_root_setup(d->features.cgroup_mode, "/sys/fs/cgroup",
			      &h->cgroups);
	if (r < 0)
		return r;
	h->into_cgroup = d->features.cgroup_mode == CGROUP_MODE_V2;
	h->init_exe = init_exe_open();
	if (h->init_exe < 0) {
		log_errno(LOG_ERR, h->init_exe,
			  "cannot load the boxes' init into a memfd");
		return h->init_exe;
	}
	if ((r = netns_spare_init(&h->net, h->event)) < 0) {
		log_errno(LOG_ERR, r,
			  "cannot set up network namespaces for boxes");
		return r;
	}
	if ((r = image_mounts_new(d->cfg.images_dir, &h->images)) < 0)
		return r;
	log_info("box cgroups in %s", cgroup_root_path(h->cgroups));
	return 0;
}

/* Remote code: libcurl is set up only when the configuration allows it. */
static int start_fetcher(struct daemon *d)
{
	if (!d->cfg.remote_code.enabled)
		return 0;
	if (curl_loader_open() < 0)
		return -ENOENT;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("cannot initialise libcurl for remote code");
		return -EIO;
	}
	struct error e;
	int r = code_fetcher_new(d->event, d->resolver, &d->cfg.remote_code,
				 &d->fetcher, &e);
	if (r < 0)
		log_err("cannot set up remote code: %s", e.message);
	return r;
}

/* Pooled boxes of a runtime with a zygote are made from it (zygote.h);
 * without one they start their own interpreter, as they do when it
 * fails. */
static void start_zygote(struct daemon *d)
{
	const struct runtime *rt = NULL;
	for (size_t i = 0; !rt && runtime_at(i); i++)
		if (runtime_at(i)->zygote && d->cfg.pool_size[i] > 0)
			rt = runtime_at(i);
	if (!d->cfg.pool_zygote || !rt)
		return;
	struct waiter_command c;
	int r = waiter_command(&d->cfg, rt, &c);
	if (r == 0) {
		r = zygote_start(d->event, c.argv, (const char *const *)c.envp,
				 &d->boxes.zygote);
		environment_free(c.envp);
	}
	if (r < 0)
		log_errno(LOG_WARNING, r,
			  "cannot start the %s zygote; its boxes start their "
			  "own interpreter",
			  rt->name);
}

static int run(struct daemon *d, const struct options *o)
{
	int r = sd_event_default(&d->event);
	if (r < 0)
		return r;
	r = setup_signals(d);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot set up signal handling");
		return r;
	}
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		log_errno(LOG_WARNING, r, "cannot enable the watchdog");
	sd_event_now(d->event, CLOCK_MONOTONIC, &d->start_usec);
	host_features_probe(&d->features);
	d->features_json = host_features_to_json(&d->features);
	const char *missing = host_features_missing(&d->features);
	if (missing) {
		log_err("isol8d needs Linux " HOST_MIN_KERNEL " or newer with "
			"user namespaces and seccomp filters; %s is missing "
			"here (kernel %s)",
			missing, d->features.kernel_release);
		return -ENOTSUP;
	}
	if (!d->features.openat2)
		log_info("openat2 is not available (an older kernel or a "
			 "seccomp filter such as systemd's RestrictSUIDSGID=); "
			 "files in boxes are opened one name at a time with "
			 "O_NOFOLLOW instead");

	/* Forked before anything else is held: the writer has nothing of
	 * the daemon's but its configuration. */
	struct error aerr;
	r = audit_start(d->event, &d->cfg.audit, &d->audit, &aerr);
	if (r < 0) {
		log_err("%s", aerr.message);
		return r;
	}
	r = setup_boxes(d);
	if (r < 0)
		return r;
	r = resolver_start(d->event, &d->resolver);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot start the resolver helper");
		return r;
	}
	if ((r = start_fetcher(d)) < 0)
		return r;
	start_zygote(d);
	r = zygote_start_forker(d->event, d->boxes.init_exe, &d->boxes.forker);
	if (r < 0)
		log_errno(LOG_WARNING, r,
			  "cannot start the box forker; the daemon clones "
			  "boxes itself");
	r = pool_new(d->event, &d->cfg, &d->boxes, &d->pool);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot set up the warm pool");
		return r;
	}
	r = exposures_new(d, &d->exposures);
	if (r >= 0)
		r = sessions_new(d, &d->sessions);
	if (r < 0)
		return r;
	tenants_init(&d->tenants, &d->cfg);
	sessions_load_hibernated(d->sessions);
	r = server_start(d, &d->server);
	if (r < 0)
		return r;
	if (o->pid_file && (r = write_pid_file(o->pid_file)) < 0)
		return r;

	sd_notifyf(0, "READY=1\nSTATUS=Listening on %s; cgroups %s; kernel %s",
		   server_path(d->server),
		   cgroup_mode_name(d->features.cgroup_mode),
		   d->features.kernel_release);
	log_info("isol8d %s ready (cgroups %s)", ISOL8_VERSION,
		 cgroup_mode_name(d->features.cgroup_mode));
	/* Serving already: the images come while requests run on what
	 * there is. */
	r = image_autobuild_start(d->event, &d->cfg, &d->autobuild);
	if (r < 0)
		log_errno(LOG_ERR, r, "cannot start building the base images");
	return sd_event_loop(d->event);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	log_setup(o.debug);
	/* Requests and answers of megabytes (file contents) come and go all
	 * the time: their memory stays in the heap for the next one instead
	 * of being unmapped and faulted in again each time. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	struct daemon d = { 0 };
	d.boxes.net = NETNS_SPARE_NONE;
	d.boxes.init_exe = -1;
	struct error err = { 0 };
	int r = config_load(&d.cfg, o.config_path, o.config_path != NULL, &err);
	if (r >= 0 && o.socket_path)
		r = config_set_override(&d.cfg, "server.socket", o.socket_path,
					&err);
	if (r < 0) {
		fprintf(stderr, "isol8d: invalid configuration: %s\n",
			err.message);
		config_free(&d.cfg);
		return 1;
	}
	if (o.check_config) {
		printf("configuration OK (%s)\n",
		       d.cfg.file ? d.cfg.file : "built-in defaults");
		config_free(&d.cfg);
		return 0;
	}

	r = seccomp_set_policy(d.cfg.sec_profile_dir,
			       d.cfg.sec_unconfined_drops_denials);
	if (r >= 0)
		r = run(&d, &o);
	if (r < 0 && !d.stopping)
		log_errno(LOG_ERR, r, "isol8d failed");
	sessions_free(d.sessions);
	exposures_free(d.exposures);
	server_stop(d.server);
	image_autobuild_free(d.autobuild);
	pool_free(d.pool);
	audit_free(d.audit);
	code_fetcher_free(d.fetcher);
	resolver_free(d.resolver);
	if (o.pid_file)
		unlink(o.pid_file);
	json_object_put(d.features_json);
	zygote_free(d.boxes.zygote);
	zygote_free(d.boxes.forker);
	netns_spare_free(&d.boxes.net);
	sd_event_unref(d.event);
	cgroup_root_free(d.boxes.cgroups);
	uid_slots_free(d.boxes.uids);
	image_mounts_free(d.boxes.images);
	if (d.boxes.init_exe >= 0)
		close(d.boxes.init_exe);
	seccomp_cache_clear();
	config_free(&d.cfg);
	return r < 0 ? 1 : 0;
}
