/*
 * test_cookie.c -- cookie replies and mac2 (src/cookie.c): a cookie reply
 * opens only at the initiator whose initiation it answers, the mac2 made
 * with its cookie proves that initiator's address and no other, and
 * neither outlives its time.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "tapbridge/cookie.h"

static uint8_t pub_r[WIRE_KEY_LEN], pub_x[WIRE_KEY_LEN];
static struct cookie_checker checker;
static struct cookie_jar jar;
static union pkt_addr from;

#define T0	1000000u	/* a time in ms, as loop_now_ms gives */

static void addr4(union pkt_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in4.sin_family = AF_INET;
	a->in4.sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &a->in4.sin_addr), 1);
}

/* An initiation as the handshake makes it: any bytes, mac2 zero. */
static void initiation(uint8_t init[WIRE_INIT_LEN])
{
	randombytes_buf(init, WIRE_INIT_LEN);
	init[0] = WIRE_MSG_INITIATION;
	init[1] = init[2] = init[3] = 0;
	memset(init + WIRE_INIT_MAC2_OFF, 0, WIRE_MAC2_LEN);
}

static void setup(void)
{
	cr_assert_geq(sodium_init(), 0);
	randombytes_buf(pub_r, sizeof(pub_r));
	randombytes_buf(pub_x, sizeof(pub_x));
	cookie_checker_init(&checker, pub_r);
	cookie_jar_init(&jar, pub_r);
	addr4(&from, "198.18.0.1", 51820);
}

TestSuite(cookie, .init = setup);

/* The initiator sends init, is refused, takes the reply; returns the next
 * initiation, stamped with the cookie. */
static void round_trip(uint8_t next[WIRE_INIT_LEN], uint64_t now)
{
	uint8_t init[WIRE_INIT_LEN], reply[WIRE_COOKIE_REPLY_LEN];

	initiation(init);
	cookie_jar_stamp(&jar, init, now);
	cr_assert(sodium_is_zero(init + WIRE_INIT_MAC2_OFF, WIRE_MAC2_LEN),
		  "no cookie yet: mac2 stays zero");
	cr_assert_not(cookie_mac2_ok(&checker, &from, init, now));
	cookie_reply(&checker, &from, init, reply, now);
	cr_assert_eq(reply[0], WIRE_MSG_COOKIE);
	cr_assert_eq(cookie_reply_receiver(reply),
		     wire_get32(init + WIRE_INIT_SENDER_OFF));
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply), now), 0);
	initiation(next);
	cookie_jar_stamp(&jar, next, now);
	cr_assert_not(sodium_is_zero(next + WIRE_INIT_MAC2_OFF, WIRE_MAC2_LEN));
}

Test(cookie, mac2_proves_the_address_the_cookie_went_to)
{
	uint8_t init[WIRE_INIT_LEN];
	union pkt_addr other;

	round_trip(init, T0);
	cr_assert(cookie_mac2_ok(&checker, &from, init, T0 + 2000));
	addr4(&other, "198.18.0.99", 51820);
	cr_assert_not(cookie_mac2_ok(&checker, &other, init, T0 + 2000));
	addr4(&other, "198.18.0.1", 51821);
	cr_assert_not(cookie_mac2_ok(&checker, &other, init, T0 + 2000),
		      "the port is part of the address");
	init[5] ^= 1;	/* mac2 covers the message */
	cr_assert_not(cookie_mac2_ok(&checker, &from, init, T0 + 2000));
}

Test(cookie, ipv6_addresses_are_proved_too)
{
	uint8_t init[WIRE_INIT_LEN];
	union pkt_addr other;

	memset(&from, 0, sizeof(from));
	from.in6.sin6_family = AF_INET6;
	from.in6.sin6_port = htons(7000);
	cr_assert_eq(inet_pton(AF_INET6, "fd00::1", &from.in6.sin6_addr), 1);
	round_trip(init, T0);
	cr_assert(cookie_mac2_ok(&checker, &from, init, T0));
	other = from;
	other.in6.sin6_addr.s6_addr[15] = 2;
	cr_assert_not(cookie_mac2_ok(&checker, &other, init, T0));
}

