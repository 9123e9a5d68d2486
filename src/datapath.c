/*
 * datapath.c -- tunnel send and receive paths, handshake dispatch; see
 * datapath.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tapbridge/datapath.h"
#include "tapbridge/gso.h"
#include "tapbridge/log.h"
#include "tapbridge/mss.h"
#include "tapbridge/tap.h"

#define WARN_INTERVAL_MS 60000	/* operator warnings, per kind */
#define ROUTE_CHECK_MS	1000	/* ask the kernel for the route MTU */

struct datapath {
	int tap_fd;
	struct udp *udp;
	struct pkt_pool *pool;
	struct handshake_identity *id;
	struct peer *peers;
	size_t npeers;
	struct handshake *scratch;	/* responder work area */
	char interface[IFNAMSIZ], bridge[IFNAMSIZ];
	uint64_t now;
	uint64_t drops[RX_VERDICT_MAX];	/* not attributable to a peer */
	uint64_t tap_write_errors;
	uint64_t tap_bad_frames;	/* offload metadata we cannot honour */
	uint64_t warn_mac1_ms, warn_unknown_ms;
	uint64_t too_big_seen;		/* udp->too_big already handled */
	int clamp_mss;
	struct pkt_batch out;		/* sealed, waiting for sendmmsg */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct datapath *datapath_new(const struct datapath_setup *setup)
{
	struct datapath *dp;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->scratch = sodium_malloc(sizeof(*dp->scratch));
	if (!dp->scratch) {
		free(dp);
		return NULL;
	}
	dp->tap_fd = setup->tap_fd;
	dp->udp = setup->udp;
	dp->pool = setup->pool;
	dp->id = setup->id;
	dp->peers = setup->peers;
	dp->npeers = setup->npeers;
	dp->clamp_mss = setup->clamp_mss;
	snprintf(dp->interface, sizeof(dp->interface), "%s", setup->interface);
	snprintf(dp->bridge, sizeof(dp->bridge), "%s", setup->bridge);
	dp->now = now_ms();
	return dp;
}

void datapath_free(struct datapath *dp)
{
	size_t i;

	if (!dp)
		return;
	pkt_batch_put(dp->pool, &dp->out);
	for (i = 0; i < dp->npeers; i++)
		peer_fini(&dp->peers[i], dp->pool);
	free(dp->peers);
	sodium_free(dp->scratch);
	free(dp);
}

/* ---- send path ---- */

static void flush_out(struct datapath *dp)
{
	if (!dp->out.n)
		return;
	udp_send_batch(dp->udp, &dp->out);
	pkt_batch_put(dp->pool, &dp->out);
}

static void queue_out(struct datapath *dp, struct pkt *p)
{
	dp->out.p[dp->out.n++] = p;
	if (dp->out.n == PKT_BATCH)
		flush_out(dp);
}

/* Seal p (an inner message) for peer on s and queue it; consumes p. */
static void seal_and_queue(struct datapath *dp, struct peer *peer,
			   struct session *s, struct pkt *p)
{
	size_t len = p->len;

	pkt_push(p, WIRE_DATA_OVERHEAD);
	if (session_seal(s, p->data, len) < 0) {
		/* Counters used up: never reuse a nonce, rekey instead. */
		peer->stats.tx_dropped++;
		peer_want_handshake(peer, dp->now);
		pkt_put(dp->pool, p);
		return;
	}
	pkt_trim(p, len + WIRE_DATA_OVERHEAD);
	p->addr = peer->endpoint;
	peer->last_tx_ms = dp->now;
	queue_out(dp, p);
}

/* Room for an inner message in one datagram to peer under its path MTU. */
static size_t payload_max(const struct peer *peer)
{
	return peer->pmtu.mtu - udp_ip_overhead(&peer->endpoint) -
	       WIRE_DATA_OVERHEAD;
}

/* Cut the frame in p into sealed pieces; consumes p. */
static void send_pieces(struct datapath *dp, struct peer *peer,
			struct session *s, struct pkt *p, size_t room)
{
	size_t piece = frame_piece_max(room), off, n;
	uint32_t id = peer->frag_id++;

