/*
 * test_session.c -- sealing, opening and the replay window.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <criterion/criterion.h>

#include "tapbridge/session.h"
#include "tapbridge/wire.h"

#define BOUND		((uint64_t)WIRE_REPLAY_WINDOW - 64)
#define MAX_PAYLOAD	9000
#define LOCAL_INDEX	0x11223344u

static struct session *tx, *rx;
static uint8_t buf[WIRE_DATA_OVERHEAD + MAX_PAYLOAD];
static uint8_t copy[WIRE_DATA_OVERHEAD + MAX_PAYLOAD];

/* tx seals to rx: tx's send key is rx's receive key, and the reverse. */
static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	tx = session_new();
	rx = session_new();
	cr_assert(tx && rx);
	randombytes_buf(tx->send_key, sizeof(tx->send_key));
	randombytes_buf(tx->recv_key, sizeof(tx->recv_key));
	memcpy(rx->recv_key, tx->send_key, WIRE_KEY_LEN);
	memcpy(rx->send_key, tx->recv_key, WIRE_KEY_LEN);
	tx->remote_index = LOCAL_INDEX;
	rx->local_index = LOCAL_INDEX;
}

static void teardown(void)
{
	session_free(tx);
	session_free(rx);
}

TestSuite(session, .init = setup, .fini = teardown);

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* Seal len pattern bytes into buf; returns the datagram length. */
static size_t seal(size_t len, unsigned int seed)
{
	ssize_t n;

	fill(buf + WIRE_DATA_OVERHEAD, len, seed);
	n = session_seal(tx, buf, len);
	cr_assert_eq(n, (ssize_t)(len + WIRE_DATA_OVERHEAD));
	return (size_t)n;
}

Test(session, seal_then_open_round_trips_every_length)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 1514,
				       1518, 4096, 8999, MAX_PAYLOAD };
	uint8_t want[MAX_PAYLOAD];
	uint64_t counter;
	size_t i, n;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = seal(lens[i], (unsigned int)i);
		cr_assert_eq(buf[0], WIRE_MSG_DATA);
		cr_assert_eq(wire_get32(buf + WIRE_DATA_RECEIVER_OFF), LOCAL_INDEX);
		cr_assert_eq(wire_get64(buf + WIRE_DATA_COUNTER_OFF), i);
		cr_assert_eq(WIRE_DATA_HDR_LEN, 13);
		fill(want, lens[i], (unsigned int)i);
		if (lens[i] >= 16)	/* the payload really is encrypted */
			cr_assert_neq(memcmp(buf + WIRE_DATA_OVERHEAD, want,
					     lens[i]), 0);
		counter = UINT64_MAX;
		cr_assert_eq(session_open(rx, buf, n, &counter), RX_OK,
			     "length %zu", lens[i]);
		cr_assert_eq(counter, i);
		cr_assert_eq(memcmp(buf + WIRE_DATA_OVERHEAD, want, lens[i]),
			     0, "length %zu", lens[i]);
	}
	cr_assert_eq(tx->send_counter, i);
}

Test(session, both_directions_use_separate_keys)
{
	uint64_t counter;
	size_t n;

	fill(buf + WIRE_DATA_OVERHEAD, 100, 7);
	rx->remote_index = 99;
	tx->local_index = 99;
	n = (size_t)session_seal(rx, buf, 100);
	cr_assert_eq(session_open(tx, buf, n, &counter), RX_OK);
	/* A message sealed by tx does not open at tx itself. */
	tx->send_counter = 5;
	n = seal(100, 7);
	tx->local_index = LOCAL_INDEX;
	cr_assert_eq(session_open(tx, buf, n, &counter), RX_DROP_AUTH);
}

Test(session, any_flipped_bit_is_rejected)
{
	uint64_t counter;
	enum rx_verdict want, got;
	size_t n, i;
	int bit;

	n = seal(40, 3);
	memcpy(copy, buf, n);
	for (i = 0; i < n; i++) {
		if (i < WIRE_DATA_RECEIVER_OFF)
			want = RX_DROP_SHORT;	/* type */
		else if (i < WIRE_DATA_COUNTER_OFF)
			want = RX_DROP_NO_SESSION;	/* receiver index */
		else
			want = RX_DROP_AUTH;	/* counter, MAC, text */
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, copy, n);
			buf[i] ^= (uint8_t)(1u << bit);
			got = session_open(rx, buf, n, &counter);
			cr_assert_eq(got, want, "byte %zu bit %d: %s", i, bit,
				     rx_verdict_name(got));
		}
	}
	/* None of the failures touched the window. */
	memcpy(buf, copy, n);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_OK);
}

