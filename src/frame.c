/*
 * frame.c -- in-tunnel fragmentation and reassembly; see frame.h.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/frame.h"

#define BLOCK 8

struct slot {
	bool used;
	uint32_t id;
	uint16_t total;
	uint32_t have;		/* blocks received */
	uint64_t start_ms;
	uint8_t *bits;		/* one bit per block */
	uint8_t *buf;
};

struct frame_reasm {
	size_t max_frame;
	size_t bits_len;
	uint64_t drops[FRAME_DROP_MAX];
	struct slot slot[FRAME_REASM_SLOTS];
	uint8_t *storage;
};

const char *frame_drop_name(enum frame_drop d)
{
	static const char *const names[FRAME_DROP_MAX] = {
		[FRAME_DROP_BOUNDS] = "bounds",
		[FRAME_DROP_TIMEOUT] = "timeout",
		[FRAME_DROP_EVICTED] = "evicted",
		[FRAME_DUPLICATE] = "duplicate",
	};

	return (unsigned)d < FRAME_DROP_MAX ? names[d] : "?";
}

size_t frame_piece_max(size_t payload_max)
{
	if (payload_max < WIRE_INNER_FRAG_HDR + BLOCK)
		return 0;
	return (payload_max - WIRE_INNER_FRAG_HDR) & ~(size_t)(BLOCK - 1);
}

size_t frame_write_piece(uint8_t *out, uint32_t id, const uint8_t *frame,
			 size_t total, size_t off, size_t n)
{
	out[0] = WIRE_INNER_FRAGMENT;
	wire_put32(out + 1, id);
	wire_put16(out + 5, (uint16_t)total);
	wire_put16(out + 7, (uint16_t)off);
	memcpy(out + WIRE_INNER_FRAG_HDR, frame + off, n);
	return WIRE_INNER_FRAG_HDR + n;
}

struct frame_reasm *frame_reasm_new(size_t max_frame)
{
	struct frame_reasm *r;
	size_t per, i;

	if (max_frame > UINT16_MAX)
		max_frame = UINT16_MAX;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->max_frame = max_frame;
	r->bits_len = (max_frame + BLOCK - 1) / BLOCK / 8 + 1;
	per = max_frame + r->bits_len;
	r->storage = calloc(FRAME_REASM_SLOTS, per);
	if (!r->storage) {
		free(r);
		return NULL;
	}
	for (i = 0; i < FRAME_REASM_SLOTS; i++) {
		r->slot[i].buf = r->storage + i * per;
		r->slot[i].bits = r->slot[i].buf + max_frame;
	}
	return r;
}

void frame_reasm_free(struct frame_reasm *r)
{
	if (!r)
		return;
	free(r->storage);
	free(r);
}

const uint64_t *frame_reasm_drops(const struct frame_reasm *r)
{
	return r->drops;
}

unsigned frame_reasm_pending(const struct frame_reasm *r)
{
	unsigned i, n = 0;

	for (i = 0; i < FRAME_REASM_SLOTS; i++)
		n += r->slot[i].used;
	return n;
}

void frame_reasm_expire(struct frame_reasm *r, uint64_t now_ms)
{
	unsigned i;

	for (i = 0; i < FRAME_REASM_SLOTS; i++) {
		struct slot *s = &r->slot[i];

		if (s->used && now_ms - s->start_ms >= FRAME_REASM_TIMEOUT_MS) {
			s->used = false;
			r->drops[FRAME_DROP_TIMEOUT]++;
		}
	}
}

/* The slot for id: existing, free, or the oldest evicted. */
static struct slot *slot_for(struct frame_reasm *r, uint32_t id,
			     uint16_t total, uint64_t now_ms)
{
	struct slot *s, *free_slot = NULL, *oldest = NULL;
	unsigned i;

	for (i = 0; i < FRAME_REASM_SLOTS; i++) {
		s = &r->slot[i];
		if (s->used && s->id == id)
			return s;
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
		} else if (!oldest || s->start_ms < oldest->start_ms) {
			oldest = s;
		}
	}
	s = free_slot;
	if (!s) {
		s = oldest;
		r->drops[FRAME_DROP_EVICTED]++;
	}
	s->used = true;
	s->id = id;
	s->total = total;
	s->have = 0;
	s->start_ms = now_ms;
	memset(s->bits, 0, r->bits_len);
	return s;
}

/* Mark blocks [first, last); returns how many were new. */
static uint32_t mark(struct slot *s, size_t first, size_t last)
{
	uint32_t fresh = 0;
	size_t b;

	for (b = first; b < last; b++) {
		uint8_t bit = (uint8_t)(1u << (b % 8));

		if (!(s->bits[b / 8] & bit)) {
			s->bits[b / 8] |= bit;
			fresh++;
		}
	}
	return fresh;
}

int frame_reasm_input(struct frame_reasm *r, const uint8_t *msg, size_t len,
		      uint64_t now_ms, const uint8_t **frame, size_t *flen)
{
	size_t total, off, n, need;
	struct slot *s;
	uint32_t id, fresh;

	if (len <= WIRE_INNER_FRAG_HDR || msg[0] != WIRE_INNER_FRAGMENT)
		goto bounds;
	id = wire_get32(msg + 1);
	total = wire_get16(msg + 5);
	off = wire_get16(msg + 7);
	n = len - WIRE_INNER_FRAG_HDR;
	if (total < WIRE_ETH_HDR_LEN || total > r->max_frame ||
	    off % BLOCK || n > total || off > total - n ||
	    (n % BLOCK && off + n != total))
		goto bounds;
	frame_reasm_expire(r, now_ms);
	s = slot_for(r, id, (uint16_t)total, now_ms);
	if (s->total != total)
		goto bounds;
	fresh = mark(s, off / BLOCK, (off + n + BLOCK - 1) / BLOCK);
	if (!fresh) {
		r->drops[FRAME_DUPLICATE]++;
		return 0;
	}
	memcpy(s->buf + off, msg + WIRE_INNER_FRAG_HDR, n);
	s->have += fresh;
	need = (total + BLOCK - 1) / BLOCK;
	if (s->have < need)
		return 0;
	s->used = false;
	*frame = s->buf;
	*flen = total;
	return 1;

bounds:
	r->drops[FRAME_DROP_BOUNDS]++;
	return 0;
}
