/*
 * test_frame.c -- fragmentation and reassembly.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tapbridge/frame.h"

#define MAXF 9216

struct piece {
	uint8_t msg[WIRE_INNER_FRAG_HDR + MAXF];
	size_t len;
};

static uint8_t frame[MAXF];
static struct piece pieces[64];

/* Cut a frame of total bytes into pieces fitting payload_max. */
static unsigned cut(uint32_t id, size_t total, size_t payload_max)
{
	size_t piece = frame_piece_max(payload_max), off;
	unsigned n = 0;

	for (off = 0; off < total; off += piece) {
		size_t len = total - off < piece ? total - off : piece;

		pieces[n].len = frame_write_piece(pieces[n].msg, id, frame,
						  total, off, len);
		cr_assert_leq(pieces[n].len, payload_max);
		n++;
	}
	return n;
}

static void fill(size_t total)
{
	size_t i;

	for (i = 0; i < total; i++)
		frame[i] = (uint8_t)(i * 7 + 3);
}

/* Feed pieces in the given order; assert completion only at the end. */
static void feed(struct frame_reasm *r, const unsigned *order, unsigned n,
		 size_t total)
{
	const uint8_t *out = NULL;
	size_t outlen = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		int done = frame_reasm_input(r, pieces[order[i]].msg,
					     pieces[order[i]].len, 100, &out,
					     &outlen);

		cr_assert_eq(done, i == n - 1, "piece %u of %u: done=%d", i,
			     n, done);
	}
	cr_assert_eq(outlen, total);
	cr_assert_arr_eq(out, frame, total);
}

Test(frame, piece_size_is_a_multiple_of_eight_and_fits)
{
	cr_assert_eq(frame_piece_max(0), 0);
	cr_assert_eq(frame_piece_max(WIRE_INNER_FRAG_HDR + 7), 0);
	cr_assert_eq(frame_piece_max(WIRE_INNER_FRAG_HDR + 8), 8);
	cr_assert_eq(frame_piece_max(1400), (1400 - WIRE_INNER_FRAG_HDR) & ~7u);
}

Test(frame, reassembles_in_order)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	unsigned order[64], i, n;

	fill(1518);
	n = cut(1, 1518, 600);
	cr_assert_eq(n, 3);
	for (i = 0; i < n; i++)
		order[i] = i;
	feed(r, order, n, 1518);
	cr_assert_eq(frame_reasm_pending(r), 0);
	frame_reasm_free(r);
}

Test(frame, reassembles_reversed)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	unsigned order[64], i, n;

	fill(9000);
	n = cut(7, 9000, 1400);
	for (i = 0; i < n; i++)
		order[i] = n - 1 - i;
	feed(r, order, n, 9000);
	frame_reasm_free(r);
}

Test(frame, duplicates_are_ignored_and_counted)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	const uint8_t *out;
	size_t outlen;
	unsigned n;

	fill(3000);
	n = cut(9, 3000, 1200);
	cr_assert_eq(n, 3);
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 5,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 5,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[0].msg, pieces[0].len, 5,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[0].msg, pieces[0].len, 5,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[2].msg, pieces[2].len, 5,
				       &out, &outlen), 1);
	cr_assert_eq(outlen, 3000);
	cr_assert_arr_eq(out, frame, 3000);
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DUPLICATE], 2);
	frame_reasm_free(r);
}

Test(frame, missing_piece_times_out)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	const uint8_t *out;
	size_t outlen;

	fill(2000);
	cr_assert_eq(cut(3, 2000, 1000), 3);
	cr_assert_eq(frame_reasm_input(r, pieces[0].msg, pieces[0].len, 1000,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[2].msg, pieces[2].len, 1000,
				       &out, &outlen), 0);
	frame_reasm_expire(r, 1000 + FRAME_REASM_TIMEOUT_MS - 1);
	cr_assert_eq(frame_reasm_pending(r), 1);
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_TIMEOUT], 0);
	frame_reasm_expire(r, 1000 + FRAME_REASM_TIMEOUT_MS);
	cr_assert_eq(frame_reasm_pending(r), 0);
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_TIMEOUT], 1);
	/* The late piece starts a new frame, which never completes. */
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 2500,
				       &out, &outlen), 0);
	frame_reasm_free(r);
}

struct bad_case {
	const char *what;
	size_t total, off, n;
};

