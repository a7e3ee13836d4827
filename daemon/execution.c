#include "execution.h"

#include "execution_internal.h"
#include "execution_audit.h"

#include "audit.h"
#include "cleanup.h"
#include "format.h"
#include "code_fetch.h"
#include "command.h"
#include "daemon.h"
#include "environment.h"
#include "exec_request.h"
#include "execution_files.h"
#include "execution_result.h"
#include "image_store.h"
#include "exec_refuse.h"
#include "log.h"
#include "metrics.h"
#include "net_log.h"
#include "pool.h"
#include "net/proxy.h"
#include "rpc_call.h"
#include "secret_mask.h"
#include "session.h"
#include "waiter.h"
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void execution_start_phase(struct execution *e, enum phase ph);

static const char *const phase_names[] = {
	[PH_INSTALL] = "setup", [PH_SETUP] = "setup", [PH_CODE] = "code"
};

static void execution_free(struct execution *e)
{
	waiter_free(e->held);
	sd_event_source_disable_unref(e->begin);
	code_fetch_cancel(e->fetch);
	execution_files_stop(&e->files);
	proxy_free(e->proxy);
	net_log_free(&e->net_log);
	if (e->in_session) {
		/* The box stays the session's; what ran here does not. */
		command_discard(e->cmd);
		command_discard(e->waiter);
		session_job_done(&e->job);
	} else {
		box_destroy(e->box);
		command_free(e->cmd);
		command_free(e->waiter);
	}
	if (e->counted) {
		execution_audit_end(e);
		e->d->executions--;
		e->caller.tenant->executions--;
		metrics_execution(&e->d->metrics, e->req.runtime, e->outcome,
				  e->duration_ms);
	}
	free(e->waiter_input);
	if (e->entry_fd >= 0)
		close(e->entry_fd);
	if (e->pool_key)
		pool_release(e->d->pool, e->pool_key);
	sd_event_source_disable_unref(e->timer);
	exec_outcome_free(&e->out);
	exec_request_free(&e->req);
	environment_free(e->envp);
	secret_mask_free(e->mask);
	caller_clear(&e->caller);
	free(e);
}

/* A "stream" notification {type, data, phase (when not NULL)} to a client
 * that asked for them; takes data. */
static void stream(struct execution *e, const char *type, json_object *data,
		   const char *phase)
{
	if (!e->call || !e->call->stream) {
		json_object_put(data);
		return;
	}
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "data", data);
	if (phase)
		json_object_object_add(ev, "phase",
				       json_object_new_string(phase));
	rpc_stream_event(e->call, ev);
}

/* The message may quote the box (its output, the paths it was given):
 * masked whole, before anything shortens it. */
void execution_fail(struct execution *e, enum error_kind kind, const char *fmt,
		    ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	_cleanup_free_ char *msg =
		n < 0 ? NULL : secret_mask_text(e->mask, text);
	execution_audit_error(e, msg ? msg : "out of memory");
	if (e->call) {
		const char *m = msg ? msg : "out of memory";
		if (!e->error_streamed)
			stream(e, "error", json_object_new_string(m), NULL);
		rpc_reply_error(e->call, msg ? kind : ERR_INTERNAL, "%s", m);
	}
	execution_free(e);
}

static void cancel(struct rpc_call *call)
{
	struct execution *e = call->userdata;
	log_debug("execution %s cancelled: its client went away", e->id);
	e->call = NULL;
	execution_audit_error(e, "cancelled: the client went away");
	rpc_reply_error(call, ERR_INTERNAL, "cancelled");
	execution_free(e);
}

static void make_uuid(char out[37])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%"
		 "02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static uint64_t now_usec(const struct execution *e)
{
	uint64_t t = 0;
	sd_event_now(e->d->event, CLOCK_MONOTONIC, &t);
	return t;
}

void execution_trace(const struct execution *e, const char *fmt, ...)
{
	int prio = e->req.compat.debug ? LOG_INFO : LOG_DEBUG;
	if (!log_enabled(prio))
		return;
	char text[256], eid[64];
	FORMAT_ARGS(text, fmt);
	snprintf(eid, sizeof(eid), "EXECUTION_ID=%s", e->id);
	const char *const fields[] = { eid, NULL };
	log_fields(prio, fields, "execution %s: %s", e->id, text);
}

/* ---- result ---- */

