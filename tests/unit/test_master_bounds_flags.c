/* Unit tests of the master's flags for its bounds on clients and on the
 * registry (docs/operator-api.md, "Bounds"). */
#include "agtest.h"
#include "master/flags.h"

static int parse1(struct ms_flags *f, struct ag_error *err, const char *arg)
{
	static char argv0[] = "agora-master";
	char *argv[] = {argv0, (char *)arg, NULL};
	return ms_flags_parse(f, 2, argv, err);
}

Test(master_bounds_flags, defaults_are_the_documented_ones)
{
	struct ms_flags f;
	ms_flags_init(&f);
	cr_assert_eq(f.max_operator_event_stream_subscribers, 1000);
	cr_assert_eq(f.max_scheduler_streams, 1000);
	cr_assert_eq(f.max_stream_queue, 8u << 20);
	cr_assert_eq(f.max_operator_stream_queue, 1u << 20);
	cr_assert_eq(f.registry_max_removed_frameworks, 10000);
	ms_flags_free(&f);
}

Test(master_bounds_flags, values_are_parsed_and_junk_names_the_flag)
{
	struct ms_flags f;
	struct ag_error err = {0};
	ms_flags_init(&f);
	cr_assert_eq(parse1(&f, &err, "--max_operator_event_stream_subscribers=5"), 0, "%s",
	             err.msg);
	cr_assert_eq(f.max_operator_event_stream_subscribers, 5);
	cr_assert_eq(parse1(&f, &err, "--max_scheduler_streams=7"), 0, "%s", err.msg);
	cr_assert_eq(f.max_scheduler_streams, 7);
	cr_assert_eq(parse1(&f, &err, "--max_stream_queue=2MiB"), 0, "%s", err.msg);
	cr_assert_eq(f.max_stream_queue, 2u << 20);
	cr_assert_eq(parse1(&f, &err, "--max_operator_stream_queue=64KiB"), 0, "%s", err.msg);
	cr_assert_eq(f.max_operator_stream_queue, 64u << 10);
	/* 0 tombstones: no removed id is refused for long. */
	cr_assert_eq(parse1(&f, &err, "--registry_max_removed_frameworks=0"), 0, "%s", err.msg);
	cr_assert_eq(f.registry_max_removed_frameworks, 0);

	/* A cap of 0 streams would refuse every client: not a count. */
	cr_assert_eq(parse1(&f, &err, "--max_scheduler_streams=0"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_scheduler_streams"), "%s", err.msg);
	cr_assert_eq(parse1(&f, &err, "--max_operator_event_stream_subscribers=many"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_operator_event_stream_subscribers"), "%s", err.msg);
	cr_assert_eq(parse1(&f, &err, "--max_stream_queue=0"), -EINVAL);
	cr_assert(strstr(err.msg, "--max_stream_queue"), "%s", err.msg);
	cr_assert_eq(parse1(&f, &err, "--registry_max_removed_frameworks=-1"), -EINVAL);
	cr_assert(strstr(err.msg, "--registry_max_removed_frameworks"), "%s", err.msg);
	ms_flags_free(&f);
}
