/*
 * datapath_impl.h -- what the files of the data path share: the state of
 * struct datapath and the functions one direction calls in another.  Not
 * part of any public surface: only src/datapath.c, src/dp_tx.c, src/dp_rx.c
 * and src/dp_handshake.c include it.
 *
 *   datapath.c      lifecycle, entry points from the loop, timers, status
 *   dp_tx.c         TAP -> tunnel: segmenting, clamping, fragmenting,
 *                   sealing, batching for sendmmsg / UDP GSO
 *   dp_rx.c         tunnel -> TAP: opening, inner messages, coalescing
 *   dp_handshake.c  initiations and responses, session installation
 */
#ifndef TAPBRIDGE_DATAPATH_IMPL_H
#define TAPBRIDGE_DATAPATH_IMPL_H

#include "tapbridge/datapath.h"
#include "tapbridge/cookie.h"
#include "tapbridge/gro.h"
#include "tapbridge/ratelimit.h"

#define WARN_INTERVAL_MS 60000	/* operator warnings, per kind */

struct datapath {
	int tap_fd;
	struct udp *udp;
	struct pkt_pool *pool;
	struct handshake_identity *id;
	struct peer *peers;
	size_t npeers;
	struct handshake *scratch;	/* responder work area */
	struct gro *gro;		/* received TCP and UDP coalesced */
	char interface[IFNAMSIZ], bridge[IFNAMSIZ];
	uint64_t now;
	uint64_t drops[RX_VERDICT_MAX];	/* not attributable to a peer */
	uint64_t tap_write_errors;
	uint64_t tap_bad_frames;	/* offload metadata we cannot honour */
	uint64_t tap_supers;		/* super-frames read, cut here */
	uint64_t warn_mac1_ms, warn_unknown_ms;
	uint64_t too_big_seen;		/* udp->too_big already handled */
	int clamp_mss;
	struct ratelimit rl;		/* initiations that may cost a DH */
	struct ratelimit rl_proven;	/* those with a valid mac2 */
	struct ratelimit_bucket cookie_replies;
	struct cookie_checker cookie;
	struct pkt_batch out;		/* sealed, waiting for sendmmsg */
};

/* dp_tx.c */

/* dp_tx_from_tap(dp, p): a read from the TAP (virtio_net_hdr, then the
 * frame) to every peer it is for; consumes p. */
void dp_tx_from_tap(struct datapath *dp, struct pkt *p);
/* dp_flush_out(dp): sendmmsg what is queued. */
void dp_flush_out(struct datapath *dp);
/* dp_seal_and_queue(dp, peer, s, p): seal the inner message in p for peer
 * on s and queue it; consumes p. */
void dp_seal_and_queue(struct datapath *dp, struct peer *peer,
		       struct session *s, struct pkt *p);
/* dp_payload_max(peer): room for an inner message in one datagram. */
size_t dp_payload_max(const struct peer *peer);
/* dp_send_keepalive(dp, peer): an empty sealed message, if a session is up. */
void dp_send_keepalive(struct datapath *dp, struct peer *peer);
/* dp_flush_staged(dp, peer): send what waited for a session. */
void dp_flush_staged(struct datapath *dp, struct peer *peer);
/* dp_send_probe(dp, peer, size): a path MTU probe of size bytes. */
void dp_send_probe(struct datapath *dp, struct peer *peer, unsigned size);

/* dp_rx.c */

/* dp_rx_datagrams(dp, p): handle every datagram in p (one, or several
 * back to back after UDP GRO); does not consume p. */
void dp_rx_datagrams(struct datapath *dp, struct pkt *p);
/* dp_roam(dp, peer, from): the peer's endpoint follows an authenticated
 * packet. */
void dp_roam(struct datapath *dp, struct peer *peer,
	     const union pkt_addr *from);

/* dp_handshake.c */

/* dp_send_initiation(dp, peer): start a handshake towards peer. */
void dp_send_initiation(struct datapath *dp, struct peer *peer);
/* dp_rx_initiation(dp, p), dp_rx_response(dp, p), dp_rx_cookie(dp, p):
 * handshake messages. */
void dp_rx_initiation(struct datapath *dp, struct pkt *p);
void dp_rx_response(struct datapath *dp, struct pkt *p);
void dp_rx_cookie(struct datapath *dp, struct pkt *p);

#endif