static void execution_complete(struct execution *e)
{
	if (e->proxy)
		proxy_detach(e->proxy);
	/* Refused before it is made: a result is copied as it is written. */
	uint64_t size = exec_outcome_size(&e->out);
	if (size > e->d->cfg.limits.result_bytes) {
		struct error err;
		rpc_too_large(&err, size, e->d->cfg.limits.result_bytes);
		execution_fail(e, err.kind, "%s", err.message);
		return;
	}
	e->duration_ms = (now_usec(e) - e->start_usec) / 1000;
	proxy_bytes(e->proxy, &e->out.net_in, &e->out.net_out);
	if (e->in_session && e->job.session)
		session_add_usage(e->job.session,
				  &(struct session_usage){ e->out.net_in,
							   e->out.net_out });
	json_object *result = exec_outcome_result(
		&e->out, e->box, e->id, e->req.runtime->name, e->duration_ms);
	e->outcome = metrics_outcome_of(result);
	if (e->net_log.entries)
		json_object_object_add(result, "networkLogs",
				       json_object_get(e->net_log.entries));
	if (e->req.compat.persist && !e->in_session)
		execution_keep_box(e, result);
	json_object *code = NULL;
	json_object_object_get_ex(result, "exitCode", &code);
	execution_trace(e, "exit code %s after %llu ms",
			json_object_get_string(code),
			(unsigned long long)e->duration_ms);
	e->audit.result = json_object_get(result);
	if (e->call) {
		stream(e, "exit",
		       json_object_new_string(json_object_get_string(code)),
		       "code");
		rpc_reply(e->call, result);
	} else
		json_object_put(result);
	execution_free(e);
}

/* ---- files ---- */

static struct execution *of_files(struct execution_files *f)
{
	return (struct execution *)(void *)((char *)f -
					    offsetof(struct execution, files));
}

static void on_files_written(struct execution_files *f, enum error_kind kind,
			     const char *msg)
{
	struct execution *e = of_files(f);
	if (msg)
		execution_fail(e, kind, "%s", msg);
	else
		execution_start_phase(e, PH_INSTALL);
}

static void write_files(struct execution *e)
{
	e->phase = PH_FILES;
	e->files = (struct execution_files){ .box = e->box,
					     .req = &e->req,
					     .code_fd = &e->entry_fd,
					     .done = on_files_written };
	execution_files_write(&e->files);
}

static void on_outputs_read(struct execution_files *f, enum error_kind kind,
			    const char *msg)
{
	if (msg)
		execution_fail(of_files(f), kind, "%s", msg);
	else
		execution_complete(of_files(f));
}

static void read_outputs(struct execution *e)
{
	e->phase = PH_OUTPUTS;
	e->files = (struct execution_files){
		.box = e->box,
		.req = &e->req,
		.id = e->id,
		.event = e->d->event,
		.max_file_bytes = e->d->cfg.max_file_bytes,
		.max_total = e->d->cfg.limits.output_bytes,
		.stop = &e->out.timed_out,
		.files = &e->out.files,
		.done = on_outputs_read,
	};
	execution_files_read(&e->files);
}

/* ---- commands ---- */

static void on_command_output(void *userdata, bool is_stderr, const char *data,
			      size_t len)
{
	struct execution *e = userdata;
	if (!e->call || !e->call->stream)
		return; /* before copying the output */
	stream(e, is_stderr ? "stderr" : "stdout",
	       json_object_new_string_len(data, (int)len),
	       phase_names[e->phase]);
}

static void on_command_done(void *userdata, int err, const char *what,
			    int status)
{
	struct execution *e = userdata;
	if (err < 0) {
		execution_fail(e, ERR_INTERNAL, "Cannot start the %s: %s: %s",
			       e->phase == PH_CODE ? "code" : "setup",
			       what ?: "", strerror(-err));
		return;
	}
	struct command *c = e->cmd;
	if (e->phase == PH_CODE || e->out.timed_out) {
		sd_event_source_set_enabled(e->timer, SD_EVENT_OFF);
		e->out.status = status;
		exec_outcome_take_output(&e->out, c);
		if (e->out.timed_out)
			stream(e, "error", json_object_new_string(TIMEOUT_TEXT),
			       phase_names[e->phase] ?: "code");
		e->cmd = NULL;
		command_free(c);
		read_outputs(e);
		return;
	}
	int code = exec_exit_code(status);
	execution_trace(e, "%s exited with %d",
			e->phase == PH_INSTALL ? "package install"
					       : "setup script",
			code);
	if (e->phase == PH_SETUP) {
		/* isol8's events: after the setup script, its exit code. */
		char text[16];
		snprintf(text, sizeof(text), "%d", code);
		if (code != 0) {
			char msg[64];
			snprintf(msg, sizeof(msg),
				 "Setup script failed (exit code %d)", code);
			stream(e, "error", json_object_new_string(msg),
			       "setup");
			e->error_streamed = true;
		}
		stream(e, "exit", json_object_new_string(text), "setup");
	}
	if (code != 0) {
		struct output *o = command_output(c, true);
		const char *what_failed = e->phase == PH_INSTALL
						  ? "Package install failed"
						  : "Setup script failed";
		execution_fail(e, ERR_INVALID_ARGUMENT, "%s (exit code %d): %s",
			       what_failed, code, o->text.p ? o->text.p : "");
		return;
	}
	e->cmd = NULL;
	command_free(c);
	execution_start_phase(e, e->phase + 1);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	struct execution *e = userdata;
	log_info("execution %s timed out after %llu ms", e->id,
		 (unsigned long long)e->req.timeout_ms);
	e->out.timed_out = true;
	if (!e->in_session)
		box_kill(e->box);
	else if (e->cmd)
		command_kill(e->cmd); /* the session's other processes stay */
	return 0;
}

