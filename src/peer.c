/*
 * peer.c -- per-peer sessions, timers and counters; see peer.h.
 */
#include <string.h>

#include <sodium.h>

#include "tapbridge/keys.h"
#include "tapbridge/log.h"
#include "tapbridge/peer.h"
#include "tapbridge/udp.h"

#define RESPONDER_GRACE_MS 10000	/* responder rekeys only if the
					 * initiator has not, this much later */

int peer_init(struct peer *p, const struct handshake_identity *id,
	      const struct peer_spec *spec, const struct peer_opts *o,
	      uint64_t now)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", spec->name);
	memcpy(p->public_key, spec->public_key, WIRE_KEY_LEN);
	keys_fingerprint(p->fingerprint, p->public_key);
	p->keepalive_s = spec->keepalive;
	p->rekey_s = o->rekey_s;
	p->wan_mtu = o->wan_mtu;
	p->endpoint.sa.sa_family = AF_UNSPEC;
	p->conf_endpoint = spec->endpoint;
	/* hs_limit and hs_resp_limit: zeroed, which is full. */
	cookie_jar_init(&p->cookie, p->public_key);
	/*
	 * Fragment ids start anywhere: the other side keeps pieces of an
	 * unfinished frame for a second, and a restarted gateway counting
	 * from 0 again could complete it with pieces of a new one.
	 */
	p->frag_id = randombytes_random();
	p->hs = handshake_new(id, p->public_key,
			      spec->has_psk ? spec->psk : NULL);
	if (!p->hs) {
		log_warnx("peer '%s': public key '%s' is not usable", p->name,
			  p->fingerprint);
		return -1;
	}
	p->reasm = frame_reasm_new(o->max_frame);
	if (!p->reasm) {
		log_warn("peer '%s'", p->name);
		handshake_free(p->hs);
		p->hs = NULL;
		return -1;
	}
	if (spec->endpoint.sa.sa_family != AF_UNSPEC)
		peer_set_endpoint(p, &spec->endpoint, 0, now);
	return 0;
}

bool peer_same_keys(const struct peer *p, const struct peer_spec *spec)
{
	static const uint8_t zero[WIRE_KEY_LEN];

	return !sodium_memcmp(p->public_key, spec->public_key, WIRE_KEY_LEN) &&
	       !sodium_memcmp(p->hs->psk, spec->has_psk ? spec->psk : zero,
			      WIRE_KEY_LEN);
}

void peer_update(struct peer *p, const struct peer_spec *spec,
		 const struct peer_opts *o, uint64_t now)
{
	p->keepalive_s = spec->keepalive;
	p->rekey_s = o->rekey_s;
	if (p->wan_mtu != o->wan_mtu) {
		p->wan_mtu = o->wan_mtu;
		if (p->endpoint.sa.sa_family != AF_UNSPEC)
			pmtu_init(&p->pmtu, p->wan_mtu, p->pmtu.floor,
				  p->pmtu.route);
	}
	if (spec->endpoint.sa.sa_family != AF_UNSPEC &&
	    memcmp(&spec->endpoint, &p->conf_endpoint,
		   sizeof(spec->endpoint)))
		peer_set_endpoint(p, &spec->endpoint, 0, now);
	p->conf_endpoint = spec->endpoint;
}

static bool addr_is_v6(const union pkt_addr *a)
{
	return a->sa.sa_family == AF_INET6 &&
	       !IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr);
}

/* The same address, whatever the port (a NAT that rebound the port). */
static bool same_host(const union pkt_addr *a, const union pkt_addr *b)
{
	union pkt_addr x = *a;

	if (x.sa.sa_family != b->sa.sa_family)
		return false;
	if (x.sa.sa_family == AF_INET)
		x.in4.sin_port = b->in4.sin_port;
	else
		x.in6.sin6_port = b->in6.sin6_port;
	return udp_addr_equal(&x, b);
}

