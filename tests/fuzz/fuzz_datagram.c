/*
 * fuzz_datagram.c -- libFuzzer target for the daemon's whole receive path.
 *
 * One struct datapath, made once, with one peer whose session is up: the
 * two identities come from fixed seeds, and the real handshake runs between
 * them at start-up (the data path's peer initiates, so its session is
 * current at once).  The data path writes frames to /dev/null and sends
 * on one end of an AF_UNIX socketpair, where every send to the peer's
 * (198.18.0.0/15) address fails with EINVAL: nothing leaves the process.
 * Time does not advance (datapath_rx_buffer does not read the clock and the
 * session's lifetime is made very long), so the session never expires.
 *
 * Input: the first byte modulo 4 selects a mode; the rest is used as:
 *   0  one raw datagram from a stranger's address;
 *   1  an inner message, sealed with the remote side's session (so it
 *      authenticates) and fed as one datagram from the peer's endpoint:
 *      frames, fragments and reassembly, probes, probe acks, gro;
 *   2  inner messages, each a 2-byte big-endian length and its bytes
 *      (at most 64), sealed and fed back to back as one UDP GRO buffer
 *      with gso_size = the first datagram's size; as the kernel's GRO
 *      would, the middle ones are cut or zero-padded to the first one's
 *      size and the last one is cut to it;
 *   3  raw bytes as a UDP GRO buffer: a 2-byte big-endian gso_size, then
 *      the datagrams, from a stranger's address.
 * Every datagram is in a heap buffer of exactly its size, so ASan sees
 * any access outside it.
 *
 * Beyond memory safety it checks the data path's promises after every
 * input: every packet buffer is back in the pool; the session installed at
 * start is still the current one and no other appeared (nothing the
 * fuzzer can send completes a handshake); raw bytes (modes 0, 3) deliver
 * no frame, move no endpoint and complete no handshake; sealed messages
 * (modes 1, 2) are never dropped before the inner message is parsed (no
 * short, auth, replay, no-session or expired drop).
 *
 *   make fuzz-replay       (replays tests/fuzz/corpus/datagram)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/datapath.h"
#include "tapbridge/handshake.h"
#include "tapbridge/peer.h"
#include "tapbridge/pkt.h"
#include "tapbridge/session.h"
#include "tapbridge/udp.h"
#include "tapbridge/wire.h"

#include "fuzz_support.h"

#define POOL_COUNT	256
#define POOL_MTU	65536		/* as the daemon: GRO batches */
#define MAX_FRAME	(9000 + WIRE_ETH_HDR_LEN + 8)	/* as the daemon */
#define WAN_MTU		1500
#define REKEY_S		(1u << 30)	/* the session never expires */
#define IDX_LOCAL	0x11223344u	/* receiver index of the data path */
#define IDX_REMOTE	0x55667788u	/* receiver index of the remote side */
#define IDX_REKEY	0x99aabbccu	/* of the data path's pending rekey */
#define MSGS_MAX	UDP_GSO_MAX_SEGS
#define GRO_MAX		65535		/* bytes in one GRO buffer */
#define DGRAM_MAX	(65535 - 8 - 20)	/* one UDP datagram */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct handshake_identity local, remote;
static struct pkt_pool *pool;
static struct udp udp;
static struct datapath *dp;
static const struct peer *peer;		/* dp's only peer, owned by dp */
static const struct session *established;	/* its session at start */
static struct session *tx;		/* the remote side's session */
static union pkt_addr endpoint, stranger;

static void addr4(union pkt_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in4.sin_family = AF_INET;
	a->in4.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a->in4.sin_addr) != 1)
		abort();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The real handshake between p (data path side, initiator) and remote. */
