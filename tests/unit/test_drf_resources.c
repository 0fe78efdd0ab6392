/* Unit tests for the allocator's resources: text, arithmetic. */
#include "drf_harness.h"

/* ---- resources ---- */

Test(drf_resources, parse_and_format_round_trip)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *r =
	        R(&h, "cpus:1.5;mem:4096;ports:[31005-31010,31000-31004,32000-32000];zones:{b,a}");
	cr_assert_str_eq(fmt(r), "cpus:1.5;mem:4096;ports:[31000-31010,32000-32000];zones:{b,a}");
	cr_assert_eq(drf_resources_scalar(r, "cpus", NULL), 1500);
	drf_resources_free(r);
	r = R(&h, "cpus(eng/web):0.0005;cpus:0.1234;cpus:1");
	cr_assert_eq(drf_resources_scalar(r, "cpus", NULL), 1123);
	cr_assert_eq(drf_resources_scalar(r, "cpus", "eng/web"), 1);
	cr_assert_eq(drf_resources_quantity(r, "cpus"), 1124);
	cr_assert_str_eq(fmt(r), "cpus:1.123;cpus(eng/web):0.001");
	drf_resources_free(r);
	h_fini(&h);
}

Test(drf_resources, bad_text_is_rejected)
{
	struct harness h;
	h_init(&h);
	const char *bad[] = {"cpus",       "cpus:",     "cpus:-1",     "ports:[5-4]",
	                     "ports:[1-2", "cpus:1;;x", "cpus(a b):1", "cpus:1 mem:2",
	                     "mem:{a}",    ":3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drf_resources *r = NULL;
		cr_expect_lt(drf_resources_parse(h.a, bad[i], &r), 0, "`%s` accepted", bad[i]);
		drf_resources_free(r);
	}
	h_fini(&h);
}

Test(drf_resources, ranges_subtract_and_contain)
{
	struct harness h;
	h_init(&h);
	struct drf_resources *a = R(&h, "ports:[1000-2000];cpus:2;s:{x,y,z}");
	struct drf_resources *b = R(&h, "ports:[1000-1009,1500-1500];cpus:0.5;s:{y}");
	cr_assert(drf_resources_contains(a, b));
	cr_assert_not(drf_resources_contains(b, a));
	cr_assert_eq(drf_resources_subtract(a, b), 0);
	cr_assert_str_eq(fmt(a), "cpus:1.5;ports:[1010-1499,1501-2000];s:{x,z}");
	cr_assert_lt(drf_resources_subtract(a, b), 0);
	drf_resources_add(a, b);
	cr_assert_str_eq(fmt(a), "cpus:2;ports:[1000-2000];s:{x,y,z}");
	drf_resources_free(a);
	drf_resources_free(b);
	h_fini(&h);
}

Test(drf_resources, parser_survives_random_text)
{
	struct harness h;
	h_init(&h);
	static const char alphabet[] = "cpusmemports:;()[]{}-,.*/0123456789 ab\t\n";
	uint64_t s = 42;
	char text[64];
	for (int i = 0; i < 20000; i++) {
		size_t n = rng_next(&s) % (sizeof(text) - 1);
		for (size_t j = 0; j < n; j++)
			text[j] = alphabet[rng_next(&s) % (sizeof(alphabet) - 1)];
		text[n] = 0;
		struct drf_resources *r = NULL;
		if (drf_resources_parse(h.a, text, &r) == 0) {
			/* what parses formats to text that parses to the same */
			char out[512];
			drf_resources_format(r, out, sizeof(out));
			struct drf_resources *again = NULL;
			cr_assert_eq(drf_resources_parse(h.a, out, &again), 0, "`%s` -> `%s`", text,
			             out);
			cr_assert(drf_resources_contains(r, again) &&
			                  drf_resources_contains(again, r),
			          "`%s` -> `%s`", text, out);
			drf_resources_free(again);
		}
		drf_resources_free(r);
	}
	h_fini(&h);
}
