#include "auth_db.h"

#include "auth_store.h"
#include "cleanup.h"
#include "timestamp.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define KEY_PREFIX "isol8_"
#define KEY_RANDOM ((size_t)32) /* bytes: isol8's 64 hex digits */

struct auth_db {
	const struct auth_store_ops *ops;
	void *store;
};

static bool has_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(s, scheme, n) == 0 && strncmp(s + n, "://", 3) == 0;
}

struct auth_db *auth_db_open(const char *where, char *why, size_t why_len)
{
	const struct auth_store_ops *ops = &auth_sqlite_ops;
	void *(*open_store)(const char *, char *, size_t) = auth_sqlite_open;
	if (has_scheme(where, "postgres") || has_scheme(where, "postgresql")) {
		ops = &auth_pg_ops;
		open_store = auth_pg_open;
	} else if (has_scheme(where, "mysql")) {
		snprintf(why, why_len,
			 "MySQL is not supported; use a SQLite file or a "
			 "postgres:// connection string");
		return NULL;
	} else if (strstr(where, "://")) {
		snprintf(why, why_len,
			 "unknown kind of database; use a SQLite file or a "
			 "postgres:// connection string");
		return NULL;
	}
	struct auth_db *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	a->ops = ops;
	a->store = open_store(where, why, why_len);
	if (!a->store) {
		free(a);
		return NULL;
	}
	return a;
}

void auth_db_close(struct auth_db *a)
{
	if (!a)
		return;
	a->ops->close(a->store);
	free(a);
}

/* text into out[*o..], cut at size. */
static void put(char *out, size_t size, size_t *o, const char *text)
{
	while (*text && *o + 1 < size)
		out[(*o)++] = *text++;
}

void auth_db_mask(const char *where, char *out, size_t size)
{
	/* scheme://user:PASSWORD@host/...: the userinfo ends at the last
	 * '@' before the path. */
	const char *pw = NULL, *pw_end = NULL, *auth = strstr(where, "://");
	if (auth) {
		auth += 3;
		size_t len = strcspn(auth, "/?#");
		const char *at = NULL;
		for (const char *c = auth; c < auth + len; c++)
			at = *c == '@' ? c : at;
		const char *colon = memchr(auth, ':', len);
		if (at && colon && colon < at) {
			pw = colon + 1;
			pw_end = at;
		}
	}
	size_t o = 0;
	for (const char *p = where; *p && o + 1 < size;) {
		/* and password=... as a URI parameter or a keyword */
		bool keyword = strncasecmp(p, "password=", 9) == 0 &&
			       (p == where || strchr("?& ", p[-1]));
		if (p == pw || keyword) {
			put(out, size, &o, keyword ? "password=***" : "***");
			p = keyword ? p + 9 + strcspn(p + 9, "& ") : pw_end;
			continue;
		}
		out[o++] = *p++;
	}
	if (size)
		out[o] = '\0';
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

json_object *auth_key_json(const char *const cols[AUTH_LIST_COLS], bool revoked)
{
	static const char *const names[AUTH_LIST_COLS] = {
		[AUTH_COL_ID] = "id",
		[AUTH_COL_NAME] = "name",
		[AUTH_COL_PREFIX] = "keyPrefix",
		[AUTH_COL_TENANT] = "tenantId",
		[AUTH_COL_CREATED] = "createdAt",
		[AUTH_COL_EXPIRES] = "expiresAt",
		[AUTH_COL_LAST_USED] = "lastUsedAt",
	};
	json_object *k = json_object_new_object();
	for (int i = 0; i < AUTH_LIST_COLS; i++)
		json_object_object_add(k, names[i],
				       cols[i] ? json_object_new_string(cols[i])
					       : NULL);
	json_object_object_add(k, "revoked", json_object_new_boolean(revoked));
	return k;
}

int auth_db_create(struct auth_db *a, const char *name, const char *tenant,
		   uint64_t ttl_ms, json_object **out)
{
	uint8_t rnd[KEY_RANDOM], uid[16];
	if (random_bytes(rnd, sizeof(rnd)) < 0 ||
	    random_bytes(uid, sizeof(uid)) < 0)
		return -EIO;
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
		return -EIO;
	snprintf(prefix, sizeof(prefix), "%.10s...", key);
	uint64_t now = timestamp_now_ms();
	timestamp_iso(now, created);
	timestamp_iso(now + ttl_ms, expires);
	const char *const row[AUTH_ROW_COLS] = { id,	 name,	 hash,
						 prefix, tenant, created,
						 expires };
	int err = a->ops->insert(a->store, row);
	if (err < 0)
		return err;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "keyPrefix", json_object_new_string(prefix));
	json_object_object_add(o, "tenantId", json_object_new_string(tenant));
	json_object_object_add(o, "expiresAt", json_object_new_string(expires));
	*out = o;
	return 0;
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
	return a->ops->check(a->store, hash, now, tenant);
}

int auth_db_list(struct auth_db *a, const char *tenant, json_object **out)
{
	_cleanup_json_ json_object *keys = json_object_new_array();
	int err = a->ops->list(a->store, tenant, keys);
	if (err < 0)
		return err;
	*out = json_object_new_object();
	json_object_object_add(*out, "keys", TAKE_PTR(keys));
	return 0;
}

int auth_db_revoke(struct auth_db *a, const char *id)
{
	int n = a->ops->revoke(a->store, id);
	return n < 0 ? n : n > 0;
}

int auth_db_purge(struct auth_db *a)
{
	char now[TIMESTAMP_LEN];
	timestamp_iso(timestamp_now_ms(), now);
	return a->ops->purge(a->store, now);
}