static void establish(struct peer *p, const uint8_t *psk, uint64_t now)
{
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN];
	struct handshake_pending hp;
	struct handshake *hs;
	struct session *s;

	hs = handshake_new(&remote, local.pub, psk);
	s = session_new();
	tx = session_new();
	if (!hs || !s || !tx ||
	    handshake_create_initiation(p->hs, &local, IDX_LOCAL, init) < 0 ||
	    handshake_consume_initiation(&remote, init, sizeof(init),
					 &hp) < 0 ||
	    handshake_accept_initiation(hs, &hp) < 0 ||
	    handshake_create_response(hs, &remote, IDX_REMOTE, resp) < 0 ||
	    handshake_derive(hs, tx) < 0 ||
	    handshake_consume_response(p->hs, &local, resp,
				       sizeof(resp)) < 0 ||
	    handshake_derive(p->hs, s) < 0)
		abort();
	sodium_memzero(&hp, sizeof(hp));
	handshake_free(hs);
	s->birth_ms = now;
	tx->birth_ms = now;
	peer_install(p, s, now);
	established = s;
	/* A rekey under way, as so often: responses have a taker. */
	if (handshake_create_initiation(p->hs, &local, IDX_REKEY, init) < 0)
		abort();
}

static struct peer *make_peer(uint64_t now)
{
	static const uint8_t psk[WIRE_KEY_LEN] = { 0x70, 0x73, 0x6b };
	struct peer_opts o = {
		.rekey_s = REKEY_S,
		.wan_mtu = WAN_MTU,
		.max_frame = MAX_FRAME,
	};
	struct peer_spec spec;
	struct peer *p = calloc(1, sizeof(*p));

	memset(&spec, 0, sizeof(spec));
	strcpy(spec.name, "remote");
	memcpy(spec.public_key, remote.pub, WIRE_KEY_LEN);
	memcpy(spec.psk, psk, WIRE_KEY_LEN);
	spec.has_psk = 1;
	spec.endpoint = endpoint;
	if (!p || peer_init(p, &local, &spec, &o, now) < 0)
		abort();
	establish(p, psk, now);
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct datapath_setup setup;
	struct datapath_info info;
	uint64_t now;
	int sv[2];

	fuzz_quiet_log();
	fuzz_deterministic_random();
	if (sodium_init() < 0)
		abort();
	fuzz_identity(&local, 1);
	fuzz_identity(&remote, 2);
	addr4(&endpoint, "198.18.0.2", 51820);
	addr4(&stranger, "198.19.255.254", 4242);

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		abort();
	memset(&udp, 0, sizeof(udp));
	udp.fd = sv[0];		/* sv[1] stays open and unread */
	udp.family = AF_INET;
	addr4(&udp.local, "198.18.0.1", 51820);
	pool = pkt_pool_new(POOL_COUNT, POOL_MTU);
	if (!pool)
		abort();

	memset(&setup, 0, sizeof(setup));
	setup.tap_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (setup.tap_fd < 0)
		abort();
	setup.udp = &udp;
	setup.pool = pool;
	setup.id = &local;
	now = now_ms();		/* before datapath_new takes its time */
	setup.peers = make_peer(now);
	setup.npeers = 1;
	setup.interface = "tapfuzz";
	setup.bridge = "brfuzz";
	setup.clamp_mss = 1;
	setup.gro_udp = 1;
	dp = datapath_new(&setup);
	if (!dp)
		abort();
	datapath_info(dp, &info);
	peer = &info.peers[0];
	return 0;
}

/* Seal inner message m (n bytes) into out: n + WIRE_DATA_OVERHEAD bytes. */
static size_t seal(uint8_t *out, const uint8_t *m, size_t n)
{
	memcpy(out + WIRE_DATA_OVERHEAD, m, n);
	if (session_seal(tx, out, n) < 0)
		abort();
	return n + WIRE_DATA_OVERHEAD;
}

static void feed(const uint8_t *d, size_t n, size_t gso_size,
		 const union pkt_addr *from)
{
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		abort();
	memcpy(buf, d, n);
	datapath_rx_buffer(dp, buf, n, gso_size, from);
	free(buf);
}

