/*
 * handshake.c -- Noise IKpsk2-shaped key exchange from libsodium primitives.
 *
 *   HASH(x)      BLAKE2b-256 of x
 *   PRF(k, x)    keyed BLAKE2b-256 (k: 32 bytes)
 *   KDFn(ck, x)  t0 = PRF(ck, x); T1 = PRF(t0, 0x01);
 *                T2 = PRF(t0, T1 || 0x02); T3 = PRF(t0, T2 || 0x03)
 *   AEAD(k, p, ad)  ChaCha20-Poly1305 (IETF), all-zero nonce: each
 *                handshake key seals exactly one message
 *   DH(a, B)     X25519; an all-zero result is a failure
 *
 * The message steps are those of tapbridge-protocol(7).  Completion is kept
 * in the public fields, with no extra state: an initiator has completed when
 * it is HS_INITIATION_SENT and holds the responder's ephemeral (remote_eph
 * is zero until consume_response succeeds); a responder has completed when
 * it is HS_INITIATION_CONSUMED and holds its own ephemeral public key
 * (eph_pub is zero until create_response succeeds).  Every temporary that
 * holds key material lives in one struct on the stack, wiped on every path.
 */
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "tapbridge/handshake.h"

#define CONSTRUCTION	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
#define IDENTIFIER	"tapbridge v1"
#define LABEL_MAC1	"mac1----"

/* Initiation field offsets. */
#define INIT_SENDER	4
#define INIT_EPH	8
#define INIT_STATIC	(INIT_EPH + WIRE_KEY_LEN)
#define INIT_STATIC_LEN	(WIRE_KEY_LEN + WIRE_AEAD_TAG_LEN)
#define INIT_TS		(INIT_STATIC + INIT_STATIC_LEN)
#define INIT_TS_LEN	(WIRE_TIMESTAMP_LEN + WIRE_AEAD_TAG_LEN)
#define INIT_MAC1	(INIT_TS + INIT_TS_LEN)

/* Response field offsets. */
#define RESP_SENDER	4
#define RESP_RECEIVER	8
#define RESP_EPH	12
#define RESP_EMPTY	(RESP_EPH + WIRE_KEY_LEN)
#define RESP_MAC1	(RESP_EMPTY + WIRE_AEAD_TAG_LEN)

#define TAI64_BASE	UINT64_C(0x400000000000000a)
#define NSEC_PER_SEC	1000000000u

_Static_assert(INIT_MAC1 == WIRE_INIT_MAC1_OFF, "init layout");
_Static_assert(INIT_SENDER == WIRE_INIT_SENDER_OFF, "init layout");
_Static_assert(RESP_MAC1 + WIRE_MAC1_LEN == WIRE_RESP_LEN, "resp layout");
_Static_assert(WIRE_KEY_LEN == crypto_scalarmult_BYTES, "x25519 size");
_Static_assert(WIRE_AEAD_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES,
	       "aead tag size");
_Static_assert(KEYS_LEN == WIRE_KEY_LEN, "key size");

/* Temporaries of one message step; wiped before every return. */
struct scratch {
	uint8_t ck[WIRE_HASH_LEN];
	uint8_t h[WIRE_HASH_LEN];
	uint8_t k[WIRE_KEY_LEN];
	uint8_t t[WIRE_KEY_LEN];
	uint8_t dh[WIRE_KEY_LEN];
	uint8_t e_priv[WIRE_KEY_LEN];
	uint8_t e_pub[WIRE_KEY_LEN];
	uint8_t remote_static[WIRE_KEY_LEN];
	uint8_t ts[WIRE_TIMESTAMP_LEN];
};

/* out = HASH(a || b) */
static void hash2(uint8_t out[WIRE_HASH_LEN], const void *a, size_t alen,
		  const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, WIRE_HASH_LEN);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, WIRE_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* h = HASH(h || data) */
static void mix_hash(uint8_t h[WIRE_HASH_LEN], const uint8_t *data,
		     size_t len)
{
	hash2(h, h, WIRE_HASH_LEN, data, len);
}

