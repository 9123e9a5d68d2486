/*
 * peer.h -- one remote gateway: its identity, its sessions (previous,
 * current, next), its endpoint, its timers and its counters.
 *
 * Owns the rotation of sessions, which is what makes rekeying lossless:
 * the initiator switches to a new session as soon as the handshake
 * completes; the responder keeps sending on the old one until the first
 * packet arrives under the new one (key confirmation); the previous session
 * still opens packets in flight.  Owns the decisions of when to start a
 * handshake or send a keepalive (peer_tick), but no I/O: the data path acts
 * on the verdicts.  Sessions and handshake state live in sodium_malloc
 * memory and are wiped when dropped.
 */
#ifndef TAPBRIDGE_PEER_H
#define TAPBRIDGE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "tapbridge/config.h"
#include "tapbridge/frame.h"
#include "tapbridge/handshake.h"
#include "tapbridge/pkt.h"
#include "tapbridge/pmtu.h"
#include "tapbridge/cookie.h"
#include "tapbridge/ratelimit.h"
#include "tapbridge/session.h"

#define PEER_STAGED_MAX		64	/* frames held while no session */
#define PEER_POOL_RESERVE	(2 * PKT_BATCH)	/* staging leaves these free */
#define PEER_KEEPALIVE_PASSIVE_MS 10000	/* answer received data within */
#define PEER_NEW_HANDSHAKE_MS	15000	/* sent data, heard nothing */

struct peer_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t handshakes;		/* completed */
	uint64_t tx_dropped;		/* no endpoint, staging overflow */
	uint64_t tx_fragmented;		/* frames sent in pieces */
	uint64_t rx_reassembled;	/* frames rebuilt from pieces */
	uint64_t mss_clamped;		/* TCP SYNs whose MSS was lowered */
	uint64_t drops[RX_VERDICT_MAX];	/* received and dropped, by reason */
};

struct peer {
	char name[CONFIG_NAME_MAX];
	char fingerprint[9];
	uint8_t public_key[WIRE_KEY_LEN];
	struct handshake *hs;
	struct session *previous, *current, *next;
	union pkt_addr endpoint;	/* family AF_UNSPEC until known */
	union pkt_addr conf_endpoint;	/* as configured; AF_UNSPEC = none */
	unsigned keepalive_s;		/* 0 = off */
	unsigned rekey_s;

	uint64_t hs_sent_ms;		/* last initiation sent */
	uint64_t hs_attempt_ms;		/* start of the attempt run; 0 = none */
	uint64_t hs_done_ms;		/* last completed handshake */
	uint64_t hs_consumed_ms;	/* last initiation accepted */
	struct ratelimit_bucket hs_limit; /* initiations from the endpoint */
	struct ratelimit_bucket hs_resp_limit; /* responses to ours */
	struct cookie_jar cookie;	/* from the peer, for our mac2 */
	uint64_t last_rx_ms;		/* last authenticated packet */
	uint64_t last_data_rx_ms;	/* last frame received */
	uint64_t last_tx_ms;		/* last packet sent */
	uint64_t unanswered_ms;		/* first data sent since last rx */

	struct pkt *staged, *staged_tail;
	unsigned nstaged;

	struct pmtu pmtu;
	unsigned wan_mtu;		/* 'wan-mtu', 0 = discover */
	uint64_t route_check_ms;
	uint32_t probe_id;
	uint32_t frag_id;		/* random start: see peer_init */
	struct frame_reasm *reasm;

	struct peer_stats stats;
};

/*
 * A peer as the configuration describes it once names are resolved and key
 * files read: what the privileged process hands the network process.  It
 * holds a preshared key: keep it in sodium_malloc memory and wipe it.
 */
struct peer_spec {
	char name[CONFIG_NAME_MAX];
	uint8_t public_key[WIRE_KEY_LEN];
	uint8_t psk[WIRE_KEY_LEN];	/* zeros when has_psk is 0 */
	uint8_t has_psk;
	union pkt_addr endpoint;	/* AF_UNSPEC: none configured */
	uint32_t keepalive;		/* seconds, 0 = off */
};

