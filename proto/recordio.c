/* recordio.c: RecordIO framing, `<decimal byte count>\n<bytes>` (Mesos
 * docs/recordio.md). The reader never holds more than one partial record,
 * so a peer cannot make it buffer an unbounded stream. */
#include "proto/internal.h"

#include <string.h>

/* A uint64 has at most 20 digits; a longer count line is malformed. */
#define COUNT_MAX_DIGITS 20

struct pb_recordio_reader {
	size_t max;
	int error; /* sticky: the stream cannot be resynchronized */
	/* Header state: digits of the count seen so far. */
	uint64_t count;
	unsigned digits;
	bool in_body;
	/* Body: the record being assembled when it spans chunks. */
	char *buf;
	size_t cap;
	size_t have;
};

char *pb_recordio_frame(const char *data, size_t len, size_t *ret_len)
{
	char head[24];
	int n = snprintf(head, sizeof(head), "%zu\n", len);
	char *out = ag_malloc((size_t)n + len + 1);
	memcpy(out, head, (size_t)n);
	memcpy(out + n, data, len);
	out[(size_t)n + len] = '\0';
	if (ret_len)
		*ret_len = (size_t)n + len;
	return out;
}

struct pb_recordio_reader *pb_recordio_reader_new(size_t max_record)
{
	struct pb_recordio_reader *r = ag_calloc(1, sizeof(*r));
	r->max = max_record ? max_record : PB_MAX_MESSAGE;
	return r;
}

void pb_recordio_reader_free(struct pb_recordio_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

size_t pb_recordio_reader_pending(const struct pb_recordio_reader *r)
{
	return r->in_body ? r->have : r->digits;
}

static int reader_fail(struct pb_recordio_reader *r, int errnum, struct ag_error *err,
                       const char *what)
{
	r->error = -errnum;
	return ag_error_msg(err, errnum, "recordio: %s", what);
}

int pb_recordio_reader_feed(struct pb_recordio_reader *r, const void *data, size_t len,
                            pb_recordio_fn fn, void *ctx, struct ag_error *err)
{
	if (r->error)
		return ag_error_msg(err, -r->error, "recordio: stream already failed");
	const char *p = data;
	const char *end = p + len;
	while (p < end) {
		if (!r->in_body) {
			char ch = *p++;
			if (ch == '\n') {
				if (r->digits == 0)
					return reader_fail(r, EBADMSG, err, "empty record length");
				if (r->count == 0)
					return reader_fail(r, EBADMSG, err, "record length 0");
				if (r->count > r->max)
					return reader_fail(r, EMSGSIZE, err,
					                   "record larger than the limit");
				r->in_body = true;
				r->have = 0;
				continue;
			}
			if (ch < '0' || ch > '9')
				return reader_fail(r, EBADMSG, err,
				                   "record length is not a number");
			if (++r->digits > COUNT_MAX_DIGITS)
				return reader_fail(r, EBADMSG, err, "record length too long");
			unsigned d = (unsigned)(ch - '0');
			if (r->count > (UINT64_MAX - d) / 10)
				return reader_fail(r, EMSGSIZE, err,
				                   "record larger than the limit");
			r->count = r->count * 10 + d;
			/* Refuse early: no need to wait for the newline. */
			if (r->count > r->max)
				return reader_fail(r, EMSGSIZE, err,
				                   "record larger than the limit");
			continue;
		}
		size_t want = (size_t)r->count - r->have;
		size_t avail = (size_t)(end - p);
		const char *rec = NULL;
		if (r->have == 0 && avail >= want) {
			/* The whole record is in this chunk: no copy. */
			rec = p;
			p += want;
		} else {
			/* Grown to the record's size, not the limit: most
			 * records are small and a reader lives per stream. */
			if (r->cap < r->count) {
				r->buf = ag_realloc(r->buf, (size_t)r->count);
				r->cap = (size_t)r->count;
			}
			size_t take = avail < want ? avail : want;
			memcpy(r->buf + r->have, p, take);
			r->have += take;
			p += take;
			if (r->have < r->count)
				break;
			rec = r->buf;
		}
		size_t rlen = (size_t)r->count;
		r->in_body = false;
		r->count = 0;
		r->digits = 0;
		r->have = 0;
		int ret = fn(ctx, rec, rlen);
		if (ret != 0)
			return ret;
	}
	return 0;
}
