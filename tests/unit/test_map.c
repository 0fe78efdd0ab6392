/* The one hash and hash map (common/map.c) of the master, the allocator,
 * the containerizer and the runtime's seccomp cache, checked against a
 * plain array as the reference, and the bounded FIFO (common/ring.c). */
#include "agtest.h"
#include "common/common.h"
#include "common/map.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define P(n) ((void *)(uintptr_t)(n))

Test(map, hash_is_fnv1a_64)
{
	/* The published FNV-1a 64 test vectors. */
	cr_assert_eq(ag_hash_str(""), 0xcbf29ce484222325ULL);
	cr_assert_eq(ag_hash_str("a"), 0xaf63dc4c8601ec8cULL);
	cr_assert_eq(ag_hash_str("foobar"), 0x85944171f73967e8ULL);
	cr_assert_eq(ag_hash_bytes("foobar", 6), 0x85944171f73967e8ULL);
	/* Bytes past a NUL count. */
	cr_assert_neq(ag_hash_bytes("a\0b", 3), ag_hash_str("a"));
	/* The mix is a bijection: distinct inputs stay distinct. */
	cr_assert_neq(ag_hash_mix(1), ag_hash_mix(2));
	cr_assert_eq(ag_hash_mix(0), 0);
}

Test(map, put_get_replace_delete)
{
	struct ag_map m = {0};
	cr_assert_null(ag_map_get(&m, "a"));
	cr_assert_null(ag_map_del(&m, "a"));
	cr_assert_null(ag_map_get(&m, NULL));
	cr_assert_null(ag_map_put(&m, "a", P(1)));
	cr_assert_null(ag_map_put(&m, "b", P(2)));
	cr_assert_eq(ag_map_put(&m, "a", P(3)), P(1), "a replace returns the old value");
	cr_assert_eq(m.size, 2);
	cr_assert_eq(ag_map_get(&m, "a"), P(3));
	cr_assert_eq(ag_map_get(&m, "b"), P(2));
	cr_assert_null(ag_map_get(&m, "c"));
	cr_assert_eq(ag_map_del(&m, "a"), P(3));
	cr_assert_null(ag_map_get(&m, "a"));
	cr_assert_null(ag_map_del(&m, "a"));
	cr_assert_eq(m.size, 1);
	ag_map_clear(&m);
	cr_assert_eq(m.size, 0);
	cr_assert_null(ag_map_get(&m, "b"));
	cr_assert_null(ag_map_put(&m, "b", P(4)), "reusable after clear");
	cr_assert_eq(ag_map_get(&m, "b"), P(4));
	ag_map_clear(&m);
}

Test(map, keys_are_copied_unless_borrowed)
{
	char key[16] = "task-1";
	struct ag_map m = {0};
	ag_map_put(&m, key, P(1));
	strcpy(key, "task-2");
	cr_assert_eq(ag_map_get(&m, "task-1"), P(1), "the map kept its own copy");
	cr_assert_null(ag_map_get(&m, "task-2"));
	ag_map_clear(&m);

	struct ag_map b = {.borrow_keys = true};
	const char *id = "agent-7";
	ag_map_put(&b, id, P(7));
	struct ag_map_iter it;
	ag_map_iter_init(&it);
	cr_assert(ag_map_iter_next(&b, &it));
	cr_assert_eq(it.e->key, id, "a borrowed key is the caller's pointer");
	ag_map_clear(&b);
	cr_assert(b.borrow_keys);
}

/* Random puts and deletes of 5,000 keys against an array of what each key
 * holds; every few steps the whole map is compared. */
Test(map, random_operations_match_a_reference)
{
	enum { N = 5000 };
	static uintptr_t ref[N];
	memset(ref, 0, sizeof(ref));
	struct ag_map m = {0};
	uint64_t seed = 42;
	char key[32];
	for (int step = 0; step < 200000; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned k = (unsigned)(seed >> 33) % N;
		snprintf(key, sizeof(key), "fw-%u-task", k);
		if ((seed >> 20) % 3) {
			void *old = ag_map_put(&m, key, P(step + 1));
			cr_assert_eq(old, P(ref[k]), "put %s", key);
			ref[k] = (uintptr_t)step + 1;
		} else {
			cr_assert_eq(ag_map_del(&m, key), P(ref[k]), "del %s", key);
			ref[k] = 0;
		}
		if (step % 20000 == 0 || step == 199999) {
			size_t n = 0;
			for (unsigned i = 0; i < N; i++) {
				snprintf(key, sizeof(key), "fw-%u-task", i);
				cr_assert_eq(ag_map_get(&m, key), P(ref[i]), "get %s", key);
				n += ref[i] != 0;
			}
			cr_assert_eq(m.size, n);
		}
	}
	ag_map_clear(&m);
}