Test(session, truncated_message_is_short_or_auth)
{
	uint64_t counter;
	size_t n, len;

	n = seal(64, 5);
	memcpy(copy, buf, n);
	for (len = 0; len < n; len++) {
		memcpy(buf, copy, n);
		cr_assert_eq(session_open(rx, buf, len, &counter),
			     len < WIRE_DATA_OVERHEAD ? RX_DROP_SHORT :
							RX_DROP_AUTH,
			     "length %zu", len);
	}
	memcpy(buf, copy, n);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_OK);
}

Test(session, replayed_datagram_is_rejected)
{
	uint64_t counter;
	size_t n;

	n = seal(200, 9);
	memcpy(copy, buf, n);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_OK);
	memcpy(buf, copy, n);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_DROP_REPLAY);
}

Test(session, wrong_key_fails_authentication)
{
	uint64_t counter;
	size_t n;

	n = seal(100, 1);
	rx->recv_key[17] ^= 0x20;
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_DROP_AUTH);
	/* and the failed attempt did not mark the counter as seen */
	cr_assert(replay_check(&rx->replay, 0));
}

Test(session, exhausted_counter_refuses_to_seal)
{
	uint64_t counter;
	size_t n;

	tx->send_counter = WIRE_REJECT_AFTER_MESSAGES - 1;
	n = seal(10, 2);
	cr_assert_eq(wire_get64(buf + WIRE_DATA_COUNTER_OFF), WIRE_REJECT_AFTER_MESSAGES - 1);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_OK);
	cr_assert_eq(counter, WIRE_REJECT_AFTER_MESSAGES - 1);
	cr_assert_eq(session_seal(tx, buf, 10), -1);
	cr_assert_eq(session_seal(tx, buf, 0), -1);
	cr_assert_eq(tx->send_counter, WIRE_REJECT_AFTER_MESSAGES);
}

Test(session, counter_past_the_limit_is_expired)
{
	uint64_t counter;
	size_t n;

	n = seal(10, 2);
	wire_put64(buf + WIRE_DATA_COUNTER_OFF, WIRE_REJECT_AFTER_MESSAGES);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_DROP_EXPIRED);
	wire_put64(buf + WIRE_DATA_COUNTER_OFF, UINT64_MAX);
	cr_assert_eq(session_open(rx, buf, n, &counter), RX_DROP_EXPIRED);
}

Test(session, verdicts_have_names)
{
	cr_assert_str_eq(rx_verdict_name(RX_OK), "ok");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_SHORT), "short");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_AUTH), "auth");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_REPLAY), "replay");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_NO_SESSION), "no-session");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_EXPIRED), "expired");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_HANDSHAKE), "handshake");
	cr_assert_str_eq(rx_verdict_name(RX_DROP_INNER), "inner");
	cr_assert_str_eq(rx_verdict_name(RX_VERDICT_MAX), "unknown");
}

struct replay_row {
	uint64_t counter;
	bool accept;
};

/* Run rows in order against one window: check, update, check again. */
static void run_rows(const struct replay_row *rows, size_t n)
{
	struct replay r;
	size_t i;

	replay_init(&r);
	for (i = 0; i < n; i++) {
		cr_assert_eq(replay_check(&r, rows[i].counter), rows[i].accept,
			     "row %zu: counter %llu", i,
			     (unsigned long long)rows[i].counter);
		cr_assert_eq(replay_update(&r, rows[i].counter),
			     rows[i].accept ? 0 : -1, "row %zu", i);
		cr_assert_not(replay_check(&r, rows[i].counter),
			      "row %zu: accepted twice", i);
	}
}

