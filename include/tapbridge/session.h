/*
 * session.h -- one established keypair: sealing and opening data messages,
 * and the sliding replay window.
 *
 * A session holds the two per-direction secretbox keys derived by the
 * handshake, the next send counter and the receive replay window.  It lives
 * in sodium_malloc memory and is wiped when freed.  The nonce of a data
 * message is its 64-bit counter, little-endian, zero-padded to 24 bytes; a
 * counter is used once and the key never outlives the session, so no
 * (key, nonce) pair repeats.  Opening authenticates before anything inside
 * the box is looked at, and costs exactly one MAC check.  No logging, no
 * allocation on seal or open.
 */
#ifndef TAPBRIDGE_SESSION_H
#define TAPBRIDGE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tapbridge/wire.h"

/* Verdicts of the receive path; each has its own counter in peer stats. */
enum rx_verdict {
	RX_OK = 0,
	RX_DROP_SHORT,		/* shorter than its header or type unknown */
	RX_DROP_AUTH,		/* MAC check failed */
	RX_DROP_REPLAY,		/* counter seen before or left of the window */
	RX_DROP_NO_SESSION,	/* receiver index unknown */
	RX_DROP_EXPIRED,	/* session too old or counter exhausted */
	RX_DROP_HANDSHAKE,	/* handshake message rejected */
	RX_DROP_INNER,		/* authenticated, but inner message malformed */
	RX_VERDICT_MAX,
};

/* Name of a verdict for status output ("auth", "replay", ...). */
const char *rx_verdict_name(enum rx_verdict v);

#define REPLAY_WORDS (WIRE_REPLAY_WINDOW / 64)

/*
 * Replay window: counters up to WIRE_REPLAY_WINDOW - 64 behind the highest
 * accepted one are tracked; older ones are rejected.
 */
struct replay {
	uint64_t top;			/* highest accepted counter + 1; 0 = none */
	uint64_t bitmap[REPLAY_WORDS];
};

void replay_init(struct replay *r);
/* replay_check(r, counter): would counter be accepted?  Changes nothing. */
bool replay_check(const struct replay *r, uint64_t counter);
/* replay_update(r, counter): accept counter; 0, or -1 if duplicate/old. */
int replay_update(struct replay *r, uint64_t counter);

struct session {
	uint8_t send_key[WIRE_KEY_LEN];
	uint8_t recv_key[WIRE_KEY_LEN];
	uint64_t send_counter;		/* next counter to use */
	struct replay replay;
	uint32_t local_index;		/* receiver index the peer uses to us */
	uint32_t remote_index;		/* receiver index we put on the wire */
	uint64_t birth_ms;		/* CLOCK_MONOTONIC, set by the caller */
	bool initiator;
};

/* session_new(): zeroed session in sodium_malloc memory, or NULL. */
struct session *session_new(void);
/* session_free(s): wipe and free; NULL is a no-op. */
void session_free(struct session *s);

/*
 * session_seal(s, dgram, len): dgram holds WIRE_DATA_OVERHEAD bytes of
 * headroom followed by len payload bytes (an inner message; len 0 is a
 * keepalive).  Writes the data header and seals the payload in place.
 * Returns the datagram length (len + WIRE_DATA_OVERHEAD), or -1 if the
 * session has used up its counters (it must then be replaced).
 */
ssize_t session_seal(struct session *s, uint8_t *dgram, size_t len);

/*
 * session_fast_len(len): the largest payload length n <= len that
 * session_seal and session_open handle without a slow keystream tail, or
 * len itself when no such n exists or the tail costs nothing extra here.
 *
 * crypto_secretbox encrypts the first 32 payload bytes with the block that
 * also yields the Poly1305 key, and the rest with XSalsa20, whose SIMD code
 * (libsodium on x86: SSE2 and AVX2) works 256 or 512 bytes at a time and
 * goes one 64-byte block at a time over whatever is left, at several times
 * the cost per byte.  So on x86 n is 32 plus a multiple of 256; measured
 * here, a 1312-byte payload is sealed in 1.30 us, a 1443-byte one (the
 * largest a 1500-byte IPv4 path carries) in 1.91 us.  Elsewhere libsodium
 * runs the portable code, block by block, and n is len.
 */
size_t session_fast_len(size_t len);

/*
 * session_open(s, dgram, len, counter): authenticate and decrypt a data
 * message in place, then update the replay window.  The caller has already
 * matched the receiver index to s.  On RX_OK the payload is at
 * dgram + WIRE_DATA_OVERHEAD, len - WIRE_DATA_OVERHEAD bytes, and *counter
 * holds its counter; on any other verdict dgram's contents are unspecified.
 */
enum rx_verdict session_open(struct session *s, uint8_t *dgram, size_t len,
			     uint64_t *counter);

#endif
