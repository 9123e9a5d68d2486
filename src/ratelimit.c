/*
 * ratelimit.c -- token buckets for handshake messages; see ratelimit.h.
 */
#include <string.h>

#include <sodium.h>

#include "tapbridge/ratelimit.h"

void ratelimit_init(struct ratelimit *r)
{
	memset(r, 0, sizeof(*r));
	randombytes_buf(r->hash_key, sizeof(r->hash_key));
	r->all.milli = RATELIMIT_ALL_BURST * 1000;
}

/* Refill b for the time passed; does it hold a token? */
static bool refill(struct ratelimit_bucket *b, unsigned rate, unsigned burst,
		   uint64_t now)
{
	uint64_t t = b->milli;

	if (now > b->last_ms)
		t += (now - b->last_ms) * rate;
	b->last_ms = now;
	b->milli = (uint32_t)(t > burst * 1000u ? burst * 1000u : t);
	return b->milli >= 1000;
}

bool ratelimit_take(struct ratelimit_bucket *b, unsigned rate, unsigned burst,
		    uint64_t now_ms)
{
	if (!refill(b, rate, burst, now_ms))
		return false;
	b->milli -= 1000;
	return true;
}

bool ratelimit_allow(struct ratelimit *r, const union pkt_addr *from,
		     struct ratelimit_bucket *own, uint64_t now_ms)
{
	uint8_t key[16], h[crypto_shorthash_BYTES];
	struct ratelimit_slot *s;

	if (own) {
		if (!ratelimit_take(own, RATELIMIT_SOURCE_RATE,
				    RATELIMIT_SOURCE_BURST, now_ms))
			goto refuse;
		return true;
	}
	pkt_addr_key(key, from);
	crypto_shorthash(h, key, sizeof(key), r->hash_key);
	s = &r->slot[h[0] % RATELIMIT_SLOTS];
	if (memcmp(s->addr, key, sizeof(key)) || !s->b.last_ms) {
		/* A new source (or one that evicted another): full bucket.
		 * It still needs the common bucket, which bounds them all. */
		memcpy(s->addr, key, sizeof(key));
		s->b.last_ms = now_ms;
		s->b.milli = RATELIMIT_SOURCE_BURST * 1000;
	}
	if (!refill(&s->b, RATELIMIT_SOURCE_RATE, RATELIMIT_SOURCE_BURST,
		    now_ms) ||
	    !refill(&r->all, RATELIMIT_ALL_RATE, RATELIMIT_ALL_BURST, now_ms))
		goto refuse;
	s->b.milli -= 1000;
	r->all.milli -= 1000;
	return true;
refuse:
	r->limited++;
	return false;
}
