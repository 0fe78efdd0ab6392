/* flags.c: see flags.h. */
#include "common/flags.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* A decimal number with an optional fraction, then a unit from `names`
 * (any case), or none for `bare_scale`. */
static int parse_scaled(const char *s, const char *const *names, const double *scales, size_t n,
                        double bare_scale, double *ret)
{
	if (!s || !*s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	double scale = -1;
	if (*end == '\0') {
		scale = bare_scale;
	} else {
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(end, names[i]) == 0)
				scale = scales[i];
	}
	if (scale < 0)
		return -EINVAL;
	*ret = v * scale;
	return 0;
}

int ag_parse_bytes(const char *s, uint64_t *ret)
{
	static const char *const names[] = {"B", "KB", "KiB", "MB", "MiB", "GB", "GiB"};
	static const double scales[] = {1, 1e3, 1024, 1e6, 1048576, 1e9, 1073741824};
	double v;
	if (parse_scaled(s, names, scales, AG_ARRAY_SIZE(names), 1, &v) < 0)
		return -EINVAL;
	if (v >= 1.8e19)
		return -ERANGE;
	*ret = (uint64_t)llround(v);
	return 0;
}

static int set_one(const struct ag_flag *fl, void *dst, const char *v, struct ag_error *err)
{
	void *p = (char *)dst + fl->offset;
	uint64_t u;
	switch (fl->kind) {
	case AG_FLAG_STRING:
		if (!*v && !(fl->opts & AG_FLAG_EMPTY_OK))
			return ag_error_msg(err, EINVAL, "--%s: must not be empty", fl->name);
		free(*(char **)p);
		*(char **)p = ag_strdup(v);
		return 0;
	case AG_FLAG_PORT:
		if (ag_parse_u64(v, &u) < 0 || u > 65535)
			return ag_error_msg(err, EINVAL,
			                    "--%s: `%s` is not a port number (0 to 65535)",
			                    fl->name, v);
		*(uint16_t *)p = (uint16_t)u;
		return 0;
	case AG_FLAG_DURATION: {
		if ((fl->opts & AG_FLAG_OFF) && strcasecmp(v, "off") == 0) {
			*(uint64_t *)p = 0;
			return 0;
		}
		char flag[64];
		int64_t ns;
		snprintf(flag, sizeof(flag), "--%s", fl->name);
		int r = ag_parse_duration_flag(flag, v, &ns, err);
		if (r < 0)
			return r;
		if (ns == 0 && !(fl->opts & (AG_FLAG_ZERO_OK | AG_FLAG_OFF)))
			return ag_error_msg(err, EINVAL, "--%s: must be greater than 0", fl->name);
		*(uint64_t *)p = (uint64_t)ns;
		return 0;
	}
	case AG_FLAG_COUNT:
		if (ag_parse_u64(v, &u) < 0 || u == 0 || u > 1000000)
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not a count (1 to 1000000)",
			                    fl->name, v);
		*(unsigned *)p = (unsigned)u;
		return 0;
	case AG_FLAG_LIMIT:
		if (ag_parse_u64(v, &u) < 0 || u > 1000000)
			return ag_error_msg(err, EINVAL, "--%s: `%s` is not a count (0 to 1000000)",
			                    fl->name, v);
		*(size_t *)p = (size_t)u;
		return 0;
	case AG_FLAG_BYTES:
		if (ag_parse_bytes(v, &u) < 0 || u == 0 || u > (1ull << 31))
			return ag_error_msg(err, EINVAL,
			                    "--%s: `%s` is not a size between 1 byte and 2GiB "
			                    "(e.g. 4MiB)",
			                    fl->name, v);
		*(size_t *)p = (size_t)u;
		return 0;
	case AG_FLAG_BOOL:
		*(bool *)p = true;
		return 0;
	case AG_FLAG_CUSTOM:
		return fl->parse(fl, v, p, err);
	}
	return ag_error_msg(err, EINVAL, "--%s: unsupported kind of flag", fl->name);
}

int ag_flags_parse(const struct ag_flag *flags, size_t n, void *dst, int argc, char **argv,
                   bool *ret_help, struct ag_error *err)
{
	*ret_help = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*ret_help = true;
			return 0;
		}
		if (strncmp(a, "--", 2) != 0)
			return ag_error_msg(err, EINVAL,
			                    "unexpected argument `%s` (flags are --name=value)", a);
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct ag_flag *fl = NULL;
		for (size_t k = 0; k < n && !fl; k++)
			if (strlen(flags[k].name) == nlen &&
			    strncmp(flags[k].name, name, nlen) == 0)
				fl = &flags[k];
		if (!fl)
			return ag_error_msg(err, EINVAL, "unknown flag `--%.*s` (see --help)",
			                    (int)nlen, name);
		const char *v;
		if (fl->kind == AG_FLAG_BOOL) {
			if (eq)
				return ag_error_msg(err, EINVAL, "--%s: takes no value, got `%s`",
				                    fl->name, eq + 1);
			v = "";
		} else if (eq) {
			v = eq + 1;
		} else {
			if (i + 1 >= argc)
				return ag_error_msg(err, EINVAL, "--%s: missing value", fl->name);
			v = argv[++i];
		}
		int r = set_one(fl, dst, v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void ag_flags_usage(FILE *out, const struct ag_flag *flags, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (!flags[k].help)
			continue;
		if (flags[k].def)
			fprintf(out, "  --%-38s %s (default: %s)\n", flags[k].name, flags[k].help,
			        flags[k].def);
		else
			fprintf(out, "  --%-38s %s\n", flags[k].name, flags[k].help);
	}
	fprintf(out, "  --%-38s %s\n", "help", "print this and exit");
}

void ag_flags_free(const struct ag_flag *flags, size_t n, void *dst)
{
	for (size_t k = 0; k < n; k++)
		if (flags[k].kind == AG_FLAG_STRING) {
			char **p = (char **)((char *)dst + flags[k].offset);
			free(*p);
			*p = NULL;
		}
}