static void feed_sealed(const uint8_t *d, size_t n)
{
	uint8_t *buf;

	if (n > DGRAM_MAX - WIRE_DATA_OVERHEAD)
		n = DGRAM_MAX - WIRE_DATA_OVERHEAD;
	buf = malloc(n + WIRE_DATA_OVERHEAD);
	if (!buf)
		abort();
	datapath_rx_buffer(dp, buf, seal(buf, d, n), 0, &endpoint);
	free(buf);
}

struct msg {
	const uint8_t *p;
	size_t len;
};

static size_t split(const uint8_t *d, size_t n, struct msg *m)
{
	size_t count = 0, len;

	while (n >= 2 && count < MSGS_MAX) {
		len = (size_t)d[0] << 8 | d[1];
		d += 2;
		n -= 2;
		if (len > n)
			len = n;
		m[count].p = d;
		m[count++].len = len;
		d += len;
		n -= len;
	}
	return count;
}

static void feed_gro(const uint8_t *d, size_t n)
{
	struct msg m[MSGS_MAX];
	size_t count = split(d, n, m), seg, off = 0, i, len;
	uint8_t *buf, *inner;

	if (!count)
		return;
	seg = m[0].len + WIRE_DATA_OVERHEAD;
	if (seg > GRO_MAX)
		return;
	buf = malloc(count * seg);
	inner = calloc(1, seg);
	if (!buf || !inner)
		abort();
	for (i = 0; i < count && off + seg <= GRO_MAX; i++) {
		len = m[i].len < m[0].len ? m[i].len : m[0].len;
		memset(inner, 0, m[0].len);
		memcpy(inner, m[i].p, len);
		if (i > 0 && i + 1 < count)
			len = m[0].len;		/* padded */
		off += seal(buf + off, inner, len);
	}
	feed(buf, off, seg, &endpoint);
	free(inner);
	free(buf);
}

/* What must not change, and what may. */
struct snap {
	struct peer_stats stats;
	uint64_t drops[RX_VERDICT_MAX];
	uint64_t last_rx_ms;
};

static void take(struct snap *s)
{
	struct datapath_info info;

	datapath_info(dp, &info);
	s->stats = peer->stats;
	memcpy(s->drops, info.drops, sizeof(s->drops));
	s->last_rx_ms = peer->last_rx_ms;
}

static void check(unsigned mode, const struct snap *b)
{
	struct snap a;
	int v;

	take(&a);
	if (pkt_pool_avail(pool) != POOL_COUNT)
		abort();	/* a packet buffer not returned */
	if (peer->current != established || peer->next || peer->previous)
		abort();	/* sessions changed without a handshake */
	if (mode == 0 || mode == 3) {
		if (a.stats.rx_frames != b->stats.rx_frames ||
		    a.stats.handshakes != b->stats.handshakes ||
		    a.last_rx_ms != b->last_rx_ms ||
		    !udp_addr_equal(&peer->endpoint, &endpoint))
			abort();	/* unauthenticated bytes had effect */
		return;
	}
	for (v = 0; v < RX_VERDICT_MAX; v++)
		if (a.drops[v] != b->drops[v] ||
		    (v != RX_DROP_INNER &&
		     a.stats.drops[v] != b->stats.drops[v]))
			abort();	/* a sealed datagram was refused */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;
	struct snap before;

	if (size < 1)
		return 0;
	mode = data[0] % 4;
	data++;
	size--;
	take(&before);
	switch (mode) {
	case 0:
		feed(data, size, 0, &stranger);
		break;
	case 1:
		feed_sealed(data, size);
		break;
	case 2:
		feed_gro(data, size);
		break;
	case 3:
		if (size < 2)
			return 0;
		feed(data + 2, size - 2, (size_t)data[0] << 8 | data[1],
		     &stranger);
		break;
	}
	check(mode, &before);
	return 0;
}