/* out = PRF(key, a || b); b may be empty. */
static void prf(uint8_t out[WIRE_HASH_LEN], const uint8_t key[WIRE_HASH_LEN],
		const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, WIRE_HASH_LEN, WIRE_HASH_LEN);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, WIRE_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

/*
 * KDF: t1 is required, t2 and t3 may be NULL.  Outputs may alias ck (the
 * usual "ck = KDF1(ck, x)"): all are written after ck is last read.
 */
static void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
		const uint8_t ck[WIRE_HASH_LEN], const uint8_t *in,
		size_t inlen)
{
	static const uint8_t none[1];
	uint8_t t0[WIRE_HASH_LEN];
	uint8_t out[3][WIRE_HASH_LEN];
	uint8_t c;

	prf(t0, ck, inlen ? in : none, inlen, NULL, 0);
	c = 1;
	prf(out[0], t0, &c, 1, NULL, 0);
	c = 2;
	prf(out[1], t0, out[0], WIRE_HASH_LEN, &c, 1);
	c = 3;
	if (t3)
		prf(out[2], t0, out[1], WIRE_HASH_LEN, &c, 1);
	memcpy(t1, out[0], WIRE_HASH_LEN);
	if (t2)
		memcpy(t2, out[1], WIRE_HASH_LEN);
	if (t3)
		memcpy(t3, out[2], WIRE_HASH_LEN);
	sodium_memzero(t0, sizeof(t0));
	sodium_memzero(out, sizeof(out));
}

/* DH(priv, pub): 0, or -1 on a low-order (all-zero) result. */
static int dh(uint8_t out[WIRE_KEY_LEN], const uint8_t priv[WIRE_KEY_LEN],
	      const uint8_t pub[WIRE_KEY_LEN])
{
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : -1;
}

static void aead_seal(uint8_t *out, const uint8_t *in, size_t len,
		      const uint8_t ad[WIRE_HASH_LEN],
		      const uint8_t key[WIRE_KEY_LEN])
{
	static const uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad,
						  WIRE_HASH_LEN, NULL, nonce,
						  key);
}

/* Open len bytes of ciphertext and tag at in; 0, or -1 if forged. */
static int aead_open(uint8_t *out, const uint8_t *in, size_t len,
		     const uint8_t ad[WIRE_HASH_LEN],
		     const uint8_t key[WIRE_KEY_LEN])
{
	static const uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	return crypto_aead_chacha20poly1305_ietf_decrypt(
		       out, NULL, NULL, in, len, ad, WIRE_HASH_LEN, nonce,
		       key) == 0 ? 0 : -1;
}

void handshake_label_key(uint8_t out[WIRE_KEY_LEN], const char *label,
			 const uint8_t pub[WIRE_KEY_LEN])
{
	hash2(out, label, strlen(label), pub, WIRE_KEY_LEN);
}

static void mac1(uint8_t out[WIRE_MAC1_LEN], const uint8_t key[WIRE_KEY_LEN],
		 const uint8_t *msg, size_t len)
{
	crypto_generichash(out, WIRE_MAC1_LEN, msg, len, key, WIRE_KEY_LEN);
}

/* ck = HASH(CONSTRUCTION); h = HASH(HASH(ck || IDENTIFIER) || S_r). */
static void chain_init(uint8_t ck[WIRE_HASH_LEN], uint8_t h[WIRE_HASH_LEN],
		       const uint8_t responder_pub[WIRE_KEY_LEN])
{
	crypto_generichash(ck, WIRE_HASH_LEN, (const uint8_t *)CONSTRUCTION,
			   strlen(CONSTRUCTION), NULL, 0);
	hash2(h, ck, WIRE_HASH_LEN, IDENTIFIER, strlen(IDENTIFIER));
	mix_hash(h, responder_pub, WIRE_KEY_LEN);
}

