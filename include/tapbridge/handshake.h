/*
 * handshake.h -- authenticated key exchange (Noise IKpsk2 shape, as in
 * WireGuard, built from libsodium: X25519, BLAKE2b, ChaCha20-Poly1305).
 *
 * Owns the handshake messages and the derivation of session keys.  It keeps
 * no peer table: the caller maps an initiator's static key or a response's
 * receiver index to a struct handshake.  Every secret (static and ephemeral
 * private keys, chaining key, PSK) lives in sodium_malloc memory and is
 * wiped as soon as it is no longer needed.  A message that fails costs one
 * MAC (mac1) check before any Diffie-Hellman work, and changes no state.
 */
#ifndef TAPBRIDGE_HANDSHAKE_H
#define TAPBRIDGE_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapbridge/keys.h"
#include "tapbridge/session.h"
#include "tapbridge/wire.h"

/* This gateway's static identity. */
struct handshake_identity {
	struct keys_secret *priv;		/* owned */
	uint8_t pub[WIRE_KEY_LEN];
	uint8_t mac1_key[WIRE_KEY_LEN];		/* HASH("mac1----" || pub) */
};

/*
 * handshake_identity_init(id, priv): take ownership of priv (also on
 * failure) and derive the rest.  0, or -1 if priv is unusable.
 */
int handshake_identity_init(struct handshake_identity *id,
			    struct keys_secret *priv);
void handshake_identity_fini(struct handshake_identity *id);

enum handshake_state {
	HS_IDLE = 0,
	HS_INITIATION_SENT,		/* we are initiator, awaiting response */
	HS_INITIATION_CONSUMED,		/* we are responder, may respond */
};

/* Per-peer handshake state; allocate with handshake_new. */
struct handshake {
	enum handshake_state state;
	uint8_t remote_static[WIRE_KEY_LEN];
	uint8_t remote_mac1_key[WIRE_KEY_LEN];
	uint8_t precomputed_ss[WIRE_KEY_LEN];	/* DH(s, S_remote) */
	uint8_t psk[WIRE_KEY_LEN];		/* zeros if none */
	uint8_t hash[WIRE_HASH_LEN];
	uint8_t chaining_key[WIRE_HASH_LEN];
	uint8_t eph_priv[WIRE_KEY_LEN];
	uint8_t eph_pub[WIRE_KEY_LEN];
	uint8_t remote_eph[WIRE_KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
	uint8_t last_timestamp[WIRE_TIMESTAMP_LEN];	/* latest accepted */
	uint8_t sent_timestamp[WIRE_TIMESTAMP_LEN];	/* latest we sent */
};

/*
 * handshake_new(id, remote_pub, psk): per-peer state in guarded memory;
 * psk may be NULL.  Returns NULL if memory fails or remote_pub is weak.
 */
struct handshake *handshake_new(const struct handshake_identity *id,
				const uint8_t remote_pub[WIRE_KEY_LEN],
				const uint8_t *psk);
/*
 * handshake_pub_usable(priv, remote_pub): whether remote_pub gives a shared
 * secret with priv, as handshake_new requires (a low-order point does not).
 */
bool handshake_pub_usable(const struct keys_secret *priv,
			  const uint8_t remote_pub[WIRE_KEY_LEN]);
/* handshake_free(hs): wipe and free; NULL is a no-op. */
void handshake_free(struct handshake *hs);

/* handshake_label_key(out, label, pub): HASH(label || pub), the key of a
 * MAC or seal bound to a gateway's public key (mac1's, the cookie's). */
void handshake_label_key(uint8_t out[WIRE_KEY_LEN], const char *label,
			 const uint8_t pub[WIRE_KEY_LEN]);

/* handshake_mac1_ok(id, msg, len): msg (init or response) carries a mac1
 * made for id.  Constant time; the only work done on unauthenticated input
 * before the caller decides to spend a DH. */
bool handshake_mac1_ok(const struct handshake_identity *id, const uint8_t *msg,
		       size_t len);

/*
 * handshake_create_initiation(hs, id, local_index, msg): start a handshake
 * as initiator, with a fresh ephemeral and a timestamp strictly greater than
 * any this hs sent before.  Returns 0 or -1.
 */
int handshake_create_initiation(struct handshake *hs,
				const struct handshake_identity *id,
				uint32_t local_index,
				uint8_t msg[WIRE_INIT_LEN]);

/* What the responder learns from an initiation before it knows the peer. */
struct handshake_pending {
	uint8_t remote_static[WIRE_KEY_LEN];
	uint8_t remote_eph[WIRE_KEY_LEN];
	uint8_t hash[WIRE_HASH_LEN];
	uint8_t chaining_key[WIRE_HASH_LEN];
	uint8_t timestamp[WIRE_TIMESTAMP_LEN];
	uint32_t remote_index;
};

/*
 * handshake_consume_initiation(id, msg, len, p): check mac1, then decrypt
 * the initiator's static key and timestamp into p (caller wipes p with
 * sodium_memzero when done).  Returns 0, or -1 if the message is not a valid
 * initiation for id.  No peer state is touched.
 */
int handshake_consume_initiation(const struct handshake_identity *id,
				 const uint8_t *msg, size_t len,
				 struct handshake_pending *p);

/*
 * handshake_accept_initiation(hs, p): the caller found hs by
 * p->remote_static; accept if p's timestamp is newer than any accepted
 * before (replay protection).  Returns 0, or -1 if replayed.
 */
int handshake_accept_initiation(struct handshake *hs,
				const struct handshake_pending *p);

/*
 * handshake_create_response(hs, id, local_index, msg): answer an accepted
 * initiation.  Returns 0 or -1; on 0 call handshake_derive.
 */
int handshake_create_response(struct handshake *hs,
			      const struct handshake_identity *id,
			      uint32_t local_index, uint8_t msg[WIRE_RESP_LEN]);

/*
 * handshake_consume_response(hs, id, msg, len): the caller found hs by the
 * response's receiver index.  Returns 0 (then call handshake_derive), or -1
 * if the response is invalid (hs stays awaiting a valid one).
 */
int handshake_consume_response(struct handshake *hs,
			       const struct handshake_identity *id,
			       const uint8_t *msg, size_t len);

/*
 * handshake_derive(hs, s): derive the session's two keys and indices from a
 * completed handshake into s, mark s->initiator, wipe the ephemeral state
 * and return hs to HS_IDLE.  Returns 0, or -1 if hs is not completed.
 */
int handshake_derive(struct handshake *hs, struct session *s);

/* handshake_wipe(hs): abandon the handshake in progress: wipe its ephemeral
 * state and return hs to HS_IDLE. */
void handshake_wipe(struct handshake *hs);

/* Message accessors for the caller's dispatch (lengths already checked). */
static inline uint32_t handshake_msg_receiver(const uint8_t *resp)
{
	return wire_get32(resp + 8);
}

#endif
