/*
 * test_datapath.c -- two data paths in one process, gateway A and gateway
 * B, joined by their real UDP sockets: a real handshake, then frames
 * written into A's TAP (one end of a socketpair standing in for the TAP
 * device) come out of B's.  Tests the send path where it meets the kernel:
 * super-frames cut to fit, frames that fit no datagram, sends the kernel
 * refuses.
 *
 * Each test runs in its own process (Criterion) and first moves it into a
 * network namespace of its own (so root is needed: without it every test
 * is skipped, and says so), where the loopback device carries 198.18.0.1
 * (A) and 198.18.0.2 (B): nothing reaches any other network.
 *
 * sendmmsg is wrapped (-Wl,--wrap=sendmmsg, see the Makefile): when
 * fail_gso_errno is set, the first UDP GSO message of a call fails with
 * that errno, as the kernel reports it (the messages before it are sent).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "tapbridge/control.h"
#include "tapbridge/datapath.h"
#include "tapbridge/gso.h"
#include "tapbridge/keys.h"
#include "tapbridge/log.h"
#include "tapbridge/tap.h"

#define POOL_COUNT	512
#define POOL_MTU	65536
#define PAYLOAD		60000	/* TCP payload of a super-frame */
#define SENDER_MSS	1448
#define HDRS		54	/* Ethernet, IPv4, TCP */

int __wrap_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags);
int __real_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags);

static int fail_gso_errno;

int __wrap_sendmmsg(int fd, struct mmsghdr *m, unsigned n, int flags)
{
	unsigned i;

	if (fail_gso_errno) {
		for (i = 0; i < n && !m[i].msg_hdr.msg_controllen; i++)
			;
		if (i == 0 && n) {
			errno = fail_gso_errno;
			return -1;
		}
		n = i;
	}
	return __real_sendmmsg(fd, m, n, flags);
}

struct gw {
	struct handshake_identity id;
	struct udp udp;
	struct pkt_pool *pool;
	struct datapath *dp;
	int tap[2];		/* [0] the data path's end, [1] the test's */
};

static struct gw A, B;

/* Bring ifname up, or set an address on it (an alias like "lo:1"). */
static void ifreq_do(const char *ifname, unsigned long req, const char *ip,
		     int mtu)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (req == SIOCSIFFLAGS) {
		ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	} else if (req == SIOCSIFMTU) {
		ifr.ifr_mtu = mtu;
	} else {
		sin->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
	cr_assert_eq(ioctl(fd, req, &ifr), 0, "%s on %s: %s", ip ? ip : "",
		     ifname, strerror(errno));
	close(fd);
}

static struct peer *make_peer(const char *name, const struct gw *self,
			      const struct gw *other)
{
	struct peer_opts o = { .rekey_s = 120, .wan_mtu = 1500,
			       .max_frame = 9000 + 14 + 8 };
	struct peer_spec spec;
	struct peer *p = calloc(1, sizeof(*p));

	cr_assert_not_null(p);
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "%s", name);
	memcpy(spec.public_key, other->id.pub, sizeof(spec.public_key));
	spec.endpoint = other->udp.local;
	cr_assert_eq(peer_init(p, &self->id, &spec, &o, 0), 0);
	return p;
}

static void gw_open(struct gw *g, const char *ip)
{
	struct keys_secret *k = keys_secret_new();

	cr_assert_not_null(k);
	keys_generate(k);
	cr_assert_eq(handshake_identity_init(&g->id, k), 0);
	cr_assert_eq(udp_open(&g->udp, ip, 0), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0, g->tap), 0);
	g->pool = pkt_pool_new(POOL_COUNT, POOL_MTU);
	cr_assert_not_null(g->pool);
}

static void gw_start(struct gw *g, const char *name, const struct gw *other)
{
	struct datapath_setup s;

	memset(&s, 0, sizeof(s));
	s.tap_fd = g->tap[0];
	s.udp = &g->udp;
	s.pool = g->pool;
	s.id = &g->id;
	s.peers = make_peer(name, g, other);
	s.npeers = 1;
	s.interface = "tap0";
	s.bridge = "br0";
	s.clamp_mss = 1;
	g->dp = datapath_new(&s);
	cr_assert_not_null(g->dp);
}

/* Let A and B handle what they were sent until both are quiet. */
static void pump(void)
{
	int i, quiet = 0;

	for (i = 0; i < 1000 && quiet < 3; i++) {
		int a = datapath_udp_ready(A.dp), b = datapath_udp_ready(B.dp);

		cr_assert(a >= 0 && b >= 0);
		if (a || b) {
			quiet = 0;
		} else {
			quiet++;
			usleep(2000);
		}
	}
}

