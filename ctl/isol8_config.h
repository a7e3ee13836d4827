/* isol8's own configuration file, read as isol8 reads it: the first of
 * ./isol8.config.json and ~/.isol8/config.json that exists, merged section
 * by section over isol8's defaults.  Unlike isol8, known keys are checked
 * for their types; unknown keys are treated as isol8 treats them (dropped,
 * except inside the sections isol8 copies whole, where they are kept). */
#ifndef ISOL8CTL_ISOL8_CONFIG_H
#define ISOL8CTL_ISOL8_CONFIG_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct isol8_config {
	/* The effective configuration in isol8's shape and key order.  A null
	 * member of a section stands for a key isol8 leaves undefined. */
	json_object *doc;
	/* The file's own object (checked), or NULL when none was found. */
	json_object *file;
	char *path; /* the file read, or NULL for the defaults */
};

/* Finds, reads, checks and merges the file; 0, or a negative errno with e
 * naming the file and the key (kind invalid_argument for bad content). */
int isol8_config_load(struct isol8_config *c, struct error *e);
/* The same with path (not NULL) read instead of the file found. */
int isol8_config_load_from(struct isol8_config *c, const char *path,
			   struct error *e);
void isol8_config_free(struct isol8_config *c);

/* As Node's os.homedir(), where isol8 keeps ~/.isol8: $HOME, else the
 * password database. */
const char *isol8_home_dir(void);

/* What isol8's `run` takes from the file, where the command line left it
 * unset: options.timeoutMs, memoryLimit and cpuLimit, the network
 * whitelist and blacklist (when no --allow / --deny), and debug.  Only
 * values the file itself sets are used: the rest stays with the daemon's
 * defaults.  Prints "[ERR] ..." for a bad file; 0 or a negative errno. */
int isol8_config_apply_run(json_object *options, json_object *allow,
			   json_object *deny, bool *debug);

/* What isol8's server takes from the file. */
struct isol8_serve_config {
	/* options for executions that leave them out: those of
	 * defaults.{timeoutMs, memoryLimit, cpuLimit, network, sandboxSize,
	 * tmpSize} the file itself sets (the rest stays with the daemon) */
	json_object *request_defaults;
	/* auth.defaultTtlMs, cleanup.autoPrune and maxContainerAgeMs, with
	 * isol8's defaults; 0 for a number the file sets to null */
	uint64_t default_ttl_ms;
	bool auto_prune;
	uint64_t max_age_ms;
	/* auth.enabled: auth.connectionString, else ~/.isol8/auth.db (NULL
	 * when not enabled); auth.cleanupIntervalMs */
	char *auth_db;
	uint64_t key_purge_ms;
};

/* Loads the file for `isol8ctl serve`; prints "[ERR] ..." for a bad file
 * or a TTL over max_ttl_ms.  0 or a negative errno; after 0,
 * isol8_serve_config_free is due. */
int isol8_config_serve(struct isol8_serve_config *s, uint64_t max_ttl_ms);
void isol8_serve_config_free(struct isol8_serve_config *s);

#endif
