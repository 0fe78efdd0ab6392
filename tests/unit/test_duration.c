/* The one duration grammar (common/duration.c) every flag and option uses,
 * and the reconnect backoff (common/backoff.c) of the agent's master link
 * and the SDK. */
#include "agtest.h"
#include "common/common.h"

Test(duration, every_mesos_unit_and_the_short_ones)
{
	static const struct {
		const char *text;
		int64_t ns;
	} ok[] = {
	        {"7ns", 7},
	        {"3us", 3000},
	        {"250ms", 250000000},
	        {"5secs", 5000000000},
	        {"5s", 5000000000},
	        {"1.5mins", 90000000000},
	        {"1.5m", 90000000000},
	        {"2hrs", 7200000000000},
	        {"2h", 7200000000000},
	        {"1days", 86400000000000},
	        {"1d", 86400000000000},
	        {"1weeks", 604800000000000},
	        {"1w", 604800000000000},
	        {"0secs", 0},
	        {".5secs", 500000000},
	        {"1.secs", 1000000000},
	        {"15", 15000000000},  /* a bare number is seconds */
	        {"0.0000000015s", 2}, /* the nearest ns */
	        {"106751days", 106751LL * 86400000000000LL},
	};
	for (size_t i = 0; i < AG_ARRAY_SIZE(ok); i++) {
		int64_t ns = -1;
		cr_expect_eq(ag_parse_duration(ok[i].text, &ns), 0, "`%s` refused", ok[i].text);
		cr_expect_eq(ns, ok[i].ns, "`%s`: %lld ns", ok[i].text, (long long)ns);
	}
}

Test(duration, anything_else_is_refused_and_nothing_written)
{
	const char *bad[] = {"",        "secs",  "5 secs", "5sec",   "5SECS", "5S",
	                     "-5secs",  "+5s",   "1.2.3s", "5secsx", ".secs", ".",
	                     "1e3secs", "1e-3s", "0x10s",  "nan",    "inf",   "5min",
	                     "5hr",     " 5s",   "5s ",    "5s\n"};
	int64_t ns = 42;
	for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++)
		cr_expect_eq(ag_parse_duration(bad[i], &ns), -EINVAL, "`%s` accepted", bad[i]);
	cr_expect_eq(ag_parse_duration(NULL, &ns), -EINVAL);
	cr_expect_eq(ag_parse_duration("106752days", &ns), -ERANGE);
	cr_expect_eq(ag_parse_duration("1000000000000000000000000weeks", &ns), -ERANGE);
	cr_expect_eq(ns, 42, "written only on success");
}

Test(duration, the_flag_error_names_the_flag_the_value_and_the_units)
{
	int64_t ns = 42;
	struct ag_error err = {0};
	cr_assert_eq(ag_parse_duration_flag("--grace", "5 secs", &ns, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "--grace: a duration is a number >= 0 and a unit, one of ns us "
	                          "ms secs mins hrs days weeks (or s m h d w), e.g. 5secs, "
	                          "1.5mins, 250ms; got `5 secs`");
	cr_assert_eq(ag_parse_duration_flag("--timeout", "300000years", &ns, &err), -EINVAL);
	cr_assert(strstr(err.msg, "--timeout: "), "%s", err.msg);
	cr_assert_eq(ag_parse_duration_flag("--timeout", "1000000weeks", &ns, &err), -ERANGE);
	cr_assert_str_eq(err.msg, "--timeout: a duration is at most 292 years (106751 days); got "
	                          "`1000000weeks`");
	cr_assert_eq(ns, 42);
	cr_assert_eq(ag_parse_duration_flag("--timeout", "1.5s", &ns, NULL), 0);
	cr_assert_eq(ns, 1500000000);
}

Test(backoff, doubles_from_base_to_max_with_jitter_in_the_upper_half)
{
	struct ag_backoff b = {.base_ms = 500, .max_ms = 30000};
	int64_t steps[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
	for (size_t i = 0; i < AG_ARRAY_SIZE(steps); i++) {
		int64_t d = ag_backoff_next(&b);
		cr_assert_eq(b.step_ms, steps[i], "attempt %zu: step %lld", i,
		             (long long)b.step_ms);
		cr_assert(d >= steps[i] / 2 && d <= steps[i],
		          "attempt %zu: %lld ms outside [%lld, %lld]", i, (long long)d,
		          (long long)steps[i] / 2, (long long)steps[i]);
	}
	ag_backoff_reset(&b);
	int64_t d = ag_backoff_next(&b);
	cr_assert_eq(b.step_ms, 500, "a reset starts from the base again");
	cr_assert(d >= 250 && d <= 500);
}

Test(backoff, the_jitter_spreads_clients)
{
	/* 200 clients losing the master at once: their first delays are not
	 * all one value, and cover both halves of [base/2, base]. */
	int64_t lo = 0, hi = 0, first = -1;
	bool differ = false;
	for (int i = 0; i < 200; i++) {
		struct ag_backoff b = {.base_ms = 1000, .max_ms = 60000};
		int64_t d = ag_backoff_next(&b);
		cr_assert(d >= 500 && d <= 1000);
		if (first < 0)
			first = d;
		differ |= d != first;
		lo += d < 750;
		hi += d >= 750;
	}
	cr_assert(differ, "every delay was %lld ms", (long long)first);
	cr_assert(lo > 20 && hi > 20, "%lld below 750 ms, %lld above", (long long)lo,
	          (long long)hi);
}