static const struct peer *peer_of(struct gw *g)
{
	struct datapath_info info;

	datapath_info(g->dp, &info);
	return &info.peers[0];
}

/* Both gateways up, with a session each way. */
static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("SKIPPED: needs root (a network namespace of its "
			     "own); run make unit as root");
	cr_assert_geq(sodium_init(), 0);
	log_init(LOG_TO_STDERR, 0, "test_datapath");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	ifreq_do("lo", SIOCSIFFLAGS, NULL, 0);
	ifreq_do("lo:1", SIOCSIFADDR, "198.18.0.1", 0);
	ifreq_do("lo:2", SIOCSIFADDR, "198.18.0.2", 0);
	gw_open(&A, "198.18.0.1");
	gw_open(&B, "198.18.0.2");
	gw_start(&A, "b", &B);
	gw_start(&B, "a", &A);
	datapath_start(A.dp);
	pump();
	cr_assert_not_null(peer_of(&A)->current, "A has no session");
	cr_assert_not_null(peer_of(&B)->current, "B has no session");
}

static void control_unpair(void);

static void teardown(void)
{
	int i;

	control_unpair();	/* when an assertion ended the test first */
	if (!A.dp)
		return;
	datapath_free(A.dp);
	datapath_free(B.dp);
	for (i = 0; i < 2; i++) {
		close(A.tap[i]);
		close(B.tap[i]);
	}
	udp_close(&A.udp);
	udp_close(&B.udp);
	pkt_pool_free(A.pool);
	pkt_pool_free(B.pool);
	handshake_identity_fini(&A.id);
	handshake_identity_fini(&B.id);
}

TestSuite(datapath, .init = setup, .fini = teardown, .timeout = 20);

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Write a TCP super-frame (IPv4, DF or not) of PAYLOAD bytes starting at
 * byte seq of the stream into A's TAP, and let A send it. */
static void tap_super(bool df, uint32_t seq)
{
	static uint8_t buf[TAP_VNET_HDR_LEN + HDRS + PAYLOAD];
	struct gso_meta m = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = HDRS,
		.size = SENDER_MSS,
		.csum_start = 34,
		.csum_offset = 16,
	};
	uint8_t *f = buf + TAP_VNET_HDR_LEN, *ip = f + 14, *th = ip + 20;
	size_t i;

	memset(buf, 0, sizeof(buf));
	gso_meta_write(buf, &m);
	memset(f, 0x02, 6);
	memset(f + 6, 0x04, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 20 + PAYLOAD));
	put16(ip + 4, 0x1000);
	put16(ip + 6, df ? 0x4000 : 0);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, (uint8_t[]){ 198, 18, 1, 1, 198, 18, 1, 2 }, 8);
	gso_ipv4_csum_fix(ip, 20);
	put16(th, 40000);
	put16(th + 2, 5001);
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	th[12] = 5 << 4;
	th[13] = 0x10;		/* ACK */
	put16(th + 14, 512);
	for (i = 0; i < PAYLOAD; i++)
		th[20 + i] = (uint8_t)((seq + i) * 7 + 1);
	cr_assert_eq(write(A.tap[1], buf, sizeof(buf)), (ssize_t)sizeof(buf));
	cr_assert_geq(datapath_tap_ready(A.dp), 1);
}

/* Read what B wrote to its TAP; returns the TCP payload bytes of the
 * stream that came out in order from byte seq, checking each. */
static size_t tap_collect(uint32_t seq)
{
	static uint8_t buf[TAP_VNET_HDR_LEN + 65536];
	size_t got = 0, i;
	ssize_t n;

	pump();
	while ((n = read(B.tap[1], buf, sizeof(buf))) > 0) {
		uint8_t *ip = buf + TAP_VNET_HDR_LEN + 14, *th;
		size_t ihl = (size_t)(ip[0] & 15) * 4, thl, tot, pay;
		uint32_t s;

		cr_assert_gt((size_t)n, TAP_VNET_HDR_LEN + 14 + 20 + 20);
		th = ip + ihl;
		thl = (size_t)(th[12] >> 4) * 4;
		tot = (size_t)ip[2] << 8 | ip[3];
		pay = tot - ihl - thl;
		s = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
		    (uint32_t)th[6] << 8 | th[7];
		cr_assert_eq(s, seq + got, "segment at %u, expected %zu", s,
			     seq + got);
		for (i = 0; i < pay; i++)
			cr_assert_eq(th[thl + i], (uint8_t)((s + i) * 7 + 1),
				     "payload byte %zu of the segment at %u",
				     i, s);
		got += pay;
	}
	return got;
}