void peer_set_endpoint(struct peer *p, const union pkt_addr *addr,
		       unsigned route_mtu, uint64_t now)
{
	union pkt_addr old = p->endpoint;
	bool fresh = p->endpoint.sa.sa_family == AF_UNSPEC ||
		     addr_is_v6(&p->endpoint) != addr_is_v6(addr);

	p->endpoint = *addr;
	if (fresh) {
		pmtu_init(&p->pmtu, p->wan_mtu,
			  addr_is_v6(addr) ? PMTU_MIN_V6 : PMTU_MIN,
			  route_mtu);
		return;
	}
	pmtu_route(&p->pmtu, route_mtu, now);
	if (!same_host(&old, addr))
		pmtu_check_soon(&p->pmtu, now);	/* another path, maybe */
}

static void drop_staged(struct peer *p, struct pkt_pool *pool)
{
	while (p->staged) {
		struct pkt *next = p->staged->next;

		pkt_put(pool, p->staged);
		p->staged = next;
		p->stats.tx_dropped++;
	}
	p->staged_tail = NULL;
	p->nstaged = 0;
}

void peer_fini(struct peer *p, struct pkt_pool *pool)
{
	session_free(p->previous);
	session_free(p->current);
	session_free(p->next);
	handshake_free(p->hs);
	frame_reasm_free(p->reasm);
	drop_staged(p, pool);
	sodium_memzero(p, sizeof(*p));
}

bool peer_has_index(const struct peer *p, uint32_t index)
{
	if (p->hs && p->hs->state == HS_INITIATION_SENT &&
	    p->hs->local_index == index)
		return true;
	return (p->previous && p->previous->local_index == index) ||
	       (p->current && p->current->local_index == index) ||
	       (p->next && p->next->local_index == index);
}

struct session *peer_session_for_index(struct peer *p, uint32_t index)
{
	if (p->current && p->current->local_index == index)
		return p->current;
	if (p->next && p->next->local_index == index)
		return p->next;
	if (p->previous && p->previous->local_index == index)
		return p->previous;
	return NULL;
}

uint64_t peer_reject_ms(const struct peer *p)
{
	return ((uint64_t)p->rekey_s + WIRE_REJECT_AFTER_EXTRA) * 1000;
}

bool peer_session_usable(const struct peer *p, const struct session *s,
			 uint64_t now)
{
	return s && now - s->birth_ms < peer_reject_ms(p) &&
	       s->send_counter < WIRE_REJECT_AFTER_MESSAGES;
}

/*
 * The current session becomes the previous one, which only opens datagrams
 * still in flight (nothing seals on it: peer_send_session gives only the
 * current one): its sending key goes now rather than when it expires.  Its
 * counters stay as they are: peer_session_usable, which the receive path
 * asks too, reads the sending counter.
 */
static void demote_current(struct peer *p)
{
	session_free(p->previous);
	p->previous = p->current;
	if (p->previous)
		sodium_memzero(p->previous->send_key,
			       sizeof(p->previous->send_key));
}

void peer_install(struct peer *p, struct session *s, uint64_t now)
{
	p->hs_done_ms = now;
	p->stats.handshakes++;
	if (s->initiator) {
		demote_current(p);
		p->current = s;
		p->hs_attempt_ms = 0;
	} else {
		session_free(p->next);
		p->next = s;
	}
}

void peer_received(struct peer *p, struct session *s, uint64_t now)
{
	if (s == p->next) {
		demote_current(p);
		p->current = p->next;
		p->next = NULL;
		p->hs_attempt_ms = 0;
	}
	p->last_rx_ms = now;
	p->unanswered_ms = 0;
}

struct session *peer_send_session(struct peer *p, uint64_t now)
{
	return peer_session_usable(p, p->current, now) ? p->current : NULL;
}