static struct command_spec command_spec_of(const struct execution *e,
					   const char *const *argv,
					   const char *stdin_data,
					   size_t stdin_len)
{
	const struct exec_request *r = &e->req;
	return (struct command_spec){
		.cmd = {
			.argv = argv,
			.envp = (const char *const *)e->envp,
			.cwd = r->workdir ? r->workdir : "/sandbox",
			.limits = {
				.rlimit_fsize = r->sandbox_size,
				.rlimit_nofile = 1024,
				.rlimit_nproc = 0,
			},
			.seccomp = true,
		},
		.stdin_data = stdin_data,
		.stdin_len = stdin_len,
		.max_output = r->max_output,
		.mask = e->mask,
	};
}

/* The timeout counts from the first command on. */
static int start_timer(struct execution *e)
{
	if (e->timer)
		return 0;
	return sd_event_add_time_relative(
		e->d->event, &e->timer, CLOCK_MONOTONIC,
		e->req.timeout_ms * 1000, 1000, on_timeout, e);
}

static int run_command(struct execution *e, const char *const *argv,
		       const char *stdin_data, size_t stdin_len)
{
	struct command_spec spec =
		command_spec_of(e, argv, stdin_data, stdin_len);
	int r = start_timer(e);
	if (r < 0)
		return r;
	return command_start(e->d->event, e->box, &spec, on_command_output,
			     on_command_done, e, &e->cmd);
}

/* The pooled interpreter waits in its preload script for
 * "<8 hex digits: length><cwd>\0<KEY=VALUE>\0...\0" (an empty entry
 * ends it); the program's stdin follows. */
static int run_waiter(struct execution *e)
{
	const struct exec_request *r = &e->req;
	const char *cwd = r->workdir ? r->workdir : "/sandbox";
	size_t len = strlen(cwd) + 2;
	for (size_t i = 0; e->envp[i]; i++)
		len += strlen(e->envp[i]) + 1;
	if (len > 0xffffffff)
		return -E2BIG;
	char *buf = malloc(8 + len + r->stdin_len + 1);
	if (!buf)
		return -ENOMEM;
	size_t off = (size_t)sprintf(buf, "%08zx", len);
	off += (size_t)sprintf(buf + off, "%s", cwd) + 1;
	for (size_t i = 0; e->envp[i]; i++)
		off += (size_t)sprintf(buf + off, "%s", e->envp[i]) + 1;
	buf[off++] = '\0';
	if (r->stdin_len)
		memcpy(buf + off, r->stdin_data, r->stdin_len);
	e->waiter_input = buf;
	struct command_spec spec =
		command_spec_of(e, NULL, buf, off + r->stdin_len);
	int err = start_timer(e);
	if (err < 0)
		return err;
	err = command_adopt(e->waiter, &spec, on_command_output,
			    on_command_done, e);
	if (err < 0)
		return err;
	e->cmd = e->waiter;
	e->waiter = NULL;
	return 0;
}