/*
 * Send B n initiations that pass mac1 (B's public key is no secret) but
 * hold nothing else, forged from A's own address and port with a raw
 * socket: each spends a token of A's handshake budget at B.
 */
static void forge_initiations(int raw, unsigned n)
{
	uint8_t pkt[20 + 8 + WIRE_INIT_LEN], *ip = pkt, *udp = pkt + 20;
	uint8_t *init = pkt + 28;
	struct sockaddr_in to = B.udp.local.in4;
	unsigned i;

	for (i = 0; i < n; i++) {
		memset(pkt, 0, sizeof(pkt));
		ip[0] = 0x45;
		put16(ip + 2, sizeof(pkt));
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &A.udp.local.in4.sin_addr, 4);
		memcpy(ip + 16, &B.udp.local.in4.sin_addr, 4);
		memcpy(udp, &A.udp.local.in4.sin_port, 2);
		memcpy(udp + 2, &B.udp.local.in4.sin_port, 2);
		put16(udp + 4, 8 + WIRE_INIT_LEN);	/* checksum 0: none */
		randombytes_buf(init, WIRE_INIT_MAC1_OFF);
		init[0] = WIRE_MSG_INITIATION;
		init[1] = init[2] = init[3] = 0;
		crypto_generichash(init + WIRE_INIT_MAC1_OFF, WIRE_MAC1_LEN,
				   init, WIRE_INIT_MAC1_OFF, B.id.mac1_key,
				   WIRE_KEY_LEN);
		cr_assert_eq(sendto(raw, pkt, sizeof(pkt), 0,
				    (struct sockaddr *)&to, sizeof(to)),
			     (ssize_t)sizeof(pkt), "raw send: %s",
			     strerror(errno));
	}
}

/*
 * A flood that forges A's own address spends A's handshake budget at B
 * (40 a second against 20): B then answers A's real initiation with a
 * cookie reply, A's next one proves its address with mac2, and the
 * handshake completes while the flood goes on.  Without cookies every
 * initiation of A's is refused for as long as the flood lasts.
 */
Test(datapath, a_flood_forging_the_peers_address_does_not_stop_handshakes)
{
	uint64_t hs0 = peer_of(&A)->stats.handshakes;
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	unsigned round;

	cr_assert_geq(raw, 0, "raw socket: %s", strerror(errno));
	usleep(60 * 1000);	/* past B's minimum interval between two */
	forge_initiations(raw, 10);	/* the burst allowance, and more */
	datapath_start(A.dp);		/* A wants a new handshake */
	for (round = 0; round < 60; round++) {
		forge_initiations(raw, 4);
		datapath_tick(A.dp);
		pump();
		if (peer_of(&A)->stats.handshakes > hs0)
			break;
		usleep(100 * 1000);
	}
	close(raw);
	cr_assert_gt(peer_of(&A)->stats.handshakes, hs0,
		     "no handshake in %u rounds of the flood", round);
	cr_assert_not_null(peer_of(&B)->current);
}

Test(datapath, df_super_frame_crosses_without_tunnel_fragments)
{
	tap_super(true, 1000);
	cr_assert_eq(tap_collect(1000), PAYLOAD);
	cr_assert_eq(peer_of(&A)->stats.tx_fragmented, 0);
	/* Cut below the sender's 1448 bytes: more segments than it made. */
	cr_assert_gt(peer_of(&A)->stats.tx_frames,
		     (PAYLOAD + SENDER_MSS - 1) / SENDER_MSS);
}

/*
 * Without DF, the sender's IPv4 IDs (one per segment it made) must stay
 * its own: the super-frame is cut at the sender's size, and segments too
 * big for one datagram cross in tunnel fragments.
 */
Test(datapath, super_frame_without_df_keeps_the_senders_segments)
{
	size_t segs = (PAYLOAD + SENDER_MSS - 1) / SENDER_MSS;

	tap_super(false, 5000);
	cr_assert_eq(tap_collect(5000), PAYLOAD);
	cr_assert_eq(peer_of(&A)->stats.tx_frames, segs);
	cr_assert_eq(peer_of(&A)->stats.tx_fragmented, segs - 1,
		     "%lu fragmented", peer_of(&A)->stats.tx_fragmented);
}

