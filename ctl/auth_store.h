/* The key database's backends (auth_sqlite.c, auth_pg.c) behind auth_db.c:
 * each stores the same rows with the same meaning; auth_db.c makes keys,
 * digests and timestamps, the backends only keep and find rows.  Every
 * operation returns 0 (or a count) or a negative errno: -ENOTCONN when the
 * database cannot be reached, -EIO when it refused the statement. */
#ifndef ISOL8CTL_AUTH_STORE_H
#define ISOL8CTL_AUTH_STORE_H

#include "auth_db.h"

/* The columns of a listed key, in the order backends select them. */
enum {
	AUTH_COL_ID,
	AUTH_COL_NAME,
	AUTH_COL_PREFIX,
	AUTH_COL_TENANT,
	AUTH_COL_CREATED,
	AUTH_COL_EXPIRES,
	AUTH_COL_LAST_USED,
	AUTH_LIST_COLS
};

/* A new key's row: id, name, keyHash, keyPrefix, tenantId, createdAt,
 * expiresAt. */
#define AUTH_ROW_COLS 7

struct auth_store_ops {
	int (*insert)(void *s, const char *const row[AUTH_ROW_COLS]);
	/* 1 with the tenant of the live key whose digest is hash (its
	 * lastUsedAt set to now), 0 for none. */
	int (*check)(void *s, const char *hash, const char *now,
		     char tenant[AUTH_TENANT_MAX + 1]);
	/* Appends each key of tenant (NULL: all), newest first, to keys
	 * through auth_key_json. */
	int (*list)(void *s, const char *tenant, json_object *keys);
	int (*revoke)(void *s, const char *id);
	int (*purge)(void *s, const char *now);
	void (*close)(void *s);
};

/* A listed key as the API shows it; NULL columns are JSON null. */
json_object *auth_key_json(const char *const cols[AUTH_LIST_COLS],
			   bool revoked);

/* The backends' openers: their state, or NULL with why filled in. */
extern const struct auth_store_ops auth_sqlite_ops;
void *auth_sqlite_open(const char *path, char *why, size_t why_len);
extern const struct auth_store_ops auth_pg_ops;
void *auth_pg_open(const char *conninfo, char *why, size_t why_len);

#endif
