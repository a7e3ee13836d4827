/* The table of isol8d.json's keys (config_priv.h). */
#include "config_priv.h"

#include "audit_chain.h"
#include "cleanup.h"
#include "config.h"
#include "frame.h"
#include "jsonrpc.h"
#include "prebuilt_images.h"
#include "net/net_policy.h"

#define K(p, t, field, d, lo, hi)                                              \
	{                                                                      \
		p, t, false, offsetof(struct config, field), d, lo, hi, NULL,  \
			NULL                                                   \
	}
#define KCHOICE(p, field, d, choices)                                          \
	{                                                                      \
		p, T_STRING, false, offsetof(struct config, field), d, 0, 0,   \
			choices, NULL                                          \
	}
#define KREGEX(p, field, d)                                                    \
	{                                                                      \
		p, T_STRING, true, offsetof(struct config, field), d, 0, 0,    \
			NULL, NULL                                             \
	}
#define KLIST(p, field, regex, d, choices)                                     \
	{                                                                      \
		p, T_STRINGS, regex, offsetof(struct config, field), d, 0,     \
			NET_FILTER_MAX_PATTERNS, choices, NULL                 \
	}

#define KJSON(p, field, d, fn)                                                 \
	{                                                                      \
		p, T_JSON, false, offsetof(struct config, field), d, 0, 0,     \
			NULL, fn                                               \
	}

