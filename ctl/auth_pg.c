/* The key database in PostgreSQL, shared by every bridge of a cluster:
 * nothing is cached, so a key made or revoked through one bridge counts on
 * every other at its next request.  One libpq connection, used by one MHD
 * thread at a time (libpq connections must not be shared concurrently);
 * a connection that broke is made again at the next operation. */
#include "auth_store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* So that a database that stopped answering holds a request for seconds,
 * not for the kernel's TCP timeouts; the connection string may say
 * otherwise. */
#define CONNECT_TIMEOUT_SEC "5"
#define STATEMENT_OPTIONS "-c statement_timeout=10000"

struct auth_pg {
	pthread_mutex_t lock;
	PGconn *conn; /* NULL while not connected */
	char *conninfo;
	char masked[256]; /* for messages: no password */
	bool down;	  /* the last attempt failed (said once) */
};

/* Concurrent bridges making the table at once would collide in the
 * catalog; a transaction-scoped advisory lock orders them. */
static const char schema[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(7308613215498735411);"
	"CREATE TABLE IF NOT EXISTS api_keys ("
	" seq BIGSERIAL, id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" keyHash TEXT NOT NULL UNIQUE, keyPrefix TEXT NOT NULL,"
	" tenantId TEXT NOT NULL, createdAt TEXT NOT NULL,"
	" expiresAt TEXT NOT NULL, lastUsedAt TEXT,"
	" revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys(tenantId);"
	"COMMIT;";

/* The first line of libpq's message. */
static void pg_message(const PGconn *c, char *out, size_t size)
{
	const char *m = c ? PQerrorMessage(c) : "out of memory";
	snprintf(out, size, "%.*s", (int)strcspn(m, "\n"), m);
}

/* Connects and makes the table; 0, or -ENOTCONN / -EIO with why. */
static int pg_connect(struct auth_pg *p, char *why, size_t why_len)
{
	static const char *const keys[] = { "connect_timeout", "options",
					    "dbname", NULL };
	/* Parameters after dbname would override the string's own. */
	const char *const vals[] = { CONNECT_TIMEOUT_SEC, STATEMENT_OPTIONS,
				     p->conninfo, NULL };
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		pg_message(p->conn, why, why_len);
		PQfinish(p->conn);
		p->conn = NULL;
		return -ENOTCONN;
	}
	PGresult *res = PQexec(p->conn, schema);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		pg_message(p->conn, why, why_len);
		PQfinish(p->conn);
		p->conn = NULL;
		return -EIO;
	}
	return 0;
}

static void pg_close(void *s)
{
	struct auth_pg *p = s;
	if (!p)
		return;
	PQfinish(p->conn);
	pthread_mutex_destroy(&p->lock);
	free(p->conninfo);
	free(p);
}

void *auth_pg_open(const char *conninfo, char *why, size_t why_len)
{
	struct auth_pg *p = calloc(1, sizeof(*p));
	if (!p || !(p->conninfo = strdup(conninfo))) {
		free(p);
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	auth_db_mask(conninfo, p->masked, sizeof(p->masked));
	/* A mistake in the string shows at start; later outages only make
	 * requests that need keys wait for the database. */
	if (pg_connect(p, why, why_len) < 0) {
		pg_close(p);
		return NULL;
	}
	return p;
}

/* sql(params) with the lock held: its result, or NULL with *err set.  A
 * broken connection (the server restarted) is made again and the
 * statement tried once more. */
static PGresult *exec(struct auth_pg *p, const char *sql, int n,
		      const char *const *params, int *err)
{
	char why[256];
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!p->conn && (*err = pg_connect(p, why, sizeof(why))) < 0) {
			if (!p->down)
				fprintf(stderr,
					"[WARN] Key database %s unavailable: "
					"%s\n",
					p->masked, why);
			p->down = true;
			return NULL;
		}
		if (p->down)
			fprintf(stderr, "[INFO] Key database %s reachable\n",
				p->masked);
		p->down = false;
		PGresult *res = PQexecParams(p->conn, sql, n, NULL, params,
					     NULL, NULL, 0);
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return res;
		PQclear(res);
		if (PQstatus(p->conn) != CONNECTION_BAD) {
			pg_message(p->conn, why, sizeof(why));
			fprintf(stderr, "[WARN] Key database %s: %s\n",
				p->masked, why);
			*err = -EIO;
			return NULL;
		}
		PQfinish(p->conn);
		p->conn = NULL;
	}
	*err = -ENOTCONN;
	return NULL;
}