	peer->stats.tx_fragmented++;
	for (off = 0; off < p->len; off += n) {
		struct pkt *q = pkt_get(dp->pool);

		n = p->len - off < piece ? p->len - off : piece;
		if (!q) {
			peer->stats.tx_dropped++;
			break;
		}
		q->len = (uint32_t)frame_write_piece(q->data, id, p->data,
						     p->len, off, n);
		seal_and_queue(dp, peer, s, q);
	}
	pkt_put(dp->pool, p);
}

/* Send one frame (kind byte not yet pushed) to peer; consumes p. */
static void send_frame(struct datapath *dp, struct peer *peer, struct pkt *p)
{
	struct session *s = peer_send_session(peer, dp->now);
	size_t room;

	if (peer->endpoint.sa.sa_family == AF_UNSPEC) {
		peer->stats.tx_dropped++;
		pkt_put(dp->pool, p);
		return;
	}
	if (!s) {
		peer_stage(peer, dp->pool, p);
		peer_want_handshake(peer, dp->now);
		return;
	}
	room = payload_max(peer);
	if (dp->clamp_mss &&
	    mss_clamp(p->data, p->len, room - WIRE_INNER_FRAME_HDR))
		peer->stats.mss_clamped++;
	peer->stats.tx_frames++;
	peer->stats.tx_bytes += p->len;
	if (!peer->unanswered_ms)
		peer->unanswered_ms = dp->now;
	if (p->len + WIRE_INNER_FRAME_HDR > room) {
		send_pieces(dp, peer, s, p, room);
		return;
	}
	*pkt_push(p, WIRE_INNER_FRAME_HDR) = WIRE_INNER_FRAME;
	seal_and_queue(dp, peer, s, p);
}

static struct pkt *clone_pkt(struct datapath *dp, const struct pkt *p)
{
	struct pkt *c = pkt_get(dp->pool);

	if (!c)
		return NULL;
	memcpy(c->data, p->data, p->len);
	c->len = p->len;
	return c;
}

/* Send one frame from the TAP to every peer it may be for; consumes p. */
static void dispatch_frame(struct datapath *dp, struct pkt *p)
{
	size_t i;

	/* Full mesh, no relaying: with several peers, frames are flooded
	 * to each; every remote bridge learns and filters on its own. */
	for (i = 0; i + 1 < dp->npeers; i++) {
		struct pkt *c = clone_pkt(dp, p);

		if (c)
			send_frame(dp, &dp->peers[i], c);
		else
			dp->peers[i].stats.tx_dropped++;
	}
	if (dp->npeers)
		send_frame(dp, &dp->peers[dp->npeers - 1], p);
	else
		pkt_put(dp->pool, p);
}

/*
 * Seal the segments of a super-frame back to back into large buffers, each
 * sent as one UDP GSO message of equal-size datagrams (the last may be
 * shorter).  One copy of the payload, no per-segment syscall.
 */
static void send_segments_gso(struct datapath *dp, struct peer *peer,
			      struct session *s, struct gso_iter *it)
{
	size_t seg;

