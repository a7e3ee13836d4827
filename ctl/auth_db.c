#include "auth_db.h"

#include "cleanup.h"
#include "timestamp.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define KEY_PREFIX "isol8_"
#define KEY_RANDOM ((size_t)32) /* bytes: isol8's 64 hex digits */

struct auth_db {
	sqlite3 *db;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS api_keys ("
	" id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" keyHash TEXT NOT NULL UNIQUE, keyPrefix TEXT NOT NULL,"
	" tenantId TEXT NOT NULL, createdAt TEXT NOT NULL,"
	" expiresAt TEXT NOT NULL, lastUsedAt TEXT,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenantId);";

struct auth_db *auth_db_open(const char *path, char *why, size_t why_len)
{
	if (strstr(path, "://")) {
		snprintf(why, why_len,
			 "only SQLite files are supported, not connection "
			 "strings such as postgres:// or mysql://");
		return NULL;
	}
	struct auth_db *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	/* Serialized mode: one handle shared by every MHD thread. */
	int rc = sqlite3_open_v2(path, &a->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_FULLMUTEX,
				 NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(a->db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(a->db, schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, why_len, "%s",
			 a->db ? sqlite3_errmsg(a->db) : sqlite3_errstr(rc));
		auth_db_close(a);
		return NULL;
	}
	return a;
}

void auth_db_close(struct auth_db *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
	free(a);
}

bool auth_tenant_valid(const char *name)
{
	size_t len = strlen(name);
	return len > 0 && len <= AUTH_TENANT_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
			    "XYZ0123456789._@-") == len;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int digest(const char *key, char out[65])
{
	uint8_t md[32];
	unsigned len = 0;
	if (!EVP_Digest(key, strlen(key), md, &len, EVP_sha256(), NULL) ||
	    len != sizeof(md))
		return -EIO;
	hex(md, sizeof(md), out);
	return 0;
}

static int random_bytes(uint8_t *b, size_t n)
{
	return getrandom(b, n, 0) == (ssize_t)n ? 0 : -EIO;
}

static void finalize(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(finalize)))

static sqlite3_stmt *prepare(struct auth_db *a, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

json_object *auth_db_create(struct auth_db *a, const char *name,
			    const char *tenant, uint64_t ttl_ms)
{
	uint8_t rnd[KEY_RANDOM], uid[16];
	if (random_bytes(rnd, sizeof(rnd)) < 0 ||
	    random_bytes(uid, sizeof(uid)) < 0)
		return NULL;
	uid[6] = (uint8_t)((uid[6] & 0x0f) | 0x40); /* a version 4 UUID */
	uid[8] = (uint8_t)((uid[8] & 0x3f) | 0x80);
	char h[33], id[37], key[sizeof(KEY_PREFIX) + 2 * KEY_RANDOM];
	hex(uid, sizeof(uid), h);
	snprintf(id, sizeof(id), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
		 h + 16, h + 20);
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	hex(rnd, sizeof(rnd), key + sizeof(KEY_PREFIX) - 1);
	char hash[65], prefix[16], created[TIMESTAMP_LEN],
		expires[TIMESTAMP_LEN];
	if (digest(key, hash) < 0)
		return NULL;
	snprintf(prefix, sizeof(prefix), "%.10s...", key);
	uint64_t now = timestamp_now_ms();
	timestamp_iso(now, created);
	timestamp_iso(now + ttl_ms, expires);
	_cleanup_stmt_ sqlite3_stmt *st = prepare(
		a, "INSERT INTO api_keys (id, name, keyHash, keyPrefix, "
		   "tenantId, createdAt, expiresAt) VALUES (?,?,?,?,?,?,?)");
	const char *vals[] = {
		id, name, hash, prefix, tenant, created, expires
	};
	for (int i = 0; st && i < 7; i++)
		sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
	if (!st || sqlite3_step(st) != SQLITE_DONE)
		return NULL;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "keyPrefix", json_object_new_string(prefix));
	json_object_object_add(o, "tenantId", json_object_new_string(tenant));
	json_object_object_add(o, "expiresAt", json_object_new_string(expires));
	return o;
}

int auth_db_check(struct auth_db *a, const char *key,
		  char tenant[AUTH_TENANT_MAX + 1])
{
	char hash[65], now[TIMESTAMP_LEN];
	if (strncmp(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1) != 0)
		return 0;
	if (digest(key, hash) < 0)
		return -EIO;
	timestamp_iso(timestamp_now_ms(), now);
	_cleanup_stmt_ sqlite3_stmt *st =
		prepare(a, "UPDATE api_keys SET lastUsedAt = ?1 "
			   "WHERE keyHash = ?2 AND revoked = 0 AND "
			   "expiresAt > ?1 RETURNING tenantId");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	snprintf(tenant, AUTH_TENANT_MAX + 1, "%s",
		 (const char *)sqlite3_column_text(st, 0));
	return 1;
}

static json_object *text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? json_object_new_string((const char *)t) : NULL;
}

json_object *auth_db_list(struct auth_db *a, const char *tenant)
{
	_cleanup_stmt_ sqlite3_stmt *st =
		prepare(a, "SELECT id, name, keyPrefix, tenantId, createdAt, "
			   "expiresAt, lastUsedAt, revoked FROM api_keys "
			   "WHERE ?1 IS NULL OR tenantId = ?1 "
			   "ORDER BY createdAt DESC, rowid DESC");
	if (!st)
		return NULL;
	if (tenant)
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	static const char *const cols[] = { "id",	 "name",
					    "keyPrefix", "tenantId",
					    "createdAt", "expiresAt",
					    "lastUsedAt" };
	_cleanup_json_ json_object *keys = json_object_new_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *k = json_object_new_object();
		for (int i = 0; i < 7; i++)
			json_object_object_add(k, cols[i], text_or_null(st, i));
		json_object_object_add(
			k, "revoked",
			json_object_new_boolean(sqlite3_column_int(st, 7)));
		json_object_array_add(keys, k);
	}
	if (rc != SQLITE_DONE)
		return NULL;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "keys", TAKE_PTR(keys));
	return o;
}

int auth_db_revoke(struct auth_db *a, const char *id)
{
	_cleanup_stmt_ sqlite3_stmt *st =
		prepare(a, "UPDATE api_keys SET revoked = 1 WHERE id = ?");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(a->db) > 0;
}

int auth_db_purge(struct auth_db *a)
{
	char now[TIMESTAMP_LEN];
	timestamp_iso(timestamp_now_ms(), now);
	_cleanup_stmt_ sqlite3_stmt *st = prepare(
		a, "DELETE FROM api_keys WHERE revoked = 1 OR expiresAt < ?");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(a->db);
}
