/*
 * fuzz_mss.c -- libFuzzer target for mss_clamp.
 *
 * Input: max_frame as 2 big-endian bytes, then the Ethernet frame.  The
 * frame is copied to a heap buffer of exactly its size so ASan catches any
 * read or write outside it.  Beyond memory safety it checks the module's
 * promises: the result is 0 or 1, a 0 leaves every byte as it was, and a
 * clamped frame clamps no further (a second call returns 0).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-D_GNU_SOURCE tests/fuzz/fuzz_mss.c src/mss.c -o fuzz_mss
 *   ./fuzz_mss -max_total_time=60 tests/fuzz/corpus/mss
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/mss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_frame, len;
	uint8_t *frame;
	int ret;

	if (size < 2)
		return 0;
	max_frame = (size_t)data[0] << 8 | data[1];
	len = size - 2;
	frame = malloc(len);	/* glibc and ASan: malloc(0) is not NULL */
	if (!frame)
		return 0;
	memcpy(frame, data + 2, len);
	ret = mss_clamp(frame, len, max_frame);
	if (ret != 0 && ret != 1)
		abort();
	if (ret == 0 && len && memcmp(frame, data + 2, len))
		abort();	/* wrote, but said it did not */
	if (ret == 1 && mss_clamp(frame, len, max_frame) != 0)
		abort();	/* a clamped frame must be a fixed point */
	free(frame);
	return 0;
}
