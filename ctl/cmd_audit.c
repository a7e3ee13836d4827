/* isol8ctl audit: the daemon's audit trail read from its files (root, or
 * whoever the administrator let read audit.logDir).  verify walks the
 * hash chain (daemon/audit_chain.h) and names the first record that is
 * not where it should be; tail and query print records, filtered.  In
 * isol8ctl-http: an HMAC check needs libcrypto (ctl/side.h). */
#include "audit_chain.h"
#include "cleanup.h"
#include "ctl.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char audit_help[] =
	"Usage: isol8ctl audit verify [--key FILE] [FILE|DIR]\n"
	"       isol8ctl audit tail [-n N] [--json] [DIR]\n"
	"       isol8ctl audit query [--since TIME] [--until TIME] "
	"[--tenant T]\n"
	"                            [--runtime R] [--exit-code N] "
	"[--user ID] [--json] [DIR]\n"
	"\n"
	"Reads isol8d's audit trail (default " AUDIT_DEFAULT_DIR ", the "
	"daemon's\n"
	"audit.logDir).  verify checks every record's hash and its link to "
	"the\n"
	"one before, across rotated files, and names the first record that "
	"was\n"
	"edited, removed, reordered or cut short; --key is audit.keyFile for "
	"a\n"
	"keyed (HMAC) trail.  tail prints the last N records (default 10); "
	"query\n"
	"those matching every filter given (TIME: ISO 8601, e.g. "
	"2025-01-31 or\n"
	"2025-01-31T12:00:00Z).  Exit status 0; 1 when verify finds a "
	"break or a\n"
	"file cannot be read; 2 on a usage error.  See isol8ctl(1).\n";

struct trail {
	char **files; /* in chain order */
	size_t n;
	char anchor_prev[AUDIT_HASH_HEX + 1];
	long long anchor_seq; /* -1: none */
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void trail_free(struct trail *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->files[i]);
	free(t->files);
}

