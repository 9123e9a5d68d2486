/*
 * pmtu.h -- path MTU towards one peer: what the kernel knows of the route,
 * refined by in-tunnel probes (packetization-layer PMTU discovery in the
 * spirit of RFC 8899), so the data path never sends a datagram the path
 * cannot carry and never relies on IP fragmentation or ICMP.
 *
 * A probe is a sealed data message padded to a size under test; the peer
 * acknowledges it.  The search starts from the route's MTU, falls back by
 * bisection when probes go unanswered, confirms the size in use every
 * PMTU_CONFIRM_MS (so a silent drop is followed down) and tries the route's
 * MTU again when it is larger (so a rise is followed up).  While a search
 * runs, the MTU in use is the largest size known to work.  Pure state: no
 * I/O, no clock; the caller passes the time and sends the probes.
 */
#ifndef TAPBRIDGE_PMTU_H
#define TAPBRIDGE_PMTU_H

#include <stdint.h>

#define PMTU_MIN		576	/* IPv4 floor; IPv6 uses 1280 */
#define PMTU_MIN_V6		1280
#define PMTU_MAX		9000
#define PMTU_PROBE_TIMEOUT_MS	400
#define PMTU_PROBE_TRIES	3
#define PMTU_CONFIRM_MS		15000
#define PMTU_RESOLUTION		8	/* stop bisecting below this gap */

struct pmtu {
	unsigned fixed;		/* 'wan-mtu' from the config, 0 = discover */
	unsigned floor;		/* smallest size the family guarantees */
	unsigned route;		/* the kernel's MTU for the route */
	unsigned mtu;		/* in use */
	unsigned lo, hi;	/* search: lo works, nothing above hi can */
	unsigned lo_ok;		/* lo is confirmed in this round */
	unsigned first;		/* next probe is hi, not a bisection */
	unsigned probe;		/* size in flight, 0 = none */
	unsigned tries;
	uint32_t probe_id;
	uint64_t probe_ms;
	uint64_t next_ms;	/* next confirmation; 0 = searching */
	uint64_t changes;	/* times mtu changed, for status */
};

/*
 * pmtu_init(m, fixed, floor, route): start with the route's MTU (or fixed,
 * capped by the route) and search from there.
 */
void pmtu_init(struct pmtu *m, unsigned fixed, unsigned floor, unsigned route);

/*
 * pmtu_route(m, route, now): the kernel's route MTU is now route (0 =
 * unknown).  A drop takes effect at once; a rise is probed.
 */
void pmtu_route(struct pmtu *m, unsigned route, uint64_t now);

/*
 * pmtu_check_soon(m, now): the path may have changed (the peer moved to
 * another address): confirm the size in use now rather than at the next
 * periodic check (if it no longer passes, search again); in the middle of
 * a search, search again from the floor.  Nothing with a fixed size.
 */
void pmtu_check_soon(struct pmtu *m, uint64_t now);

/*
 * pmtu_next_probe(m, now, id): the size to probe now, or 0 for none.  When
 * non-zero the probe is registered as sent with *id as its identifier.
 */
unsigned pmtu_next_probe(struct pmtu *m, uint64_t now, uint32_t id);

/* pmtu_ack(m, id, now): the probe with this id arrived at the peer. */
void pmtu_ack(struct pmtu *m, uint32_t id, uint64_t now);

/* pmtu_too_big(m, size, now): sending size failed locally (EMSGSIZE). */
void pmtu_too_big(struct pmtu *m, unsigned size, uint64_t now);

#endif
