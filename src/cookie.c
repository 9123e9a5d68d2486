/*
 * cookie.c -- cookie replies and mac2; see cookie.h.
 *
 *   cookie key  = HASH("cookie--" || responder's public key)
 *   cookie      = MAC(secret, address(16) || port(2))
 *   mac2        = MAC(cookie, initiation bytes before mac2)
 *   cookie reply: the cookie sealed with XChaCha20-Poly1305 under the
 *                 cookie key, a random nonce, the initiation's mac1 as
 *                 associated data
 *
 * HASH is BLAKE2b-256 and MAC keyed BLAKE2b-128, as for mac1; an IPv4
 * address is taken in its v4-mapped IPv6 form.
 */
#include <string.h>

#include <sodium.h>

#include "tapbridge/cookie.h"
#include "tapbridge/handshake.h"

#define LABEL_COOKIE	"cookie--"

_Static_assert(WIRE_COOKIE_REPLY_LEN == 64, "cookie reply layout");
_Static_assert(WIRE_COOKIE_NONCE_LEN ==
	       crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16, "tag size");
_Static_assert(WIRE_COOKIE_LEN >= crypto_generichash_KEYBYTES_MIN,
	       "a cookie keys mac2");

/* The secret, renewed when older than WIRE_COOKIE_SECRET_MS. */
static const uint8_t *secret(struct cookie_checker *c, uint64_t now)
{
	if (!c->secret_ms || now - c->secret_ms >= WIRE_COOKIE_SECRET_MS) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_ms = now ? now : 1;
	}
	return c->secret;
}

/* The cookie the address from gets now. */
static void make_cookie(struct cookie_checker *c, const union pkt_addr *from,
			uint64_t now, uint8_t out[WIRE_COOKIE_LEN])
{
	uint8_t a[18];

	pkt_addr_key(a, from);
	memcpy(a + 16, from->sa.sa_family == AF_INET ?
		       (const void *)&from->in4.sin_port :
		       (const void *)&from->in6.sin6_port, 2);
	crypto_generichash(out, WIRE_COOKIE_LEN, a, sizeof(a), secret(c, now),
			   WIRE_KEY_LEN);
}

static void mac2(uint8_t out[WIRE_MAC2_LEN],
		 const uint8_t cookie[WIRE_COOKIE_LEN], const uint8_t *init)
{
	crypto_generichash(out, WIRE_MAC2_LEN, init, WIRE_INIT_MAC2_OFF,
			   cookie, WIRE_COOKIE_LEN);
}

void cookie_checker_init(struct cookie_checker *c,
			 const uint8_t pub[WIRE_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	handshake_label_key(c->reply_key, LABEL_COOKIE, pub);
}

bool cookie_mac2_ok(struct cookie_checker *c, const union pkt_addr *from,
		    const uint8_t *init, uint64_t now_ms)
{
	uint8_t cookie[WIRE_COOKIE_LEN], mac[WIRE_MAC2_LEN];
	bool ok;

	if (sodium_is_zero(init + WIRE_INIT_MAC2_OFF, WIRE_MAC2_LEN))
		return false;
	make_cookie(c, from, now_ms, cookie);
	mac2(mac, cookie, init);
	ok = sodium_memcmp(mac, init + WIRE_INIT_MAC2_OFF,
			   WIRE_MAC2_LEN) == 0;
	sodium_memzero(cookie, sizeof(cookie));
	return ok;
}

void cookie_reply(struct cookie_checker *c, const union pkt_addr *from,
		  const uint8_t *init, uint8_t out[WIRE_COOKIE_REPLY_LEN],
		  uint64_t now_ms)
{
	uint8_t cookie[WIRE_COOKIE_LEN];

	memset(out, 0, WIRE_COOKIE_REPLY_LEN);
	out[0] = WIRE_MSG_COOKIE;
	memcpy(out + WIRE_COOKIE_RECEIVER_OFF, init + WIRE_INIT_SENDER_OFF, 4);
	randombytes_buf(out + WIRE_COOKIE_NONCE_OFF, WIRE_COOKIE_NONCE_LEN);
	make_cookie(c, from, now_ms, cookie);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + WIRE_COOKIE_BOX_OFF, NULL, cookie, sizeof(cookie),
		init + WIRE_INIT_MAC1_OFF, WIRE_MAC1_LEN, NULL,
		out + WIRE_COOKIE_NONCE_OFF, c->reply_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void cookie_jar_init(struct cookie_jar *j, const uint8_t pub[WIRE_KEY_LEN])
{
	memset(j, 0, sizeof(*j));
	handshake_label_key(j->reply_key, LABEL_COOKIE, pub);
}

void cookie_jar_stamp(struct cookie_jar *j, uint8_t *init, uint64_t now_ms)
{
	if (j->cookie_ms && now_ms - j->cookie_ms < WIRE_COOKIE_USE_MS)
		mac2(init + WIRE_INIT_MAC2_OFF, j->cookie, init);
	else
		memset(init + WIRE_INIT_MAC2_OFF, 0, WIRE_MAC2_LEN);
	memcpy(j->sent_mac1, init + WIRE_INIT_MAC1_OFF, WIRE_MAC1_LEN);
	j->sent = true;
}

int cookie_jar_take(struct cookie_jar *j, const uint8_t *reply, size_t len,
		    uint64_t now_ms)
{
	uint8_t cookie[WIRE_COOKIE_LEN];

	if (len != WIRE_COOKIE_REPLY_LEN || reply[0] != WIRE_MSG_COOKIE ||
	    reply[1] || reply[2] || reply[3] || !j->sent)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, NULL, NULL, reply + WIRE_COOKIE_BOX_OFF,
		    WIRE_COOKIE_LEN + 16, j->sent_mac1, WIRE_MAC1_LEN,
		    reply + WIRE_COOKIE_NONCE_OFF, j->reply_key) != 0)
		return -1;
	memcpy(j->cookie, cookie, sizeof(cookie));
	j->cookie_ms = now_ms ? now_ms : 1;
	j->sent = false;	/* one reply per initiation: no replays */
	sodium_memzero(cookie, sizeof(cookie));
	return 0;
}
