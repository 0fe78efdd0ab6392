/* map.h: a string-keyed hash table for the master's state (frameworks,
 * agents, offers, tasks by id). Keys are copied; values are borrowed (the
 * caller owns and frees them). Iteration order is unspecified, and a walk
 * must not add entries (it may ms_map_del the current one). */
#ifndef AGORA_MASTER_MAP_H
#define AGORA_MASTER_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct ms_map_entry {
	struct ms_map_entry *next;
	void *value;
	size_t hash; /* compared before the key: one cache miss less per probe */
	char key[];  /* in the entry's own allocation */
};

struct ms_map {
	struct ms_map_entry **buckets;
	size_t n_buckets; /* a power of two, or 0 before the first put */
	size_t size;
};

/* Insert or replace. Returns the previous value (NULL when none). */
void *ms_map_put(struct ms_map *m, const char *key, void *value);
void *ms_map_get(const struct ms_map *m, const char *key);
/* Remove `key`; returns its value, NULL when absent. */
void *ms_map_del(struct ms_map *m, const char *key);
/* Free the table (not the values). The map is reusable afterwards. */
void ms_map_clear(struct ms_map *m);

struct ms_map_iter {
	size_t bucket;
	struct ms_map_entry *e, *next;
};
/* for (ms_map_iter_init(&it); ms_map_iter_next(m, &it);) use it.e. */
static inline void ms_map_iter_init(struct ms_map_iter *it)
{
	it->bucket = 0;
	it->e = NULL;
	it->next = NULL;
}
bool ms_map_iter_next(const struct ms_map *m, struct ms_map_iter *it);

#endif