void peer_stage(struct peer *p, struct pkt_pool *pool, struct pkt *pkt)
{
	/*
	 * Frames waiting for a session never take the buffers the data path
	 * needs to go on (peers added by a reload have none of their own in
	 * the pool): short of them, a frame replaces the peer's oldest, or
	 * is dropped if it has none.
	 */
	bool low = pkt_pool_avail(pool) < PEER_POOL_RESERVE;

	if (low && !p->nstaged) {
		pkt_put(pool, pkt);
		p->stats.tx_dropped++;
		return;
	}
	if (p->nstaged == PEER_STAGED_MAX || low) {
		struct pkt *old = p->staged;

		p->staged = old->next;
		if (!p->staged)
			p->staged_tail = NULL;
		pkt_put(pool, old);
		p->nstaged--;
		p->stats.tx_dropped++;
	}
	pkt->next = NULL;
	if (p->staged_tail)
		p->staged_tail->next = pkt;
	else
		p->staged = pkt;
	p->staged_tail = pkt;
	p->nstaged++;
}

void peer_want_handshake(struct peer *p, uint64_t now)
{
	if (!p->hs_attempt_ms) {
		p->hs_attempt_ms = now;
		p->hs_sent_ms = 0;
	}
}

static void expire(struct peer *p, struct session **s, uint64_t now)
{
	if (*s && now - (*s)->birth_ms >= peer_reject_ms(p)) {
		session_free(*s);
		*s = NULL;
	}
}

static bool rekey_due(const struct peer *p, uint64_t now)
{
	const struct session *s = p->current;
	uint64_t age, after = (uint64_t)p->rekey_s * 1000;

	if (!s)
		return p->nstaged > 0;
	if (s->send_counter >= WIRE_REKEY_AFTER_MESSAGES)
		return true;
	age = now - s->birth_ms;
	return s->initiator ? age >= after : age >= after + RESPONDER_GRACE_MS;
}

static unsigned handshake_timers(struct peer *p, struct pkt_pool *pool,
				 uint64_t now)
{
	uint64_t retry = WIRE_REKEY_TIMEOUT * 1000 +
			 randombytes_uniform(334);

	if (!p->hs_attempt_ms)
		return PEER_NOTHING;
	if (now - p->hs_attempt_ms >= WIRE_REKEY_ATTEMPT_TIME * 1000) {
		p->hs_attempt_ms = 0;
		/* Given up: the ephemeral key goes, and a response held back
		 * until now finds no initiation to complete. */
		if (p->hs->state == HS_INITIATION_SENT)
			handshake_wipe(p->hs);
		drop_staged(p, pool);
		return PEER_NOTHING;
	}
	if (p->endpoint.sa.sa_family == AF_UNSPEC)
		return PEER_NOTHING;
	if (p->hs_sent_ms && now - p->hs_sent_ms < retry)
		return PEER_NOTHING;
	return PEER_SEND_INITIATION;
}

unsigned peer_tick(struct peer *p, struct pkt_pool *pool, uint64_t now)
{
	unsigned act;

	expire(p, &p->previous, now);
	expire(p, &p->current, now);
	expire(p, &p->next, now);
	if (rekey_due(p, now))
		peer_want_handshake(p, now);
	if (p->unanswered_ms &&
	    now - p->unanswered_ms >= PEER_NEW_HANDSHAKE_MS) {
		p->unanswered_ms = 0;
		peer_want_handshake(p, now);
	}
	act = handshake_timers(p, pool, now);
	if (!peer_send_session(p, now))
		return act;
	if (p->nstaged)
		act |= PEER_FLUSH_STAGED;
	if (p->keepalive_s &&
	    now - p->last_tx_ms >= (uint64_t)p->keepalive_s * 1000)
		act |= PEER_SEND_KEEPALIVE;
	else if (p->last_data_rx_ms > p->last_tx_ms &&
		 now - p->last_data_rx_ms >= PEER_KEEPALIVE_PASSIVE_MS)
		act |= PEER_SEND_KEEPALIVE;
	return act;
}