/* Settings every peer shares. */
struct peer_opts {
	unsigned rekey_s;		/* 'rekey-interval' */
	unsigned wan_mtu;		/* 'wan-mtu', 0 = discover */
	size_t max_frame;		/* largest frame to reassemble */
};

/*
 * peer_init(p, id, spec, o, now): set up p from its spec, endpoint
 * included.  Returns 0, or -1 (logged) if the public key is unusable or
 * memory fails.
 */
int peer_init(struct peer *p, const struct handshake_identity *id,
	      const struct peer_spec *spec, const struct peer_opts *o,
	      uint64_t now);

/*
 * peer_update(p, spec, o, now): apply a reloaded spec with the same name,
 * public key and preshared key to a running peer, keeping its sessions:
 * keepalive, rekey interval, path MTU setting, and the endpoint if the
 * configured one changed.
 */
void peer_update(struct peer *p, const struct peer_spec *spec,
		 const struct peer_opts *o, uint64_t now);

/* peer_same_keys(p, spec): spec names p's public and preshared keys. */
bool peer_same_keys(const struct peer *p, const struct peer_spec *spec);

/*
 * peer_set_endpoint(p, addr, route_mtu, now): p is now reached at addr,
 * whose route has route_mtu (0 = unknown).  A first endpoint, or one of
 * another address family, starts the path MTU search afresh.
 */
void peer_set_endpoint(struct peer *p, const union pkt_addr *addr,
		       unsigned route_mtu, uint64_t now);
/* peer_fini(p, pool): wipe and free sessions, return staged frames. */
void peer_fini(struct peer *p, struct pkt_pool *pool);

/* peer_has_index(p, index): a live session or pending handshake of p uses
 * index as its local (receiver) index. */
bool peer_has_index(const struct peer *p, uint32_t index);

/*
 * peer_session_for_index(p, index): the session of p receiving on index,
 * or NULL.  Pure lookup.
 */
struct session *peer_session_for_index(struct peer *p, uint32_t index);

/* peer_session_usable(p, s, now): s may still seal and open. */
bool peer_session_usable(const struct peer *p, const struct session *s,
			 uint64_t now);

/*
 * peer_install(p, s, now): consumes s, a session just derived.  An
 * initiator's session becomes current at once; a responder's waits as next
 * until confirmed by peer_confirm.
 */
void peer_install(struct peer *p, struct session *s, uint64_t now);

/*
 * peer_received(p, s, now): an authenticated packet arrived on s: confirm
 * s if it was next, and note the time.
 */
void peer_received(struct peer *p, struct session *s, uint64_t now);

/* peer_send_session(p, now): the session to seal with, or NULL. */
struct session *peer_send_session(struct peer *p, uint64_t now);

/*
 * peer_stage(p, pool, pkt): consumes pkt, kept until a session exists; the
 * oldest staged frame is dropped when PEER_STAGED_MAX are, or when fewer
 * than PEER_POOL_RESERVE buffers are left free in pool (then pkt itself if
 * none is staged).
 */
void peer_stage(struct peer *p, struct pkt_pool *pool, struct pkt *pkt);

/* peer_want_handshake(p, now): start an attempt run if none is active. */
void peer_want_handshake(struct peer *p, uint64_t now);

enum peer_action {
	PEER_NOTHING = 0,
	PEER_SEND_INITIATION = 1 << 0,
	PEER_SEND_KEEPALIVE = 1 << 1,
	PEER_FLUSH_STAGED = 1 << 2,
};

/*
 * peer_tick(p, pool, now): advance timers: expire old sessions, retry or
 * give up handshakes, decide rekeys and keepalives.  Returns the actions
 * (a mask of enum peer_action) the data path must take now.
 */
unsigned peer_tick(struct peer *p, struct pkt_pool *pool, uint64_t now);

/* peer_reject_ms(p): age at which a session is no longer used. */
uint64_t peer_reject_ms(const struct peer *p);

#endif