/*
 * A route MTU so small that no fragment could carry a byte (lo at 70
 * bytes: 13 bytes of room per datagram) drops frames, counted, instead of
 * cutting pieces of nothing for ever.
 */
Test(datapath, route_mtu_too_small_for_any_piece_drops_frames)
{
	uint8_t frame[TAP_VNET_HDR_LEN + 200];
	int i;

	ifreq_do("lo", SIOCSIFMTU, NULL, 70);
	memset(frame, 0, sizeof(frame));
	memset(frame + TAP_VNET_HDR_LEN, 0xff, 12);
	put16(frame + TAP_VNET_HDR_LEN + 12, 0x88b5);	/* local experimental */
	for (i = 0; i < 3; i++) {
		cr_assert_eq(write(A.tap[1], frame, sizeof(frame)),
			     (ssize_t)sizeof(frame));
		cr_assert_geq(datapath_tap_ready(A.dp), 0);
	}
	cr_assert_eq(peer_of(&A)->pmtu.mtu, 70, "path MTU %u",
		     peer_of(&A)->pmtu.mtu);
	/* The first left before the route MTU was known, and failed. */
	cr_assert_geq(A.udp.send_errors, 1);
	cr_assert_geq(peer_of(&A)->stats.tx_dropped, 2);
	cr_assert_eq(peer_of(&A)->stats.tx_fragmented, 0);
}

/*
 * A kernel that refuses UDP GSO sends (EIO) gets the datagrams one by one,
 * and no more GSO sends: nothing is lost, nothing counted as an error.
 */
Test(datapath, gso_refused_with_eio_sends_singly_from_then_on)
{
	cr_assert(A.udp.gso, "this kernel has no UDP GSO");
	fail_gso_errno = EIO;
	tap_super(true, 1);
	cr_assert_eq(tap_collect(1), PAYLOAD);
	cr_assert_eq(A.udp.gso, 0);
	cr_assert_eq(A.udp.send_errors, 0);
	tap_super(true, 1 + PAYLOAD);
	cr_assert_eq(tap_collect(1 + PAYLOAD), PAYLOAD);
	cr_assert_eq(A.udp.send_errors, 0);
}

/* Any other refusal loses the datagrams: each one is counted. */
Test(datapath, refused_gso_sends_count_every_datagram)
{
	uint64_t frames;

	cr_assert(A.udp.gso, "this kernel has no UDP GSO");
	fail_gso_errno = ENETUNREACH;
	tap_super(true, 1);
	cr_assert_eq(tap_collect(1), 0);
	frames = peer_of(&A)->stats.tx_frames;
	cr_assert_gt(frames, 1);
	cr_assert_eq(A.udp.send_errors, frames);
	cr_assert_eq(A.udp.gso, 1);
}

/*
 * What control_pair made, for control_unpair to undo, or the suite's
 * .fini when an assertion ended the test first: nothing may be left in
 * /tmp.  (Each test runs in a process of its own: no state carries over.)
 */
static struct {
	char dir[64];		/* made by mkdtemp, or "" (a copy: the
				 * test's own is gone after a failure) */
	struct control *c;
	int fd;
} ctl = { .fd = -1 };

/* A control socket in a new directory dir (a mkdtemp template) and a
 * client connected to it, in *fd. */
