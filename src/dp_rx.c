/*
 * dp_rx.c -- the receive path, tunnel to TAP; see datapath_impl.h.
 */
#include <string.h>

#include "tapbridge/frame.h"
#include "tapbridge/log.h"
#include "tapbridge/mss.h"

#include "datapath_impl.h"

void dp_roam(struct datapath *dp, struct peer *peer,
		 const union pkt_addr *from)
{
	char a[LOG_ADDR_LEN];

	if (udp_addr_equal(&peer->endpoint, from))
		return;
	peer_set_endpoint(peer, from, udp_route_mtu(dp->udp, from), dp->now);
	log_debug("peer '%s': endpoint now %s", peer->name,
		  log_addr(&from->sa, a, sizeof(a)));
}

/* A frame for the TAP: coalesced with its flow's segments if it can be,
 * written at the end of the receive batch at the latest. */
static void rx_frame(struct datapath *dp, struct peer *peer,
		     const uint8_t *frame, size_t len)
{
	peer->last_data_rx_ms = dp->now;
	peer->stats.rx_frames++;
	peer->stats.rx_bytes += len;
	gro_add(dp->gro, frame, len);
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
	dp_seal_and_queue(dp, peer, s, q);
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
			      dp_payload_max(peer) - WIRE_INNER_FRAME_HDR))
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
	uint32_t idx = wire_get32(p->data + WIRE_DATA_RECEIVER_OFF);
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
	dp_roam(dp, peer, &p->addr);
	pkt_pull(p, WIRE_DATA_OVERHEAD);
	rx_inner(dp, peer, p);
}

static void rx_one(struct datapath *dp, struct pkt *p)
{
	if (p->len == 0) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	/* Handshake messages carry three zero bytes after the type. */
	if (p->data[0] != WIRE_MSG_DATA &&
	    (p->len < 4 || p->data[1] || p->data[2] || p->data[3])) {
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
		dp_rx_initiation(dp, p);
		break;
	case WIRE_MSG_RESPONSE:
		dp_rx_response(dp, p);
		break;
	case WIRE_MSG_COOKIE:
		dp_rx_cookie(dp, p);
		break;
	default:
		dp->drops[RX_DROP_SHORT]++;
	}
}

/* A pkt that is a window on len bytes at buf, not from the pool. */
static void view_of(struct pkt *v, uint8_t *buf, uint32_t len,
		    const union pkt_addr *from)
{
	memset(v, 0, sizeof(*v));
	v->head = v->data = buf;
	v->len = v->room = len;
	v->addr = *from;
}

/* Handle each datagram of p in place; p may hold several (UDP GRO). */
void dp_rx_datagrams(struct datapath *dp, struct pkt *p)
{
	uint32_t off, n;
	struct pkt view;

	if (!p->gso_size) {
		rx_one(dp, p);
		return;
	}
	for (off = 0; off < p->len; off += n) {
		n = p->len - off < p->gso_size ? p->len - off : p->gso_size;
		view_of(&view, p->data + off, n, &p->addr);
		rx_one(dp, &view);
	}
}

void datapath_rx_buffer(struct datapath *dp, uint8_t *buf, size_t len,
			size_t gso_size, const union pkt_addr *from)
{
	struct pkt view;

	view_of(&view, buf, (uint32_t)len, from);
	view.gso_size = (uint32_t)gso_size;
	dp_rx_datagrams(dp, &view);
	gro_flush(dp->gro);
	dp_flush_out(dp);
}