/* A walk that deletes the entry it stands on sees every entry exactly once,
 * whatever the collisions (small keys in a table grown and shrunk). */
Test(map, a_walk_may_delete_the_current_entry)
{
	enum { N = 3000 };
	static unsigned char seen[N];
	for (int round = 0; round < 4; round++) {
		struct ag_map m = {0};
		char key[16];
		for (unsigned i = 0; i < N; i++) {
			snprintf(key, sizeof(key), "%u", i);
			ag_map_put(&m, key, P(i + 1));
		}
		/* Holes first, so the clusters are of every shape. */
		for (unsigned i = round; i < N; i += 7) {
			snprintf(key, sizeof(key), "%u", i);
			ag_map_del(&m, key);
		}
		memset(seen, 0, sizeof(seen));
		struct ag_map_iter it;
		unsigned visits = 0;
		size_t size = m.size;
		for (ag_map_iter_init(&it); ag_map_iter_next(&m, &it);) {
			unsigned i = (unsigned)(uintptr_t)it.e->value - 1;
			cr_assert_lt(i, N);
			cr_assert_eq(seen[i], 0, "entry %u seen twice", i);
			seen[i] = 1;
			visits++;
			/* Delete every other entry (all of them in round 3). */
			if (round == 3 || i % 2)
				cr_assert_eq(ag_map_del(&m, it.e->key), P(i + 1));
		}
		cr_assert_eq(visits, size, "every entry once: %u of %zu", visits, size);
		for (unsigned i = 0; i < N; i++) {
			snprintf(key, sizeof(key), "%u", i);
			bool kept = (i % 7 != (unsigned)round) && round != 3 && i % 2 == 0;
			cr_assert_eq(ag_map_get(&m, key) != NULL, kept, "key %u", i);
		}
		ag_map_clear(&m);
	}
}

Test(map, u64_keys)
{
	enum { N = 4000 };
	static uintptr_t ref[N];
	memset(ref, 0, sizeof(ref));
	struct ag_u64map m = {0};
	cr_assert_null(ag_u64map_get(&m, 0));
	cr_assert_null(ag_u64map_del(&m, 0));
	uint64_t seed = 7;
	for (int step = 0; step < 100000; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		unsigned k = (unsigned)(seed >> 33) % N;
		/* Keys the allocator uses: pairs packed in 64 bits, and the
		 * extremes. */
		uint64_t key = k == 0 ? UINT64_MAX : ((uint64_t)k << 32 | (k * 7u));
		if ((seed >> 20) % 3) {
			cr_assert_eq(ag_u64map_put(&m, key, P(step + 1)), P(ref[k]));
			ref[k] = (uintptr_t)step + 1;
		} else {
			cr_assert_eq(ag_u64map_del(&m, key), P(ref[k]));
			ref[k] = 0;
		}
	}
	size_t n = 0;
	for (unsigned k = 0; k < N; k++) {
		uint64_t key = k == 0 ? UINT64_MAX : ((uint64_t)k << 32 | (k * 7u));
		cr_assert_eq(ag_u64map_get(&m, key), P(ref[k]));
		n += ref[k] != 0;
	}
	cr_assert_eq(m.size, n);
	/* Walk, deleting each: each once, and the map ends empty. */
	struct ag_u64map_iter it;
	size_t visits = 0;
	for (ag_u64map_iter_init(&it); ag_u64map_iter_next(&m, &it);) {
		visits++;
		cr_assert_not_null(ag_u64map_del(&m, it.e->key));
	}
	cr_assert_eq(visits, n);
	cr_assert_eq(m.size, 0);
	ag_u64map_clear(&m);
}
