/* The key database in an SQLite file: one handle in serialized mode,
 * shared by every MHD thread. */
#include "auth_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS api_keys ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" keyHash TEXT NOT NULL UNIQUE, keyPrefix TEXT NOT NULL,"
	" tenantId TEXT NOT NULL, createdAt TEXT NOT NULL,"
	" expiresAt TEXT NOT NULL, lastUsedAt TEXT,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenantId);";

static void sqlite_close(void *s)
{
	sqlite3_close(s);
}

void *auth_sqlite_open(const char *path, char *why, size_t why_len)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_FULLMUTEX,
				 NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, why_len, "%s",
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void finalize(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(finalize)))

/* sql with params bound as text (NULL: SQL NULL), or NULL. */
static sqlite3_stmt *prepare(void *s, const char *sql, int n,
			     const char *const *params)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	for (int i = 0; i < n; i++)
		if (params[i])
			sqlite3_bind_text(st, i + 1, params[i], -1,
					  SQLITE_STATIC);
	return st;
}

/* Runs a statement that returns no rows: how many rows it changed. */
static int run(void *s, const char *sql, int n, const char *const *params)
{
	_cleanup_stmt_ sqlite3_stmt *st = prepare(s, sql, n, params);
	if (!st || sqlite3_step(st) != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(s);
}

static int sqlite_insert(void *s, const char *const row[AUTH_ROW_COLS])
{
	int n = run(s,
		    "INSERT INTO api_keys (id, name, keyHash, keyPrefix, "
		    "tenantId, createdAt, expiresAt) VALUES (?,?,?,?,?,?,?)",
		    AUTH_ROW_COLS, row);
	return n < 0 ? n : 0;
}

static int sqlite_check(void *s, const char *hash, const char *now,
			char tenant[AUTH_TENANT_MAX + 1])
{
	const char *p[] = { now, hash };
	_cleanup_stmt_ sqlite3_stmt *st =
		prepare(s,
			"UPDATE api_keys SET lastUsedAt = ?1 "
			"WHERE keyHash = ?2 AND revoked = 0 AND "
			"expiresAt > ?1 RETURNING tenantId",
			2, p);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	snprintf(tenant, AUTH_TENANT_MAX + 1, "%s",
		 (const char *)sqlite3_column_text(st, 0));
	return 1;
}

static int sqlite_list(void *s, const char *tenant, json_object *keys)
{
	_cleanup_stmt_ sqlite3_stmt *st =
		prepare(s,
			"SELECT id, name, keyPrefix, tenantId, createdAt, "
			"expiresAt, lastUsedAt, revoked FROM api_keys "
			"WHERE ?1 IS NULL OR tenantId = ?1 "
			"ORDER BY createdAt DESC, rowid DESC",
			1, &tenant);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cols[AUTH_LIST_COLS];
		for (int i = 0; i < AUTH_LIST_COLS; i++)
			cols[i] = (const char *)sqlite3_column_text(st, i);
		json_object_array_add(
			keys, auth_key_json(cols, sqlite3_column_int(
							  st, AUTH_LIST_COLS)));
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int sqlite_revoke(void *s, const char *id)
{
	return run(s, "UPDATE api_keys SET revoked = 1 WHERE id = ?", 1, &id);
}

static int sqlite_purge(void *s, const char *now)
{
	return run(s, "DELETE FROM api_keys WHERE revoked = 1 OR expiresAt < ?",
		   1, &now);
}

const struct auth_store_ops auth_sqlite_ops = {
	.insert = sqlite_insert,
	.check = sqlite_check,
	.list = sqlite_list,
	.revoke = sqlite_revoke,
	.purge = sqlite_purge,
	.close = sqlite_close,
};
