/*
 * session.c -- sealing and opening data messages, and the replay window.
 *
 * Data message: type(1) receiver(4) counter(8) then the output of
 * crypto_secretbox_easy (MAC(16) ciphertext(n)).  The payload is sealed in
 * place: it sits at dgram + WIRE_DATA_OVERHEAD and its ciphertext ends up
 * WIRE_BOX_MAC_LEN bytes earlier, behind the MAC; libsodium handles that
 * overlap.  The nonce is the counter, little-endian, zero-padded.
 *
 * Replay window (RFC 6479 shape): a ring of REPLAY_WORDS 64-bit words, the
 * word of counter c being (c / 64) % REPLAY_WORDS.  The ring always holds
 * the word of the highest accepted counter and the REPLAY_WORDS - 1 words
 * before it, so every counter at most REPLAY_BOUND = WIRE_REPLAY_WINDOW - 64
 * (4032) behind the highest accepted one has a valid bit; anything older is
 * rejected.  Moving the top forward clears the words it skips over (the
 * whole ring when the jump is REPLAY_WORDS words or more).  The counter
 * UINT64_MAX is never accepted: top (highest + 1) could not represent it.
 */
#include <limits.h>
#include <string.h>

#include <sodium.h>

#include "tapbridge/session.h"

#define REPLAY_BOUND	((uint64_t)WIRE_REPLAY_WINDOW - 64)
#define NONCE_LEN	crypto_secretbox_NONCEBYTES

_Static_assert(WIRE_REPLAY_WINDOW % 64 == 0 && REPLAY_WORDS >= 2,
	       "replay window must be whole words");
_Static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0,
	       "replay ring must be a power of two");
_Static_assert(WIRE_BOX_MAC_LEN == crypto_secretbox_MACBYTES,
	       "secretbox MAC length");
_Static_assert(WIRE_KEY_LEN == crypto_secretbox_KEYBYTES,
	       "secretbox key length");

static const char *const verdict_names[RX_VERDICT_MAX] = {
	[RX_OK] = "ok",
	[RX_DROP_SHORT] = "short",
	[RX_DROP_AUTH] = "auth",
	[RX_DROP_REPLAY] = "replay",
	[RX_DROP_NO_SESSION] = "no-session",
	[RX_DROP_EXPIRED] = "expired",
	[RX_DROP_HANDSHAKE] = "handshake",
	[RX_DROP_INNER] = "inner",
};

const char *rx_verdict_name(enum rx_verdict v)
{
	if ((unsigned int)v >= RX_VERDICT_MAX || !verdict_names[v])
		return "unknown";
	return verdict_names[v];
}

void replay_init(struct replay *r)
{
	memset(r, 0, sizeof(*r));
}

static size_t word_of(uint64_t counter)
{
	return (size_t)((counter / 64) & (REPLAY_WORDS - 1));
}

static uint64_t bit_of(uint64_t counter)
{
	return UINT64_C(1) << (counter & 63);
}

bool replay_check(const struct replay *r, uint64_t counter)
{
	if (counter == UINT64_MAX)
		return false;
	if (counter >= r->top)
		return true;
	/* Here top >= 1 and counter <= top - 1: no wrap below. */
	if (r->top - 1 - counter > REPLAY_BOUND)
		return false;
	return !(r->bitmap[word_of(counter)] & bit_of(counter));
}

/* Advance top to counter + 1, clearing the words skipped over. */
static void advance(struct replay *r, uint64_t counter)
{
	uint64_t cur, next, i;

	if (r->top == 0) {
		memset(r->bitmap, 0, sizeof(r->bitmap));
	} else {
		cur = (r->top - 1) / 64;
		next = counter / 64;
		if (next - cur >= REPLAY_WORDS) {
			memset(r->bitmap, 0, sizeof(r->bitmap));
		} else {
			for (i = cur + 1; i <= next; i++)
				r->bitmap[i & (REPLAY_WORDS - 1)] = 0;
		}
	}
	r->top = counter + 1;
}

int replay_update(struct replay *r, uint64_t counter)
{
	if (!replay_check(r, counter))
		return -1;
	if (counter >= r->top)
		advance(r, counter);
	r->bitmap[word_of(counter)] |= bit_of(counter);
	return 0;
}

struct session *session_new(void)
{
	struct session *s;

	if (sodium_init() < 0)
		return NULL;
	s = sodium_malloc(sizeof(*s));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	return s;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	sodium_memzero(s, sizeof(*s));
	sodium_free(s);
}

static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t counter)
{
	memset(nonce, 0, NONCE_LEN);
	wire_put64(nonce, counter);
}

size_t session_fast_len(size_t len)
{
#if defined(__x86_64__) || defined(__i386__)
	const size_t head = crypto_secretbox_ZEROBYTES, chunk = 256;

	if (len >= head + chunk)
		return head + (len - head) / chunk * chunk;
#endif
	return len;
}

ssize_t session_seal(struct session *s, uint8_t *dgram, size_t len)
{
	uint8_t nonce[NONCE_LEN];
	uint64_t counter;

	if (s->send_counter >= WIRE_REJECT_AFTER_MESSAGES)
		return -1;
	if (len > (size_t)SSIZE_MAX - WIRE_DATA_OVERHEAD)
		return -1;
	counter = s->send_counter++;

	dgram[0] = WIRE_MSG_DATA;
	wire_put32(dgram + WIRE_DATA_RECEIVER_OFF, s->remote_index);
	wire_put64(dgram + WIRE_DATA_COUNTER_OFF, counter);
	make_nonce(nonce, counter);
	crypto_secretbox_easy(dgram + WIRE_DATA_HDR_LEN,
			      dgram + WIRE_DATA_OVERHEAD, len, nonce,
			      s->send_key);
	return (ssize_t)(len + WIRE_DATA_OVERHEAD);
}

enum rx_verdict session_open(struct session *s, uint8_t *dgram, size_t len,
			     uint64_t *counter)
{
	uint8_t nonce[NONCE_LEN];
	uint64_t c;

	if (len < WIRE_DATA_OVERHEAD)
		return RX_DROP_SHORT;
	if (dgram[0] != WIRE_MSG_DATA)
		return RX_DROP_SHORT;
	/* The caller routed by this index; a mismatch is not ours. */
	if (wire_get32(dgram + WIRE_DATA_RECEIVER_OFF) != s->local_index)
		return RX_DROP_NO_SESSION;
	c = wire_get64(dgram + WIRE_DATA_COUNTER_OFF);
	if (c >= WIRE_REJECT_AFTER_MESSAGES)
		return RX_DROP_EXPIRED;
	if (!replay_check(&s->replay, c))
		return RX_DROP_REPLAY;
	make_nonce(nonce, c);
	if (crypto_secretbox_open_easy(dgram + WIRE_DATA_OVERHEAD,
				       dgram + WIRE_DATA_HDR_LEN,
				       len - WIRE_DATA_HDR_LEN, nonce,
				       s->recv_key) != 0)
		return RX_DROP_AUTH;
	/* Checked again: another opener may have taken c meanwhile. */
	if (replay_update(&s->replay, c) != 0)
		return RX_DROP_REPLAY;
	*counter = c;
	return RX_OK;
}
