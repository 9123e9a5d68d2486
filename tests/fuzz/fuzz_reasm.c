/*
 * fuzz_reasm.c -- libFuzzer target for fragment reassembly.
 *
 * Input: one byte choosing max_frame from a table (from a bare Ethernet
 * header to beyond the 16-bit limit, which the module caps), then pieces,
 * each: one byte of time passing (times 8 ms, so a gap can exceed
 * FRAME_REASM_TIMEOUT_MS), a 2-byte big-endian length and that many bytes
 * (a short last piece takes what is left), given to frame_reasm_input as
 * the authenticated inner message, kind byte first.  Each piece is copied
 * to a heap buffer of exactly its size, so ASan sees any read outside it.
 * A new reassembler serves each input.
 *
 * Beyond memory safety it checks the module's promises: the result is 0
 * or 1; never more than FRAME_REASM_SLOTS frames pending; the drop
 * counters only grow; a completed frame is at least an Ethernet header and
 * at most max_frame long, and each of its 8-byte blocks is a copy of the
 * same place in some piece of the input with that frame's id and total
 * length (nothing invented, nothing shifted); and once the timeout has
 * passed, nothing is pending.
 *
 *   make fuzz-replay       (replays tests/fuzz/corpus/reasm)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/frame.h"
#include "tapbridge/wire.h"

#define PIECES_MAX	1024	/* pieces per input: bounded work */
#define BLOCK		8
#define TICK_MS		8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t max_frames[] = {
	WIRE_ETH_HDR_LEN, 64, 1514, 1518, 3000, 9022, 65535, 100000,
};

struct piece {
	const uint8_t *bytes;	/* after the header, in the fuzzer input */
	uint32_t id;
	size_t total, off, n;
};

static struct piece pieces[PIECES_MAX];
static size_t npieces;

static void remember(const uint8_t *msg, size_t len)
{
	struct piece *p;

	if (len <= WIRE_INNER_FRAG_HDR)
		return;
	p = &pieces[npieces++];
	p->bytes = msg + WIRE_INNER_FRAG_HDR;
	p->id = wire_get32(msg + 1);
	p->total = wire_get16(msg + 5);
	p->off = wire_get16(msg + 7);
	p->n = len - WIRE_INNER_FRAG_HDR;
}

/* Bytes [at, at + n) of frame id/total came from some piece. */
static int came_from_a_piece(uint32_t id, size_t total, size_t at,
			     const uint8_t *bytes, size_t n)
{
	size_t i;

	for (i = 0; i < npieces; i++) {
		const struct piece *p = &pieces[i];

		if (p->id == id && p->total == total && p->off <= at &&
		    at + n <= p->off + p->n &&
		    !memcmp(p->bytes + (at - p->off), bytes, n))
			return 1;
	}
	return 0;
}

static void check_frame(const uint8_t *frame, size_t flen, size_t max,
			const uint8_t *msg)
{
	uint32_t id = wire_get32(msg + 1);
	uint8_t *copy;
	size_t at, n;

	if (flen < WIRE_ETH_HDR_LEN || flen > max || flen > UINT16_MAX ||
	    flen != wire_get16(msg + 5))
		abort();
	copy = malloc(flen);
	if (!copy)
		abort();
	memcpy(copy, frame, flen);
	for (at = 0; at < flen; at += n) {
		n = flen - at < BLOCK ? flen - at : BLOCK;
		if (!came_from_a_piece(id, flen, at, copy + at, n))
			abort();	/* bytes no piece carried */
	}
	free(copy);
}

static void check_drops(const uint64_t *now, uint64_t *before)
{
	int i;

	for (i = 0; i < FRAME_DROP_MAX; i++) {
		if (now[i] < before[i])
			abort();
		before[i] = now[i];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t drops[FRAME_DROP_MAX] = { 0 }, now = 0;
	struct frame_reasm *r;
	const uint8_t *frame;
	size_t max, len, flen, records = 0;
	uint8_t *msg;
	int ret;

	if (size < 1)
		return 0;
	max = max_frames[data[0] % (sizeof(max_frames) /
				    sizeof(max_frames[0]))];
	data++;
	size--;
	r = frame_reasm_new(max);
	if (!r)
		abort();
	npieces = 0;
	while (size >= 3 && records++ < PIECES_MAX) {
		now += (uint64_t)data[0] * TICK_MS;
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		msg = malloc(len ? len : 1);
		if (!msg)
			abort();
		memcpy(msg, data, len);
		remember(data, len);
		flen = 0;
		ret = frame_reasm_input(r, msg, len, now, &frame, &flen);
		if (ret != 0 && ret != 1)
			abort();
		if (ret == 1)
			check_frame(frame, flen, max, data);
		if (frame_reasm_pending(r) > FRAME_REASM_SLOTS)
			abort();
		check_drops(frame_reasm_drops(r), drops);
		free(msg);
		data += len;
		size -= len;
	}
	frame_reasm_expire(r, now + FRAME_REASM_TIMEOUT_MS);
	if (frame_reasm_pending(r) != 0)
		abort();	/* a frame outlived its timeout */
	check_drops(frame_reasm_drops(r), drops);
	frame_reasm_free(r);
	return 0;
}
