/*
 * test_ratelimit.c -- token buckets for handshake initiations.
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

static unsigned allowed(struct ratelimit *r, const union pkt_addr *a,
			bool known, uint64_t from, uint64_t to, uint64_t step)
{
	unsigned n = 0;
	uint64_t t;

	for (t = from; t < to; t += step)
		n += ratelimit_allow(r, a, known, t);
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
	n = allowed(&r, &a, false, 1000, 1010, 1);
	cr_assert_eq(n, RATELIMIT_SOURCE_BURST, "burst %u", n);
	/* Then 10 s at 1000/s: about the rate. */
	n = allowed(&r, &a, false, 1010, 11010, 1);
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
	/* 20000 initiations in 2 s from 20000 different addresses. */
	for (i = 0; i < 20000; i++, t += (i % 10 == 0)) {
		union pkt_addr a;
		char ip[32];

		snprintf(ip, sizeof(ip), "198.19.%u.%u", (i >> 8) & 0xff,
			 i & 0xff);
		a = v4(ip);
		n += ratelimit_allow(&r, &a, false, t);
	}
	cr_assert_leq(n, RATELIMIT_ALL_RATE * 2 + RATELIMIT_ALL_BURST, "%u", n);
	cr_assert_geq(n, RATELIMIT_ALL_RATE * 2 - 10, "%u", n);
}

Test(ratelimit, a_known_peer_is_not_starved_by_strangers)
{
	struct ratelimit r;
	union pkt_addr peer = v4("198.18.0.1");
	unsigned i, ok = 0;
	uint64_t t = 1000;

	ratelimit_init(&r);
	for (i = 0; i < 50000; i++, t++) {
		union pkt_addr a;
		char ip[32];

		snprintf(ip, sizeof(ip), "198.19.%u.%u", (i >> 8) & 0xff,
			 i & 0xff);
		a = v4(ip);
		ratelimit_allow(&r, &a, false, t);
		if (i % 1000 == 0)	/* the peer, once a second */
			ok += ratelimit_allow(&r, &peer, true, t);
	}
	cr_assert_eq(ok, 50, "the peer got %u of 50", ok);
}