static void execution_start_phase(struct execution *e, enum phase ph)
{
	const struct exec_request *r = &e->req;
	char bin[512];
	int err = 0;
	e->phase = ph;
	if (ph >= PH_INSTALL && ph <= PH_CODE)
		execution_trace(e, "%s phase",
				ph == PH_CODE	 ? "code"
				: ph == PH_SETUP ? "setup script"
						 : "package install");
	switch (ph) {
	case PH_INSTALL: {
		if (!r->packages || !r->packages[0]) {
			execution_start_phase(e, PH_SETUP);
			return;
		}
		const char *argv[1100];
		size_t n = 0;
		char first[512];
		const char *const *inst = r->runtime->install;
		runtime_path(inst[0], e->d->cfg.runtimes_dir, first,
			     sizeof(first));
		argv[n++] = first;
		for (size_t i = 1; inst[i]; i++)
			argv[n++] = inst[i];
		for (size_t i = 0; r->packages[i] && n < 1098; i++)
			argv[n++] = r->packages[i];
		argv[n] = NULL;
		err = run_command(e, argv, NULL, 0);
		break;
	}
	case PH_SETUP: {
		/* The image's own script first, then the request's; the
		 * first that fails fails the setup. */
		_cleanup_free_ char *img = NULL;
		const char *im = box_image(e->box);
		if (*im &&
		    (err = image_store_setup_script(&e->d->cfg, im, &img)) < 0)
			break;
		if (!img && !r->setup_script) {
			execution_start_phase(e, PH_CODE);
			return;
		}
		/* Each script in a bash of its own, as when it runs alone. */
		static const char run_both[] =
			"/usr/bin/bash -c \"$1\" || exit; "
			"exec /usr/bin/bash -c \"$2\"";
		const char *both[] = {
			"/usr/bin/bash", "-c", run_both, "setup", img,
			r->setup_script, NULL
		};
		const char *one[] = { "/usr/bin/bash", "-c",
				      img ? img : r->setup_script, NULL };
		err = run_command(e, img && r->setup_script ? both : one, NULL,
				  0);
		break;
	}
	case PH_CODE: {
		if (e->waiter) {
			err = run_waiter(e);
			if (err != -ESRCH)
				break;
			/* It ended while waiting: a new one, then. */
			command_free(e->waiter);
			e->waiter = NULL;
		}
		const char *argv[8];
		size_t n = 0;
		if (r->cmd) {
			argv[n++] = "/usr/bin/bash";
			argv[n++] = "-c";
			argv[n++] = r->cmd;
		} else {
			runtime_path(r->runtime->binary, e->d->cfg.runtimes_dir,
				     bin, sizeof(bin));
			argv[n++] = bin;
			for (size_t i = 0; r->runtime->run_args[i]; i++)
				argv[n++] = r->runtime->run_args[i];
			argv[n++] = r->code_path;
		}
		argv[n] = NULL;
		err = run_command(e, argv, r->stdin_data, r->stdin_len);
		break;
	}
	default:
		err = -EINVAL;
	}
	if (err < 0)
		execution_fail(e, ERR_INTERNAL, "Cannot run the %s: %s",
			       ph == PH_CODE ? "code" : "setup",
			       strerror(-err));
}

/* ---- the box ---- */

static void on_net_log(void *userdata, json_object *entry, uint64_t seq)
{
	struct execution *e = userdata;
	int r = net_log_add(&e->net_log, entry, seq);
	if (r == -ENOMEM)
		log_errno(LOG_ERR, r,
			  "execution %s: a network log entry is lost", e->id);
	else if (r == 1)
		log_warn("execution %s: networkLogs is full at %d entries; "
			 "later ones are only streamed",
			 e->id, NET_LOG_MAX);
	stream(e, "network", json_object_get(entry), NULL);
}

/* A filtered box's way out serves this execution from now on. */
static int start_proxy(struct execution *e)
{
	const struct config *cfg = &e->d->cfg;
	const int *ways = box_egress_fds(e->box);
	if (e->req.net != BOX_NET_FILTERED || !ways)
		return 0;
	const struct proxy_limits lim = {
		.max_connections = cfg->net_max_connections,
		.max_bytes = cfg->net_max_bytes,
		.idle_timeout_ms = cfg->net_idle_timeout_ms,
		.connect_timeout_ms = cfg->net_connect_timeout_ms,
		.head_timeout_ms = cfg->net_head_timeout_ms,
		.allow_private = cfg->net_allow_private,
	};
	int r = proxy_start(e->d->event, e->d->resolver, ways, &e->req.filter,
			    &lim, &e->d->metrics, e->mask, &e->proxy);
	if (r < 0)
		return r;
	if (e->req.log_network) {
		if (net_log_init(&e->net_log) < 0)
			return -ENOMEM;
		proxy_attach(e->proxy, on_net_log, e);
	}
	return 0;
}

void execution_begin(struct execution *e)
{
	int r = start_proxy(e);
	if (r < 0) {
		execution_fail(e, ERR_INTERNAL,
			       "Cannot start the network proxy: %s",
			       strerror(-r));
		return;
	}
	write_files(e);
}