	while (gso_seg_len(it)) {
		struct pkt *q = pkt_get(dp->pool);
		size_t off = 0, first = 0, dlen;
		unsigned n = 0;

		if (!q) {
			peer->stats.tx_dropped++;
			return;
		}
		while ((seg = gso_seg_len(it)) && n < UDP_GSO_MAX_SEGS) {
			uint8_t *d = q->data + off;

			dlen = WIRE_DATA_OVERHEAD + WIRE_INNER_FRAME_HDR + seg;
			if (off + dlen > UDP_GSO_MAX_BYTES ||
			    dlen > pkt_tailroom(q) - off)
				break;
			d[WIRE_DATA_OVERHEAD] = WIRE_INNER_FRAME;
			gso_next(it, d + WIRE_DATA_OVERHEAD + 1);
			if (session_seal(s, d, WIRE_INNER_FRAME_HDR + seg) < 0) {
				peer_want_handshake(peer, dp->now);
				break;
			}
			peer->stats.tx_frames++;
			peer->stats.tx_bytes += seg;
			first = first ? first : dlen;
			off += dlen;
			n++;
		}
		if (!n) {
			pkt_put(dp->pool, q);
			return;
		}
		q->len = (uint32_t)off;
		q->gso_size = n > 1 ? (uint32_t)first : 0;
		q->addr = peer->endpoint;
		peer->last_tx_ms = dp->now;
		if (!peer->unanswered_ms)
			peer->unanswered_ms = dp->now;
		queue_out(dp, q);
	}
}

/* Send a TCP super-frame to peer as real segments; does not consume p. */
static void send_super(struct datapath *dp, struct peer *peer,
		       const struct pkt *p, const struct gso_meta *m)
{
	struct session *s = peer_send_session(peer, dp->now);
	struct gso_iter it;
	size_t seg;

	if (gso_begin(&it, p->data, p->len, m) < 0) {
		dp->tap_bad_frames++;
		return;
	}
	if (s && peer->endpoint.sa.sa_family != AF_UNSPEC && dp->udp->gso &&
	    gso_seg_len(&it) + WIRE_INNER_FRAME_HDR <= payload_max(peer)) {
		send_segments_gso(dp, peer, s, &it);
		return;
	}
	/* No session yet, segments too big for the path, or no UDP GSO:
	 * one frame at a time (staged, fragmented or sent singly). */
	while ((seg = gso_seg_len(&it))) {
		struct pkt *q = pkt_get(dp->pool);

		if (!q) {
			peer->stats.tx_dropped++;
			return;
		}
		q->len = (uint32_t)gso_next(&it, q->data);
		send_frame(dp, peer, q);
	}
}

/* A read from the TAP: virtio_net_hdr, then the frame; consumes p. */
static void tx_from_tap(struct datapath *dp, struct pkt *p)
{
	struct gso_meta m;
	size_t i;

	if (p->len < TAP_VNET_HDR_LEN + WIRE_ETH_HDR_LEN) {
		pkt_put(dp->pool, p);
		return;
	}
	gso_meta_read(&m, p->data);
	pkt_pull(p, TAP_VNET_HDR_LEN);
	if ((m.type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) {
		for (i = 0; i < dp->npeers; i++)
			send_super(dp, &dp->peers[i], p, &m);
		pkt_put(dp->pool, p);
		return;
	}
	if (gso_csum_complete(p->data, p->len, &m) < 0) {
		dp->tap_bad_frames++;
		pkt_put(dp->pool, p);
		return;
	}
	dispatch_frame(dp, p);
}

int datapath_tap_ready(struct datapath *dp)
{
	struct pkt_batch b = { .n = 0 };
	unsigned i;
	int n;

	dp->now = now_ms();
	n = tap_read_batch(dp->tap_fd, dp->pool, &b);
	for (i = 0; i < b.n; i++)
		tx_from_tap(dp, b.p[i]);
	flush_out(dp);
	if (dp->udp->too_big != dp->too_big_seen)
		datapath_tick(dp);
	return n;
}

static void send_keepalive(struct datapath *dp, struct peer *peer)
{
	struct session *s = peer_send_session(peer, dp->now);
	struct pkt *p;

	if (!s || peer->endpoint.sa.sa_family == AF_UNSPEC)
		return;
	p = pkt_get(dp->pool);
	if (p)
		seal_and_queue(dp, peer, s, p);
}

static void flush_staged(struct datapath *dp, struct peer *peer)
{
	struct pkt *p = peer->staged;

	peer->staged = peer->staged_tail = NULL;
	peer->nstaged = 0;
	while (p) {
		struct pkt *next = p->next;

		p->next = NULL;
		send_frame(dp, peer, p);
		p = next;
	}
}

static uint32_t new_index(struct datapath *dp)
{
	uint32_t idx;
	size_t i;

again:
	idx = randombytes_random();
	for (i = 0; i < dp->npeers; i++)
		if (peer_has_index(&dp->peers[i], idx))
			goto again;
	return idx;
}

static void send_initiation(struct datapath *dp, struct peer *peer)
{
	uint8_t msg[WIRE_INIT_LEN];

	if (handshake_create_initiation(peer->hs, dp->id, new_index(dp),
					msg) < 0)
		return;
	peer->hs_sent_ms = dp->now;
	if (udp_send(dp->udp, msg, sizeof(msg), &peer->endpoint) == 0)
		peer->last_tx_ms = dp->now;
}

/* A path MTU probe of size bytes (IP level), sent at once so that a
 * local EMSGSIZE is seen. */
static void send_probe(struct datapath *dp, struct peer *peer, unsigned size)
{
	struct session *s = peer_send_session(peer, dp->now);
	size_t len = size - udp_ip_overhead(&peer->endpoint) -
		     WIRE_DATA_OVERHEAD;
	struct pkt *p;

	if (!s || len < 5 || len > pkt_pool_mtu(dp->pool))
		return;
	p = pkt_get(dp->pool);
	if (!p)
		return;
	memset(p->data, 0, len);
	p->data[0] = WIRE_INNER_PROBE;
	wire_put32(p->data + 1, peer->pmtu.probe_id);
	p->len = (uint32_t)len;
	pkt_push(p, WIRE_DATA_OVERHEAD);
	if (session_seal(s, p->data, len) >= 0) {
		peer->last_tx_ms = dp->now;
		if (udp_send(dp->udp, p->data, p->len, &peer->endpoint) < 0 &&
		    errno == EMSGSIZE)
			pmtu_too_big(&peer->pmtu, size, dp->now);
	}
	pkt_put(dp->pool, p);
}

static void path_timers(struct datapath *dp, struct peer *peer)
{
	unsigned size;

	frame_reasm_expire(peer->reasm, dp->now);
	if (peer->endpoint.sa.sa_family == AF_UNSPEC)
		return;
	if (dp->now - peer->route_check_ms >= ROUTE_CHECK_MS) {
		peer->route_check_ms = dp->now;
		pmtu_route(&peer->pmtu, udp_route_mtu(dp->udp, &peer->endpoint),
			   dp->now);
	}
	if (!peer_send_session(peer, dp->now))
		return;
	size = pmtu_next_probe(&peer->pmtu, dp->now, ++peer->probe_id);
	if (size)
		send_probe(dp, peer, size);
}

/* A send failed with EMSGSIZE: the route's MTU fell; catch up at once. */
static void check_too_big(struct datapath *dp)
{
	size_t i;

	if (dp->udp->too_big == dp->too_big_seen)
		return;
	dp->too_big_seen = dp->udp->too_big;
	for (i = 0; i < dp->npeers; i++)
		dp->peers[i].route_check_ms = 0;
}

void datapath_tick(struct datapath *dp)
{
	size_t i;

	dp->now = now_ms();
	check_too_big(dp);
	for (i = 0; i < dp->npeers; i++) {
		struct peer *peer = &dp->peers[i];
		unsigned act = peer_tick(peer, dp->pool, dp->now);

		if (act & PEER_SEND_INITIATION)
			send_initiation(dp, peer);
		if (act & PEER_FLUSH_STAGED)
			flush_staged(dp, peer);
		if (act & PEER_SEND_KEEPALIVE)
			send_keepalive(dp, peer);
		path_timers(dp, peer);
	}
	flush_out(dp);
}

void datapath_start(struct datapath *dp)
{
	size_t i;

	dp->now = now_ms();
	for (i = 0; i < dp->npeers; i++)
		if (dp->peers[i].endpoint.sa.sa_family != AF_UNSPEC)
			peer_want_handshake(&dp->peers[i], dp->now);
	datapath_tick(dp);
}

/* ---- receive path ---- */

static void roam(struct datapath *dp, struct peer *peer,
		 const union pkt_addr *from)
{
	char a[LOG_ADDR_LEN];

	if (udp_addr_equal(&peer->endpoint, from))
		return;
	peer_set_endpoint(peer, from, udp_route_mtu(dp->udp, from), dp->now);
	log_debug("peer '%s': endpoint now %s", peer->name,
		  log_addr(&from->sa, a, sizeof(a)));
}

static const uint8_t no_offload[TAP_VNET_HDR_LEN];

static void rx_frame(struct datapath *dp, struct peer *peer,
		     const uint8_t *frame, size_t len)
{
	peer->last_data_rx_ms = dp->now;
	if (tap_write(dp->tap_fd, no_offload, frame, len) < 0) {
		dp->tap_write_errors++;
		return;
	}
	peer->stats.rx_frames++;
	peer->stats.rx_bytes += len;
}

static void ack_probe(struct datapath *dp, struct peer *peer, uint32_t id,
		      size_t size)
{
	struct session *s = peer_send_session(peer, dp->now);
	struct pkt *q;

	if (!s || !(q = pkt_get(dp->pool)))
		return;
	q->data[0] = WIRE_INNER_PROBE_ACK;
	wire_put32(q->data + 1, id);
	wire_put16(q->data + 5, (uint16_t)size);
	q->len = 7;
	seal_and_queue(dp, peer, s, q);
}

/* An authenticated inner message in p (data = kind byte). */
static void rx_inner(struct datapath *dp, struct peer *peer, struct pkt *p)
{
	const uint8_t *frame;
	size_t flen;

	if (p->len == 0)
		return;		/* keepalive */
	switch (p->data[0]) {
	case WIRE_INNER_FRAME:
		if (p->len < WIRE_INNER_FRAME_HDR + WIRE_ETH_HDR_LEN)
			break;
		pkt_pull(p, WIRE_INNER_FRAME_HDR);
		/* Clamp here too: the peer may have clamping off, or a
		 * larger path MTU than ours on the way back. */
		if (dp->clamp_mss &&
		    mss_clamp(p->data, p->len,
			      payload_max(peer) - WIRE_INNER_FRAME_HDR))
			peer->stats.mss_clamped++;
		rx_frame(dp, peer, p->data, p->len);
		return;
	case WIRE_INNER_FRAGMENT:
		if (frame_reasm_input(peer->reasm, p->data, p->len, dp->now,
				      &frame, &flen)) {
			peer->stats.rx_reassembled++;
			rx_frame(dp, peer, frame, flen);
		}
		return;
	case WIRE_INNER_PROBE:
		if (p->len < 5)
			break;
		ack_probe(dp, peer, wire_get32(p->data + 1), p->len +
			  WIRE_DATA_OVERHEAD + udp_ip_overhead(&p->addr));
		return;
	case WIRE_INNER_PROBE_ACK:
		if (p->len < 7)
			break;
		pmtu_ack(&peer->pmtu, wire_get32(p->data + 1), dp->now);
		return;
	}
	peer->stats.drops[RX_DROP_INNER]++;
}

static void rx_data(struct datapath *dp, struct pkt *p)
{
	uint32_t idx = wire_get32(p->data + 4);
	struct session *s = NULL;
	struct peer *peer = NULL;
	enum rx_verdict v;
	uint64_t counter;
	size_t i;

	for (i = 0; i < dp->npeers && !s; i++) {
		peer = &dp->peers[i];
		s = peer_session_for_index(peer, idx);
	}
	if (!s) {
		dp->drops[RX_DROP_NO_SESSION]++;
		return;
	}
	if (!peer_session_usable(peer, s, dp->now)) {
		peer->stats.drops[RX_DROP_EXPIRED]++;
		return;
	}
	v = session_open(s, p->data, p->len, &counter);
	if (v != RX_OK) {
		peer->stats.drops[v]++;
		return;
	}
	peer_received(peer, s, dp->now);
	roam(dp, peer, &p->addr);
	pkt_pull(p, WIRE_DATA_OVERHEAD);
	rx_inner(dp, peer, p);
}

static bool warn_due(uint64_t *next, uint64_t now)
{
	if (*next && now < *next)
		return false;
	*next = now + WARN_INTERVAL_MS;
	return true;
}

static struct peer *peer_by_key(struct datapath *dp, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < dp->npeers; i++)
		if (!sodium_memcmp(dp->peers[i].public_key, key, WIRE_KEY_LEN))
			return &dp->peers[i];
	return NULL;
}

/* Answer an initiation for peer from the work area; wipes it. */
static void respond(struct datapath *dp, struct peer *peer,
		    const struct handshake_pending *hp,
		    const union pkt_addr *from)
{
	uint8_t msg[WIRE_RESP_LEN];
	struct handshake *hs = dp->scratch;
	struct session *s;

	/* A copy keeps our own pending initiation intact. */
	memcpy(hs, peer->hs, sizeof(*hs));
	if (handshake_accept_initiation(hs, hp) < 0) {
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
		goto out;
	}
	s = session_new();
	if (!s)
		goto out;
	if (handshake_create_response(hs, dp->id, new_index(dp), msg) < 0 ||
	    handshake_derive(hs, s) < 0) {
		session_free(s);
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
		goto out;
	}
	memcpy(peer->hs->last_timestamp, hp->timestamp, WIRE_TIMESTAMP_LEN);
	peer->hs_consumed_ms = dp->now;
	s->birth_ms = dp->now;
	peer->last_rx_ms = dp->now;
	roam(dp, peer, from);
	peer_install(peer, s, dp->now);
	if (udp_send(dp->udp, msg, sizeof(msg), from) == 0)
		peer->last_tx_ms = dp->now;
out:
	sodium_memzero(hs, sizeof(*hs));
}

static void rx_initiation(struct datapath *dp, struct pkt *p)
{
	struct handshake_pending hp;
	char a[LOG_ADDR_LEN], fp[9];
	struct peer *peer;

	if (p->len != WIRE_INIT_LEN) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	if (!handshake_mac1_ok(dp->id, p->data, p->len)) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		if (warn_due(&dp->warn_mac1_ms, dp->now))
			log_warnx("handshake from %s rejected: it was not made "
				  "for our key (a peer with a wrong 'public-key' "
				  "for this gateway, or forged)",
				  log_addr(&p->addr.sa, a, sizeof(a)));
		return;
	}
	if (handshake_consume_initiation(dp->id, p->data, p->len, &hp) < 0) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	peer = peer_by_key(dp, hp.remote_static);
	if (!peer) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		if (warn_due(&dp->warn_unknown_ms, dp->now)) {
			keys_fingerprint(fp, hp.remote_static);
			log_warnx("handshake from %s rejected: unknown "
				  "public-key '%s' (no peer has it)",
				  log_addr(&p->addr.sa, a, sizeof(a)), fp);
		}
		goto out;
	}
	if (peer->hs_consumed_ms &&
	    dp->now - peer->hs_consumed_ms < WIRE_HANDSHAKE_MIN_INTERVAL_MS) {
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
		goto out;
	}
	respond(dp, peer, &hp, &p->addr);
