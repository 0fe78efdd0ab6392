/* RecordIO: framing, and the streaming reader fed in every chunking. */
#include "proto/proto.h"

#include <criterion/criterion.h>
#include <string.h>

struct collected {
	char recs[8][64];
	size_t n;
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct collected *c = ctx;
	cr_assert_lt(c->n, 8);
	cr_assert_lt(len, 64);
	memcpy(c->recs[c->n], data, len);
	c->recs[c->n][len] = '\0';
	c->n++;
	return 0;
}

Test(recordio, frame)
{
	size_t len;
	char *f = pb_recordio_frame("{\"type\":\"HEARTBEAT\"}", 20, &len);
	cr_expect_str_eq(f, "20\n{\"type\":\"HEARTBEAT\"}");
	cr_expect_eq(len, 23);
	free(f);
}

Test(recordio, every_split_point_of_a_stream)
{
	const char *stream = "20\n{\"type\":\"HEARTBEAT\"}1\nx12\n{\"a\":\"\\n\\n\"}";
	size_t n = strlen(stream);
	/* Cut the stream in three at every pair of points. */
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct pb_recordio_reader *r = pb_recordio_reader_new(0);
			struct collected c = {0};
			struct ag_error err = {0};
			cr_assert_eq(pb_recordio_reader_feed(r, stream, i, collect, &c, &err), 0);
			cr_assert_eq(
			        pb_recordio_reader_feed(r, stream + i, j - i, collect, &c, &err),
			        0);
			cr_assert_eq(
			        pb_recordio_reader_feed(r, stream + j, n - j, collect, &c, &err),
			        0);
			cr_assert_eq(c.n, 3, "split %zu/%zu", i, j);
			cr_expect_str_eq(c.recs[0], "{\"type\":\"HEARTBEAT\"}");
			cr_expect_str_eq(c.recs[1], "x");
			cr_expect_str_eq(c.recs[2], "{\"a\":\"\\n\\n\"}");
			cr_expect_eq(pb_recordio_reader_pending(r), 0);
			pb_recordio_reader_free(r);
		}
	}
}

Test(recordio, byte_at_a_time)
{
	const char *stream = "3\nabc3\ndef";
	struct pb_recordio_reader *r = pb_recordio_reader_new(16);
	struct collected c = {0};
	for (size_t i = 0; stream[i]; i++)
		cr_assert_eq(pb_recordio_reader_feed(r, stream + i, 1, collect, &c, NULL), 0);
	cr_assert_eq(c.n, 2);
	cr_expect_str_eq(c.recs[1], "def");
	pb_recordio_reader_free(r);
}

static void expect_failure(const char *stream, size_t max, int code)
{
	struct pb_recordio_reader *r = pb_recordio_reader_new(max);
	struct collected c = {0};
	struct ag_error err = {0};
	cr_expect_eq(pb_recordio_reader_feed(r, stream, strlen(stream), collect, &c, &err), code,
	             "%s", stream);
	cr_expect_neq(err.msg[0], '\0');
	/* Sticky. */
	cr_expect_eq(pb_recordio_reader_feed(r, "1\nx", 3, collect, &c, &err), code);
	pb_recordio_reader_free(r);
}

Test(recordio, malformed_and_oversize_records)
{
	expect_failure("17\n0123456789abcdefg", 16, -EMSGSIZE);
	/* Refused from the length alone, before any body byte arrives. */
	expect_failure("99999999999", 16, -EMSGSIZE);
	expect_failure("99999999999999999999999999", 0, -EMSGSIZE);
	expect_failure("\nabc", 0, -EBADMSG);
	expect_failure("0\n", 0, -EBADMSG);
	expect_failure("1x\na", 0, -EBADMSG);
	expect_failure(" 1\na", 0, -EBADMSG);
	expect_failure("-1\na", 0, -EBADMSG);
}

static int stop_at_second(void *ctx, const char *data, size_t len)
{
	(void)data;
	(void)len;
	int *n = ctx;
	return ++*n == 2 ? 42 : 0;
}

Test(recordio, callback_stops_the_feed)
{
	struct pb_recordio_reader *r = pb_recordio_reader_new(0);
	int n = 0;
	cr_expect_eq(pb_recordio_reader_feed(r, "1\na1\nb1\nc", 9, stop_at_second, &n, NULL), 42);
	cr_expect_eq(n, 2);
	pb_recordio_reader_free(r);
}