Test(cookie, reply_opens_only_for_the_initiation_it_answers)
{
	uint8_t init[WIRE_INIT_LEN], mine[WIRE_INIT_LEN];
	uint8_t reply[WIRE_COOKIE_REPLY_LEN], bad[WIRE_COOKIE_REPLY_LEN];
	struct cookie_jar other;
	size_t i;

	/* A reply to someone else's initiation (another mac1). */
	initiation(mine);
	cookie_jar_stamp(&jar, mine, T0);
	initiation(init);
	cookie_reply(&checker, &from, init, reply, T0);
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply), T0), -1);
	cr_assert_eq(jar.cookie_ms, 0);

	/* A reply to ours, from a gateway with another public key. */
	cookie_reply(&checker, &from, mine, reply, T0);
	cookie_jar_init(&other, pub_x);
	memcpy(other.sent_mac1, jar.sent_mac1, WIRE_MAC1_LEN);
	other.sent = true;
	cr_assert_eq(cookie_jar_take(&other, reply, sizeof(reply), T0), -1);

	/* Any flipped byte but the receiver index (the caller matches it
	 * to the initiation it waits on), or a wrong length. */
	for (i = 0; i < sizeof(reply); i++) {
		if (i >= WIRE_COOKIE_RECEIVER_OFF &&
		    i < WIRE_COOKIE_RECEIVER_OFF + 4)
			continue;
		memcpy(bad, reply, sizeof(bad));
		bad[i] ^= 0x40;
		cr_assert_eq(cookie_jar_take(&jar, bad, sizeof(bad), T0), -1,
			     "byte %zu", i);
	}
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply) - 1, T0), -1);
	cr_assert_eq(jar.cookie_ms, 0);

	/* The reply itself, once; not again (a replay). */
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply), T0), 0);
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply), T0 + 1), -1);
	cr_assert_eq(jar.cookie_ms, T0);
}

Test(cookie, a_jar_without_an_initiation_sent_takes_nothing)
{
	uint8_t init[WIRE_INIT_LEN], reply[WIRE_COOKIE_REPLY_LEN];

	initiation(init);
	cookie_reply(&checker, &from, init, reply, T0);
	cr_assert_eq(cookie_jar_take(&jar, reply, sizeof(reply), T0), -1);
}

Test(cookie, the_initiator_stops_using_an_old_cookie)
{
	uint8_t init[WIRE_INIT_LEN];

	round_trip(init, T0);
	initiation(init);
	cookie_jar_stamp(&jar, init, T0 + WIRE_COOKIE_USE_MS - 1);
	cr_assert_not(sodium_is_zero(init + WIRE_INIT_MAC2_OFF,
				     WIRE_MAC2_LEN));
	initiation(init);
	cookie_jar_stamp(&jar, init, T0 + WIRE_COOKIE_USE_MS);
	cr_assert(sodium_is_zero(init + WIRE_INIT_MAC2_OFF, WIRE_MAC2_LEN));
}

Test(cookie, the_responder_renews_its_secret)
{
	uint8_t init[WIRE_INIT_LEN];

	round_trip(init, T0);
	cr_assert(cookie_mac2_ok(&checker, &from, init,
				 T0 + WIRE_COOKIE_SECRET_MS - 1));
	cr_assert_not(cookie_mac2_ok(&checker, &from, init,
				     T0 + WIRE_COOKIE_SECRET_MS),
		      "a cookie of the old secret still passes");
}

Test(cookie, a_zero_mac2_never_passes)
{
	uint8_t init[WIRE_INIT_LEN];

	initiation(init);
	cr_assert_not(cookie_mac2_ok(&checker, &from, init, T0));
}