static struct control *control_pair(char *dir, int *fd)
{
	struct sockaddr_un sun;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(ctl.dir, sizeof(ctl.dir), "%s", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/c.sock", dir);
	ctl.c = control_open(sun.sun_path);
	cr_assert_not_null(ctl.c);
	ctl.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(connect(ctl.fd, (struct sockaddr *)&sun, sizeof(sun)),
		     0);
	*fd = ctl.fd;
	return ctl.c;
}

/* Close the client and the control socket (which unlinks it), remove the
 * directory: what control_pair made, once, also after a failed assertion
 * (from the suite's .fini). */
static void control_unpair(void)
{
	char path[80];

	if (ctl.fd >= 0)
		close(ctl.fd);
	control_close(ctl.c);
	if (ctl.dir[0]) {
		/* In case control_open made the socket and then failed. */
		snprintf(path, sizeof(path), "%s/c.sock", ctl.dir);
		unlink(path);
		rmdir(ctl.dir);
	}
	ctl.fd = -1;
	ctl.c = NULL;
	ctl.dir[0] = '\0';
}

/*
 * A control client that connects and says nothing does not hold up the
 * network process: control_serve returns at once and keeps it waiting;
 * once its request arrives, the next tick answers it.
 */
Test(datapath, a_silent_control_client_waits_without_blocking)
{
	char dir[] = "/tmp/test_datapath.XXXXXX", answer[8192];
	struct control *c;
	size_t got = 0;
	ssize_t n;
	int fd, i;

	c = control_pair(dir, &fd);
	control_serve(c, A.dp);		/* nothing to read yet */
	cr_assert_eq(send(fd, "status json\n", 12, 0), 12);
	for (i = 0; i < 100 && !got; i++) {
		control_tick(c, A.dp);
		n = recv(fd, answer, sizeof(answer) - 1, MSG_DONTWAIT);
		if (n > 0)
			got = (size_t)n;
		else
			usleep(1000);
	}
	cr_assert_gt(got, 0, "no answer to a request sent after the accept");
	answer[got] = '\0';
	cr_assert(strstr(answer, "\"interface\":\"tap0\"") != NULL, "%s",
		  answer);
	control_unpair();
}

/* A missing directory of the control socket is made 0755 under any
 * umask: a control-group needs to search it.  (No data path, no root.) */
Test(control, a_new_socket_directory_is_0755_whatever_the_umask)
{
	char dir[] = "/tmp/test_datapath.XXXXXX", sub[64], path[80];
	mode_t old, got = 0;
	struct control *c;
	struct stat st;
	bool opened;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(path, sizeof(path), "%s/c.sock", sub);
	old = umask(077);
	c = control_open(path);
	umask(old);
	opened = c != NULL;
	if (stat(sub, &st) == 0)
		got = st.st_mode & 07777;
	control_close(c);	/* before any assertion can end the test */
	rmdir(sub);
	rmdir(dir);
	cr_assert(opened);
	cr_assert_eq(got, 0755, "%s is %o", sub, got);
}

/*
 * An answer longer than a socket takes at once (some 200 KB here) is sent
 * whole, over several ticks, to a client that reads it as it comes: a
 * Prometheus report of a data path with many peers.
 */
Test(datapath, a_long_answer_goes_out_whole_over_several_ticks)
{
	struct peer_opts o = { .rekey_s = 120, .wan_mtu = 1500,
			       .max_frame = 1514 };
	char dir[] = "/tmp/test_datapath.XXXXXX", *buf;
	size_t npeers = 400, i, got = 0, room = 4 << 20;
	struct datapath_setup st;
	struct datapath *dp;
	struct peer *peers;
	struct control *c;
	ssize_t n;
	int fd, ticks = 0;

	peers = calloc(npeers, sizeof(*peers));
	buf = malloc(room);
	cr_assert(peers && buf);
	for (i = 0; i < npeers; i++) {
		struct peer_spec spec;

		memset(&spec, 0, sizeof(spec));
		snprintf(spec.name, sizeof(spec.name), "peer%03zu", i);
		memcpy(spec.public_key, B.id.pub, sizeof(spec.public_key));
		cr_assert_eq(peer_init(&peers[i], &A.id, &spec, &o, 0), 0);
	}
	memset(&st, 0, sizeof(st));
	st.tap_fd = A.tap[0];
	st.udp = &A.udp;
	st.pool = A.pool;
	st.id = &A.id;
	st.peers = peers;
	st.npeers = npeers;
	st.interface = "tap9";
	st.bridge = "br9";
	dp = datapath_new(&st);
	cr_assert_not_null(dp);

	c = control_pair(dir, &fd);
	cr_assert_eq(send(fd, "status prometheus\n", 18, 0), 18);
	control_serve(c, dp);
	for (;;) {
		n = recv(fd, buf + got, room - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;		/* the daemon's end: all sent */
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		cr_assert_eq(errno, EAGAIN);
		cr_assert_lt(ticks++, 1000, "not done after 1000 ticks");
		control_tick(c, dp);
	}
	buf[got] = '\0';
	cr_assert_gt(got, 300000, "only %zu bytes: not a long answer", got);
	cr_assert_gt(ticks, 0, "sent at once: the test shows nothing");
	cr_assert_not_null(strstr(buf, "peer=\"peer399\""),
			   "the last peer is missing from %zu bytes", got);
	cr_assert_eq(buf[got - 1], '\n');
	control_unpair();
	datapath_free(dp);
	free(buf);
}