Test(session, replay_window_follows_the_table)
{
	static const struct replay_row rows[] = {
		{ 0, true },		/* first counter is 0 */
		{ 0, false },		/* duplicate */
		{ 1, true },		/* in order */
		{ 2, true },
		{ 5, true },		/* gap */
		{ 4, true },		/* reordered within the window */
		{ 3, true },
		{ 4, false },
		{ 5, false },
		{ 100, true },
		{ 50, true },
		{ 50, false },
		{ 5000, true },		/* jump of 4900 */
		{ 5000 - BOUND, true },	/* at the bound: inside */
		{ 5000 - BOUND - 1, false },	/* one more: too old */
		{ 5000 - BOUND, false },
		{ 4200, true },		/* ring word 65 -> slot 1 */
		{ 8306, true },		/* ring word 129 reuses slot 1 */
		{ 8296, true },		/* 4200's bit: was cleared */
		{ 8306 - BOUND, true },
		{ 8306 - BOUND - 1, false },
		{ 8192, true },		/* ring wrapped to slot 0 */
		{ 8191, true },
		{ 8300, true },
		{ 8307, true },		/* in order again */
		{ 1000000, true },	/* far jump: whole window cleared */
		{ 8307, false },	/* too old now */
		{ 1000000 - 64, true },
		{ 1000000 - BOUND, true },
		{ 1000000 - BOUND - 1, false },
		{ 1000000 - 1, true },
		{ 1000001, true },
		{ UINT64_MAX - 8, true },	/* near 2^64 */
		{ UINT64_MAX - 8, false },
		{ UINT64_MAX - 9, true },
		{ UINT64_MAX - 1, true },	/* largest; top = UINT64_MAX */
		{ UINT64_MAX - 1, false },
		{ UINT64_MAX, false },	/* never: top cannot go past it */
		{ UINT64_MAX - 1 - BOUND, true },
		{ UINT64_MAX - 2 - BOUND, false },
		{ 1000001, false },
		{ 0, false },
	};

	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(session, replay_window_starting_high_rejects_old)
{
	static const struct replay_row rows[] = {
		{ 10000, true },	/* first counter need not be 0 */
		{ 0, false },
		{ 10000 - BOUND - 1, false },
		{ 10000 - BOUND, true },
		{ 9999, true },
		{ 10064, true },	/* next word */
		{ 10000 + 64 * 63, true },	/* 63 words on: ring full */
		{ 10000, false },	/* now exactly BOUND behind, seen */
		{ 10001, true },
		{ 9999, false },	/* slid out of the window */
	};

	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* xorshift64*: reproducible pseudo-random numbers for the model test. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

#define MODEL_SPACE	(UINT64_C(1) << 26)

Test(session, replay_window_matches_reference_model)
{
	static uint8_t seen[MODEL_SPACE / 8];
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15), highest = 0;
	uint64_t c, roll, accepted = 0, steps;
	bool any = false, want;
	struct replay r;

	replay_init(&r);
	memset(seen, 0, sizeof(seen));
	for (steps = 0; steps < 400000; steps++) {
		roll = rng_next(&seed) % 100;
		if (roll < 60)		/* behind, around the bound */
			c = highest - rng_next(&seed) % (BOUND + 200);
		else if (roll < 98)	/* a little ahead */
			c = highest + 1 + rng_next(&seed) % 8;
		else			/* a jump, often past the ring */
			c = highest +
			    rng_next(&seed) % (3 * WIRE_REPLAY_WINDOW);
		if (c > highest + MODEL_SPACE)	/* wrapped below 0 */
			c = 0;
		if (c >= MODEL_SPACE)
			break;
		want = !(seen[c / 8] & 1u << (c % 8)) &&
		       (!any || c > highest || highest - c <= BOUND);
		cr_assert_eq(replay_check(&r, c), want,
			     "step %llu counter %llu highest %llu",
			     (unsigned long long)steps, (unsigned long long)c,
			     (unsigned long long)highest);
		cr_assert_eq(replay_update(&r, c), want ? 0 : -1);
		if (want) {
			seen[c / 8] |= (uint8_t)(1u << (c % 8));
			accepted++;
			if (!any || c > highest)
				highest = c;
			any = true;
		}
	}
	cr_assert_eq(steps, 400000, "ran out of model space");
	cr_assert_gt(accepted, 100000);
}

Test(session, fast_len_ends_on_a_whole_keystream_chunk)
{
	static const struct {
		size_t in, x86;
	} rows[] = {
		{ 0, 0 },	{ 1, 1 },	{ 287, 287 },
		{ 288, 288 },	{ 289, 288 },	{ 543, 288 },
		{ 544, 544 },	{ 1311, 1056 },	{ 1312, 1312 },
		{ 1443, 1312 },	{ 1567, 1312 },	{ 1568, 1568 },
		{ 8943, 8736 },	{ 65535, 65312 },
	};
	size_t i, want;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
#if defined(__x86_64__) || defined(__i386__)
		want = rows[i].x86;
#else
		want = rows[i].in;
#endif
		cr_assert_eq(session_fast_len(rows[i].in), want,
			     "fast length of %zu: %zu, want %zu", rows[i].in,
			     session_fast_len(rows[i].in), want);
	}
}
