/*
 * ratelimit.h -- how many handshake messages may cost us a Diffie-Hellman:
 * strangers are limited per source address (in a fixed table indexed by a
 * keyed hash, so colliding on purpose is not possible) and all together;
 * a source that is the endpoint of a configured peer takes from that
 * peer's own bucket instead, so a flood from other addresses can neither
 * starve the real peers' rekeys nor refill a peer's bucket by evicting its
 * table slot.  A flood that forges a peer's own address does spend that
 * bucket: the data path then answers with cookie replies (cookie.h), and
 * initiations whose mac2 proves their address take from a second table
 * that no forger can reach.  No allocation after ratelimit_init, no
 * logging.
 */
#ifndef TAPBRIDGE_RATELIMIT_H
#define TAPBRIDGE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "tapbridge/pkt.h"

#define RATELIMIT_SLOTS		256
#define RATELIMIT_SOURCE_RATE	20	/* messages per second per source */
#define RATELIMIT_SOURCE_BURST	5
#define RATELIMIT_ALL_RATE	500	/* per second, strangers together */
#define RATELIMIT_ALL_BURST	50
#define RATELIMIT_COOKIE_RATE	5000	/* cookie replies per second, all */
#define RATELIMIT_COOKIE_BURST	500

struct ratelimit_bucket {
	uint64_t last_ms;
	uint32_t milli;		/* tokens, in thousandths */
};

struct ratelimit {
	uint8_t hash_key[16];
	struct ratelimit_slot {
		uint8_t addr[16];
		struct ratelimit_bucket b;
	} slot[RATELIMIT_SLOTS];
	struct ratelimit_bucket all;
	uint64_t limited;	/* messages refused */
};

/* ratelimit_init(r): empty table, full buckets, a fresh hash key. */
void ratelimit_init(struct ratelimit *r);

/*
 * ratelimit_allow(r, from, own, now_ms): may a handshake message from this
 * address be processed now?  own: the bucket of the peer whose endpoint
 * from is, or NULL for a stranger, who needs a token both from its
 * address's slot and from the common bucket (neither is taken unless both
 * have one).  Takes the tokens when it says yes; counts a refusal
 * otherwise.  A zeroed bucket is a full one.
 */
bool ratelimit_allow(struct ratelimit *r, const union pkt_addr *from,
		     struct ratelimit_bucket *own, uint64_t now_ms);

/* ratelimit_take(b, rate, burst, now_ms): take a token from b (rate a
 * second, at most burst held) if it has one. */
bool ratelimit_take(struct ratelimit_bucket *b, unsigned rate, unsigned burst,
		    uint64_t now_ms);

#endif
