/* libFuzzer target for the RecordIO reader: the input is fed in chunks
 * whose sizes come from its first byte; records must respect the bound. */
#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const char *rec, size_t len)
{
	(void)rec;
	if (len == 0 || len > *(size_t *)ctx)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = 64;
	size_t step = (size_t)data[0] % 17 + 1;
	struct pb_recordio_reader *r = pb_recordio_reader_new(max);
	struct ag_error err = {0};
	for (size_t off = 1; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;
		if (pb_recordio_reader_feed(r, data + off, n, check, &max, &err) != 0)
			break;
	}
	pb_recordio_reader_free(r);
	return 0;
}