/* Runs sql: the rows it changed (or returned), or a negative errno. */
static int run(struct auth_pg *p, const char *sql, int n,
	       const char *const *params)
{
	int err = 0;
	pthread_mutex_lock(&p->lock);
	PGresult *res = exec(p, sql, n, params, &err);
	if (res)
		err = PQresultStatus(res) == PGRES_TUPLES_OK
			      ? PQntuples(res)
			      : atoi(PQcmdTuples(res));
	PQclear(res);
	pthread_mutex_unlock(&p->lock);
	return err;
}

static int pg_insert(void *s, const char *const row[AUTH_ROW_COLS])
{
	int n = run(s,
		    "INSERT INTO api_keys (id, name, keyHash, keyPrefix, "
		    "tenantId, createdAt, expiresAt) "
		    "VALUES ($1,$2,$3,$4,$5,$6,$7)",
		    AUTH_ROW_COLS, row);
	return n < 0 ? n : 0;
}

static int pg_check(void *s, const char *hash, const char *now,
		    char tenant[AUTH_TENANT_MAX + 1])
{
	struct auth_pg *p = s;
	const char *params[] = { now, hash };
	int err = 0;
	pthread_mutex_lock(&p->lock);
	PGresult *res = exec(p,
			     "UPDATE api_keys SET lastUsedAt = $1 "
			     "WHERE keyHash = $2 AND revoked = 0 AND "
			     "expiresAt > $1 RETURNING tenantId",
			     2, params, &err);
	if (res && PQntuples(res) > 0) {
		snprintf(tenant, AUTH_TENANT_MAX + 1, "%s",
			 PQgetvalue(res, 0, 0));
		err = 1;
	}
	PQclear(res);
	pthread_mutex_unlock(&p->lock);
	return err;
}

static int pg_list(void *s, const char *tenant, json_object *keys)
{
	struct auth_pg *p = s;
	int err = 0;
	pthread_mutex_lock(&p->lock);
	PGresult *res = exec(p,
			     "SELECT id, name, keyPrefix, tenantId, createdAt, "
			     "expiresAt, lastUsedAt, revoked FROM api_keys "
			     "WHERE $1::text IS NULL OR tenantId = $1 "
			     "ORDER BY createdAt DESC, seq DESC",
			     1, &tenant, &err);
	for (int row = 0; res && row < PQntuples(res); row++) {
		const char *cols[AUTH_LIST_COLS];
		for (int i = 0; i < AUTH_LIST_COLS; i++)
			cols[i] = PQgetisnull(res, row, i)
					  ? NULL
					  : PQgetvalue(res, row, i);
		json_object_array_add(
			keys,
			auth_key_json(cols,
				      atoi(PQgetvalue(res, row,
						      AUTH_LIST_COLS)) != 0));
	}
	PQclear(res);
	pthread_mutex_unlock(&p->lock);
	return err;
}

static int pg_revoke(void *s, const char *id)
{
	return run(s, "UPDATE api_keys SET revoked = 1 WHERE id = $1", 1, &id);
}

static int pg_purge(void *s, const char *now)
{
	return run(s,
		   "DELETE FROM api_keys WHERE revoked = 1 OR expiresAt < $1",
		   1, &now);
}

const struct auth_store_ops auth_pg_ops = {
	.insert = pg_insert,
	.check = pg_check,
	.list = pg_list,
	.revoke = pg_revoke,
	.purge = pg_purge,
	.close = pg_close,
};