static int add_file(struct trail *t, const char *dir, const char *name)
{
	char **f = realloc(t->files, (t->n + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	t->files = f;
	if (asprintf(&f[t->n], "%s%s%s", dir, name[0] ? "/" : "", name) < 0)
		return -ENOMEM;
	t->n++;
	return 0;
}

static void read_anchor(struct trail *t, const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" AUDIT_ANCHOR, dir);
	_cleanup_json_ json_object *o = json_object_from_file(path);
	json_object *seq = NULL, *prev = NULL;
	if (!o || !json_object_object_get_ex(o, "seq", &seq) ||
	    !json_object_object_get_ex(o, "prevHash", &prev) ||
	    json_object_get_string_len(prev) != AUDIT_HASH_HEX)
		return;
	t->anchor_seq = json_object_get_int64(seq);
	memcpy(t->anchor_prev, json_object_get_string(prev),
	       AUDIT_HASH_HEX + 1);
}

/* A directory's files, oldest first, and its anchor; or one file. */
static int trail_open(struct trail *t, const char *path)
{
	*t = (struct trail){ .anchor_seq = -1 };
	memcpy(t->anchor_prev, AUDIT_GENESIS, sizeof(t->anchor_prev));
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "isol8ctl: audit: %s: %m\n", path);
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		t->anchor_seq = -2; /* one file: its first record is taken */
		return add_file(t, path, "");
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "isol8ctl: audit: %s: %m\n", path);
		return -errno;
	}
	int r = 0;
	for (int i = 0; i < n; i++) {
		unsigned num;
		if (!r && audit_rotated_name(names[i]->d_name, &num))
			r = add_file(t, path, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	if (!r)
		r = add_file(t, path, AUDIT_FILE);
	read_anchor(t, path);
	return r;
}

/* Calls fn on every line of the trail, in order; a missing current file
 * counts as empty.  Stops at fn's non-zero return. */
typedef int (*line_fn)(void *u, const char *file, size_t lineno,
		       const char *line, size_t len, bool whole);

static int each_line(const struct trail *t, line_fn fn, void *u)
{
	for (size_t i = 0; i < t->n; i++) {
		_cleanup_fclose_ FILE *f = fopen(t->files[i], "re");
		if (!f) {
			if (errno == ENOENT && i == t->n - 1)
				continue;
			fprintf(stderr, "isol8ctl: audit: %s: %m\n",
				t->files[i]);
			return 1;
		}
		_cleanup_free_ char *line = NULL;
		size_t cap = 0, no = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, f)) > 0) {
			bool whole = line[len - 1] == '\n';
			if (whole)
				line[--len] = '\0';
			int r = fn(u, t->files[i], ++no, line, (size_t)len,
				   whole);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ---- verify ---- */

struct verify {
	const struct audit_key *key;
	char prev[AUDIT_HASH_HEX + 1];
	long long seq; /* the next expected, -1: the first sets it */
	size_t records;
};

static int broken(const char *file, size_t no, long long seq, const char *why)
{
	printf("BROKEN: %s:%zu (record seq %lld): %s\n", file, no, seq, why);
	return 1;
}

static int verify_line(void *u, const char *file, size_t no, const char *line,
		       size_t len, bool whole)
{
	struct verify *v = u;
	size_t body;
	char stated[AUDIT_HASH_HEX + 1], computed[AUDIT_HASH_HEX + 1];
	long long want = v->seq < 0 ? 0 : v->seq;
	if (!whole)
		return broken(file, no, want,
			      "the last record is cut short (truncated)");
	if (!audit_chain_split(line, len, &body, stated))
		return broken(file, no, want,
			      "not a sealed record: its hash is missing "
			      "(edited or truncated)");
	_cleanup_free_ char *text = strndup(line, body + 1);
	if (!text)
		return 1;
	text[body] = '}';
	_cleanup_json_ json_object *o = json_tokener_parse(text);
	json_object *jseq = NULL, *jprev = NULL;
	if (!o || !json_object_object_get_ex(o, "seq", &jseq) ||
	    !json_object_object_get_ex(o, "prevHash", &jprev))
		return broken(file, no, want,
			      "not a record: its JSON or chain members are "
			      "damaged (edited)");
	long long seq = json_object_get_int64(jseq);
	const char *prev = json_object_get_string(jprev);
	if (audit_chain_hash(v->key, prev, line, body, computed) < 0)
		return 1;
	if (strcmp(computed, stated) != 0)
		return broken(file, no, seq,
			      v->key->len ? "its hash does not match: the "
					    "record was edited (or the key is "
					    "not the trail's)"
					  : "its hash does not match: the "
					    "record was edited (or the trail "
					    "is keyed: give --key)");
	if (v->seq >= 0 && seq != v->seq) {
		char why[160];
		snprintf(why, sizeof(why),
			 "record seq %lld was expected here: records are "
			 "missing or out of order",
			 v->seq);
		return broken(file, no, seq, why);
	}
	if (v->seq >= 0 && strcmp(prev, v->prev) != 0)
		return broken(file, no, seq,
			      "it does not follow the record before it "
			      "(removed, reordered or replaced records)");
	memcpy(v->prev, stated, sizeof(v->prev));
	v->seq = seq + 1;
	v->records++;
	return 0;
}

static int verify(const char *path, const char *key_file)
{
	struct audit_key key = { 0 };
	struct error err;
	if (key_file && audit_key_load(key_file, false, &key, &err) < 0) {
		fprintf(stderr, "isol8ctl: %s\n", err.message);
		return CTL_EXIT_FAILURE;
	}
	struct trail t;
	if (trail_open(&t, path) < 0) {
		trail_free(&t);
		return CTL_EXIT_FAILURE;
	}
	struct verify v = { .key = &key, .seq = -1 };
	if (t.anchor_seq != -2) {
		/* A directory: from the anchor retention left, or the very
		 * first record. */
		v.seq = t.anchor_seq >= 0 ? t.anchor_seq : 1;
		memcpy(v.prev, t.anchor_prev, sizeof(v.prev));
	}
	int r = each_line(&t, verify_line, &v);
	explicit_bzero(&key, sizeof(key));
	trail_free(&t);
	if (r)
		return CTL_EXIT_FAILURE;
	printf("OK: %zu records, the chain is whole%s\n", v.records,
	       v.records ? "" : " (empty)");
	return CTL_EXIT_OK;
}

/* ---- tail and query ---- */

struct filter {
	const char *since, *until, *tenant, *runtime, *user;
	long long exit_code;
	bool has_exit, json;
	size_t last; /* tail: print only the last N (0: all) */
	char **ring;
	size_t count;
};

static bool str_is(json_object *o, const char *key, const char *want)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), want) == 0;
}

