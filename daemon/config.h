/* The daemon's configuration: built-in defaults, overridden by the JSON file
 * (/etc/isol8/isol8d.json or --config), overridden by command-line flags.
 * Every key is described once in the schema table in config.c. */
#ifndef ISOL8D_CONFIG_H
#define ISOL8D_CONFIG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define CONFIG_DEFAULT_PATH "/etc/isol8/isol8d.json"

struct config {
	/* server */
	char *socket_path;
	uint64_t socket_mode;
	char *socket_group;
	uint64_t max_frame_bytes;
	uint64_t max_connections;
	uint64_t idle_timeout_ms;
	uint64_t max_pending_output;
	uint64_t max_requests_in_flight;

	/* defaults of an execution, as isol8's */
	uint64_t default_timeout_ms;
	uint64_t default_memory;
	double default_cpus;
	uint64_t default_pids;
	uint64_t default_max_output;
	uint64_t default_sandbox_size;
	uint64_t default_tmp_size;
	char *default_network;
	bool default_readonly_root;
	char *default_seccomp;

	/* boxes */
	char *runtimes_dir;
	uint64_t uid_base;
	uint64_t max_boxes;
	uint64_t max_file_bytes;

	/* images (image_store.h) */
	char *images_dir;
	char *images_default;	      /* an image reference (image_ref.h) */
	char **images_build;	      /* runtimes (image_autobuild.h) */
	json_object *prebuilt_images; /* prebuilt_images.h */

	/* the warm pool; pool_size is indexed like runtime_at() */
	bool pool_prewarm;
	char **pool_images; /* image references with warm boxes too */
	uint64_t pool_size[5];
	uint64_t pool_max_boxes;
	uint64_t pool_max_building;
	uint64_t pool_max_retry_ms; /* the longest wait after failed builds */
	bool pool_zygote; /* pooled python boxes from a zygote (zygote.h) */
	/* pool.demand.*: how far a key's target follows its claims beyond
	 * pool_size (pool_demand.h) */
	struct config_pool_demand {
		bool grow; /* false: each key stays at its pool_size */
		uint64_t max_memory; /* bytes ready boxes may hold for growth */
		uint64_t idle_ms;    /* quiet time before each step down */
	} pool_demand;

	/* capacity and sessions, with isol8's names where it has them */
	uint64_t max_concurrent; /* executions accepted and not yet over */
	uint64_t max_sessions;
	uint64_t session_max_queued;
	uint64_t session_max_exposed; /* ports one session may expose */
	bool auto_prune;
	uint64_t max_container_age_ms;	  /* a session's default idle timeout */
	uint64_t max_session_lifetime_ms; /* 0: none */

	/* networking; net_registry is indexed like runtime_at(), NULL for
	 * bash, which installs nothing */
	bool net_allow_host;
	bool net_allow_private;
	uint64_t net_max_connections;
	uint64_t net_max_bytes;
	uint64_t net_idle_timeout_ms;
	uint64_t net_connect_timeout_ms;
	uint64_t net_head_timeout_ms;
	char *net_registry[5];

	/* limits.*: the administrator's ceilings on what one request may ask
	 * for, and on what the daemon holds for it */
	struct config_limits {
		uint64_t timeout_ms;
		uint64_t memory;
		double cpus;
		uint64_t pids;
		uint64_t max_output;
		uint64_t sandbox_size;
		uint64_t tmp_size;
		uint64_t input_files;
		uint64_t input_bytes;
		uint64_t output_files;
		uint64_t output_bytes;
		uint64_t result_bytes;
	} limits;

	/* security: what weakens isolation is the administrator's to allow */
	bool sec_allow_unconfined;
	bool sec_allow_custom;
	char *sec_profile_dir; /* named custom profiles */
	bool sec_unconfined_drops_denials;

	/* tenants and their quotas (daemon/tenant.c) */
	char *tenant_admin_group;
	char *tenant_bridge_user;
	uint64_t tenant_max_connections; /* per uid */
	uint64_t tenant_max_sessions;
	uint64_t tenant_max_exposed;
	uint64_t tenant_max_concurrent;
	uint64_t session_max_idle_ms; /* 0 and more are clamped to it */
	/* hibernation (daemon/session_hibernate.c) */
	char *hibernate_dir;	    /* one directory per session */
	uint64_t hibernated_ttl_ms; /* how long one is kept */
	bool hibernate_on_stop;	    /* SIGTERM hibernates, start restores */
	char *criu_path;

	/* audit.*: one record per admitted execution (daemon/audit.c) */
	struct config_audit {
		bool enabled;
		char *destination; /* filesystem|file|stdout */
		char *log_dir;
		char *post_log_script; /* "": none */
		char *post_log_user;
		uint64_t post_log_timeout_ms;
		bool track_resources;
		uint64_t retention_days; /* 0: kept for ever */
		bool include_code;
		bool include_output;
		bool required;	/* refuse executions while records fail */
		char *key_file; /* "": a plain sha256 chain */
		uint64_t max_file_bytes;
		uint64_t queue_bytes;
	} audit;
	/* remoteCode.*: isol8's policy for request.codeUrl (code_fetch.h),
	 * plus the administrator's own keys (caFile, allowPrivate,
	 * cacheMaxBytes); lists are NULL-terminated */
	struct config_remote_code {
		bool enabled;
		char **allowed_schemes;
		char **allowed_hosts;
		char **blocked_hosts;
		uint64_t max_code_size;
		uint64_t fetch_timeout_ms;
		bool require_hash;
		bool enable_cache;
		uint64_t cache_ttl_s;
		uint64_t cache_max_bytes;
		char *ca_file; /* NULL: the system's CAs only */
		bool allow_private;
	} remote_code;

	/* where each key's value came from, indexed like the schema */
	const char **sources;
	char *file; /* the file read, or NULL */
};

/* Fills cfg with defaults, then reads path (NULL: the default path, missing
 * is fine; given: must exist).  On a bad file returns -EINVAL (or
 * -ERANGE) with e's message naming the key's JSON path. */
int config_load(struct config *cfg, const char *path, bool path_required,
		struct error *e);
/* Overrides one key from the command line, e.g. ("server.socket", "/x"). */
int config_set_override(struct config *cfg, const char *key, const char *value,
			struct error *e);
void config_free(struct config *cfg);

/* {"config": {...nested...}, "sources": {"a.b": "default"|file|"command line"},
 *  "file": path|null} */
json_object *config_to_json(const struct config *cfg);

#endif
