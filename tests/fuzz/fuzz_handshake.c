/*
 * fuzz_handshake.c -- libFuzzer target for the handshake and data message
 * parsers: handshake_consume_initiation, handshake_consume_response and
 * session_open.
 *
 * Fixed at start (identities from fixed seeds, randombytes made
 * deterministic): our identity; a handshake state of ours that has sent an
 * initiation and awaits the response (a template, copied before each use);
 * a session receiving on a fixed index (also a template); and one valid
 * message of each kind made for them by the other side.
 *
 * Input: the first byte modulo 11 selects a mode; the rest is used as:
 *   0  an initiation, as is;
 *   1  an initiation: cut or zero-padded to its length, header and mac1
 *      made right, so the Diffie-Hellman and AEAD steps see the bytes;
 *   2  a response, as is;
 *   3  a response: cut or padded, header, receiver index and mac1 right;
 *   4  a data message, as is;
 *   5  a data message with its header (type, receiver index) made right;
 *   6  a mask XORed into the valid initiation (cut or zero-padded);
 *   7  a mask XORed into the valid response;
 *   8  a mask XORed into the valid data message;
 *   9  as 6, then mac1 made right: what the handshake itself binds;
 *  10  as 7, then mac1 made right.
 * Each message is in a heap buffer of exactly its length.
 *
 * Beyond memory safety it checks, against an oracle: a handshake message
 * is accepted if and only if its mac1 is right and it equals the valid
 * message in every byte but the sender index (which only mac1 protects,
 * as in WireGuard); a data message if and only if it is the valid one.
 * An accepted message yields what was sent (peer key, indices, payload,
 * counter, a session that derives).  A rejected initiation leaves the
 * output zeroed (no partial secrets); a rejected response leaves the
 * handshake state byte for byte as it was; a rejected data message leaves
 * the replay window as it was.  The valid initiation and response carry
 * a timestamp from the clock, so they differ from run to run: only the
 * masked modes (6-10) reproduce acceptance from a stored seed.
 *
 *   make fuzz-replay       (replays tests/fuzz/corpus/handshake)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tapbridge/handshake.h"
#include "tapbridge/session.h"
#include "tapbridge/wire.h"

#include "fuzz_support.h"

#define IDX_US		0x0a0b0c0du	/* our index in our initiation */
#define IDX_THEM	0x01020304u	/* theirs, in their messages */
#define IDX_DATA	0x11223344u	/* our receiving session's index */
#define DATA_LEN	100		/* payload of the valid data message */
#define MODES		11

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t psk[WIRE_KEY_LEN] = { 0x70, 0x73, 0x6b };
static struct handshake_identity us, them;
static struct handshake *awaiting;	/* template: sent, awaits response */
static struct handshake *work;		/* copy consumed by each input */
static struct session *receiving;	/* template */
static struct session *rx;		/* copy opened by each input */
static uint8_t valid_init[WIRE_INIT_LEN];
static uint8_t valid_resp[WIRE_RESP_LEN];
static uint8_t valid_data[WIRE_DATA_OVERHEAD + DATA_LEN];
static uint8_t payload[DATA_LEN];

/* Their initiation to us; our initiation and their response to it. */
static void make_handshakes(void)
{
	uint8_t ours[WIRE_INIT_LEN];
	struct handshake_pending hp;
	struct handshake *a, *b;

	a = handshake_new(&them, us.pub, psk);
	b = handshake_new(&them, us.pub, psk);
	awaiting = handshake_new(&us, them.pub, psk);
	work = handshake_new(&us, them.pub, psk);
	if (!a || !b || !awaiting || !work ||
	    handshake_create_initiation(a, &them, IDX_THEM, valid_init) < 0 ||
	    handshake_create_initiation(awaiting, &us, IDX_US, ours) < 0 ||
	    handshake_consume_initiation(&them, ours, sizeof(ours), &hp) < 0 ||
	    handshake_accept_initiation(b, &hp) < 0 ||
	    handshake_create_response(b, &them, IDX_THEM, valid_resp) < 0)
		abort();
	sodium_memzero(&hp, sizeof(hp));
	handshake_free(a);
	handshake_free(b);
}

