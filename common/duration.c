/* duration.c: the one duration grammar (common.h). */
#include "common/common.h"

#include <math.h> /* isfinite: a macro, no libm */
#include <string.h>

int ag_parse_duration(const char *text, int64_t *ret_ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	        {"ns", 1},       {"us", 1e3},     {"ms", 1e6},       {"secs", 1e9},
	        {"mins", 60e9},  {"hrs", 3.6e12}, {"days", 8.64e13}, {"weeks", 6.048e14},
	        {"s", 1e9},      {"m", 60e9},     {"h", 3.6e12},     {"d", 8.64e13},
	        {"w", 6.048e14}, {"", 1e9},
	};
	if (!text)
		return -EINVAL;
	size_t n = strspn(text, "0123456789.");
	size_t dots = 0;
	for (size_t i = 0; i < n; i++)
		dots += text[i] == '.';
	if (n == dots || dots > 1)
		return -EINVAL; /* no digit, or "1.2.3" */
	for (size_t u = 0; u < AG_ARRAY_SIZE(units); u++) {
		if (strcmp(text + n, units[u].unit) != 0)
			continue;
		/* The number alone: strtod would read an exponent or hex. */
		_cleanup_free_ char *num = strndup(text, n);
		if (!num)
			return -ENOMEM;
		double ns = strtod(num, NULL) * units[u].ns;
		if (!isfinite(ns) || ns >= 9223372036854775807.0)
			return -ERANGE;
		*ret_ns = (int64_t)(ns + 0.5); /* ns >= 0: the nearest */
		return 0;
	}
	return -EINVAL;
}

int ag_parse_duration_flag(const char *flag, const char *text, int64_t *ret_ns,
                           struct ag_error *err)
{
	int r = ag_parse_duration(text, ret_ns);
	if (r == -ERANGE)
		return ag_error_msg(err, ERANGE,
		                    "%s: a duration is at most 292 years (106751 days); got `%s`",
		                    flag, text);
	if (r < 0)
		return ag_error_msg(
		        err, EINVAL,
		        "%s: a duration is a number >= 0 and a unit, one of " AG_DURATION_UNITS
		        ", e.g. 5secs, 1.5mins, 250ms; got `%s`",
		        flag, text ? text : "");
	return 0;
}
