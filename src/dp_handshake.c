/*
 * dp_handshake.c -- handshake messages in and out, sessions installed; see datapath_impl.h.
 */
#include <string.h>

#include <sodium.h>

#include "tapbridge/keys.h"
#include "tapbridge/log.h"

#include "datapath_impl.h"

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

void dp_send_initiation(struct datapath *dp, struct peer *peer)
{
	uint8_t msg[WIRE_INIT_LEN];

	if (handshake_create_initiation(peer->hs, dp->id, new_index(dp),
					msg) < 0)
		return;
	cookie_jar_stamp(&peer->cookie, msg, dp->now);
	peer->hs_sent_ms = dp->now;
	if (udp_send(dp->udp, msg, sizeof(msg), &peer->endpoint) == 0)
		peer->last_tx_ms = dp->now;
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
	/*
	 * Answer where the initiation came from, but do not move the peer's
	 * endpoint: an initiation that never reached us can be replayed
	 * later from anywhere and still look fresh.  The endpoint follows
	 * the first data message on the new session (key confirmation),
	 * which no replay can produce.
	 */
	peer_install(peer, s, dp->now);
	if (udp_send(dp->udp, msg, sizeof(msg), from) == 0)
		peer->last_tx_ms = dp->now;
out:
	sodium_memzero(hs, sizeof(*hs));
}

/* The peer whose endpoint a is, or NULL. */
static struct peer *peer_at(struct datapath *dp, const union pkt_addr *a)
{
	size_t i;

	for (i = 0; i < dp->npeers; i++)
		if (udp_addr_equal(&dp->peers[i].endpoint, a))
			return &dp->peers[i];
	return NULL;
}

/*
 * May an initiation that passed mac1 cost Diffie-Hellman work now?  One
 * whose mac2 proves its source address takes from the table of proven
 * addresses, which a sender forging addresses cannot reach; any other from
 * its address's budget, and when that is spent it gets a cookie reply (a
 * message smaller than the initiation, sent only to its source address),
 * so that the real sender at that address proves it on its next try.
 */
static bool dh_allowed(struct datapath *dp, const struct pkt *p)
{
	uint8_t reply[WIRE_COOKIE_REPLY_LEN];
	struct peer *at;

	if (cookie_mac2_ok(&dp->cookie, &p->addr, p->data, dp->now))
		return ratelimit_allow(&dp->rl_proven, &p->addr, NULL,
				       dp->now);
	at = peer_at(dp, &p->addr);
	if (ratelimit_allow(&dp->rl, &p->addr, at ? &at->hs_limit : NULL,
			    dp->now))
		return true;
	if (ratelimit_take(&dp->cookie_replies, RATELIMIT_COOKIE_RATE,
			   RATELIMIT_COOKIE_BURST, dp->now)) {
		cookie_reply(&dp->cookie, &p->addr, p->data, reply, dp->now);
		udp_send(dp->udp, reply, sizeof(reply), &p->addr);
	}
	return false;
}

void dp_rx_initiation(struct datapath *dp, struct pkt *p)
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
	/* mac1 was one hash; what follows costs Diffie-Hellman work. */
	if (!dh_allowed(dp, p)) {
		dp->drops[RX_DROP_HANDSHAKE]++;
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

/* The peer whose pending initiation has the index idx, or NULL. */
static struct peer *peer_awaiting(struct datapath *dp, uint32_t idx)
{
	size_t i;

	for (i = 0; i < dp->npeers; i++)
		if (dp->peers[i].hs->state == HS_INITIATION_SENT &&
		    dp->peers[i].hs->local_index == idx)
			return &dp->peers[i];
	return NULL;
}

void dp_rx_response(struct datapath *dp, struct pkt *p)
{
	struct peer *peer;
	struct session *s;

	if (p->len != WIRE_RESP_LEN) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	peer = peer_awaiting(dp, handshake_msg_receiver(p->data));
	if (!peer) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	/*
	 * The index is sent in clear: mac1 and the limit before any DH.  Only
	 * someone who saw our initiation knows the index, so the peer's
	 * bucket for responses is its own, whatever floods its address.
	 */
	if (!handshake_mac1_ok(dp->id, p->data, p->len) ||
	    !ratelimit_allow(&dp->rl, &p->addr, &peer->hs_resp_limit,
			     dp->now) ||
	    handshake_consume_response(peer->hs, dp->id, p->data, p->len) < 0) {
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	s = session_new();
	if (!s || handshake_derive(peer->hs, s) < 0) {
		/* Out of memory: forget this handshake, keys and all. */
		handshake_wipe(peer->hs);
		session_free(s);
		return;
	}
	s->birth_ms = dp->now;
	peer->last_rx_ms = dp->now;
	dp_roam(dp, peer, &p->addr);
	peer_install(peer, s, dp->now);
	/* Confirm the session to the responder at once. */
	if (peer->nstaged)
		dp_flush_staged(dp, peer);
	else
		dp_send_keepalive(dp, peer);
}

void dp_rx_cookie(struct datapath *dp, struct pkt *p)
{
	struct peer *peer;

	if (p->len != WIRE_COOKIE_REPLY_LEN) {
		dp->drops[RX_DROP_SHORT]++;
		return;
	}
	/* Only for the initiation we are waiting on an answer to. */
	peer = peer_awaiting(dp, cookie_reply_receiver(p->data));
	if (!peer) {
		dp->drops[RX_DROP_HANDSHAKE]++;
		return;
	}
	/* Taken, it is not a drop: our next initiation carries mac2. */
	if (cookie_jar_take(&peer->cookie, p->data, p->len, dp->now) < 0)
		peer->stats.drops[RX_DROP_HANDSHAKE]++;
}
