/*
 * test_ratelimit.c -- token buckets for handshake messages.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "tapbridge/ratelimit.h"

static union pkt_addr v4(const char *ip)
{
	union pkt_addr a;

	memset(&a, 0, sizeof(a));
	a.in4.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a.in4.sin_addr);
	a.in4.sin_port = htons(7000);
	return a;
}

/* The i-th of many stranger addresses. */
static union pkt_addr stranger(unsigned i)
{
	char ip[32];

	snprintf(ip, sizeof(ip), "198.19.%u.%u", (i >> 8) & 0xff, i & 0xff);
	return v4(ip);
}

static unsigned allowed(struct ratelimit *r, const union pkt_addr *a,
			struct ratelimit_bucket *own, uint64_t from,
			uint64_t to, uint64_t step)
{
	unsigned n = 0;
	uint64_t t;

	for (t = from; t < to; t += step)
		n += ratelimit_allow(r, a, own, t);
	return n;
}

Test(ratelimit, one_source_gets_its_burst_then_its_rate)
{
	struct ratelimit r;
	union pkt_addr a = v4("198.18.0.66");
	unsigned n;

	cr_assert(sodium_init() >= 0);
	ratelimit_init(&r);
	/* 10 in 10 ms: the burst only. */
	n = allowed(&r, &a, NULL, 1000, 1010, 1);
	cr_assert_eq(n, RATELIMIT_SOURCE_BURST, "burst %u", n);
	/* Then 10 s at 1000/s: about the rate. */
	n = allowed(&r, &a, NULL, 1010, 11010, 1);
	cr_assert_geq(n, RATELIMIT_SOURCE_RATE * 10 - 2);
	cr_assert_leq(n, RATELIMIT_SOURCE_RATE * 10 + RATELIMIT_SOURCE_BURST);
	cr_assert_gt(r.limited, 9000);
}

Test(ratelimit, many_strangers_share_one_budget)
{
	struct ratelimit r;
	unsigned i, n = 0;
	uint64_t t = 5000;

	ratelimit_init(&r);
	/* 20000 messages in 2 s from 20000 different addresses. */
	for (i = 0; i < 20000; i++, t += (i % 10 == 0)) {
		union pkt_addr a = stranger(i);

		n += ratelimit_allow(&r, &a, NULL, t);
	}
	cr_assert_leq(n, RATELIMIT_ALL_RATE * 2 + RATELIMIT_ALL_BURST, "%u", n);
	cr_assert_geq(n, RATELIMIT_ALL_RATE * 2 - 10, "%u", n);
}

Test(ratelimit, a_known_peer_is_not_starved_by_strangers)
{
	struct ratelimit r;
	struct ratelimit_bucket own = { 0, 0 };
	union pkt_addr peer = v4("198.18.0.1");
	unsigned i, ok = 0;
	uint64_t t = 1000;

	ratelimit_init(&r);
	for (i = 0; i < 50000; i++, t++) {
		union pkt_addr a = stranger(i);

		ratelimit_allow(&r, &a, NULL, t);
		if (i % 1000 == 0)	/* the peer, once a second */
			ok += ratelimit_allow(&r, &peer, &own, t);
	}
	cr_assert_eq(ok, 50, "the peer got %u of 50", ok);
}

/*
 * Someone who spoofs a peer's endpoint gets that peer's rate and no more,
 * however many strangers' messages (each evicting a table slot, one in 256
 * the slot the endpoint's address would hash to) come with it.
 */
Test(ratelimit, strangers_cannot_refill_a_peers_bucket)
{
	struct ratelimit r;
	struct ratelimit_bucket own = { 0, 0 };
	union pkt_addr peer = v4("198.18.0.1");
	unsigned i, j, ok = 0;
	uint64_t t = 1000;

	ratelimit_init(&r);
	for (i = 0; i < 2000; i++, t++) {	/* 2 s */
		ok += ratelimit_allow(&r, &peer, &own, t);
		for (j = 0; j < 60; j++) {
			union pkt_addr a = stranger(i * 60 + j);

			ratelimit_allow(&r, &a, NULL, t);
		}
	}
	cr_assert_leq(ok, RATELIMIT_SOURCE_RATE * 2 + RATELIMIT_SOURCE_BURST,
		      "the spoofed endpoint got %u", ok);
	cr_assert_geq(ok, RATELIMIT_SOURCE_RATE * 2 - 2, "%u", ok);
}

/* A stranger refused by its own bucket takes nothing from the common one. */
Test(ratelimit, one_loud_stranger_does_not_drain_the_common_bucket)
{
	struct ratelimit r;
	union pkt_addr loud = v4("198.18.0.66");
	unsigned i, n = 0;

	ratelimit_init(&r);
	/* 10000 in 100 ms: its burst and two more. */
	for (i = 0; i < 10000; i++)
		n += ratelimit_allow(&r, &loud, NULL, 1000 + i / 100);
	cr_assert_leq(n, RATELIMIT_SOURCE_BURST + 3, "%u", n);
	n = 0;
	/* Others at the same moment still find the common burst. */
	for (i = 0; i < RATELIMIT_ALL_BURST * 2; i++) {
		union pkt_addr a = stranger(i);

		n += ratelimit_allow(&r, &a, NULL, 1100);
	}
	cr_assert_geq(n, RATELIMIT_ALL_BURST - 10, "%u", n);
}
