/* map.c: FNV-1a, and open addressing with linear probing and backward-shift
 * deletion (see map.h). */
#include "common/map.h"

#include "common/common.h"

#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL
#define MIN_CAP    16

uint64_t ag_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = FNV_OFFSET;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

uint64_t ag_hash_str(const char *s)
{
	uint64_t h = FNV_OFFSET;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return h;
}

/* The slot index of a string key: FNV-1a's low bits alone cluster. */
static inline uint64_t str_hash(const char *key)
{
	return ag_hash_mix(ag_hash_str(key));
}

/* Whether the entry at `j`, whose home slot is `home`, may move back into
 * the hole at `i` (its home is not cyclically within (i, j]). */
static inline bool may_fill(uint32_t home, uint32_t i, uint32_t j, uint32_t mask)
{
	return ((j - home) & mask) >= ((j - i) & mask);
}

/* ---- string keys --------------------------------------------------------- */

static struct ag_map_entry *str_find(const struct ag_map *m, const char *key, uint64_t h)
{
	uint32_t mask = m->cap - 1;
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		struct ag_map_entry *e = &m->v[i];
		if (!e->key)
			return NULL;
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
}

static void str_place(struct ag_map_entry *v, uint32_t cap, const struct ag_map_entry *e)
{
	uint32_t mask = cap - 1;
	uint32_t i = (uint32_t)e->hash & mask;
	while (v[i].key)
		i = (i + 1) & mask;
	v[i] = *e;
}

static void str_grow(struct ag_map *m)
{
	uint32_t cap = m->cap ? m->cap * 2 : MIN_CAP;
	struct ag_map_entry *v = ag_calloc(cap, sizeof(*v));
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->v[i].key)
			str_place(v, cap, &m->v[i]);
	free(m->v);
	m->v = v;
	m->cap = cap;
}

void *ag_map_get(const struct ag_map *m, const char *key)
{
	if (!m->size || !key)
		return NULL;
	struct ag_map_entry *e = str_find(m, key, str_hash(key));
	return e ? e->value : NULL;
}

void *ag_map_put(struct ag_map *m, const char *key, void *value)
{
	/* Grown first (perhaps one put early), so one probe finds the key or
	 * the empty slot it goes into. */
	if ((m->size + 1) * 2 > m->cap)
		str_grow(m);
	uint64_t h = str_hash(key);
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)h & mask;
	for (; m->v[i].key; i = (i + 1) & mask)
		if (m->v[i].hash == h && strcmp(m->v[i].key, key) == 0) {
			void *old = m->v[i].value;
			m->v[i].value = value;
			return old;
		}
	m->v[i] = (struct ag_map_entry){
	        .hash = h,
	        .key = m->borrow_keys ? key : ag_strdup(key),
	        .value = value,
	};
	m->size++;
	return NULL;
}

void *ag_map_del(struct ag_map *m, const char *key)
{
	if (!m->size || !key)
		return NULL;
	struct ag_map_entry *e = str_find(m, key, str_hash(key));
	if (!e)
		return NULL;
	void *value = e->value;
	if (!m->borrow_keys)
		free((char *)e->key);
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)(e - m->v), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->v[j].key)
			break;
		if (may_fill((uint32_t)m->v[j].hash & mask, i, j, mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i] = (struct ag_map_entry){0};
	m->size--;
	return value;
}

void ag_map_clear(struct ag_map *m)
{
	if (!m->borrow_keys)
		for (uint32_t i = 0; i < m->cap; i++)
			free((char *)m->v[i].key);
	free(m->v);
	m->v = NULL;
	m->cap = 0;
	m->size = 0;
}

/* A walk starts just after an empty slot and goes once round the table.
 * Deleting the entry at `pos` moves only entries of its cluster that come
 * after it back towards it, never past an empty slot: so those not yet
 * visited stay at or after `pos`, and the walk looks at `pos` again when
 * another entry came into it. */
