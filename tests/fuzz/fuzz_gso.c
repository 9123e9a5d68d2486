/*
 * fuzz_gso.c -- libFuzzer target for gso_csum_complete and segmentation.
 *
 * Input: a 10-byte virtio_net_hdr, then the Ethernet frame.  The frame is
 * copied to a heap buffer of exactly its size, and every segment is written
 * to a heap buffer of exactly gso_seg_len bytes, so ASan catches any access
 * outside them.  Beyond memory safety it checks the module's promises:
 * gso_csum_complete returns 0 or -1, changes only the checksum field and
 * only when asked to, and the stored checksum balances the sum it was
 * seeded with (for a field at an even offset); gso_begin leaves the frame
 * alone, and the segments it announces are exactly the ones gso_next
 * writes, all but the last of one length, none over GSO_MAX_SEG_LEN, their
 * payloads adding up to the super-frame's.  The header's hdr_len field,
 * which gso_begin ignores, is handed to gso_set_mss when not 0: it must
 * lower a TCP segment size above it and refuse everything else.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-D_GNU_SOURCE tests/fuzz/fuzz_gso.c src/gso.c -o fuzz_gso
 *   ./fuzz_gso -max_total_time=60 tests/fuzz/corpus/gso
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int wants_csum(const struct gso_meta *m)
{
	return (m->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	       (m->type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE;
}

static void check_csum(const uint8_t *orig, size_t len,
		       const struct gso_meta *m)
{
	size_t start = m->csum_start, field = start + m->csum_offset;
	uint8_t *f = malloc(len);
	uint64_t seed;
	int ret;

	if (!f)
		return;
	memcpy(f, orig, len);
	ret = gso_csum_complete(f, len, m);
	if (ret != 0 && ret != -1)
		abort();
	if (ret == -1 || !wants_csum(m)) {
		if (memcmp(f, orig, len))
			abort();	/* changed a frame it refused */
		free(f);
		return;
	}
	if (field + 2 > len || memcmp(f, orig, field) ||
	    memcmp(f + field + 2, orig + field + 2, len - field - 2))
		abort();	/* wrote outside the checksum field */
	/*
	 * The old field value was the seed: with it, the sum balances.  Only
	 * for a field at an even distance from csum_start (as TCP's and
	 * UDP's are); at an odd one its bytes straddle two words.
	 */
	seed = (uint64_t)(orig[field] << 8 | orig[field + 1]);
	if (m->csum_offset % 2 == 0 &&
	    gso_csum_fold(gso_csum_add(seed, f + start, len - start)) != 0)
		abort();
	free(f);
}

static void check_segments(const uint8_t *orig, const uint8_t *f, size_t len,
			   const struct gso_meta *m)
{
	struct gso_iter it;
	size_t seg_len, first = 0, paid = 0;
	uint8_t *seg;
	int n, i;

	n = gso_begin(&it, f, len, m);
	if (n == -1) {
		if (gso_seg_len(&it) != 0)
			abort();
		return;
	}
	if (n < 1)
		abort();
	if (m->hdr_len) {
		int lower = it.proto == IPPROTO_TCP && m->hdr_len < it.mss;

		if (gso_set_mss(&it, m->hdr_len) != (lower ? 0 : -1))
			abort();
		if (lower)
			n = (int)((it.payload + it.mss - 1) / it.mss);
	}
	for (i = 0; (seg_len = gso_seg_len(&it)) != 0; i++) {
		if (i >= n || seg_len > GSO_MAX_SEG_LEN ||
		    seg_len <= it.hdr_len)
			abort();
		if (i == 0)
			first = seg_len;
		else if (seg_len > first || (i < n - 1 && seg_len != first))
			abort();
		seg = malloc(seg_len);
		if (!seg)
			abort();
		if (gso_next(&it, seg) != seg_len)
			abort();
		paid += seg_len - it.hdr_len;
		free(seg);
	}
	if (i != n || paid + it.hdr_len != len || gso_next(&it, NULL) != 0)
		abort();
	if (memcmp(f, orig, len))
		abort();	/* segmenting changed the super-frame */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gso_meta m;
	uint8_t *frame;
	size_t len;

	if (size < GSO_VNET_HDR_LEN)
		return 0;
	gso_meta_read(&m, data);
	len = size - GSO_VNET_HDR_LEN;
	frame = malloc(len);	/* glibc and ASan: malloc(0) is not NULL */
	if (!frame)
		return 0;
	memcpy(frame, data + GSO_VNET_HDR_LEN, len);
	check_csum(data + GSO_VNET_HDR_LEN, len, &m);
	check_segments(data + GSO_VNET_HDR_LEN, frame, len, &m);
	free(frame);
	return 0;
}
