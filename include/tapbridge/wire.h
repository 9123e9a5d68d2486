/*
 * wire.h -- every constant of the tapbridge wire protocol, in one place.
 *
 * The format is documented in tapbridge-protocol(7); this header and that
 * page must agree.  All multi-byte fields are little-endian and are read and
 * written only through the helpers at the end of this file, never by casting
 * packet bytes to a struct.  This header owns no state and does no I/O.
 */
#ifndef TAPBRIDGE_WIRE_H
#define TAPBRIDGE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Message types: first byte of every datagram.  In handshake messages the
 * next three bytes are zero; a data message has no such padding, so that a
 * full 1514-byte frame sealed in one datagram fits a 1500-byte path.
 */
enum {
	WIRE_MSG_INITIATION = 1,
	WIRE_MSG_RESPONSE = 2,
	WIRE_MSG_COOKIE = 3,
	WIRE_MSG_DATA = 4,
};

#define WIRE_KEY_LEN		32	/* X25519 keys, symmetric keys */
#define WIRE_HASH_LEN		32	/* BLAKE2b-256 */
#define WIRE_AEAD_TAG_LEN	16	/* ChaCha20-Poly1305 (handshake) */
#define WIRE_BOX_MAC_LEN	16	/* crypto_secretbox (data) */
#define WIRE_TIMESTAMP_LEN	12	/* TAI64N */
#define WIRE_MAC1_LEN		16
#define WIRE_MAC2_LEN		16
#define WIRE_COOKIE_LEN		16

/*
 * Handshake initiation:
 *   type(1) zero(3) sender(4) ephemeral(32) static(32+16) timestamp(12+16)
 *   mac1(16) mac2(16)
 * mac1 covers the bytes before it; mac2 (zeros without a cookie) the bytes
 * before it, mac1 included.
 */
#define WIRE_INIT_LEN		(4 + 4 + 32 + 48 + 28 + 16 + 16)	/* 148 */
#define WIRE_INIT_SENDER_OFF	4
#define WIRE_INIT_MAC1_OFF	(WIRE_INIT_LEN - WIRE_MAC2_LEN - WIRE_MAC1_LEN)
#define WIRE_INIT_MAC2_OFF	(WIRE_INIT_LEN - WIRE_MAC2_LEN)
/*
 * Handshake response:
 *   type(1) zero(3) sender(4) receiver(4) ephemeral(32) empty(0+16) mac1(16)
 */
#define WIRE_RESP_LEN		(4 + 4 + 4 + 32 + 16 + 16)	/* 76 */
/*
 * Cookie reply, to an initiation the responder would not spend a DH on:
 *   type(1) zero(3) receiver(4) nonce(24) cookie(16+16)
 * The receiver is the initiation's sender index; the cookie is sealed with
 * XChaCha20-Poly1305 under HASH("cookie--" || responder's public key),
 * the initiation's mac1 as associated data.
 */
#define WIRE_COOKIE_RECEIVER_OFF 4
#define WIRE_COOKIE_NONCE_OFF	8
#define WIRE_COOKIE_NONCE_LEN	24
#define WIRE_COOKIE_BOX_OFF	(WIRE_COOKIE_NONCE_OFF + WIRE_COOKIE_NONCE_LEN)
#define WIRE_COOKIE_REPLY_LEN	(WIRE_COOKIE_BOX_OFF + WIRE_COOKIE_LEN + 16)
/*
 * Data:
 *   type(1) receiver(4) counter(8) secretbox(mac(16) payload(n))
 * The payload is an inner message (below); an empty payload is a keepalive.
 */
#define WIRE_DATA_HDR_LEN	13
#define WIRE_DATA_RECEIVER_OFF	1
#define WIRE_DATA_COUNTER_OFF	5
#define WIRE_DATA_OVERHEAD	(WIRE_DATA_HDR_LEN + WIRE_BOX_MAC_LEN)

/* Inner message kinds: first payload byte inside the secretbox. */
enum {
	WIRE_INNER_FRAME = 1,		/* kind(1) ethernet-frame(n) */
	WIRE_INNER_FRAGMENT = 2,	/* kind(1) id(4) total(2) off(2) data */
	WIRE_INNER_PROBE = 3,		/* kind(1) id(4) padding: PMTU probe */
	WIRE_INNER_PROBE_ACK = 4,	/* kind(1) id(4) size(2) */
};
#define WIRE_INNER_FRAME_HDR	1
#define WIRE_INNER_FRAG_HDR	9

/* Ethernet frames carried: header 14, optional 802.1Q tag 4. */
#define WIRE_ETH_HDR_LEN	14
#define WIRE_ETH_MAX_FRAME	(65535 - 64)	/* jumbo ceiling, any LAN MTU */

/* Timers and limits of the session protocol (seconds unless stated). */
#define WIRE_REKEY_AFTER_TIME_DEFAULT	120
#define WIRE_REKEY_TIMEOUT		2	/* handshake retransmit */
#define WIRE_REKEY_ATTEMPT_TIME		90	/* give up a handshake run */
#define WIRE_REJECT_AFTER_EXTRA		60	/* keypair valid rekey+60 s */
#define WIRE_REKEY_AFTER_MESSAGES	(UINT64_C(1) << 60)
#define WIRE_REJECT_AFTER_MESSAGES	(UINT64_MAX - (UINT64_C(1) << 13))
#define WIRE_REPLAY_WINDOW		4096	/* packets, power of two */
#define WIRE_HANDSHAKE_MIN_INTERVAL_MS	50	/* per peer, initiations */
#define WIRE_COOKIE_SECRET_MS		120000	/* responder renews its secret */
#define WIRE_COOKIE_USE_MS		115000	/* initiator uses a cookie */

/* Little-endian field helpers. */
static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wire_put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)v);
	wire_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t wire_get64(const uint8_t *p)
{
	return (uint64_t)wire_get32(p) | (uint64_t)wire_get32(p + 4) << 32;
}

#endif
