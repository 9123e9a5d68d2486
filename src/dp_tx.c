/*
 * dp_tx.c -- the send path, TAP to tunnel; see datapath_impl.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "tapbridge/eth.h"
#include "tapbridge/frame.h"
#include "tapbridge/gso.h"
#include "tapbridge/mss.h"
#include "tapbridge/tap.h"

#include "datapath_impl.h"

void dp_flush_out(struct datapath *dp)
{
	if (!dp->out.n)
		return;
	udp_send_batch(dp->udp, &dp->out);
	pkt_batch_put(dp->pool, &dp->out);
}

/* Append datagram p to q, the last queued message, as one more UDP GSO
 * segment when both go to the same address: one send then carries a run of
 * frames read from the TAP. */
static bool coalesce(struct datapath *dp, struct pkt *q, const struct pkt *p)
{
	return dp->udp->gso && udp_addr_equal(&q->addr, &p->addr) &&
	       pkt_gso_append(q, p, UDP_GSO_MAX_SEGS, UDP_GSO_MAX_BYTES);
}

static void queue_out(struct datapath *dp, struct pkt *p)
{
	if (dp->out.n && coalesce(dp, dp->out.p[dp->out.n - 1], p)) {
		pkt_put(dp->pool, p);
		return;
	}
	dp->out.p[dp->out.n++] = p;
	if (dp->out.n == PKT_BATCH)
		dp_flush_out(dp);
}

/* Seal p (an inner message) for peer on s and queue it; consumes p. */
void dp_seal_and_queue(struct datapath *dp, struct peer *peer,
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
size_t dp_payload_max(const struct peer *peer)
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

	if (!piece) {
		/* A route MTU under 74 bytes: no piece carries data. */
		peer->stats.tx_dropped++;
		pkt_put(dp->pool, p);
		return;
	}
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
		dp_seal_and_queue(dp, peer, s, q);
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
	room = dp_payload_max(peer);
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
	dp_seal_and_queue(dp, peer, s, p);
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

/* Count the segments of it not yet written out as dropped. */
static void drop_rest(struct peer *peer, const struct gso_iter *it)
{
	size_t left = it->payload - it->done;

	peer->stats.tx_dropped += (left + it->mss - 1) / it->mss;
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
	bool spent = false;	/* the session sealed its last */

	while (!spent && gso_seg_len(it)) {
		struct pkt *q = pkt_get(dp->pool);
		size_t off = 0, first = 0, dlen;
		unsigned n = 0;

		if (!q) {
			drop_rest(peer, it);
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
				/* The session is used up: this one and the
				 * rest are lost; a new one is on its way. */
				peer->stats.tx_dropped++;
				drop_rest(peer, it);
				peer_want_handshake(peer, dp->now);
				spent = true;
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

/*
 * The TCP segment size for a path carrying room payload bytes per
 * datagram: the sender's, lowered so that a segment fits one datagram (no
 * tunnel fragments even with clamp-mss off) and then, when it costs at
 * most an eighth of the payload, to the length sealed fastest
 * (session_fast_len).  On a 1500-byte IPv4 path that trades 1376 payload
 * bytes per datagram for 1245, and a fifth to a quarter of the CPU time per
 * byte spent sealing and opening.  A super-frame that fits one segment
 * stays whole.
 */
static void fit_tcp_segments(struct gso_iter *it, size_t room)
{
	size_t hdr = WIRE_INNER_FRAME_HDR + it->hdr_len, mss = it->mss, fast;

	if (room <= hdr)
		return;	/* not even the headers fit: fragments, as before */
	/*
	 * More segments than the sender cut would take IPv4 IDs it gives the
	 * next super-frame (ip_id + index).  They matter only to packets
	 * that may be fragmented on the way: those without DF keep the
	 * sender's size, in tunnel fragments if need be.
	 */
	if (!it->ipv6 && !(eth_get16(it->frame + it->l3 + 6) & IPV4_DF))
		return;
	if (mss > room - hdr)
		mss = room - hdr;
	fast = session_fast_len(hdr + mss);
	if (fast > hdr && it->payload > mss && (fast - hdr) * 8 >= mss * 7)
		mss = fast - hdr;
	gso_set_mss(it, mss);
}

/* Send a TCP or UDP super-frame, begun in it0, to peer as real segments
 * or datagrams. */
static void send_super(struct datapath *dp, struct peer *peer,
		       const struct gso_iter *it0)
{
	struct session *s = peer_send_session(peer, dp->now);
	struct gso_iter it = *it0;	/* each peer cuts its own copy */
	size_t seg, room = dp_payload_max(peer);

	if (it.proto == IPPROTO_TCP)
		fit_tcp_segments(&it, room);
	if (s && peer->endpoint.sa.sa_family != AF_UNSPEC && dp->udp->gso &&
	    gso_seg_len(&it) + WIRE_INNER_FRAME_HDR <= room) {
		send_segments_gso(dp, peer, s, &it);
		return;
	}
	/* No session yet, segments too big for the path, or no UDP GSO:
	 * one frame at a time (staged, fragmented or sent singly). */
	while ((seg = gso_seg_len(&it))) {
		struct pkt *q = pkt_get(dp->pool);

		if (!q) {
			drop_rest(peer, &it);
			return;
		}
		q->len = (uint32_t)gso_next(&it, q->data);
		send_frame(dp, peer, q);
	}
}

/* A read from the TAP: virtio_net_hdr, then the frame; consumes p. */
void dp_tx_from_tap(struct datapath *dp, struct pkt *p)
{
	struct gso_meta m;
	struct gso_iter it;
	size_t i;

	if (p->len < TAP_VNET_HDR_LEN + WIRE_ETH_HDR_LEN) {
		dp->tap_bad_frames++;
		pkt_put(dp->pool, p);
		return;
	}
	gso_meta_read(&m, p->data);
	pkt_pull(p, TAP_VNET_HDR_LEN);
	if ((m.type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) {
		if (gso_begin(&it, p->data, p->len, &m) < 0) {
			dp->tap_bad_frames++;
		} else {
			dp->tap_supers++;
			for (i = 0; i < dp->npeers; i++)
				send_super(dp, &dp->peers[i], &it);
		}
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

void dp_send_keepalive(struct datapath *dp, struct peer *peer)
{
	struct session *s = peer_send_session(peer, dp->now);
	struct pkt *p;

	if (!s || peer->endpoint.sa.sa_family == AF_UNSPEC)
		return;
	p = pkt_get(dp->pool);
	if (p)
		dp_seal_and_queue(dp, peer, s, p);
}

void dp_flush_staged(struct datapath *dp, struct peer *peer)
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

/* A path MTU probe of size bytes (IP level), sent at once so that a
 * local EMSGSIZE is seen. */
void dp_send_probe(struct datapath *dp, struct peer *peer, unsigned size)
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
