/*
 * ratelimit.h -- how many handshake initiations may cost us a
 * Diffie-Hellman: a token bucket per source address (in a fixed table
 * indexed by a keyed hash, so colliding on purpose is not possible) and
 * one for all strangers together.  A source that is the endpoint of a
 * configured peer skips the common bucket, so a flood from spoofed
 * addresses cannot starve the real peers' rekeys.  No allocation after
 * ratelimit_init, no logging.
 */
#ifndef TAPBRIDGE_RATELIMIT_H
#define TAPBRIDGE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "tapbridge/pkt.h"

#define RATELIMIT_SLOTS		256
#define RATELIMIT_SOURCE_RATE	20	/* initiations per second per source */
#define RATELIMIT_SOURCE_BURST	5
#define RATELIMIT_ALL_RATE	500	/* per second, strangers together */
#define RATELIMIT_ALL_BURST	50

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
	uint64_t limited;	/* initiations refused */
};

/* ratelimit_init(r): empty table, full buckets, a fresh hash key. */
void ratelimit_init(struct ratelimit *r);

/*
 * ratelimit_allow(r, from, known, now_ms): may an initiation from this
 * address be processed now?  known: the address is a peer's endpoint.
 * Takes a token when it says yes; counts a refusal otherwise.
 */
bool ratelimit_allow(struct ratelimit *r, const union pkt_addr *from,
		     bool known, uint64_t now_ms);

#endif