const struct key config_schema[] = {
	K("server.socket", T_STRING, socket_path, "\"/run/isol8/isol8.sock\"",
	  0, 0),
	K("server.socketMode", T_MODE, socket_mode, "\"0660\"", 0, 07777),
	K("server.socketGroup", T_STRING, socket_group, "\"isol8\"", 0, 0),
	K("server.maxFrameBytes", T_SIZE, max_frame_bytes, "\"16m\"", 64,
	  UINT32_MAX),
	K("server.maxConnections", T_UINT, max_connections, "1024", 1, 65536),
	K("server.idleTimeoutMs", T_UINT, idle_timeout_ms, "300000", 100,
	  86400000),
	K("server.maxPendingOutputBytes", T_SIZE, max_pending_output, "\"64m\"",
	  4096, UINT32_MAX),
	K("server.maxRequestsInFlight", T_UINT, max_requests_in_flight, "256",
	  1, 65536),
	K("defaults.timeoutMs", T_UINT, default_timeout_ms, "30000", 1,
	  86400000),
	K("defaults.memoryLimit", T_SIZE, default_memory, "\"512m\"", 4 << 20,
	  1ull << 40),
	K("defaults.cpuLimit", T_DOUBLE, default_cpus, "1.0", 0, 1024),
	K("defaults.pidsLimit", T_UINT, default_pids, "64", 2, 1 << 22),
	K("defaults.maxOutputSize", T_SIZE, default_max_output, "1048576", 1,
	  1ull << 30),
	K("defaults.sandboxSize", T_SIZE, default_sandbox_size, "\"512m\"",
	  1 << 20, 1ull << 40),
	K("defaults.tmpSize", T_SIZE, default_tmp_size, "\"256m\"", 1 << 20,
	  1ull << 40),
	KCHOICE("defaults.network", default_network, "\"none\"",
		"none|host|filtered"),
	K("defaults.readonlyRootFs", T_BOOL, default_readonly_root, "true", 0,
	  0),
	KCHOICE("defaults.seccomp", default_seccomp, "\"strict\"",
		"strict|unconfined"),
	K("sandbox.runtimesDir", T_STRING, runtimes_dir,
	  "\"/opt/isol8/runtimes\"", 0, 0),
	K("sandbox.uidBase", T_UINT, uid_base, "1000000000", 65536,
	  4000000000ull),
	K("sandbox.maxBoxes", T_UINT, max_boxes, "1024", 1, 4096),
	K("sandbox.maxFileBytes", T_SIZE, max_file_bytes, "\"64m\"", 1,
	  1ull << 32),
	/* The image store (image_store.h) and the image of requests that
	 * name none. */
	K("images.dir", T_STRING, images_dir, "\"/var/lib/isol8/images\"", 0,
	  0),
	K("images.default", T_STRING, images_default, "\"host\"", 0, 0),
	/* The base images built at start when the store lacks them
	 * (image_autobuild.h). */
	KLIST("images.build", images_build, false,
	      "[\"python\", \"node\", \"bun\", \"deno\", \"bash\"]",
	      "python|node|bun|deno|bash"),
	/* isol8's custom images, built by isol8ctl setup */
	KJSON("prebuiltImages", prebuilt_images, "[]", prebuilt_images_check),
	K("pool.prewarm", T_BOOL, pool_prewarm, "true", 0, 0),
	KLIST("pool.images", pool_images, false, "[]", NULL),
	/* Per runtime, in runtime_at() order. */
	K("pool.size.python", T_UINT, pool_size[0], "2", 0, 64),
	K("pool.size.node", T_UINT, pool_size[1], "1", 0, 64),
	K("pool.size.bun", T_UINT, pool_size[2], "1", 0, 64),
	K("pool.size.deno", T_UINT, pool_size[3], "1", 0, 64),
	K("pool.size.bash", T_UINT, pool_size[4], "2", 0, 64),
	K("pool.maxBoxes", T_UINT, pool_max_boxes, "16", 0, 1024),
	K("pool.maxBuilding", T_UINT, pool_max_building, "2", 1, 64),
	K("pool.zygote", T_BOOL, pool_zygote, "true", 0, 0),
	K("pool.maxRetryDelayMs", T_UINT, pool_max_retry_ms, "30000", 100,
	  3600000),
	/* The pool following demand (pool_demand.h). */
	K("pool.demand.grow", T_BOOL, pool_demand.grow, "true", 0, 0),
	K("pool.demand.maxMemory", T_SIZE, pool_demand.max_memory, "\"256m\"",
	  0, 1ull << 40),
	K("pool.demand.idleMs", T_UINT, pool_demand.idle_ms, "30000", 100,
	  86400000),
	K("maxConcurrent", T_UINT, max_concurrent, "64", 1, 4096),
	K("maxSessions", T_UINT, max_sessions, "100", 0, 4096),
	K("sessions.maxQueued", T_UINT, session_max_queued, "16", 1, 1024),
	K("sessions.maxExposedPorts", T_UINT, session_max_exposed, "8", 0,
	  1024),
	K("cleanup.autoPrune", T_BOOL, auto_prune, "true", 0, 0),
	K("cleanup.maxContainerAgeMs", T_UINT, max_container_age_ms, "3600000",
	  1000, 30ull * 86400000),
	K("cleanup.maxSessionLifetimeMs", T_UINT, max_session_lifetime_ms,
	  "604800000", 1000, 365ull * 86400000),
	K("network.allowHost", T_BOOL, net_allow_host, "false", 0, 0),
	K("network.allowPrivate", T_BOOL, net_allow_private, "false", 0, 0),
	K("network.maxConnections", T_UINT, net_max_connections, "64", 1,
	  65536),
	K("network.maxBytes", T_SIZE, net_max_bytes, "\"1g\"", 1, 1ull << 50),
	K("network.idleTimeoutMs", T_UINT, net_idle_timeout_ms, "60000", 100,
	  86400000),
	K("network.connectTimeoutMs", T_UINT, net_connect_timeout_ms, "10000",
	  100, 600000),
	K("network.headTimeoutMs", T_UINT, net_head_timeout_ms, "10000", 100,
	  600000),
	/* Per runtime with a package manager, in runtime_at() order: the
	 * hosts it needs, added to an empty whitelist by installPackages. */
	KREGEX("network.registry.python", net_registry[0],
	       "\"^(pypi\\\\.org|files\\\\.pythonhosted\\\\.org)$\""),
	KREGEX("network.registry.node", net_registry[1],
	       "\"^registry\\\\.npmjs\\\\.org$\""),
	KREGEX("network.registry.bun", net_registry[2],
	       "\"^registry\\\\.npmjs\\\\.org$\""),
	KREGEX("network.registry.deno", net_registry[3],
	       "\"^(registry\\\\.npmjs\\\\.org|jsr\\\\.io|deno\\\\.land)$\""),
	/* The administrator's ceilings: what one request may ask for, and
	 * what the daemon holds for one execution. */
	K("limits.timeoutMs", T_UINT, limits.timeout_ms, "3600000", 1,
	  86400000),
	K("limits.memoryLimit", T_SIZE, limits.memory, "\"4g\"", 4 << 20,
	  1ull << 40),
	K("limits.cpuLimit", T_DOUBLE, limits.cpus, "8.0", 0, 1024),
	K("limits.pidsLimit", T_UINT, limits.pids, "1024", 2, 1 << 22),
	K("limits.maxOutputSize", T_SIZE, limits.max_output, "\"16m\"", 1,
	  1ull << 30),
	K("limits.sandboxSize", T_SIZE, limits.sandbox_size, "\"4g\"", 1 << 20,
	  1ull << 40),
	K("limits.tmpSize", T_SIZE, limits.tmp_size, "\"4g\"", 1 << 20,
	  1ull << 40),
	K("limits.inputFiles", T_UINT, limits.input_files, "256", 0, 1024),
	K("limits.inputFilesBytes", T_SIZE, limits.input_bytes, "\"16m\"", 0,
	  1ull << 32),
	K("limits.outputFiles", T_UINT, limits.output_files, "64", 0, 1024),
	K("limits.outputFilesBytes", T_SIZE, limits.output_bytes, "\"32m\"", 0,
	  1ull << 30),
	K("limits.resultBytes", T_SIZE, limits.result_bytes, "\"64m\"",
	  64 << 10, 1ull << 30),
	K("security.allowUnconfined", T_BOOL, sec_allow_unconfined, "false", 0,
	  0),
	K("security.allowCustomProfiles", T_BOOL, sec_allow_custom, "false", 0,
	  0),
	K("security.profileDir", T_STRING, sec_profile_dir,
	  "\"/etc/isol8/seccomp\"", 0, 0),
	K("security.unconfinedDropsMandatoryDenials", T_BOOL,
	  sec_unconfined_drops_denials, "false", 0, 0),
	/* Tenants (daemon/tenant.c): who may act for whom, and what one
	 * tenant may hold.  Administrators are bound by the global limits
	 * only. */
	K("tenants.adminGroup", T_STRING, tenant_admin_group, "\"isol8-admin\"",
	  0, 0),
	K("tenants.bridgeUser", T_STRING, tenant_bridge_user, "\"isol8\"", 0,
	  0),
	K("tenants.maxConnections", T_UINT, tenant_max_connections, "64", 1,
	  65536),
	K("tenants.maxSessions", T_UINT, tenant_max_sessions, "16", 0, 4096),
	K("tenants.maxExposedPorts", T_UINT, tenant_max_exposed, "32", 0,
	  65536),
	K("tenants.maxConcurrent", T_UINT, tenant_max_concurrent, "16", 1,
	  4096),
	K("sessions.maxIdleTimeoutMs", T_UINT, session_max_idle_ms, "86400000",
	  1000, 365ull * 86400000),
	/* Hibernation with CRIU (daemon/session_hibernate.c). */
	K("sessions.hibernateDir", T_STRING, hibernate_dir,
	  "\"/var/lib/isol8/hibernated\"", 0, 0),
	K("sessions.hibernatedTtlMs", T_UINT, hibernated_ttl_ms, "604800000",
	  1000, 365ull * 86400000),
	K("sessions.hibernateOnStop", T_BOOL, hibernate_on_stop, "false", 0, 0),
	K("sandbox.criuPath", T_STRING, criu_path,
	  "\"/opt/isol8/criu/sbin/criu\"", 0, 0),
	/* The audit trail (daemon/audit.c): isol8's AuditConfig, plus what
	 * a root daemon's trail needs (the chain's key, rotation, required). */
	K("audit.enabled", T_BOOL, audit.enabled, "false", 0, 0),
	KCHOICE("audit.destination", audit.destination, "\"filesystem\"",
		"filesystem|file|stdout"),
	K("audit.logDir", T_STRING, audit.log_dir, "\"" AUDIT_DEFAULT_DIR "\"",
	  0, 0),
	K("audit.postLogScript", T_STRING, audit.post_log_script, "\"\"", 0, 0),
	K("audit.postLogUser", T_STRING, audit.post_log_user, "\"nobody\"", 0,
	  0),
	K("audit.postLogTimeoutMs", T_UINT, audit.post_log_timeout_ms, "10000",
	  100, 3600000),
	K("audit.trackResources", T_BOOL, audit.track_resources, "true", 0, 0),
	K("audit.retentionDays", T_UINT, audit.retention_days, "90", 0, 36500),
	K("audit.includeCode", T_BOOL, audit.include_code, "false", 0, 0),
	K("audit.includeOutput", T_BOOL, audit.include_output, "false", 0, 0),
	K("audit.required", T_BOOL, audit.required, "false", 0, 0),
	K("audit.keyFile", T_STRING, audit.key_file, "\"\"", 0, 0),
	K("audit.maxFileBytes", T_SIZE, audit.max_file_bytes, "\"64m\"", 4096,
	  1ull << 40),
	K("audit.queueBytes", T_SIZE, audit.queue_bytes, "\"64m\"", 65536,
	  1ull << 32),
	/* Remote code (code_fetch.h): isol8's RemoteCodePolicy with its
	 * defaults, and the administrator's keys after it. */
	K("remoteCode.enabled", T_BOOL, remote_code.enabled, "false", 0, 0),
	KLIST("remoteCode.allowedSchemes", remote_code.allowed_schemes, false,
	      "[\"https\"]", "http|https"),
	KLIST("remoteCode.allowedHosts", remote_code.allowed_hosts, true, "[]",
	      NULL),
	KLIST("remoteCode.blockedHosts", remote_code.blocked_hosts, true,
	      "[\"^localhost$\", \"^127(?:\\\\.[0-9]{1,3}){3}$\", "
	      "\"^\\\\[::1\\\\]$\", \"^::1$\", "
	      "\"^10(?:\\\\.[0-9]{1,3}){3}$\", "
	      "\"^172\\\\.(?:1[6-9]|2[0-9]|3[0-1])(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^192\\\\.168(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^169\\\\.254(?:\\\\.[0-9]{1,3}){2}$\", "
	      "\"^metadata\\\\.google\\\\.internal$\", "
	      "\"^169\\\\.254\\\\.169\\\\.254$\"]",
	      NULL),
	K("remoteCode.maxCodeSize", T_SIZE, remote_code.max_code_size,
	  "10485760", 1, 256ull << 20),
	K("remoteCode.fetchTimeoutMs", T_UINT, remote_code.fetch_timeout_ms,
	  "30000", 100, 600000),
	K("remoteCode.requireHash", T_BOOL, remote_code.require_hash, "false",
	  0, 0),
	K("remoteCode.enableCache", T_BOOL, remote_code.enable_cache, "true", 0,
	  0),
	K("remoteCode.cacheTtl", T_UINT, remote_code.cache_ttl_s, "3600", 0,
	  30ull * 86400),
	K("remoteCode.cacheMaxBytes", T_SIZE, remote_code.cache_max_bytes,
	  "\"64m\"", 0, 1ull << 32),
	K("remoteCode.caFile", T_STRING, remote_code.ca_file, NULL, 0, 0),
	K("remoteCode.allowPrivate", T_BOOL, remote_code.allow_private, "false",
	  0, 0),
};

const size_t config_schema_len = ARRAY_SIZE(config_schema);
