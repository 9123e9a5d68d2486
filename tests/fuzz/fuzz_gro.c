/*
 * fuzz_gro.c -- libFuzzer target for the gro coalescer.
 *
 * Input: a sequence of frames, each a 2-byte big-endian length followed by
 * that many bytes (a short last frame takes what is left).  Each frame is
 * copied to a heap buffer of exactly its size, so ASan catches any read
 * outside it, and fed to gro_add; then gro_flush.  The emit callback
 * copies every output (touching each byte) and checks the module's
 * promises: a super-frame (non-zero vnet header) is at most GRO_MAX_LEN
 * bytes and its header fields lie inside it; a frame with an all-zero
 * vnet header is one of the input frames, unchanged; nothing is lost
 * (merged + passed == frames fed) and every release is counted.  Each
 * input runs twice, with UDP merging on and off (kernels without UDP_L4
 * from a TAP).  One coalescer serves all inputs; after gro_flush nothing
 * may remain of one input to spill into the next.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-D_GNU_SOURCE tests/fuzz/fuzz_gro.c src/gro.c -o fuzz_gro
 *   ./fuzz_gro -max_total_time=60 tests/fuzz/corpus/gro
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/gro.h"

#define GSO_UDP_L4	5	/* VIRTIO_NET_HDR_GSO_UDP_L4: UDP checksum at 6 */
#define MAX_FED		4096

struct fed {
	const uint8_t *p;	/* the frame's bytes in the fuzzer input */
	size_t len;
};

static struct fed fed[MAX_FED];
static size_t n_fed;
static uint64_t n_emits;
static struct gro *g;		/* made once: its storage is 8 x 65000 bytes */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* A pass-through must be byte for byte one of the frames fed. */
static int was_fed(const uint8_t *frame, size_t len)
{
	size_t i;

	for (i = 0; i < n_fed; i++)
		if (fed[i].len == len && !memcmp(fed[i].p, frame, len))
			return 1;
	return 0;
}

static void check(void *ctx, const uint8_t *vnet, const uint8_t *frame,
		  size_t len)
{
	static const uint8_t zero[GRO_VNET_HDR_LEN];
	uint8_t *copy;

	if (ctx != &n_emits)
		abort();
	n_emits++;
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, frame, len);
	if (!memcmp(vnet, zero, GRO_VNET_HDR_LEN)) {
		if (!was_fed(copy, len))
			abort();	/* changed a frame it passed */
	} else if (len > GRO_MAX_LEN || le16(vnet + 2) >= len ||
		   le16(vnet + 4) == 0 ||
		   le16(vnet + 8) != (vnet[1] == GSO_UDP_L4 ? 6 : 16) ||
		   (size_t)le16(vnet + 6) + (vnet[1] == GSO_UDP_L4 ? 8 : 20) >
			   le16(vnet + 2)) {
		abort();	/* not a frame the kernel would take */
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feed the frames of one input, flush and check the counts. */
static void run(const uint8_t *data, size_t size, bool merge_udp)
{
	const struct gro_stats *st;
	struct gro_stats before;
	uint8_t *frame;
	size_t len;

	gro_merge_udp(g, merge_udp);
	before = *gro_stats(g);
	n_fed = 0;
	n_emits = 0;
	while (size >= 2 && n_fed < MAX_FED) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, data, len);
		fed[n_fed].p = data;
		fed[n_fed++].len = len;
		gro_add(g, frame, len);
		free(frame);
		data += len;
		size -= len;
	}
	gro_flush(g);
	st = gro_stats(g);
	if (st->merged - before.merged + st->passed - before.passed != n_fed ||
	    st->supers - before.supers + st->passed - before.passed != n_emits)
		abort();	/* a frame lost, duplicated or not counted */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g)
		g = gro_new(check, &n_emits);
	if (!g)
		abort();
	run(data, size, true);
	run(data, size, false);
	return 0;
}