out:
	sodium_memzero(&hp, sizeof(hp));
}

static void rx_response(struct datapath *dp, struct pkt *p)
{
	struct peer *peer = NULL;
	struct session *s;
	uint32_t idx;
	size_t i;

	if (p->len != WIRE_RESP_LEN) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	idx = handshake_msg_receiver(p->data);
	for (i = 0; i < dp->npeers && !peer; i++)
		if (dp->peers[i].hs->state == HS_INITIATION_SENT &&
		    dp->peers[i].hs->local_index == idx)
			peer = &dp->peers[i];
	if (!peer) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	if (handshake_consume_response(peer->hs, dp->id, p->data, p->len) < 0) {
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	s = session_new();
	if (!s || handshake_derive(peer->hs, s) < 0) {
		session_free(s);
		return;
	}
	s->birth_ms = dp->now;
	peer->last_rx_ms = dp->now;
	roam(dp, peer, &p->addr);
	peer_install(peer, s, dp->now);
	/* Confirm the session to the responder at once. */
	if (peer->nstaged)
		flush_staged(dp, peer);
	else
		send_keepalive(dp, peer);
}

static void rx_one(struct datapath *dp, struct pkt *p)
{
	if (p->len < 4 || p->data[1] || p->data[2] || p->data[3]) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	switch (p->data[0]) {
	case WIRE_MSG_DATA:
		if (p->len < WIRE_DATA_OVERHEAD)
			dp->drops[RX_DROP_SHORT]++;
		else
			rx_data(dp, p);
		break;
	case WIRE_MSG_INITIATION:
		rx_initiation(dp, p);
		break;
	case WIRE_MSG_RESPONSE:
		rx_response(dp, p);
		break;
	default:
		dp->drops[RX_DROP_SHORT]++;
	}
}

/* Handle each datagram of p in place; p may hold several (UDP GRO). */
static void rx_datagrams(struct datapath *dp, struct pkt *p)
{
	uint32_t off, n, step = p->gso_size ? p->gso_size : p->len;
	struct pkt view;

	if (!p->gso_size) {
		rx_one(dp, p);
		return;
	}
	for (off = 0; off < p->len; off += n) {
		n = p->len - off < step ? p->len - off : step;
		memset(&view, 0, sizeof(view));
		view.head = view.data = p->data + off;
		view.len = view.room = n;
		view.addr = p->addr;
		rx_one(dp, &view);
	}
}

int datapath_udp_ready(struct datapath *dp)
{
	struct pkt_batch b = { .n = 0 };
	unsigned i;
	int n;

	dp->now = now_ms();
	n = udp_recv_batch(dp->udp, dp->pool, &b);
	for (i = 0; i < b.n; i++)
		rx_datagrams(dp, b.p[i]);
	pkt_batch_put(dp->pool, &b);
	flush_out(dp);
	return n;
}

void datapath_info(struct datapath *dp, struct datapath_info *out)
{
	out->interface = dp->interface;
	out->bridge = dp->bridge;
	out->listen = &dp->udp->local;
	out->drops = dp->drops;
	out->tap_write_errors = dp->tap_write_errors;
	out->tap_bad_frames = dp->tap_bad_frames;
	out->peers = dp->peers;
	out->npeers = dp->npeers;
	out->now_ms = now_ms();
}
