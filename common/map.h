/* map.h: the one hash and hash map of every agora module.
 *
 * - ag_hash_bytes / ag_hash_str: 64-bit FNV-1a (a stable, well-known value:
 *   the runtime's seccomp cache keys on it); ag_hash_mix: a bijective
 *   finaliser (MurmurHash3's fmix64) that spreads every input bit over the
 *   low bits a table indexes with.
 * - struct ag_map: string keys; struct ag_u64map: 64-bit integer keys; both
 *   map to borrowed `void *` values (the caller owns and frees them).
 *
 * The tables use open addressing with linear probing and backward-shift
 * deletion (no tombstones, so a table with many removals keeps short probe
 * sequences), at a load factor of at most 1/2. Each slot keeps its key's
 * hash, compared before the key. A zeroed struct is an empty map; tables
 * grow and never shrink until cleared.
 *
 * Iteration order is unspecified. A walk must not add entries, and may
 * delete only the entry it stands on (which the walk then does not miss or
 * repeat any other for).
 */
#ifndef AGORA_COMMON_MAP_H
#define AGORA_COMMON_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hashes ------------------------------------------------------------- */

/* 64-bit FNV-1a of `n` bytes at `p`. */
uint64_t ag_hash_bytes(const void *p, size_t n);

/* 64-bit FNV-1a of the bytes of `s` (without its NUL). */
uint64_t ag_hash_str(const char *s);

/* MurmurHash3's 64-bit finaliser: a bijection with good avalanche, for
 * integer keys and to spread a hash's high bits into its low ones. */
static inline uint64_t ag_hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* ---- string keys --------------------------------------------------------- */

struct ag_map_entry {
	uint64_t hash;
	const char *key; /* NULL: an empty slot */
	void *value;
};

struct ag_map {
	struct ag_map_entry *v;
	uint32_t cap;  /* a power of two, or 0 before the first put */
	uint32_t size; /* entries */
	/* false (the default): the map keeps its own copy of each key.
	 * true: keys are borrowed; each must live, unchanged, while it is in
	 * the map (e.g. the id inside the value). Set before the first put. */
	bool borrow_keys;
};

/* The value of `key` (NULL: none; `key` may be NULL). */
void *ag_map_get(const struct ag_map *m, const char *key);

/* Insert or replace. Returns the previous value (NULL when none). */
void *ag_map_put(struct ag_map *m, const char *key, void *value);

/* Remove `key` (may be NULL); returns its value, NULL when absent. */
void *ag_map_del(struct ag_map *m, const char *key);

/* Free the table and copied keys (not the values). The map is empty and
 * reusable afterwards, with the same borrow_keys. */
void ag_map_clear(struct ag_map *m);

/* for (ag_map_iter_init(&it); ag_map_iter_next(m, &it);) use it.e->key
 * and it.e->value. */
struct ag_map_iter {
	struct ag_map_entry *e; /* the current entry */
	const char *key;        /* its key, to notice that it was deleted */
	uint32_t pos, left;     /* slot of e; slots not yet visited */
	bool started;
};
static inline void ag_map_iter_init(struct ag_map_iter *it)
{
	*it = (struct ag_map_iter){0};
}
bool ag_map_iter_next(const struct ag_map *m, struct ag_map_iter *it);

/* ---- integer keys ------------------------------------------------------ */

struct ag_u64map_entry {
	uint64_t key;
	void *value; /* NULL: an empty slot */
};

struct ag_u64map {
	struct ag_u64map_entry *v;
	uint32_t cap; /* a power of two, or 0 before the first put */
	uint32_t size;
};

/* The value of `key`, NULL when none. */
void *ag_u64map_get(const struct ag_u64map *m, uint64_t key);

/* Insert or replace; `value` must not be NULL. Returns the previous value
 * (NULL when none). */
void *ag_u64map_put(struct ag_u64map *m, uint64_t key, void *value);

/* Remove `key`; returns its value, NULL when absent. */
void *ag_u64map_del(struct ag_u64map *m, uint64_t key);

/* Free the table (not the values); the map is empty and reusable. */
void ag_u64map_clear(struct ag_u64map *m);

struct ag_u64map_iter {
	struct ag_u64map_entry *e;
	uint64_t key;
	uint32_t pos, left;
	bool started;
};
static inline void ag_u64map_iter_init(struct ag_u64map_iter *it)
{
	*it = (struct ag_u64map_iter){0};
}
bool ag_u64map_iter_next(const struct ag_u64map *m, struct ag_u64map_iter *it);

#endif