static int ephemeral(uint8_t priv[WIRE_KEY_LEN], uint8_t pub[WIRE_KEY_LEN])
{
	randombytes_buf(priv, WIRE_KEY_LEN);
	if (crypto_scalarmult_base(pub, priv) != 0 ||
	    sodium_is_zero(pub, WIRE_KEY_LEN))
		return -1;
	return 0;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* TAI64N of now, or prev + 1 ns if now is not later than prev. */
static void tai64n_next(uint8_t out[WIRE_TIMESTAMP_LEN],
			const uint8_t prev[WIRE_TIMESTAMP_LEN])
{
	struct timespec ts;
	uint64_t sec;
	uint32_t nsec;

	clock_gettime(CLOCK_REALTIME, &ts);
	put_be(out, TAI64_BASE + (uint64_t)ts.tv_sec, 8);
	put_be(out + 8, (uint64_t)ts.tv_nsec, 4);
	if (memcmp(out, prev, WIRE_TIMESTAMP_LEN) > 0)
		return;
	sec = get_be(prev, 8);
	nsec = (uint32_t)get_be(prev + 8, 4) + 1;
	if (nsec >= NSEC_PER_SEC) {
		nsec = 0;
		sec++;
	}
	put_be(out, sec, 8);
	put_be(out + 8, nsec, 4);
}

static void put_header(uint8_t *msg, uint8_t type, uint32_t sender)
{
	msg[0] = type;
	msg[1] = 0;
	msg[2] = 0;
	msg[3] = 0;
	wire_put32(msg + 4, sender);
}

static bool header_ok(const uint8_t *msg, uint8_t type)
{
	return msg[0] == type && !msg[1] && !msg[2] && !msg[3];
}

int handshake_identity_init(struct handshake_identity *id,
			    struct keys_secret *priv)
{
	memset(id, 0, sizeof(*id));
	if (!priv || sodium_init() < 0)
		goto fail_free_priv;
	if (sodium_is_zero(priv->key, WIRE_KEY_LEN) ||
	    crypto_scalarmult_base(id->pub, priv->key) != 0 ||
	    sodium_is_zero(id->pub, WIRE_KEY_LEN))
		goto fail_free_priv;
	handshake_label_key(id->mac1_key, LABEL_MAC1, id->pub);
	id->priv = priv;
	return 0;

fail_free_priv:
	keys_secret_free(priv);
	memset(id, 0, sizeof(*id));
	return -1;
}

void handshake_identity_fini(struct handshake_identity *id)
{
	keys_secret_free(id->priv);
	sodium_memzero(id, sizeof(*id));
}

bool handshake_pub_usable(const struct keys_secret *priv,
			  const uint8_t remote_pub[WIRE_KEY_LEN])
{
	uint8_t ss[WIRE_KEY_LEN];
	bool ok = dh(ss, priv->key, remote_pub) == 0;

	sodium_memzero(ss, sizeof(ss));
	return ok;
}

struct handshake *handshake_new(const struct handshake_identity *id,
				const uint8_t remote_pub[WIRE_KEY_LEN],
				const uint8_t *psk)
{
	struct handshake *hs;

	hs = sodium_malloc(sizeof(*hs));
	if (!hs)
		return NULL;
	memset(hs, 0, sizeof(*hs));
	if (dh(hs->precomputed_ss, id->priv->key, remote_pub) != 0)
		goto fail_free;
	memcpy(hs->remote_static, remote_pub, WIRE_KEY_LEN);
	handshake_label_key(hs->remote_mac1_key, LABEL_MAC1, remote_pub);
	if (psk)
		memcpy(hs->psk, psk, WIRE_KEY_LEN);
	hs->state = HS_IDLE;
	return hs;

fail_free:
	handshake_free(hs);
	return NULL;
}

void handshake_free(struct handshake *hs)
{
	if (!hs)
		return;
	sodium_memzero(hs, sizeof(*hs));
	sodium_free(hs);
}

bool handshake_mac1_ok(const struct handshake_identity *id, const uint8_t *msg,
		       size_t len)
{
	uint8_t mac[WIRE_MAC1_LEN];
	size_t off;

	if (len == WIRE_INIT_LEN)
		off = INIT_MAC1;
	else if (len == WIRE_RESP_LEN)
		off = RESP_MAC1;
	else
		return false;
	mac1(mac, id->mac1_key, msg, off);
	return sodium_memcmp(mac, msg + off, WIRE_MAC1_LEN) == 0;
}

int handshake_create_initiation(struct handshake *hs,
				const struct handshake_identity *id,
				uint32_t local_index,
				uint8_t msg[WIRE_INIT_LEN])
{
	struct scratch t;
	int ret = -1;

	chain_init(t.ck, t.h, hs->remote_static);
	if (ephemeral(t.e_priv, t.e_pub) != 0)
		goto out;
	put_header(msg, WIRE_MSG_INITIATION, local_index);
	kdf(t.ck, NULL, NULL, t.ck, t.e_pub, WIRE_KEY_LEN);
	memcpy(msg + INIT_EPH, t.e_pub, WIRE_KEY_LEN);
	mix_hash(t.h, t.e_pub, WIRE_KEY_LEN);

	if (dh(t.dh, t.e_priv, hs->remote_static) != 0)
		goto out;
	kdf(t.ck, t.k, NULL, t.ck, t.dh, WIRE_KEY_LEN);
	aead_seal(msg + INIT_STATIC, id->pub, WIRE_KEY_LEN, t.h, t.k);
	mix_hash(t.h, msg + INIT_STATIC, INIT_STATIC_LEN);

	kdf(t.ck, t.k, NULL, t.ck, hs->precomputed_ss, WIRE_KEY_LEN);
	tai64n_next(t.ts, hs->sent_timestamp);
	aead_seal(msg + INIT_TS, t.ts, WIRE_TIMESTAMP_LEN, t.h, t.k);
	mix_hash(t.h, msg + INIT_TS, INIT_TS_LEN);
	mac1(msg + INIT_MAC1, hs->remote_mac1_key, msg, INIT_MAC1);
	memset(msg + WIRE_INIT_MAC2_OFF, 0, WIRE_MAC2_LEN);	/* no cookie */

	memcpy(hs->hash, t.h, WIRE_HASH_LEN);
	memcpy(hs->chaining_key, t.ck, WIRE_HASH_LEN);
	memcpy(hs->eph_priv, t.e_priv, WIRE_KEY_LEN);
	memcpy(hs->eph_pub, t.e_pub, WIRE_KEY_LEN);
	sodium_memzero(hs->remote_eph, WIRE_KEY_LEN);
	memcpy(hs->sent_timestamp, t.ts, WIRE_TIMESTAMP_LEN);
	hs->local_index = local_index;
	hs->remote_index = 0;
	hs->state = HS_INITIATION_SENT;
	ret = 0;
out:
	sodium_memzero(&t, sizeof(t));
	return ret;
}

int handshake_consume_initiation(const struct handshake_identity *id,
				 const uint8_t *msg, size_t len,
				 struct handshake_pending *p)
{
	struct scratch t;
	const uint8_t *e_i = msg + INIT_EPH;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	if (len != WIRE_INIT_LEN || !header_ok(msg, WIRE_MSG_INITIATION))
		return -1;
	if (!handshake_mac1_ok(id, msg, len))
		return -1;

	chain_init(t.ck, t.h, id->pub);
	kdf(t.ck, NULL, NULL, t.ck, e_i, WIRE_KEY_LEN);
	mix_hash(t.h, e_i, WIRE_KEY_LEN);

	if (dh(t.dh, id->priv->key, e_i) != 0)
		goto out;
	kdf(t.ck, t.k, NULL, t.ck, t.dh, WIRE_KEY_LEN);
	if (aead_open(t.remote_static, msg + INIT_STATIC, INIT_STATIC_LEN,
		      t.h, t.k) != 0)
		goto out;
	mix_hash(t.h, msg + INIT_STATIC, INIT_STATIC_LEN);

	if (dh(t.dh, id->priv->key, t.remote_static) != 0)
		goto out;
	kdf(t.ck, t.k, NULL, t.ck, t.dh, WIRE_KEY_LEN);
	if (aead_open(t.ts, msg + INIT_TS, INIT_TS_LEN, t.h, t.k) != 0)
		goto out;
	mix_hash(t.h, msg + INIT_TS, INIT_TS_LEN);

	memcpy(p->remote_static, t.remote_static, WIRE_KEY_LEN);
	memcpy(p->remote_eph, e_i, WIRE_KEY_LEN);
	memcpy(p->hash, t.h, WIRE_HASH_LEN);
	memcpy(p->chaining_key, t.ck, WIRE_HASH_LEN);
	memcpy(p->timestamp, t.ts, WIRE_TIMESTAMP_LEN);
	p->remote_index = wire_get32(msg + INIT_SENDER);
	ret = 0;
out:
	sodium_memzero(&t, sizeof(t));
	return ret;
}

int handshake_accept_initiation(struct handshake *hs,
				const struct handshake_pending *p)
{
	if (sodium_memcmp(p->remote_static, hs->remote_static,
			  WIRE_KEY_LEN) != 0)
		return -1;
	if (memcmp(p->timestamp, hs->last_timestamp, WIRE_TIMESTAMP_LEN) <= 0)
		return -1;

	memcpy(hs->hash, p->hash, WIRE_HASH_LEN);
	memcpy(hs->chaining_key, p->chaining_key, WIRE_HASH_LEN);
	memcpy(hs->remote_eph, p->remote_eph, WIRE_KEY_LEN);
	memcpy(hs->last_timestamp, p->timestamp, WIRE_TIMESTAMP_LEN);
	hs->remote_index = p->remote_index;
	/* Not responded yet: no ephemeral of ours (see the top comment). */
	sodium_memzero(hs->eph_priv, WIRE_KEY_LEN);
	sodium_memzero(hs->eph_pub, WIRE_KEY_LEN);
	hs->state = HS_INITIATION_CONSUMED;
	return 0;
}

/* ck = KDF1(ck, DH(priv, pub)); 0, or -1 on a low-order point. */
static int mix_dh(struct scratch *t, const uint8_t priv[WIRE_KEY_LEN],
		  const uint8_t pub[WIRE_KEY_LEN])
{
	if (dh(t->dh, priv, pub) != 0)
		return -1;
	kdf(t->ck, NULL, NULL, t->ck, t->dh, WIRE_KEY_LEN);
	return 0;
}

/* (ck, t, k) = KDF3(ck, psk); h = HASH(h || t) */
static void mix_psk(struct scratch *t, const uint8_t psk[WIRE_KEY_LEN])
{
	kdf(t->ck, t->t, t->k, t->ck, psk, WIRE_KEY_LEN);
	mix_hash(t->h, t->t, WIRE_KEY_LEN);
}

int handshake_create_response(struct handshake *hs,
			      const struct handshake_identity *id,
			      uint32_t local_index, uint8_t msg[WIRE_RESP_LEN])
{
	struct scratch t;
	int ret = -1;

	if (hs->state != HS_INITIATION_CONSUMED ||
	    !sodium_is_zero(hs->eph_pub, WIRE_KEY_LEN))
		return -1;
	memcpy(t.ck, hs->chaining_key, WIRE_HASH_LEN);
	memcpy(t.h, hs->hash, WIRE_HASH_LEN);
	if (ephemeral(t.e_priv, t.e_pub) != 0)
		goto out;
	put_header(msg, WIRE_MSG_RESPONSE, local_index);
	wire_put32(msg + RESP_RECEIVER, hs->remote_index);
	kdf(t.ck, NULL, NULL, t.ck, t.e_pub, WIRE_KEY_LEN);
	memcpy(msg + RESP_EPH, t.e_pub, WIRE_KEY_LEN);
	mix_hash(t.h, t.e_pub, WIRE_KEY_LEN);
	if (mix_dh(&t, t.e_priv, hs->remote_eph) != 0 ||
	    mix_dh(&t, t.e_priv, hs->remote_static) != 0)
		goto out;
	mix_psk(&t, hs->psk);
	aead_seal(msg + RESP_EMPTY, t.t, 0, t.h, t.k);
	mix_hash(t.h, msg + RESP_EMPTY, WIRE_AEAD_TAG_LEN);
	mac1(msg + RESP_MAC1, hs->remote_mac1_key, msg, RESP_MAC1);

	memcpy(hs->chaining_key, t.ck, WIRE_HASH_LEN);
	memcpy(hs->hash, t.h, WIRE_HASH_LEN);
	/* eph_pub marks the response as sent; eph_priv is not needed. */
	memcpy(hs->eph_pub, t.e_pub, WIRE_KEY_LEN);
	hs->local_index = local_index;
	ret = 0;
out:
	sodium_memzero(&t, sizeof(t));
	return ret;
}

int handshake_consume_response(struct handshake *hs,
			       const struct handshake_identity *id,
			       const uint8_t *msg, size_t len)
{
	struct scratch t;
	const uint8_t *e_r = msg + RESP_EPH;
	uint8_t empty[1];
	int ret = -1;

	if (len != WIRE_RESP_LEN || !header_ok(msg, WIRE_MSG_RESPONSE))
		return -1;
	if (hs->state != HS_INITIATION_SENT ||
	    !sodium_is_zero(hs->remote_eph, WIRE_KEY_LEN) ||
	    wire_get32(msg + RESP_RECEIVER) != hs->local_index)
		return -1;
	if (!handshake_mac1_ok(id, msg, len))
		return -1;

	/* Work on copies: a forged response must leave hs as it was. */
	memcpy(t.ck, hs->chaining_key, WIRE_HASH_LEN);
	memcpy(t.h, hs->hash, WIRE_HASH_LEN);
	kdf(t.ck, NULL, NULL, t.ck, e_r, WIRE_KEY_LEN);
	mix_hash(t.h, e_r, WIRE_KEY_LEN);
	if (mix_dh(&t, hs->eph_priv, e_r) != 0 ||
	    mix_dh(&t, id->priv->key, e_r) != 0)
		goto out;
	mix_psk(&t, hs->psk);
	if (aead_open(empty, msg + RESP_EMPTY, WIRE_AEAD_TAG_LEN, t.h,
		      t.k) != 0)
		goto out;
	mix_hash(t.h, msg + RESP_EMPTY, WIRE_AEAD_TAG_LEN);

	memcpy(hs->chaining_key, t.ck, WIRE_HASH_LEN);
	memcpy(hs->hash, t.h, WIRE_HASH_LEN);
	memcpy(hs->remote_eph, e_r, WIRE_KEY_LEN);
	hs->remote_index = wire_get32(msg + RESP_SENDER);
	ret = 0;
out:
	sodium_memzero(&t, sizeof(t));
	return ret;
}

int handshake_derive(struct handshake *hs, struct session *s)
{
	uint8_t t1[WIRE_KEY_LEN], t2[WIRE_KEY_LEN];
	bool initiator;

	if (hs->state == HS_INITIATION_SENT &&
	    !sodium_is_zero(hs->remote_eph, WIRE_KEY_LEN))
		initiator = true;
	else if (hs->state == HS_INITIATION_CONSUMED &&
		 !sodium_is_zero(hs->eph_pub, WIRE_KEY_LEN))
		initiator = false;
	else
		return -1;

	kdf(t1, t2, NULL, hs->chaining_key, NULL, 0);
	memcpy(s->send_key, initiator ? t1 : t2, WIRE_KEY_LEN);
	memcpy(s->recv_key, initiator ? t2 : t1, WIRE_KEY_LEN);
	s->local_index = hs->local_index;
	s->remote_index = hs->remote_index;
	s->initiator = initiator;
	s->send_counter = 0;
	replay_init(&s->replay);

	sodium_memzero(t1, sizeof(t1));
	sodium_memzero(t2, sizeof(t2));
	handshake_wipe(hs);
	return 0;
}

void handshake_wipe(struct handshake *hs)
{
	sodium_memzero(hs->hash, WIRE_HASH_LEN);
	sodium_memzero(hs->chaining_key, WIRE_HASH_LEN);
	sodium_memzero(hs->eph_priv, WIRE_KEY_LEN);
	sodium_memzero(hs->eph_pub, WIRE_KEY_LEN);
	sodium_memzero(hs->remote_eph, WIRE_KEY_LEN);
	hs->state = HS_IDLE;
}
