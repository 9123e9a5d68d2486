/*
 * cookie.h -- proof that the sender of a handshake initiation receives at
 * its source address (WireGuard's cookie reply and mac2, on BLAKE2b and
 * XChaCha20-Poly1305).
 *
 * A responder whose handshake budget for a source is spent does no
 * Diffie-Hellman work for it: it answers with a cookie reply instead, a
 * message smaller than the initiation, holding a cookie that is a MAC of
 * the source address and port under a secret renewed every two minutes.
 * The initiator sends its next initiation with mac2, a MAC of the message
 * under that cookie; a valid mac2 proves the address, so a sender who
 * forges another's address (and so never sees the reply) cannot spend that
 * address's budget.  The cookie travels encrypted under a key derived from
 * the responder's public key, bound to the mac1 of the initiation it
 * answers, so only the initiator that sent that initiation can use it.
 *
 * Nothing here allocates, logs or does I/O.  Both structs hold plain
 * memory: the responder's secret only lets one forge mac2 (a way past the
 * budget, not into a session); the caller wipes them at the end.
 */
#ifndef TAPBRIDGE_COOKIE_H
#define TAPBRIDGE_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "tapbridge/pkt.h"
#include "tapbridge/wire.h"

/* The responder's side: one per data path. */
struct cookie_checker {
	uint8_t secret[WIRE_KEY_LEN];		/* renewed every 2 minutes */
	uint64_t secret_ms;			/* when; 0 = never made */
	uint8_t reply_key[WIRE_KEY_LEN];	/* HASH("cookie--" || our pub) */
};

/* The initiator's side: one per peer. */
struct cookie_jar {
	uint8_t reply_key[WIRE_KEY_LEN];	/* HASH("cookie--" || its pub) */
	uint8_t cookie[WIRE_COOKIE_LEN];
	uint64_t cookie_ms;			/* when received; 0 = none */
	uint8_t sent_mac1[WIRE_MAC1_LEN];	/* of our last initiation */
	bool sent;				/* sent_mac1 is set */
};

/* cookie_checker_init(c, pub): for this gateway's public key. */
void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t pub[WIRE_KEY_LEN]);

/*
 * cookie_mac2_ok(c, from, init, now_ms): the initiation init
 * (WIRE_INIT_LEN bytes) carries a mac2 made with the cookie c gives the
 * address from now.  An all-zero mac2 (no cookie) is false at once.
 */
bool cookie_mac2_ok(struct cookie_checker *c, const union pkt_addr *from,
		    const uint8_t *init, uint64_t now_ms);

/*
 * cookie_reply(c, from, init, out, now_ms): the cookie reply
 * (WIRE_COOKIE_REPLY_LEN bytes) to the initiation init from the address
 * from: its receiver is init's sender index, and the cookie is sealed
 * under init's mac1.
 */
void cookie_reply(struct cookie_checker *c, const union pkt_addr *from,
		  const uint8_t *init, uint8_t out[WIRE_COOKIE_REPLY_LEN],
		  uint64_t now_ms);

/* cookie_jar_init(j, pub): for the peer whose public key is pub. */
void cookie_jar_init(struct cookie_jar *j, const uint8_t pub[WIRE_KEY_LEN]);

/*
 * cookie_jar_stamp(j, init, now_ms): an initiation to the jar's peer is
 * about to go out: write its mac2 (made with the cookie if the jar holds
 * one younger than WIRE_COOKIE_USE_MS, zeros otherwise) and remember its
 * mac1 for the reply that may answer it.
 */
void cookie_jar_stamp(struct cookie_jar *j, uint8_t *init, uint64_t now_ms);

/*
 * cookie_jar_take(j, reply, len, now_ms): open a cookie reply meant for our
 * last initiation (the caller matched its receiver index) and keep the
 * cookie.  Only one reply is taken per initiation sent.  Returns 0, or -1
 * if it is not one (the jar is unchanged).
 */
int cookie_jar_take(struct cookie_jar *j, const uint8_t *reply, size_t len,
		    uint64_t now_ms);

static inline uint32_t cookie_reply_receiver(const uint8_t *reply)
{
	return wire_get32(reply + WIRE_COOKIE_RECEIVER_OFF);
}

#endif
