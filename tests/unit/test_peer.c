/*
 * test_peer.c -- frames staged while a peer has no session.
 */
#include <string.h>

#include <criterion/criterion.h>

#include <sodium.h>

#include "tapbridge/handshake.h"
#include "tapbridge/keys.h"
#include "tapbridge/peer.h"
#include "tapbridge/pkt.h"

#define SPARE 10	/* buffers beyond the reserve */

static struct pkt_pool *pool;
static struct peer a, b;

static void setup(void)
{
	pool = pkt_pool_new(PEER_POOL_RESERVE + SPARE, 1600);
	cr_assert_not_null(pool);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
}

static void teardown(void)
{
	peer_fini(&a, pool);
	peer_fini(&b, pool);
	pkt_pool_free(pool);
}

TestSuite(peer, .init = setup, .fini = teardown);

/* Stage n frames, numbered from first, for p. */
static void stage(struct peer *p, unsigned first, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct pkt *q = pkt_get(pool);

		cr_assert_not_null(q, "the pool ran dry at frame %u", i);
		q->len = 4;
		memcpy(q->data, &(unsigned){ first + i }, 4);
		peer_stage(p, pool, q);
	}
}

static unsigned first_staged(const struct peer *p)
{
	unsigned v;

	memcpy(&v, p->staged->data, 4);
	return v;
}

Test(peer, staging_keeps_the_newest_up_to_its_limit)
{
	pkt_pool_free(pool);
	pool = pkt_pool_new(PEER_POOL_RESERVE + 2 * PEER_STAGED_MAX, 1600);
	stage(&a, 0, PEER_STAGED_MAX + 5);
	cr_assert_eq(a.nstaged, PEER_STAGED_MAX);
	cr_assert_eq(first_staged(&a), 5, "the oldest five were dropped");
	cr_assert_eq(a.stats.tx_dropped, 5);
}

/*
 * A pool sized for fewer peers than now wait (a reload added them): staging
 * stops at the reserve, whatever the peers, so the data path keeps
 * PEER_POOL_RESERVE buffers to forward with.
 */
Test(peer, staging_never_takes_the_reserve)
{
	stage(&a, 0, PEER_STAGED_MAX);
	cr_assert_eq(a.nstaged, SPARE);
	cr_assert_eq(first_staged(&a), PEER_STAGED_MAX - SPARE);
	cr_assert_eq(pkt_pool_avail(pool), PEER_POOL_RESERVE);
	stage(&b, 1000, 5);
	cr_assert_eq(b.nstaged, 0, "a peer with nothing staged gets nothing");
	cr_assert_eq(b.stats.tx_dropped, 5);
	cr_assert_eq(pkt_pool_avail(pool), PEER_POOL_RESERVE);
}

/* Identities of two gateways, and peer a (gateway 1's view of gateway 2). */
static struct handshake_identity id1, id2;

static void two_gateways(void)
{
	struct peer_opts o = { .rekey_s = 120, .wan_mtu = 1500,
			       .max_frame = 1514 };
	struct peer_spec spec;
	struct keys_secret *k1 = keys_secret_new(), *k2 = keys_secret_new();

	cr_assert_geq(sodium_init(), 0);
	cr_assert(k1 && k2);
	keys_generate(k1);
	keys_generate(k2);
	cr_assert_eq(handshake_identity_init(&id1, k1), 0);
	cr_assert_eq(handshake_identity_init(&id2, k2), 0);
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "two");
	memcpy(spec.public_key, id2.pub, WIRE_KEY_LEN);
	spec.endpoint.sa.sa_family = AF_UNSPEC;
	cr_assert_eq(peer_init(&a, &id1, &spec, &o, 0), 0);
}

static void two_gateways_fini(void)
{
	handshake_identity_fini(&id1);
	handshake_identity_fini(&id2);
}

/*
 * A handshake given up (no response for WIRE_REKEY_ATTEMPT_TIME) wipes its
 * ephemeral private key, and a response held back until then completes
 * nothing.
 */
Test(peer, a_handshake_given_up_wipes_its_ephemeral_key)
{
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN];
	struct handshake_pending hp;
	struct handshake *hs2;
	uint64_t t0 = 1000;

	two_gateways();
	hs2 = handshake_new(&id2, id1.pub, NULL);
	cr_assert_not_null(hs2);
	peer_want_handshake(&a, t0);
	cr_assert_eq(handshake_create_initiation(a.hs, &id1, 7, init), 0);
	cr_assert_eq(handshake_consume_initiation(&id2, init, sizeof(init),
						  &hp), 0);
	cr_assert_eq(handshake_accept_initiation(hs2, &hp), 0);
	cr_assert_eq(handshake_create_response(hs2, &id2, 9, resp), 0);
	sodium_memzero(&hp, sizeof(hp));

	peer_tick(&a, pool, t0 + WIRE_REKEY_ATTEMPT_TIME * 1000 - 1);
	cr_assert_eq(a.hs->state, HS_INITIATION_SENT, "gave up too early");
	peer_tick(&a, pool, t0 + WIRE_REKEY_ATTEMPT_TIME * 1000);
	cr_assert_eq(a.hs->state, HS_IDLE);
	cr_assert(sodium_is_zero(a.hs->eph_priv, WIRE_KEY_LEN),
		  "the ephemeral private key outlived the attempt");
	cr_assert_eq(handshake_consume_response(a.hs, &id1, resp,
						sizeof(resp)), -1,
		     "a late response completed the abandoned handshake");
	handshake_free(hs2);
	two_gateways_fini();
}

/*
 * The session a new one replaces opens what is in flight, nothing more: its
 * sending key is wiped at once, it is never the one to send on, and it
 * still opens what arrives (a datagram sent just before the switch).
 */
Test(peer, a_replaced_session_keeps_no_sending_key)
{
	struct session *old = session_new(), *s = session_new();

	two_gateways();
	cr_assert(old && s);
	randombytes_buf(old->send_key, sizeof(old->send_key));
	old->birth_ms = 4000;
	s->birth_ms = 5000;
	a.current = old;
	s->initiator = 1;
	peer_install(&a, s, 5000);
	cr_assert_eq(a.previous, old);
	cr_assert_eq(a.current, s);
	cr_assert(sodium_is_zero(old->send_key, sizeof(old->send_key)));
	cr_assert_eq(peer_send_session(&a, 5001), s);
	cr_assert(peer_session_usable(&a, old, 5001),
		  "the replaced session no longer opens datagrams in flight");
	two_gateways_fini();
}
