#include "code_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	char *url;
	char *hash; /* lower case, or NULL */
	char *code;
	size_t len;
	uint64_t expires;
	struct entry *next; /* newer first */
};

/* Lookups walk the list on the loop: a bounded walk. */
#define MAX_ENTRIES 256

struct code_cache {
	uint64_t max_bytes, bytes;
	size_t count;
	struct entry *head;
};

int code_cache_new(uint64_t max_bytes, struct code_cache **out)
{
	struct code_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->max_bytes = max_bytes;
	*out = c;
	return 0;
}

static void entry_free(struct entry *e)
{
	free(e->url);
	free(e->hash);
	free(e->code);
	free(e);
}

/* Unlinks and frees *p, returning what came after it. */
static struct entry *drop(struct code_cache *c, struct entry **p)
{
	struct entry *e = *p;
	*p = e->next;
	c->bytes -= e->len;
	c->count--;
	entry_free(e);
	return *p;
}

void code_cache_free(struct code_cache *c)
{
	if (!c)
		return;
	while (c->head)
		drop(c, &c->head);
	free(c);
}

static bool same_hash(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcasecmp(a, b) == 0);
}

/* Drops what has expired; also, to make room for an entry of need bytes
 * (0: none), the oldest ones. */
static void trim(struct code_cache *c, uint64_t now, uint64_t need)
{
	for (struct entry **p = &c->head; *p;)
		if ((*p)->expires <= now)
			drop(c, p);
		else
			p = &(*p)->next;
	while (c->head && (c->bytes + need > c->max_bytes ||
			   (need && c->count >= MAX_ENTRIES))) {
		struct entry **p = &c->head;
		while ((*p)->next)
			p = &(*p)->next;
		drop(c, p);
	}
}

int code_cache_get(struct code_cache *c, const char *url, const char *hash,
		   uint64_t now, char **code, size_t *len)
{
	trim(c, now, 0);
	for (struct entry *e = c->head; e; e = e->next) {
		if (strcmp(e->url, url) != 0 || !same_hash(e->hash, hash))
			continue;
		*code = malloc(e->len + 1);
		if (!*code)
			return -ENOMEM;
		memcpy(*code, e->code, e->len + 1);
		*len = e->len;
		return 1;
	}
	return 0;
}

void code_cache_put(struct code_cache *c, const char *url, const char *hash,
		    const char *code, size_t len, uint64_t now,
		    uint64_t expires)
{
	if (len > c->max_bytes || expires <= now)
		return;
	for (struct entry **p = &c->head; *p; p = &(*p)->next)
		if (strcmp((*p)->url, url) == 0 &&
		    same_hash((*p)->hash, hash)) {
			drop(c, p);
			break;
		}
	trim(c, now, len);
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->url = strdup(url);
	e->hash = hash ? strdup(hash) : NULL;
	e->code = malloc(len + 1);
	if (!e->url || (hash && !e->hash) || !e->code) {
		entry_free(e);
		return;
	}
	memcpy(e->code, code, len);
	e->code[len] = '\0';
	e->len = len;
	e->expires = expires;
	e->next = c->head;
	c->head = e;
	c->bytes += len;
	c->count++;
}