static bool matches(const struct filter *f, json_object *o)
{
	json_object *v = NULL;
	const char *ts = json_object_object_get_ex(o, "timestamp", &v)
				 ? json_object_get_string(v)
				 : "";
	if (f->since && strcmp(ts, f->since) < 0)
		return false;
	if (f->until && strncmp(ts, f->until, strlen(f->until)) > 0)
		return false;
	if ((f->tenant && !str_is(o, "tenant", f->tenant)) ||
	    (f->runtime && !str_is(o, "runtime", f->runtime)) ||
	    (f->user && !str_is(o, "userId", f->user)))
		return false;
	if (f->has_exit && (!json_object_object_get_ex(o, "exitCode", &v) ||
			    !json_object_is_type(v, json_type_int) ||
			    json_object_get_int64(v) != f->exit_code))
		return false;
	return true;
}

static char *shown(const char *line, json_object *o, bool json)
{
	if (json)
		return strdup(line);
	json_object *v[7] = { 0 };
	static const char *const keys[] = { "timestamp", "executionId",
					    "tenant",	 "runtime",
					    "exitCode",	 "outcome",
					    "durationMs" };
	for (size_t i = 0; i < 7; i++)
		json_object_object_get_ex(o, keys[i], &v[i]);
	char *s = NULL;
	if (asprintf(&s, "%s  %s  %s  %s  exit=%s  %s  %sms",
		     json_object_get_string(v[0]) ?: "-",
		     json_object_get_string(v[1]) ?: "-",
		     json_object_get_string(v[2]) ?: "-",
		     json_object_get_string(v[3]) ?: "-",
		     v[4] ? json_object_get_string(v[4]) : "none",
		     json_object_get_string(v[5]) ?: "-",
		     json_object_get_string(v[6]) ?: "-") < 0)
		return NULL;
	return s;
}

static int query_line(void *u, const char *file, size_t no, const char *line,
		      size_t len, bool whole)
{
	(void)file;
	(void)no;
	(void)len;
	struct filter *f = u;
	_cleanup_json_ json_object *o = whole ? json_tokener_parse(line) : NULL;
	if (!o || !matches(f, o))
		return 0;
	char *s = shown(line, o, f->json);
	if (!s)
		return 1;
	if (!f->last) {
		puts(s);
		free(s);
		return 0;
	}
	free(f->ring[f->count % f->last]);
	f->ring[f->count % f->last] = s;
	f->count++;
	return 0;
}

static int query(const char *path, struct filter *f)
{
	struct trail t;
	if (trail_open(&t, path) < 0) {
		trail_free(&t);
		return CTL_EXIT_FAILURE;
	}
	if (f->last && !(f->ring = calloc(f->last, sizeof(char *)))) {
		trail_free(&t);
		return CTL_EXIT_FAILURE;
	}
	int r = each_line(&t, query_line, f);
	size_t first = f->count > f->last ? f->count - f->last : 0;
	for (size_t i = first; f->last && i < f->count; i++)
		puts(f->ring[i % f->last]);
	for (size_t i = 0; f->last && i < f->last; i++)
		free(f->ring[i]);
	free(f->ring);
	trail_free(&t);
	return r ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "tenant", required_argument, NULL, 't' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "exit-code", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(audit_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	const char *sub = argv[1];
	bool is_verify = !strcmp(sub, "verify"), is_tail = !strcmp(sub, "tail");
	if (!is_verify && !is_tail && strcmp(sub, "query") != 0) {
		fprintf(stderr,
			"isol8ctl: audit: unknown subcommand \"%s\" "
			"(verify, tail or query)\n",
			sub);
		return CTL_EXIT_USAGE;
	}
	struct filter f = { .last = is_tail ? 10 : 0 };
	const char *key = NULL;
	char *end;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'S':
			f.since = optarg;
			break;
		case 'U':
			f.until = optarg;
			break;
		case 't':
			f.tenant = optarg;
			break;
		case 'r':
			f.runtime = optarg;
			break;
		case 'u':
			f.user = optarg;
			break;
		case 'j':
			f.json = true;
			break;
		case 'e':
			f.exit_code = strtoll(optarg, &end, 10);
			f.has_exit = true;
			if (*end || !*optarg) {
				fprintf(stderr, "isol8ctl: audit: "
						"--exit-code: not a number\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'n':
			f.last = strtoull(optarg, &end, 10);
			if (*end || !*optarg || !f.last || f.last > 1000000) {
				fprintf(stderr, "isol8ctl: audit: -n: a "
						"number from 1 to 1000000\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(audit_help, stdout);
			return CTL_EXIT_OK;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "isol8ctl: audit: one FILE or DIR at most\n");
		return CTL_EXIT_USAGE;
	}
	const char *path = optind < argc ? argv[optind] : AUDIT_DEFAULT_DIR;
	return is_verify ? verify(path, key) : query(path, &f);
}
