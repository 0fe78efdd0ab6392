/* maps.c: the two open-addressing hash tables the allocator indexes with.
 *
 * Linear probing with backward-shift deletion (no tombstones), so a table
 * with many removals (filters, offers) keeps short probe sequences. Load
 * factor at most 1/2.
 */
#include "allocator/internal.h"

uint64_t drf__hash_str(const char *s)
{
	/* FNV-1a, then a final mix so the low bits are usable as an index. */
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return h;
}

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* ---- string map ---- */

uint32_t drf__strmap_get(const struct drf__strmap *m, const char *key)
{
	if (m->cap == 0)
		return DRF__NONE;
	uint64_t h = drf__hash_str(key);
	uint32_t mask = m->cap - 1;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		const struct drf__strent *e = &m->v[i];
		if (!e->key)
			return DRF__NONE;
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e->idx;
	}
}

static void strmap_insert(struct drf__strmap *m, const char *key, uint64_t h, uint32_t idx)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = h & mask;
	while (m->v[i].key)
		i = (i + 1) & mask;
	m->v[i] = (struct drf__strent){.key = key, .hash = h, .idx = idx};
}

void drf__strmap_put(struct drf__strmap *m, const char *key, uint32_t idx)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct drf__strent *old = m->v;
		uint32_t oldcap = m->cap;
		m->cap = oldcap ? oldcap * 2 : 16;
		m->v = ag_calloc(m->cap, sizeof(*m->v));
		for (uint32_t i = 0; i < oldcap; i++)
			if (old[i].key)
				strmap_insert(m, old[i].key, old[i].hash, old[i].idx);
		free(old);
	}
	strmap_insert(m, key, drf__hash_str(key), idx);
	m->n++;
}

void drf__strmap_del(struct drf__strmap *m, const char *key)
{
	if (m->cap == 0)
		return;
	uint64_t h = drf__hash_str(key);
	uint32_t mask = m->cap - 1;
	uint32_t i = h & mask;
	for (;; i = (i + 1) & mask) {
		if (!m->v[i].key)
			return;
		if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0)
			break;
	}
	/* Backward shift: move later entries of the cluster into the hole
	 * when their home slot is not between the hole and themselves. */
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->v[j].key)
			break;
		uint32_t home = m->v[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i].key = NULL;
	m->n--;
}

void drf__strmap_free(struct drf__strmap *m)
{
	free(m->v);
	*m = (struct drf__strmap){0};
}

/* ---- u64 map ---- */

uint32_t drf__u64map_get(const struct drf__u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return DRF__NONE;
	uint32_t mask = m->cap - 1;
	for (uint32_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
		if (m->v[i].key == key)
			return m->v[i].val;
		if (m->v[i].key == UINT64_MAX)
			return DRF__NONE;
	}
}

static void u64map_insert(struct drf__u64map *m, uint64_t key, uint32_t val)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = hash_u64(key) & mask;
	while (m->v[i].key != UINT64_MAX && m->v[i].key != key)
		i = (i + 1) & mask;
	if (m->v[i].key == UINT64_MAX)
		m->n++;
	m->v[i] = (struct drf__u64ent){.key = key, .val = val};
}

void drf__u64map_put(struct drf__u64map *m, uint64_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct drf__u64ent *old = m->v;
		uint32_t oldcap = m->cap;
		m->cap = oldcap ? oldcap * 2 : 64;
		m->v = ag_malloc((size_t)m->cap * sizeof(*m->v));
		for (uint32_t i = 0; i < m->cap; i++)
			m->v[i].key = UINT64_MAX;
		m->n = 0;
		for (uint32_t i = 0; i < oldcap; i++)
			if (old[i].key != UINT64_MAX)
				u64map_insert(m, old[i].key, old[i].val);
		free(old);
	}
	u64map_insert(m, key, val);
}

void drf__u64map_del(struct drf__u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return;
	uint32_t mask = m->cap - 1;
	uint32_t i = hash_u64(key) & mask;
	for (;; i = (i + 1) & mask) {
		if (m->v[i].key == UINT64_MAX)
			return;
		if (m->v[i].key == key)
			break;
	}
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (m->v[j].key == UINT64_MAX)
			break;
		uint32_t home = hash_u64(m->v[j].key) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i].key = UINT64_MAX;
	m->n--;
}

void drf__u64map_free(struct drf__u64map *m)
{
	free(m->v);
	*m = (struct drf__u64map){0};
}
