/* output.c: tables in the style of crictl/podman ps, short ids, times. */
#include "tools/agoractl/agoractl.h"

#include "proto/proto.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#define TRUNC_NAME 24

/* Master-made ids are "<uuid>-S3" / "<uuid>-0004": the short form keeps
 * the uuid's first 8 hex digits and the suffix ("65f27966-S3"), which
 * agoractl also accepts back. Other ids (task ids, chosen by frameworks)
 * are cut at 24 characters. */
char *ctl_short_id(const struct ctl *c, const char *id)
{
	if (!id)
		return NULL;
	size_t n = strlen(id);
	if (c->no_trunc)
		return ag_strdup(id);
	if (n > 37 && id[8] == '-' && id[36] == '-')
		return ag_asprintf("%.8s%s", id, id + 36);
	if (n > TRUNC_NAME)
		return ag_asprintf("%.*s...", TRUNC_NAME - 3, id);
	return ag_strdup(id);
}

char *ctl_time(const struct ctl *c, double t)
{
	if (t <= 0)
		return NULL;
	if (c->rfc3339 || c->no_trunc) {
		time_t s = (time_t)t;
		struct tm tm;
		gmtime_r(&s, &tm);
		char b[40];
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return ag_strdup(b);
	}
	double d = (double)ag_wall_ns() / 1e9 - t;
	if (d < 0)
		d = 0;
	if (d < 60)
		return ag_asprintf("%d seconds ago", (int)d);
	if (d < 3600)
		return ag_asprintf("%d minutes ago", (int)(d / 60));
	if (d < 86400 * 2)
		return ag_asprintf("%d hours ago", (int)(d / 3600));
	return ag_asprintf("%d days ago", (int)(d / 86400));
}

void ctl_table_init(struct ctl_table *t, size_t ncol, ...)
{
	*t = (struct ctl_table){.ncol = ncol};
	va_list ap;
	va_start(ap, ncol);
	t->cap = 16;
	t->cells = ag_calloc(t->cap * ncol, sizeof(char *));
	for (size_t i = 0; i < ncol; i++)
		t->cells[i] = ag_strdup(va_arg(ap, const char *));
	t->nrow = 1;
	va_end(ap);
}

void ctl_table_add(struct ctl_table *t, ...)
{
	if (t->nrow == t->cap) {
		t->cap *= 2;
		t->cells = ag_realloc(t->cells, t->cap * t->ncol * sizeof(char *));
	}
	va_list ap;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncol; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrow * t->ncol + i] = ag_strdup(s && *s ? s : "-");
	}
	t->nrow++;
	va_end(ap);
}

void ctl_table_done(struct ctl_table *t, bool print)
{
	size_t w[16] = {0};
	for (size_t r = 0; r < t->nrow; r++)
		for (size_t i = 0; i < t->ncol && i < 16; i++) {
			size_t n = strlen(t->cells[r * t->ncol + i]);
			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = 0; print && r < t->nrow; r++) {
		for (size_t i = 0; i < t->ncol; i++) {
			const char *s = t->cells[r * t->ncol + i];
			if (i + 1 < t->ncol)
				printf("%-*s   ", (int)w[i], s);
			else
				printf("%s\n", s);
		}
	}
	for (size_t k = 0; k < t->nrow * t->ncol; k++)
		free(t->cells[k]);
	free(t->cells);
	*t = (struct ctl_table){0};
}

void ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		puts(s);
	free(s);
}

const char *ctl_id(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, key), "value"));
}

double ctl_scalar(const json_t *resources, const char *name)
{
	double v = 0;
	size_t i;
	json_t *r;
	json_array_foreach (resources, i, r) {
		const char *n = json_string_value(json_object_get(r, "name"));
		if (n && strcmp(n, name) == 0)
			v += json_number_value(
			        json_object_get(json_object_get(r, "scalar"), "value"));
	}
	return v;
}
