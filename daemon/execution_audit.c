#include "execution_audit.h"

#include "audit.h"
#include "cleanup.h"
#include "daemon.h"
#include "execution_internal.h"
#include "log.h"
#include "secret_mask.h"
#include "timestamp.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void execution_audit_begin(struct execution *e, const struct rpc_call *call)
{
	if (!e->d->audit)
		return;
	json_object *req = NULL, *meta = NULL;
	if (json_object_object_get_ex(call->params, "request", &req) &&
	    json_object_object_get_ex(req, "metadata", &meta) &&
	    json_object_is_type(meta, json_type_object))
		e->audit.metadata = json_object_get(meta);
	e->audit.peer_pid = call->peer_pid;
	e->audit.peer_uid = call->peer_uid;
	e->audit.start_ms = timestamp_now_ms();
}

void execution_audit_error(struct execution *e, const char *msg)
{
	if (e->d->audit && !e->audit.error && !e->audit.result)
		e->audit.error = strdup(msg);
}

/* sha256 of the code that ran (the command for cmd), in hex. */
static void code_hash(const struct exec_request *r, char out[65])
{
	const char *code = r->code ? r->code : r->cmd ? r->cmd : "";
	unsigned char md[32];
	unsigned int n = 0;
	out[0] = '\0';
	if (!EVP_Digest(code, strlen(code), md, &n, EVP_sha256(), NULL))
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + (size_t)i * 2, 3, "%02x", md[i]);
}

/* Every string in o with the request's secrets masked. */
static void mask_strings(json_object *o, const struct secret_mask *m)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);
			if (json_object_is_type(v, json_type_string)) {
				_cleanup_free_ char *t = secret_mask_text(
					m, json_object_get_string(v));
				json_object_array_put_idx(
					o, i,
					json_object_new_string(t ? t : ""));
			} else
				mask_strings(v, m);
		}
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v)
	{
		if (json_object_is_type(v, json_type_string)) {
			_cleanup_free_ char *t =
				secret_mask_text(m, json_object_get_string(v));
			json_object_object_add(
				o, k, json_object_new_string(t ? t : ""));
		} else
			mask_strings(v, m);
	}
}

static void copy_field(json_object *to, json_object *from, const char *key)
{
	json_object *v = NULL;
	if (from && json_object_object_get_ex(from, key, &v))
		json_object_object_add(to, key, json_object_get(v));
}

static const char *outcome(const struct execution *e)
{
	if (!e->audit.result && !e->call)
		return "cancelled";
	return metrics_outcome_name(e->outcome);
}

static json_object *record(const struct execution *e, const char *hash,
			   const char *user)
{
	const struct exec_request *r = &e->req;
	const struct config_audit *cfg = &e->d->cfg.audit;
	json_object *res = e->audit.result;
	json_object *o = json_object_new_object();
	char ts[TIMESTAMP_LEN];
	timestamp_iso(e->audit.start_ms, ts);
	json_object_object_add(o, "executionId", json_object_new_string(e->id));
	json_object_object_add(o, "userId", json_object_new_string(user));
	json_object_object_add(o, "timestamp", json_object_new_string(ts));
	json_object_object_add(o, "runtime",
			       json_object_new_string(r->runtime->name));
	json_object_object_add(o, "codeHash", json_object_new_string(hash));
	copy_field(o, res, "containerId");
	if (!res || !json_object_object_get_ex(res, "exitCode", NULL))
		json_object_object_add(o, "exitCode", NULL);
	copy_field(o, res, "exitCode");
	uint64_t ms =
		res ? e->duration_ms : timestamp_now_ms() - e->audit.start_ms;
	json_object_object_add(o, "durationMs",
			       json_object_new_int64((int64_t)ms));
	json_object_object_add(o, "outcome",
			       json_object_new_string(outcome(e)));
	copy_field(o, res, "timedOut");
	copy_field(o, res, "oomKilled");
	copy_field(o, res, "signal");
	if (!res)
		json_object_object_add(
			o, "error",
			json_object_new_string(e->audit.error
						       ? e->audit.error
						       : "ended without a "
							 "result"));
	json_object_object_add(o, "tenant",
			       json_object_new_string(e->caller.tenant->name));
	json_object *peer = json_object_new_object();
	json_object_object_add(peer, "uid",
			       json_object_new_int64(e->audit.peer_uid));
	json_object_object_add(peer, "pid",
			       json_object_new_int64(e->audit.peer_pid));
	json_object_object_add(o, "peer", peer);
	/* The image the box really had: "host" or its digest. */
	char image[IMAGE_HEX_LEN + 8] = "host";
	if (r->has_image)
		snprintf(image, sizeof(image), "sha256:%s", r->image.digest);
	json_object_object_add(o, "image", json_object_new_string(image));
	json_object_object_add(o, "network",
			       json_object_new_string(r->network));
	json_object_object_add(o, "seccomp",
			       json_object_new_string(r->seccomp_mode));
	if (r->seccomp_path)
		json_object_object_add(o, "seccompProfile",
				       json_object_new_string(r->seccomp_path));
	if (r->session_id)
		json_object_object_add(o, "sessionId",
				       json_object_new_string(r->session_id));
	if (cfg->track_resources)
		copy_field(o, res, "resourceUsage");
	copy_field(o, res, "networkLogs");
	if (e->audit.metadata)
		json_object_object_add(o, "metadata",
				       json_object_get(e->audit.metadata));
	if (cfg->include_code)
		json_object_object_add(o, "code",
				       json_object_new_string(r->code  ? r->code
							      : r->cmd ? r->cmd
								       : ""));
	if (cfg->include_output) {
		copy_field(o, res, "stdout");
		copy_field(o, res, "stderr");
	}
	mask_strings(o, e->mask);
	return o;
}