bool ag_map_iter_next(const struct ag_map *m, struct ag_map_iter *it)
{
	if (!m->cap)
		return false;
	uint32_t mask = m->cap - 1;
	if (!it->started) {
		it->started = true;
		it->pos = 0;
		while (m->v[it->pos].key)
			it->pos++;
		it->left = m->cap;
	} else if (it->e && it->e->key && it->e->key != it->key) {
		it->key = it->e->key;
		return true;
	}
	while (it->left) {
		it->pos = (it->pos + 1) & mask;
		it->left--;
		struct ag_map_entry *e = &m->v[it->pos];
		if (e->key) {
			it->e = e;
			it->key = e->key;
			return true;
		}
	}
	return false;
}

/* ---- integer keys ------------------------------------------------------ */

static struct ag_u64map_entry *u64_find(const struct ag_u64map *m, uint64_t key)
{
	uint32_t mask = m->cap - 1;
	for (uint32_t i = (uint32_t)ag_hash_mix(key) & mask;; i = (i + 1) & mask) {
		struct ag_u64map_entry *e = &m->v[i];
		if (!e->value)
			return NULL;
		if (e->key == key)
			return e;
	}
}

static void u64_place(struct ag_u64map_entry *v, uint32_t cap, const struct ag_u64map_entry *e)
{
	uint32_t mask = cap - 1;
	uint32_t i = (uint32_t)ag_hash_mix(e->key) & mask;
	while (v[i].value)
		i = (i + 1) & mask;
	v[i] = *e;
}

void *ag_u64map_get(const struct ag_u64map *m, uint64_t key)
{
	if (!m->size)
		return NULL;
	struct ag_u64map_entry *e = u64_find(m, key);
	return e ? e->value : NULL;
}

void *ag_u64map_put(struct ag_u64map *m, uint64_t key, void *value)
{
	if (!value)
		return ag_u64map_del(m, key);
	if ((m->size + 1) * 2 > m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : MIN_CAP;
		struct ag_u64map_entry *v = ag_calloc(cap, sizeof(*v));
		for (uint32_t i = 0; i < m->cap; i++)
			if (m->v[i].value)
				u64_place(v, cap, &m->v[i]);
		free(m->v);
		m->v = v;
		m->cap = cap;
	}
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)ag_hash_mix(key) & mask;
	for (; m->v[i].value; i = (i + 1) & mask)
		if (m->v[i].key == key) {
			void *old = m->v[i].value;
			m->v[i].value = value;
			return old;
		}
	m->v[i] = (struct ag_u64map_entry){.key = key, .value = value};
	m->size++;
	return NULL;
}

void *ag_u64map_del(struct ag_u64map *m, uint64_t key)
{
	if (!m->size)
		return NULL;
	struct ag_u64map_entry *e = u64_find(m, key);
	if (!e)
		return NULL;
	void *value = e->value;
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)(e - m->v), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->v[j].value)
			break;
		if (may_fill((uint32_t)ag_hash_mix(m->v[j].key) & mask, i, j, mask)) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i] = (struct ag_u64map_entry){0};
	m->size--;
	return value;
}

void ag_u64map_clear(struct ag_u64map *m)
{
	free(m->v);
	m->v = NULL;
	m->cap = 0;
	m->size = 0;
}

bool ag_u64map_iter_next(const struct ag_u64map *m, struct ag_u64map_iter *it)
{
	if (!m->cap)
		return false;
	uint32_t mask = m->cap - 1;
	if (!it->started) {
		it->started = true;
		it->pos = 0;
		while (m->v[it->pos].value)
			it->pos++;
		it->left = m->cap;
	} else if (it->e && it->e->value && it->e->key != it->key) {
		it->key = it->e->key;
		return true;
	}
	while (it->left) {
		it->pos = (it->pos + 1) & mask;
		it->left--;
		struct ag_u64map_entry *e = &m->v[it->pos];
		if (e->value) {
			it->e = e;
			it->key = e->key;
			return true;
		}
	}
	return false;
}
