/* map.c: chained hashing with FNV-1a, doubling at load factor 1. */
#include "master/map.h"

#include "common/common.h"

#include <string.h>

static size_t ms__hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static void ms__grow(struct ms_map *m)
{
	size_t n = m->n_buckets ? m->n_buckets * 2 : 16;
	struct ms_map_entry **b = ag_calloc(n, sizeof(*b));
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct ms_map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t k = e->hash & (n - 1);
			e->next = b[k];
			b[k] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
}

void *ms_map_get(const struct ms_map *m, const char *key)
{
	if (!m->n_buckets || !key)
		return NULL;
	size_t h = ms__hash(key);
	for (struct ms_map_entry *e = m->buckets[h & (m->n_buckets - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

void *ms_map_put(struct ms_map *m, const char *key, void *value)
{
	if (m->size >= m->n_buckets)
		ms__grow(m);
	size_t h = ms__hash(key), k = h & (m->n_buckets - 1);
	for (struct ms_map_entry *e = m->buckets[k]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0) {
			void *old = e->value;
			e->value = value;
			return old;
		}
	size_t klen = strlen(key) + 1;
	struct ms_map_entry *e = ag_malloc(sizeof(*e) + klen);
	memcpy(e->key, key, klen);
	e->hash = h;
	e->value = value;
	e->next = m->buckets[k];
	m->buckets[k] = e;
	m->size++;
	return NULL;
}

void *ms_map_del(struct ms_map *m, const char *key)
{
	if (!m->n_buckets || !key)
		return NULL;
	size_t h = ms__hash(key);
	struct ms_map_entry **pp = &m->buckets[h & (m->n_buckets - 1)];
	for (; *pp; pp = &(*pp)->next) {
		struct ms_map_entry *e = *pp;
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		void *v = e->value;
		*pp = e->next;
		free(e);
		m->size--;
		return v;
	}
	return NULL;
}

void ms_map_clear(struct ms_map *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct ms_map_entry *e = m->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->n_buckets = 0;
	m->size = 0;
}

bool ms_map_iter_next(const struct ms_map *m, struct ms_map_iter *it)
{
	/* `next` is taken before the caller sees `e`, so deleting `e` during
	 * the walk is safe. */
	it->e = it->next;
	while (!it->e && it->bucket < m->n_buckets)
		it->e = m->buckets[it->bucket++];
	if (!it->e)
		return false;
	it->next = it->e->next;
	return true;
}
