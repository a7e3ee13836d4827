#include "secret_mask.h"

#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A trie node of the automaton.  Nodes are numbered breadth first and a
 * node's children are consecutive, in byte order, so a child is found by
 * binary search and failure links can be computed in number order. */
struct node {
	uint32_t child; /* the first child */
	uint32_t nchild;
	uint32_t parent;
	uint32_t fail;	/* the longest proper suffix that is a node */
	uint32_t depth; /* bytes from the root */
	uint32_t match; /* the longest secret ending here, 0: none */
	unsigned char byte;
};

struct secret_mask {
	struct node *nodes;
	uint32_t n;
};

static int by_value(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint32_t child_of(const struct secret_mask *m, uint32_t x,
			 unsigned char b)
{
	const struct node *nd = &m->nodes[x];
	uint32_t lo = nd->child, hi = nd->child + nd->nchild;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->nodes[mid].byte == b)
			return mid;
		if (m->nodes[mid].byte < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static uint32_t step(const struct secret_mask *m, uint32_t x, unsigned char b)
{
	for (;;) {
		uint32_t c = child_of(m, x, b);
		if (c || x == 0)
			return c;
		x = m->nodes[x].fail;
	}
}

/* Level by level over the sorted values: those sharing a prefix are
 * consecutive, so each node's children are made one after another. */
static void build_trie(struct secret_mask *m, const char **v, size_t nv,
		       uint32_t *at, size_t *active)
{
	size_t nactive = nv;
	for (size_t i = 0; i < nv; i++) {
		at[i] = 0;
		active[i] = i;
	}
	m->n = 1;
	for (uint32_t d = 0; nactive; d++) {
		size_t still = 0;
		uint32_t last = 0;
		for (size_t k = 0; k < nactive; k++) {
			size_t i = active[k];
			uint32_t parent = at[i];
			unsigned char b = (unsigned char)v[i][d];
			if (!last || m->nodes[last].parent != parent ||
			    m->nodes[last].byte != b) {
				last = m->n++;
				m->nodes[last] = (struct node){
					.parent = parent,
					.depth = d + 1,
					.byte = b,
				};
				if (!m->nodes[parent].nchild++)
					m->nodes[parent].child = last;
			}
			at[i] = last;
			if (v[i][d + 1])
				active[still++] = i;
			else
				m->nodes[last].match = d + 1;
		}
		nactive = still;
	}
}

static void link_failures(struct secret_mask *m)
{
	for (uint32_t y = 1; y < m->n; y++) {
		struct node *nd = &m->nodes[y];
		uint32_t f = 0;
		if (nd->parent) {
			f = m->nodes[nd->parent].fail;
			f = step(m, f, nd->byte);
		}
		nd->fail = f;
		if (!nd->match)
			nd->match = m->nodes[f].match;
	}
}

static bool has_upper(const char *v)
{
	for (; *v; v++)
		if (*v >= 'A' && *v <= 'Z')
			return true;
	return false;
}

static char *lower_copy(const char *v)
{
	char *l = strdup(v);
	for (char *c = l; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return l;
}

static void free_strings(char ***list)
{
	for (size_t i = 0; *list && (*list)[i]; i++)
		free((*list)[i]);
	free(*list);
}

/* Each value, and in lower case too: host names reach the logs folded. */
int secret_mask_new(const char *const *values, struct secret_mask **out)
{
	size_t nv = 0, total = 0;
	for (size_t i = 0; values && values[i]; i++) {
		size_t l = strlen(values[i]);
		if (!l)
			continue;
		nv++;
		total += l;
		if (total > SECRETS_MAX_BYTES)
			return -E2BIG;
	}
	__attribute__((cleanup(free_strings))) char **lower =
		calloc(nv + 1, sizeof(*lower));
	_cleanup_free_ const char **v = calloc(2 * nv + 1, sizeof(*v));
	_cleanup_free_ uint32_t *at = calloc(2 * nv + 1, sizeof(*at));
	_cleanup_free_ size_t *active = calloc(2 * nv + 1, sizeof(*active));
	struct secret_mask *m = calloc(1, sizeof(*m));
	if (m)
		m->nodes = calloc(2 * total + 1, sizeof(*m->nodes));
	if (!lower || !v || !at || !active || !m || !m->nodes) {
		secret_mask_free(m);
		return -ENOMEM;
	}
	size_t n = 0, nl = 0;
	for (size_t i = 0; values && values[i]; i++) {
		if (!values[i][0])
			continue;
		v[n++] = values[i];
		if (has_upper(values[i])) {
			lower[nl] = lower_copy(values[i]);
			if (!lower[nl]) {
				secret_mask_free(m);
				return -ENOMEM;
			}
			v[n++] = lower[nl++];
		}
	}
	qsort(v, n, sizeof(*v), by_value);
	build_trie(m, v, n, at, active);
	link_failures(m);
	*out = m;
	return 0;
}

void secret_mask_free(struct secret_mask *m)
{
	if (m) {
		free(m->nodes);
		free(m);
	}
}

void mask_stream_init(struct mask_stream *s, const struct secret_mask *m)
{
	*s = (struct mask_stream){ .m = m };
}

void mask_stream_free(struct mask_stream *s)
{
	strbuf_free(&s->held);
	free(s->spans);
	*s = (struct mask_stream){ 0 };
}

/* Covers [start, end) of held, merged with the spans it overlaps (found
 * earlier, so they end no later). */
static int cover(struct mask_stream *s, size_t start, size_t end)
{
	while (s->nspans && s->spans[s->nspans - 1].end > start) {
		size_t prev = s->spans[--s->nspans].start;
		if (prev < start)
			start = prev;
	}
	if (s->nspans == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct mask_span *grown =
			realloc(s->spans, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->spans = grown;
		s->cap = cap;
	}
	s->spans[s->nspans++] = (struct mask_span){ start, end };
	return 0;
}

/* Drops [from, to) of held, keeping spans' offsets right. */
static void cut_held(struct mask_stream *s, size_t from, size_t to,
		     size_t first_span)
{
	size_t n = to - from;
	if (!n)
		return;
	memmove(s->held.p + from, s->held.p + to, s->held.len - to);
	s->held.len -= n;
	s->held.p[s->held.len] = '\0';
	for (size_t k = first_span; k < s->nspans; k++) {
		if (s->spans[k].start >= to)
			s->spans[k].start -= n;
		s->spans[k].end -= n;
	}
}

/* Emits held up to safe (where no secret found later can begin), a span
 * only once no later one can join it; the inside of a span still open is
 * dropped, as nothing of it is ever shown. */
static void emit_final(struct mask_stream *s, size_t safe, mask_emit_fn emit,
		       void *userdata)
{
	size_t pos = 0, k = 0, limit = safe;
	for (; k < s->nspans; k++) {
		const struct mask_span *sp = &s->spans[k];
		if (sp->start >= safe || sp->end > safe) {
			limit = sp->start < safe ? sp->start : safe;
			break;
		}
		if (sp->start > pos)
			emit(userdata, s->held.p + pos, sp->start - pos, false);
		emit(userdata, SECRET_MASK_TEXT, strlen(SECRET_MASK_TEXT),
		     true);
		pos = sp->end;
	}
	if (limit > pos)
		emit(userdata, s->held.p + pos, limit - pos, false);
	if (k < s->nspans && s->spans[k].start < safe)
		cut_held(s, s->spans[k].start + 1, safe, k);
	if (k) {
		memmove(s->spans, s->spans + k,
			(s->nspans - k) * sizeof(*s->spans));
		s->nspans -= k;
	}
	cut_held(s, 0, limit, 0);
}

int mask_stream_feed(struct mask_stream *s, const char *data, size_t len,
		     bool end, mask_emit_fn emit, void *userdata)
{
	if (!s->m || s->m->n == 1) {
		if (len)
			emit(userdata, data, len, false);
		return 0;
	}
	if (len && strbuf_add(&s->held, data, len) < 0)
		return -ENOMEM;
	size_t base = s->held.len - len;
	for (size_t i = 0; i < len; i++) {
		s->state = step(s->m, s->state, (unsigned char)data[i]);
		uint32_t l = s->m->nodes[s->state].match;
		if (l && cover(s, base + i + 1 - l, base + i + 1) < 0)
			return -ENOMEM;
	}
	size_t safe = s->held.len;
	if (end)
		s->state = 0;
	else
		safe -= s->m->nodes[s->state].depth;
	emit_final(s, safe, emit, userdata);
	return 0;
}

struct text_out {
	struct strbuf b;
	int err;
};

static void append(void *userdata, const char *data, size_t len, bool mask)
{
	(void)mask;
	struct text_out *t = userdata;
	if (!t->err)
		t->err = strbuf_add(&t->b, data, len);
}

char *secret_mask_text(const struct secret_mask *m, const char *text)
{
	struct mask_stream s;
	struct text_out out = { 0 };
	mask_stream_init(&s, m);
	int r = mask_stream_feed(&s, text, strlen(text), true, append, &out);
	mask_stream_free(&s);
	if (r < 0 || out.err < 0) {
		strbuf_free(&out.b);
		return NULL;
	}
	return out.b.p ? out.b.p : strdup("");
}
