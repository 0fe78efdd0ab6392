/* validate.c: rules on values beyond their types, shared by the
 * normalizer, the lean decoders and the daemons: what an id may hold, and
 * the bounds of resource scalars (docs/operator-api.md, "Ids" and
 * "Resource values"). */
#include "proto/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *pb_id_problem(const char *id, size_t len)
{
	if (len == 0)
		return "must not be empty";
	if (len > PB_ID_MAX)
		return "must be at most 255 bytes";
	if ((len == 1 && id[0] == '.') || (len == 2 && id[0] == '.' && id[1] == '.'))
		return "must not be '.' or '..'";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		/* C0 and DEL, and C1 (U+0080..U+009F, 0xC2 0x80..0x9F in
		 * UTF-8): ids end up in log lines, paths and terminals. */
		if (c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && i + 1 < len && (unsigned char)id[i + 1] >= 0x80 &&
		     (unsigned char)id[i + 1] <= 0x9f))
			return "must not contain control characters";
		/* Ids name directories (Mesos's rule), and are data in JSON
		 * and log lines: nothing that reads as syntax there. */
		if (c == '/' || c == '\\')
			return "must not contain '/' or '\\'";
		if (c == '"')
			return "must not contain '\"'";
	}
	return NULL;
}

/* ---- resources ---- */

static int by_name(const void *a, const void *b)
{
	const struct pb_resource *x = *(const struct pb_resource *const *)a;
	const struct pb_resource *y = *(const struct pb_resource *const *)b;
	return strcmp(x->name, y->name);
}

int pb_resources_check(const struct pb_resource *r, size_t n, const char *what,
                       struct ag_error *err)
{
	size_t n_scalar = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].type != PB_VALUE_SCALAR)
			continue;
		n_scalar++;
		/* read_resource() rounds to thousandths and clamps what is not
		 * finite (the normalizer reads "Infinity" as the largest
		 * double) far beyond the bound, so this is the whole check. */
		if (r[i].scalar_milli < 0 || r[i].scalar_milli > PB_SCALAR_MAX * 1000)
			return ag_error_msg(err, EINVAL,
			                    "%s[%zu].scalar.value (%s): must be a finite number "
			                    "from 0 to %lld",
			                    what, i, r[i].name, (long long)PB_SCALAR_MAX);
	}
	if (n_scalar < 2)
		return 0;
	/* Repeated names add up (Mesos's Resources): their sum has the same
	 * bound, so that totals over many agents stay far from overflowing. */
	_cleanup_free_ const struct pb_resource **v = ag_calloc(n_scalar, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].type == PB_VALUE_SCALAR)
			v[k++] = &r[i];
	qsort(v, k, sizeof(*v), by_name);
	int64_t sum = 0;
	for (size_t i = 0; i < k; i++) {
		sum = i > 0 && strcmp(v[i]->name, v[i - 1]->name) == 0 ? sum + v[i]->scalar_milli
		                                                       : v[i]->scalar_milli;
		if (sum > PB_SCALAR_MAX * 1000)
			return ag_error_msg(err, EINVAL,
			                    "%s (%s): the values of one name add up to more than "
			                    "%lld",
			                    what, v[i]->name, (long long)PB_SCALAR_MAX);
	}
	return 0;
}

int64_t pb_resources_scalar_milli(const struct pb_resource *r, size_t n, const char *name)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].type == PB_VALUE_SCALAR && strcmp(r[i].name, name) == 0)
			sum += r[i].scalar_milli;
	return sum;
}
