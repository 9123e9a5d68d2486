/*
 * test_peer.c -- frames staged while a peer has no session.
 */
#include <string.h>

#include <criterion/criterion.h>

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