/* ---- remote code ---- */

static void on_code_fetched(void *userdata, char *code, size_t len,
			    enum error_kind kind, const char *msg)
{
	struct execution *e = userdata;
	e->fetch = NULL;
	if (!code) {
		execution_fail(e, kind, "%s", msg);
		return;
	}
	execution_trace(e, "fetched %zu bytes of code", len);
	e->req.code = code;
	execution_launch(e);
}

/* request.codeUrl, fetched before any box is made; the client going
 * away cancels it (execution_free). */
static void fetch_code(struct execution *e)
{
	const struct exec_request *r = &e->req;
	const struct code_fetch_request fr = {
		.url = r->code_url,
		.hash = r->code_hash,
		.allow_insecure = r->allow_insecure_code_url,
	};
	struct error err;
	if (code_fetch_start(e->d->fetcher, &fr, on_code_fetched, e, &e->fetch,
			     &err) < 0)
		execution_fail(e, err.kind, "%s", err.message);
}

void execution_start(struct rpc_call *call)
{
	struct daemon *d = call->daemon;
	struct execution *e = calloc(1, sizeof(*e));
	if (!e) {
		rpc_reply_error(call, ERR_INTERNAL, "out of memory");
		return;
	}
	e->d = d;
	e->entry_fd = -1;
	make_uuid(e->id);
	sd_event_now(d->event, CLOCK_MONOTONIC, &e->start_usec);
	struct error err = { 0 };
	int r = exec_request_parse(call->params, &d->cfg, &e->req, &err);
	int m = secret_mask_new((const char *const *)e->req.secret_values,
				&e->mask);
	if (m < 0) {
		if (m == -E2BIG)
			rpc_reply_error(call, ERR_INVALID_ARGUMENT,
					"options.secrets: the values add up to "
					"more than %d bytes",
					SECRETS_MAX_BYTES);
		else
			rpc_reply_error(call, ERR_INTERNAL, "out of memory");
		execution_free(e);
		return;
	}
	if (r < 0) {
		exec_refuse(call, &err);
		execution_free(e);
		return;
	}
	bool tenant_full =
		!call->caller.admin &&
		call->caller.tenant->executions >= d->cfg.tenant_max_concurrent;
	if (tenant_full || d->executions >= d->cfg.max_concurrent) {
		rpc_reply_error(
			call, ERR_BUSY,
			"Too many concurrent executions: the limit of %llu%s "
			"(%s) is reached; try again later",
			(unsigned long long)(tenant_full
						     ? d->cfg.tenant_max_concurrent
						     : d->cfg.max_concurrent),
			tenant_full ? " per tenant" : "",
			tenant_full ? "tenants.maxConcurrent"
				    : "maxConcurrent");
		execution_free(e);
		return;
	}
	char why[256];
	if (audit_refuses(d->audit, why, sizeof(why))) {
		rpc_reply_error(call, ERR_BUSY, "%s", why);
		execution_free(e);
		return;
	}
	e->caller = caller_copy(&call->caller);
	execution_audit_begin(e, call);
	e->counted = true;
	e->outcome = METRICS_FAILED;
	d->executions++;
	e->caller.tenant->executions++;
	const struct seccomp_prog *prog = NULL;
	struct error serr;
	r = seccomp_lookup(e->req.seccomp_mode, e->req.seccomp_path, &prog,
			   &serr);
	if (r < 0) {
		rpc_reply_error(call, serr.kind, "%s", serr.message);
		execution_free(e);
		return;
	}
	r = environment_build(d->cfg.runtimes_dir, e->req.runtime,
			      e->req.net == BOX_NET_FILTERED,
			      (const char *const *)e->req.env, &e->envp);
	if (r < 0) {
		rpc_reply_error(call, ERR_INTERNAL, "out of memory");
		execution_free(e);
		return;
	}
	char rt[64], eid[64];
	snprintf(rt, sizeof(rt), "RUNTIME=%s", e->req.runtime->name);
	snprintf(eid, sizeof(eid), "EXECUTION_ID=%s", e->id);
	const char *const fields[] = { rt, eid, NULL };
	log_fields(LOG_INFO, fields, "execution %s: %s, uid %u", e->id,
		   e->req.runtime->name, (unsigned)call->peer_uid);
	e->call = call;
	call->userdata = e;
	call->cancel = cancel;
	e->prog = prog;
	if (e->req.code_url)
		fetch_code(e);
	else
		execution_launch(e);
}