/* A session receiving on IDX_DATA and a data message sealed for it. */
static void make_sessions(void)
{
	struct session *tx = session_new();
	size_t i;

	receiving = session_new();
	rx = session_new();
	if (!tx || !receiving || !rx)
		abort();
	randombytes_buf(receiving->recv_key, WIRE_KEY_LEN);
	randombytes_buf(receiving->send_key, WIRE_KEY_LEN);
	receiving->local_index = IDX_DATA;
	receiving->remote_index = IDX_THEM;
	replay_init(&receiving->replay);
	memcpy(tx->send_key, receiving->recv_key, WIRE_KEY_LEN);
	tx->remote_index = IDX_DATA;
	tx->send_counter = 7;
	for (i = 0; i < DATA_LEN; i++)
		payload[i] = (uint8_t)i;
	memcpy(valid_data + WIRE_DATA_OVERHEAD, payload, DATA_LEN);
	if (session_seal(tx, valid_data, DATA_LEN) !=
	    (ssize_t)sizeof(valid_data))
		abort();
	session_free(tx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet_log();
	fuzz_deterministic_random();
	if (sodium_init() < 0)
		abort();
	fuzz_identity(&us, 1);
	fuzz_identity(&them, 2);
	make_handshakes();
	make_sessions();
	return 0;
}

/* A heap copy of d cut or zero-padded to len bytes (len > 0). */
static uint8_t *shaped(const uint8_t *d, size_t n, size_t len)
{
	uint8_t *m = calloc(1, len);

	if (!m)
		abort();
	memcpy(m, d, n < len ? n : len);
	return m;
}

/* valid XOR the mask d (cut or zero-padded). */
static uint8_t *masked(const uint8_t *valid, size_t len, const uint8_t *d,
		       size_t n)
{
	uint8_t *m = shaped(d, n, len);
	size_t i;

	for (i = 0; i < len; i++)
		m[i] ^= valid[i];
	return m;
}

static void fix_header(uint8_t *m, uint8_t type)
{
	m[0] = type;
	m[1] = m[2] = m[3] = 0;
}

/* Where mac1 is: an initiation has mac2 after it. */
static size_t mac1_off(size_t len)
{
	return len == WIRE_INIT_LEN ? WIRE_INIT_MAC1_OFF : len - WIRE_MAC1_LEN;
}

static void fix_mac1(uint8_t *m, size_t len)
{
	size_t off = mac1_off(len);

	crypto_generichash(m + off, WIRE_MAC1_LEN, m, off, us.mac1_key,
			   WIRE_KEY_LEN);
}

/*
 * The oracle for handshake messages: m must be accepted if and only if it
 * carries a right mac1 and equals the valid message in every byte but the
 * sender index.  The sender index is protected by mac1 alone, which anyone
 * who knows our public key can compute, so it may be rewritten (as in
 * WireGuard: an attacker on the path gains nothing it could not do by
 * dropping packets); so may an initiation's mac2, which only the data
 * path's cookie check reads; every other byte is bound by the handshake
 * itself.
 */
static int must_accept(const uint8_t *m, size_t len, const uint8_t *valid,
		       size_t vlen)
{
	uint8_t mac[WIRE_MAC1_LEN];
	size_t off = mac1_off(len);

	if (len != vlen)
		return 0;
	crypto_generichash(mac, WIRE_MAC1_LEN, m, off, us.mac1_key,
			   WIRE_KEY_LEN);
	return !memcmp(mac, m + off, WIRE_MAC1_LEN) &&
	       !memcmp(m, valid, 4) &&
	       !memcmp(m + 8, valid + 8, off - 8);
}

static void initiation(const uint8_t *m, size_t len)
{
	int must = must_accept(m, len, valid_init, WIRE_INIT_LEN);
	struct handshake_pending p;
	int ret = handshake_consume_initiation(&us, m, len, &p);

	if (ret == 0) {
		if (!must || memcmp(p.remote_static, them.pub, WIRE_KEY_LEN) ||
		    p.remote_index != wire_get32(m + 4))
			abort();
	} else if (ret != -1 || must ||
		   !sodium_is_zero((uint8_t *)&p, sizeof(p))) {
		abort();	/* refused a valid one, or left secrets */
	}
	sodium_memzero(&p, sizeof(p));
}

static void response(const uint8_t *m, size_t len)
{
	int must = must_accept(m, len, valid_resp, WIRE_RESP_LEN);
	struct session *s;
	int ret;

	memcpy(work, awaiting, sizeof(*work));
	ret = handshake_consume_response(work, &us, m, len);
	if (ret == 0) {
		if (!must || work->remote_index != wire_get32(m + 4))
			abort();
		s = session_new();
		if (!s || handshake_derive(work, s) < 0 ||
		    s->local_index != IDX_US ||
		    s->remote_index != wire_get32(m + 4) || !s->initiator)
			abort();
		session_free(s);
	} else if (ret != -1 || must ||
		   memcmp(work, awaiting, sizeof(*work))) {
		abort();	/* refused a valid one, or changed the state */
	}
}

/* Data messages: every byte is bound (header by lookup and nonce). */
static void data_message(uint8_t *m, size_t len)
{
	int must = len == sizeof(valid_data) &&
		   !memcmp(m, valid_data, len);
	uint64_t counter = 0;
	enum rx_verdict v;

	memcpy(rx, receiving, sizeof(*rx));
	v = session_open(rx, m, len, &counter);
	if (v == RX_OK) {
		if (!must || counter != 7 ||
		    memcmp(m + WIRE_DATA_OVERHEAD, payload, DATA_LEN) ||
		    replay_check(&rx->replay, counter))
			abort();
	} else if ((unsigned)v >= RX_VERDICT_MAX || must ||
		   memcmp(&rx->replay, &receiving->replay,
			  sizeof(rx->replay))) {
		abort();	/* refused a valid one, or moved the window */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;
	uint8_t *m;
	size_t len;

	if (size < 1)
		return 0;
	mode = data[0] % MODES;
	data++;
	size--;
	switch (mode) {
	case 0:
	case 2:
	case 4:
	case 5:
		len = size;
		m = shaped(data, size, len ? len : 1);
		break;
	case 1:
	case 6:
	case 9:
		len = WIRE_INIT_LEN;
		m = mode == 1 ? shaped(data, size, len) :
				masked(valid_init, len, data, size);
		break;
	case 3:
	case 7:
	case 10:
		len = WIRE_RESP_LEN;
		m = mode == 3 ? shaped(data, size, len) :
				masked(valid_resp, len, data, size);
		break;
	default:
		len = sizeof(valid_data);
		m = masked(valid_data, len, data, size);
		break;
	}
	if (mode == 1)
		fix_header(m, WIRE_MSG_INITIATION);
	if (mode == 3) {
		fix_header(m, WIRE_MSG_RESPONSE);
		wire_put32(m + 8, IDX_US);
	}
	if (mode == 5 && len >= WIRE_DATA_COUNTER_OFF) {
		m[0] = WIRE_MSG_DATA;
		wire_put32(m + WIRE_DATA_RECEIVER_OFF, IDX_DATA);
	}
	if (mode == 1 || mode == 3 || mode == 9 || mode == 10)
		fix_mac1(m, len);
	if (mode == 0 || mode == 1 || mode == 6 || mode == 9)
		initiation(m, len);
	else if (mode == 2 || mode == 3 || mode == 7 || mode == 10)
		response(m, len);
	else
		data_message(m, len);
	free(m);
	return 0;
}