Test(frame, forged_offsets_and_lengths_are_dropped)
{
	static const struct bad_case rows[] = {
		{ "piece beyond total", 100, 96, 8 },
		{ "offset beyond total", 100, 200, 8 },
		{ "total above max frame", MAXF + 8, 0, 8 },
		{ "total below an ethernet header", 8, 0, 8 },
		{ "unaligned offset", 100, 3, 8 },
		{ "short middle piece", 100, 8, 5 },
		{ "offset wraps", 100, 65528, 16 },
	};
	struct frame_reasm *r = frame_reasm_new(MAXF);
	uint8_t msg[WIRE_INNER_FRAG_HDR + 64];
	const uint8_t *out;
	size_t outlen, i;

	memset(msg, 0xab, sizeof(msg));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		msg[0] = WIRE_INNER_FRAGMENT;
		wire_put32(msg + 1, 42);
		wire_put16(msg + 5, (uint16_t)rows[i].total);
		wire_put16(msg + 7, (uint16_t)rows[i].off);
		cr_assert_eq(frame_reasm_input(r, msg, WIRE_INNER_FRAG_HDR +
					       rows[i].n, 1, &out, &outlen), 0,
			     "%s", rows[i].what);
		cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_BOUNDS], i + 1,
			     "%s", rows[i].what);
	}
	/* Too short to hold a header at all, or the wrong kind. */
	cr_assert_eq(frame_reasm_input(r, msg, WIRE_INNER_FRAG_HDR, 1, &out,
				       &outlen), 0);
	msg[0] = WIRE_INNER_FRAME;
	cr_assert_eq(frame_reasm_input(r, msg, sizeof(msg), 1, &out, &outlen),
		     0);
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_BOUNDS], i + 2);
	cr_assert_eq(frame_reasm_pending(r), 0);
	frame_reasm_free(r);
}

Test(frame, conflicting_total_for_one_id_is_dropped)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	const uint8_t *out;
	size_t outlen;

	fill(2000);
	cr_assert_eq(cut(5, 2000, 1000), 3);
	cr_assert_eq(frame_reasm_input(r, pieces[0].msg, pieces[0].len, 1,
				       &out, &outlen), 0);
	wire_put16(pieces[1].msg + 5, 1990);
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 1,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_BOUNDS], 1);
	frame_reasm_free(r);
}

Test(frame, too_many_concurrent_reassemblies_evict_the_oldest)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	const uint8_t *out;
	size_t outlen;
	uint32_t id;

	fill(2000);
	/* Start SLOTS + 2 frames, each missing its last piece. */
	for (id = 0; id < FRAME_REASM_SLOTS + 2; id++) {
		cut(id, 2000, 1000);
		cr_assert_eq(frame_reasm_input(r, pieces[0].msg, pieces[0].len,
					       10 + id, &out, &outlen), 0);
		cr_assert_leq(frame_reasm_pending(r), FRAME_REASM_SLOTS);
	}
	cr_assert_eq(frame_reasm_drops(r)[FRAME_DROP_EVICTED], 2);
	/* The newest frame still completes; the evicted first one cannot. */
	cut(FRAME_REASM_SLOTS + 1, 2000, 1000);
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 50,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[2].msg, pieces[2].len, 50,
				       &out, &outlen), 1);
	cr_assert_arr_eq(out, frame, 2000);
	cut(0, 2000, 1000);
	cr_assert_eq(frame_reasm_input(r, pieces[1].msg, pieces[1].len, 50,
				       &out, &outlen), 0);
	cr_assert_eq(frame_reasm_input(r, pieces[2].msg, pieces[2].len, 50,
				       &out, &outlen), 0);
	frame_reasm_free(r);
}

Test(frame, interleaved_frames_complete_independently)
{
	struct frame_reasm *r = frame_reasm_new(MAXF);
	struct piece a[3], b[3];
	uint8_t fa[2000];
	const uint8_t *out;
	size_t outlen;
	unsigned i;

	fill(2000);
	memcpy(fa, frame, sizeof(fa));
	cut(100, 2000, 1000);
	memcpy(a, pieces, sizeof(a));
	for (i = 0; i < 2000; i++)
		frame[i] ^= 0x5a;
	cut(101, 2000, 1000);
	memcpy(b, pieces, sizeof(b));
	for (i = 0; i < 2; i++) {
		cr_assert_eq(frame_reasm_input(r, a[i].msg, a[i].len, 1, &out,
					       &outlen), 0);
		cr_assert_eq(frame_reasm_input(r, b[i].msg, b[i].len, 1, &out,
					       &outlen), 0);
	}
	cr_assert_eq(frame_reasm_input(r, a[2].msg, a[2].len, 1, &out,
				       &outlen), 1);
	cr_assert_arr_eq(out, fa, 2000);
	cr_assert_eq(frame_reasm_input(r, b[2].msg, b[2].len, 1, &out,
				       &outlen), 1);
	cr_assert_arr_eq(out, frame, 2000);
	frame_reasm_free(r);
}