/* A client's string, fit for one journal field. */
static void field_text(char *out, size_t len, const char *key, const char *s)
{
	int n = snprintf(out, len, "%s=", key);
	size_t i = (size_t)n;
	for (; *s && i + 1 < len && i < (size_t)n + 128; s++)
		out[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[i] = '\0';
}

static void journal(const struct execution *e, json_object *rec)
{
	char eid[64], rt[64], uid[32], pid[32], tenant[96], out[48], code[48],
		hash[96], user[160], net[48];
	json_object *v = NULL;
	json_object_object_get_ex(rec, "exitCode", &v);
	const char *exit_code = v ? json_object_get_string(v) : "none";
	json_object_object_get_ex(rec, "userId", &v);
	const char *u = json_object_get_string(v);
	snprintf(eid, sizeof(eid), "EXECUTION_ID=%s", e->id);
	snprintf(rt, sizeof(rt), "RUNTIME=%s", e->req.runtime->name);
	snprintf(uid, sizeof(uid), "PEER_UID=%u", (unsigned)e->audit.peer_uid);
	snprintf(pid, sizeof(pid), "PEER_PID=%d", (int)e->audit.peer_pid);
	snprintf(tenant, sizeof(tenant), "AUDIT_TENANT=%s",
		 e->caller.tenant->name);
	snprintf(out, sizeof(out), "AUDIT_OUTCOME=%s", outcome(e));
	snprintf(code, sizeof(code), "AUDIT_EXIT_CODE=%s", exit_code);
	json_object_object_get_ex(rec, "codeHash", &v);
	snprintf(hash, sizeof(hash), "AUDIT_CODE_HASH=%s",
		 json_object_get_string(v));
	field_text(user, sizeof(user), "AUDIT_USER_ID", u);
	snprintf(net, sizeof(net), "AUDIT_NETWORK=%s", e->req.network);
	static const char msgid[] = "MESSAGE_ID=" AUDIT_MESSAGE_ID;
	const char *const fields[] = { msgid, eid,  rt,	  uid,	pid, tenant,
				       out,   code, hash, user, net, NULL };
	log_fields(LOG_INFO, fields, "audit: execution %s (%s, tenant %s): %s",
		   e->id, e->req.runtime->name, e->caller.tenant->name,
		   outcome(e));
}

void execution_audit_end(struct execution *e)
{
	if (e->d->audit) {
		char hash[65];
		code_hash(&e->req, hash);
		json_object *uid = NULL;
		const char *user = "";
		if (e->audit.metadata &&
		    json_object_object_get_ex(e->audit.metadata, "userId",
					      &uid) &&
		    json_object_is_type(uid, json_type_string))
			user = json_object_get_string(uid);
		_cleanup_json_ json_object *rec = record(e, hash, user);
		journal(e, rec);
		audit_write(e->d->audit, rec);
	}
	json_object_put(e->audit.metadata);
	json_object_put(e->audit.result);
	free(e->audit.error);
	e->audit = (struct exec_audit){ 0 };
}
