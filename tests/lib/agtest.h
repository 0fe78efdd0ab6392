/* agtest.h: helpers shared by agora's criterion tests. */
#ifndef AGORA_AGTEST_H
#define AGORA_AGTEST_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Skip the current test with a reason, unless CI=true, where a test that
 * cannot run is a failure: CI must run every tier it is given. */
#define AG_SKIP(...)                                                                               \
	do {                                                                                       \
		const char *_ci = getenv("CI");                                                    \
		if (_ci && strcmp(_ci, "true") == 0)                                               \
			cr_assert_fail("CI=true and this test cannot run: " __VA_ARGS__);          \
		else                                                                               \
			cr_skip_test(__VA_ARGS__);                                                 \
	} while (0)

#endif
