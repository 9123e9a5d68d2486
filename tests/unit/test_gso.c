/*
 * test_gso.c -- virtio_net_hdr coding, checksum completion and TCP and UDP
 * segmentation of super-frames: segments are checked field by field, with
 * checksums verified by a plain 16-bit word loop written here (RFC 1071),
 * never by the code under test; malformed and truncated super-frames are
 * refused without reads outside exactly sized heap buffers (run under ASan).
 *
 * Super-frames come from a small builder driven by tables of rows.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tapbridge/gso.h"

#define BUF_LEN		70000

#define TH_FIN_		0x01
#define TH_SYN_		0x02
#define TH_PSH_		0x08
#define TH_ACK_		0x10
#define TH_ECE_		0x40
#define TH_CWR_		0x80

#define T_V4		VIRTIO_NET_HDR_GSO_TCPV4
#define T_V6		VIRTIO_NET_HDR_GSO_TCPV6
#define T_ECN		VIRTIO_NET_HDR_GSO_ECN
#define T_UDP		VIRTIO_NET_HDR_GSO_UDP_L4

/* What to build.  Zero means "the normal value" for most fields. */
struct spec {
	int ipver;		/* 4 or 6 */
	int tags;		/* VLAN tags in front: 0..3 */
	int ts;			/* TCP timestamps option (12 bytes) */
	int ip_opt_words;	/* IPv4 options (NOPs), 32-bit words */
	uint8_t flags;		/* TCP flags; 0 = ACK */
	int ecn;		/* VIRTIO_NET_HDR_GSO_ECN in the type */
	uint16_t ip_id;
	uint32_t seq;
	size_t payload;
	uint16_t mss;
	uint8_t l4proto;	/* 0 = TCP, or IPPROTO_UDP */
	uint16_t set_mss;	/* lowered with gso_set_mss after gso_begin */
};

/* What was built, offsets found by the builder, not by the code. */
struct built {
	uint8_t f[BUF_LEN];
	size_t len;
	size_t l3, l4, pay;	/* IP, L4 header, payload offsets */
	struct gso_meta m;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Reference: 16-bit big-endian word loop, folded, not complemented. */
static uint16_t ref_sum(uint32_t seed, const uint8_t *p, size_t n)
{
	uint32_t s = seed;
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
		s = (s & 0xffff) + (s >> 16);
	}
	if (n & 1) {
		s += (uint32_t)p[n - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Pseudo-header sum for the L4 segment of l4len bytes of the frame. */
static uint16_t ref_pseudo(const uint8_t *f, size_t l3, int ipver,
			   uint8_t proto, size_t l4len)
{
	uint32_t seed = proto + (uint32_t)l4len;

	if (ipver == 4)
		return ref_sum(seed, f + l3 + 12, 8);
	return ref_sum(seed, f + l3 + 8, 32);
}

/* Does the L4 segment at l4 (to len) carry a valid checksum? */
static int l4_csum_ok(const uint8_t *f, size_t len, size_t l3, size_t l4,
		      int ipver, uint8_t proto)
{
	uint16_t ph = ref_pseudo(f, l3, ipver, proto, len - l4);

	return ref_sum(ph, f + l4, len - l4) == 0xffff;
}

static uint8_t pattern(size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return (uint8_t)(x >> 13 ^ x >> 24);
}

static size_t put_l2(uint8_t *f, int tags, uint16_t ethertype)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	size_t off = 12;
	int i;

	memcpy(f, macs, sizeof(macs));
	for (i = 0; i < tags; i++) {
		put16(f + off, i == 0 && tags > 1 ? 0x88a8 : 0x8100);
		put16(f + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(f + off, ethertype);
	return off + 2;
}

/* L3 header at b->l3 with l4len L4 bytes behind it; sets b->l4. */
static void put_l3(struct built *b, const struct spec *s, uint8_t proto,
		   size_t l4len)
{
	static const uint8_t v6addrs[32] = {
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	static const uint8_t v4addrs[8] = { 198, 18, 0, 1, 198, 19, 0, 2 };
	uint8_t *ip = b->f + b->l3;
	size_t ihl;

	if (s->ipver == 6) {
		put16(ip, 0x6001);
		put16(ip + 2, 0x2345);
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, v6addrs, sizeof(v6addrs));
		b->l4 = b->l3 + 40;
		return;
	}
	ihl = 20 + 4 * (size_t)s->ip_opt_words;
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)(ihl + l4len));
	put16(ip + 4, s->ip_id);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, v4addrs, sizeof(v4addrs));
	memset(ip + 20, 1, ihl - 20);	/* NOP options */
	put16(ip + 10, (uint16_t)~ref_sum(0, ip, ihl));
	b->l4 = b->l3 + ihl;
}

/*
 * Build the super-frame of s (a plain frame when s->mss is 0) with its L4
 * checksum partial, as the kernel hands it over: the field holds the folded
 * pseudo-header sum, and m says NEEDS_CSUM at the L4 header.
 */
static void build(struct built *b, const struct spec *s)
{
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0 };
	uint8_t proto = s->l4proto ? s->l4proto : IPPROTO_TCP;
	size_t l4hdr = proto == IPPROTO_TCP ? 20 + (s->ts ? 12 : 0) : 8;
	uint8_t *th;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->l3 = put_l2(b->f, s->tags, s->ipver == 6 ? 0x86dd : 0x0800);
	put_l3(b, s, proto, l4hdr + s->payload);
	th = b->f + b->l4;
	b->pay = b->l4 + l4hdr;
	b->len = b->pay + s->payload;
	cr_assert(b->len <= BUF_LEN);
	put16(th, 40000);
	put16(th + 2, 5201);
	if (proto == IPPROTO_TCP) {
		put16(th + 4, (uint16_t)(s->seq >> 16));
		put16(th + 6, (uint16_t)s->seq);
		put16(th + 8, 0x0102);
		put16(th + 10, 0x0304);
		th[12] = (uint8_t)(l4hdr / 4 << 4);
		th[13] = s->flags ? s->flags : TH_ACK_;
		put16(th + 14, 0x1234);
		if (s->ts)
			memcpy(th + 20, ts, sizeof(ts));
	} else {
		put16(th + 4, (uint16_t)(l4hdr + s->payload));
	}
	for (i = 0; i < s->payload; i++)
		b->f[b->pay + i] = pattern(i);
	put16(th + (proto == IPPROTO_TCP ? 16 : 6),
	      ref_pseudo(b->f, b->l3, s->ipver, proto, b->len - b->l4));

	b->m.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (proto == IPPROTO_UDP && s->mss)
		b->m.type = T_UDP;
	else if (s->mss)
		b->m.type = (uint8_t)((s->ipver == 6 ? T_V6 : T_V4) |
				      (s->ecn ? T_ECN : 0));
	b->m.hdr_len = (uint16_t)b->pay;
	b->m.size = s->mss;
	b->m.csum_start = (uint16_t)b->l4;
	b->m.csum_offset = proto == IPPROTO_TCP ? 16 : 6;
}

static struct built sfb, tmp;

/* Check segment i of n (payload at off, n_pay bytes) against super-frame. */
static void check_segment(const struct built *b, const struct spec *s,
			  const uint8_t *seg, size_t len, int i, int n,
			  size_t off)
{
	size_t pay = len - (b->pay), l4len = len - b->l4;
	uint8_t want = b->f[b->l4 + 13];

	cr_assert_eq(memcmp(seg, b->f, b->l3), 0, "L2 header differs");
	if (s->ipver == 4) {
		const uint8_t *ip = seg + b->l3;
		size_t ihl = b->l4 - b->l3;

		cr_assert_eq(get16(ip + 2), ihl + l4len);
		cr_assert_eq(get16(ip + 4), (uint16_t)(s->ip_id + i),
			     "segment %d: id %u", i, get16(ip + 4));
		cr_assert_eq(ref_sum(0, ip, ihl), 0xffff, "IPv4 csum, seg %d",
			     i);
		cr_assert_eq(memcmp(ip + 6, b->f + b->l3 + 6, 4), 0);
		cr_assert_eq(memcmp(ip + 12, b->f + b->l3 + 12, ihl - 12), 0);
	} else {
		const uint8_t *ip = seg + b->l3;

		cr_assert_eq(get16(ip + 4), l4len);
		cr_assert_eq(memcmp(ip, b->f + b->l3, 4), 0);
		cr_assert_eq(memcmp(ip + 6, b->f + b->l3 + 6, 34), 0);
	}
	if (s->l4proto == IPPROTO_UDP) {
		/* ports kept, length of this datagram, a checksum sent */
		cr_assert_eq(memcmp(seg + b->l4, b->f + b->l4, 4), 0);
		cr_assert_eq(get16(seg + b->l4 + 4), l4len, "datagram %d", i);
		cr_assert_neq(get16(seg + b->l4 + 6), 0, "datagram %d", i);
		cr_assert(l4_csum_ok(seg, len, b->l3, b->l4, s->ipver,
				     IPPROTO_UDP),
			  "datagram %d: bad UDP checksum", i);
		cr_assert_eq(memcmp(seg + b->pay, b->f + b->pay + off, pay), 0,
			     "datagram %d: payload", i);
		return;
	}
	cr_assert_eq(get32(seg + b->l4 + 4), s->seq + (uint32_t)off,
		     "segment %d: seq", i);
	if (i < n - 1)
		want &= (uint8_t)~(TH_FIN_ | TH_PSH_);
	if (i > 0)
		want &= (uint8_t)~TH_CWR_;
	cr_assert_eq(seg[b->l4 + 13], want, "segment %d: flags %#x, want %#x",
		     i, seg[b->l4 + 13], want);
	/* ports, ack, offset, window, urgent pointer and options */
	cr_assert_eq(memcmp(seg + b->l4, b->f + b->l4, 4), 0);
	cr_assert_eq(memcmp(seg + b->l4 + 8, b->f + b->l4 + 8, 5), 0);
	cr_assert_eq(memcmp(seg + b->l4 + 14, b->f + b->l4 + 14, 2), 0);
	cr_assert_eq(memcmp(seg + b->l4 + 18, b->f + b->l4 + 18,
			    b->pay - b->l4 - 18), 0);
	cr_assert(l4_csum_ok(seg, len, b->l3, b->l4, s->ipver, IPPROTO_TCP),
		  "segment %d: bad TCP checksum", i);
	cr_assert_eq(memcmp(seg + b->pay, b->f + b->pay + off, pay), 0,
		     "segment %d: payload", i);
}

/* Segment s's super-frame; check every segment and the whole sequence. */
static void segment_and_check(const struct spec *s, const char *desc)
{
	struct gso_iter it;
	size_t off = 0, first = 0, len, want_n, mss = s->mss;
	uint8_t *copy, *seg;
	int n, i;

	build(&sfb, s);
	want_n = (s->payload + s->mss - 1) / s->mss;
	copy = malloc(sfb.len);
	cr_assert_not_null(copy);
	memcpy(copy, sfb.f, sfb.len);
	n = gso_begin(&it, copy, sfb.len, &sfb.m);
	cr_assert_eq(n, (int)want_n, "%s: %d segments, want %zu", desc, n,
		     want_n);
	if (s->set_mss) {
		cr_assert_eq(gso_set_mss(&it, s->set_mss), 0, "%s", desc);
		mss = s->set_mss;
		n = (int)((s->payload + mss - 1) / mss);
	}
	for (i = 0; (len = gso_seg_len(&it)) != 0; i++) {
		cr_assert_lt(i, n, "%s: too many segments", desc);
		if (i == 0)
			first = len;
		else if (i < n - 1)
			cr_assert_eq(len, first, "%s: segment %d length", desc,
				     i);
		cr_assert_eq(len, sfb.pay + (i < n - 1 ? mss :
					     s->payload - off));
		seg = malloc(len);
		cr_assert_not_null(seg);
		cr_assert_eq(gso_next(&it, seg), len, "%s", desc);
		check_segment(&sfb, s, seg, len, i, n, off);
		off += len - sfb.pay;
		free(seg);
	}
	cr_assert_eq(i, n, "%s: %d segments written", desc, i);
	cr_assert_eq(off, s->payload, "%s: payload bytes", desc);
	cr_assert_eq(gso_next(&it, NULL), 0);
	cr_assert_eq(memcmp(copy, sfb.f, sfb.len), 0, "%s: input changed",
		     desc);
	free(copy);
}

struct seg_row {
	const char *desc;
	struct spec s;
};

static const struct seg_row seg_rows[] = {
	{ "v4 plain", { .ipver = 4, .payload = 4000, .mss = 1448,
			.ip_id = 7, .seq = 1000 } },
	{ "v4 vlan tag, timestamps, psh", { .ipver = 4, .tags = 1, .ts = 1,
			.flags = TH_ACK_ | TH_PSH_, .payload = 10000,
			.mss = 1448, .seq = 0x12345678 } },
	{ "v4 qinq, psh fin, exact multiple", { .ipver = 4, .tags = 2,
			.flags = TH_ACK_ | TH_PSH_ | TH_FIN_, .payload = 2896,
			.mss = 1448 } },
	{ "v4 ecn, cwr and ece", { .ipver = 4, .ecn = 1, .ts = 1,
			.flags = TH_ACK_ | TH_CWR_ | TH_ECE_, .payload = 3000,
			.mss = 1000 } },
	{ "v4 cwr without the ecn bit", { .ipver = 4,
			.flags = TH_ACK_ | TH_CWR_, .payload = 3000,
			.mss = 1000 } },
	{ "v4 ip options", { .ipver = 4, .ip_opt_words = 3, .ts = 1,
			.payload = 5000, .mss = 1400 } },
	{ "v4 id wraps", { .ipver = 4, .ip_id = 0xfffe, .payload = 5000,
			.mss = 1000 } },
	{ "v4 seq wraps", { .ipver = 4, .seq = 0xffffff00, .payload = 5000,
			.mss = 1000 } },
	{ "v4 odd mss and remainder", { .ipver = 4, .tags = 1, .payload = 5001,
			.mss = 999 } },
	{ "v4 fits in one segment", { .ipver = 4, .payload = 500,
			.flags = TH_ACK_ | TH_PSH_ | TH_FIN_ | TH_CWR_,
			.ecn = 1, .mss = 1448 } },
	{ "v4 payload equal to mss", { .ipver = 4, .payload = 1448,
			.mss = 1448 } },
	{ "v4 mss one byte", { .ipver = 4, .payload = 100, .mss = 1,
			.flags = TH_ACK_ | TH_PSH_ } },
	{ "v4 64 KB", { .ipver = 4, .ts = 1, .payload = 65535 - 20 - 32,
			.mss = 1448, .flags = TH_ACK_ | TH_PSH_ } },
	{ "v4 64 KB in two", { .ipver = 4, .payload = 65535 - 40,
			.mss = 65000 } },
	{ "v6 plain", { .ipver = 6, .payload = 4000, .mss = 1428,
			.seq = 99 } },
	{ "v6 vlan tag, timestamps", { .ipver = 6, .tags = 1, .ts = 1,
			.payload = 9000, .mss = 1416 } },
	{ "v6 qinq, psh fin, ecn cwr", { .ipver = 6, .tags = 2, .ecn = 1,
			.flags = TH_ACK_ | TH_PSH_ | TH_FIN_ | TH_CWR_,
			.payload = 7777, .mss = 1200 } },
	{ "v6 odd mss", { .ipver = 6, .payload = 3333, .mss = 777 } },
	{ "v6 fits in one segment", { .ipver = 6, .payload = 1,
			.flags = TH_ACK_ | TH_FIN_, .mss = 1428 } },
	{ "v6 64 KB", { .ipver = 6, .ts = 1, .payload = 65535 - 32,
			.mss = 1428, .seq = 0xfffff000 } },
	{ "v4 timestamps, lowered to 1245", { .ipver = 4, .ts = 1,
			.payload = 20000, .mss = 1376, .set_mss = 1245,
			.flags = TH_ACK_ | TH_PSH_, .seq = 0xfffffa00 } },
	{ "v4 one segment cut in two by a lower size", { .ipver = 4,
			.payload = 1000, .mss = 1448, .set_mss = 600,
			.flags = TH_ACK_ | TH_PSH_ | TH_FIN_ | TH_CWR_ } },
	{ "v6 vlan tag, lowered to 1225", { .ipver = 6, .tags = 1, .ts = 1,
			.payload = 30000, .mss = 1336, .set_mss = 1225 } },
	{ "v6 lowered to one byte", { .ipver = 6, .payload = 40,
			.mss = 1428, .set_mss = 1 } },
#define U_ .l4proto = IPPROTO_UDP
	{ "udp v4 plain", { U_, .ipver = 4, .payload = 14000, .mss = 1400,
			.ip_id = 9 } },
	{ "udp v4 vlan tag, short last", { U_, .ipver = 4, .tags = 1,
			.payload = 5000, .mss = 1400 } },
	{ "udp v4 qinq, ip options, id wraps", { U_, .ipver = 4, .tags = 2,
			.ip_opt_words = 2, .ip_id = 0xffff, .payload = 3001,
			.mss = 1000 } },
	{ "udp v4 one datagram", { U_, .ipver = 4, .payload = 700,
			.mss = 1400 } },
	{ "udp v4 64 KB", { U_, .ipver = 4, .payload = 65535 - 28,
			.mss = 1472 } },
	{ "udp v4 datagram of one byte", { U_, .ipver = 4, .payload = 64,
			.mss = 1 } },
	{ "udp v6 plain", { U_, .ipver = 6, .payload = 9000, .mss = 1452 } },
	{ "udp v6 vlan tag, odd size", { U_, .ipver = 6, .tags = 1,
			.payload = 4321, .mss = 999 } },
	{ "udp v6 64 KB", { U_, .ipver = 6, .payload = 65535 - 8,
			.mss = 1232 } },
#undef U_
};

Test(gso, segments_carry_valid_headers_checksums_and_the_payload)
{
	size_t i;

	for (i = 0; i < sizeof(seg_rows) / sizeof(seg_rows[0]); i++)
		segment_and_check(&seg_rows[i].s, seg_rows[i].desc);
}

Test(gso, a_failed_begin_leaves_nothing_to_write)
{
	struct spec s = { .ipver = 4, .payload = 3000, .mss = 0 };
	struct gso_iter it;
	uint8_t out[8] = { 0 };

	build(&sfb, &s);
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), -1);
	cr_assert_eq(gso_seg_len(&it), 0);
	cr_assert_eq(gso_next(&it, out), 0);
}

/* Damage applied to a valid super-frame. */
enum damage {
	D_SIZE_0, D_TYPE_NONE, D_TYPE_UDP, D_TYPE_UDP_L4, D_TYPE_2,
	D_TYPE_7F, D_TYPE_V6, D_TYPE_V4, D_ETHERTYPE_ARP, D_IPVER, D_IHL,
	D_PROTO_UDP, D_PROTO_TCP, D_MF, D_FRAG_OFF, D_LEN_PLUS, D_LEN_MINUS, D_TRAILER,
	D_NH, D_DOFF, D_NONE,
};

Test(gso, set_mss_only_lowers_tcp_before_the_first_segment)
{
	static const struct spec tcp = { .ipver = 4, .payload = 4000,
					 .mss = 1448 };
	static const struct spec udp = { .ipver = 4, .payload = 4000,
					  .mss = 1400,
					  .l4proto = IPPROTO_UDP };
	struct gso_iter it;
	uint8_t seg[2048];

	build(&sfb, &tcp);
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), 3);
	cr_assert_eq(gso_set_mss(&it, 0), -1, "size 0");
	cr_assert_eq(gso_set_mss(&it, 1448), -1, "not lower");
	cr_assert_eq(gso_set_mss(&it, 1500), -1, "higher");
	cr_assert_eq(gso_seg_len(&it), sfb.pay + 1448, "refusals kept 1448");
	cr_assert_eq(gso_set_mss(&it, 1000), 0);
	cr_assert_eq(gso_seg_len(&it), sfb.pay + 1000);
	cr_assert_eq(gso_next(&it, seg), sfb.pay + 1000);
	cr_assert_eq(gso_set_mss(&it, 500), -1, "after the first segment");
	cr_assert_eq(gso_seg_len(&it), sfb.pay + 1000);

	build(&sfb, &udp);
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), 3);
	cr_assert_eq(gso_set_mss(&it, 1000), -1, "UDP keeps its datagrams");
	cr_assert_eq(gso_seg_len(&it), sfb.pay + 1400);

	sfb.m.size = 0;
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), -1);
	cr_assert_eq(gso_set_mss(&it, 100), -1, "after a failed begin");
	cr_assert_eq(gso_seg_len(&it), 0);
}

struct bad_row {
	const char *desc;
	struct spec s;
	enum damage d;
	int val;
};

static const struct bad_row bad_rows[] = {
	{ "size 0", { .ipver = 4, .payload = 3000, .mss = 1 }, D_SIZE_0, 0 },
	{ "type none", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TYPE_NONE, 0 },
	{ "type udp", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TYPE_UDP, 0 },
	{ "type udp l4", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_TYPE_UDP_L4, 0 },
	{ "type 2", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TYPE_2, 0 },
	{ "type 0x7f", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TYPE_7F, 0 },
	{ "tcpv6 type on ipv4", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TYPE_V6, 0 },
	{ "tcpv4 type on ipv6", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_TYPE_V4, 0 },
	{ "ethertype arp", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_ETHERTYPE_ARP, 0 },
	{ "three vlan tags", { .ipver = 4, .tags = 3, .payload = 3000,
		.mss = 1000 }, D_NONE, 0 },
	{ "ipv4 version 6", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_IPVER, 6 },
	{ "ipv6 version 4", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_IPVER, 4 },
	{ "ihl 4", { .ipver = 4, .payload = 3000, .mss = 1000 }, D_IHL, 4 },
	{ "ihl 0", { .ipver = 4, .payload = 3000, .mss = 1000 }, D_IHL, 0 },
	{ "ihl 15 beyond the frame", { .ipver = 4, .payload = 10,
		.mss = 1000 }, D_IHL, 15 },
	{ "ihl 15 leaves no room for tcp", { .ipver = 4, .payload = 20,
		.mss = 1000 }, D_IHL, 15 },
	{ "ip protocol udp", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_PROTO_UDP, 0 },
	{ "ipv4 more fragments", { .ipver = 4, .payload = 3000,
		.mss = 1000 }, D_MF, 0 },
	{ "ipv4 fragment offset", { .ipver = 4, .payload = 3000,
		.mss = 1000 }, D_FRAG_OFF, 0 },
	{ "ipv4 length one more", { .ipver = 4, .payload = 3000,
		.mss = 1000 }, D_LEN_PLUS, 0 },
	{ "ipv4 length one less", { .ipver = 4, .payload = 3000,
		.mss = 1000 }, D_LEN_MINUS, 0 },
	{ "ipv4 trailing byte", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_TRAILER, 0 },
	{ "ipv6 length one more", { .ipver = 6, .payload = 3000,
		.mss = 1000 }, D_LEN_PLUS, 0 },
	{ "ipv6 length one less", { .ipver = 6, .payload = 3000,
		.mss = 1000 }, D_LEN_MINUS, 0 },
	{ "ipv6 trailing byte", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_TRAILER, 0 },
	{ "ipv6 hop-by-hop", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_NH, IPPROTO_HOPOPTS },
	{ "ipv6 routing header", { .ipver = 6, .payload = 3000,
		.mss = 1000 }, D_NH, IPPROTO_ROUTING },
	{ "ipv6 fragment header", { .ipver = 6, .payload = 3000,
		.mss = 1000 }, D_NH, IPPROTO_FRAGMENT },
	{ "ipv6 udp", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_NH, IPPROTO_UDP },
	{ "tcp doff 4", { .ipver = 4, .payload = 3000, .mss = 1000 },
		D_DOFF, 4 },
	{ "tcp doff 0", { .ipver = 6, .payload = 3000, .mss = 1000 },
		D_DOFF, 0 },
	{ "tcp doff 15 beyond the frame", { .ipver = 4, .payload = 30,
		.mss = 1000 }, D_DOFF, 15 },
	{ "tcp doff 15 covering the payload", { .ipver = 6, .payload = 40,
		.mss = 1000 }, D_DOFF, 15 },
	{ "no payload", { .ipver = 4, .ts = 1, .payload = 0, .mss = 1000 },
		D_NONE, 0 },
	{ "ipv6 no payload", { .ipver = 6, .payload = 0, .mss = 1000 },
		D_NONE, 0 },
	{ "v4 segment over 64 KB", { .ipver = 4, .tags = 2,
		.payload = 65535 - 40, .mss = 65535 }, D_NONE, 0 },
	{ "v6 segment over 64 KB", { .ipver = 6, .payload = 65535 - 20,
		.mss = 65515 }, D_NONE, 0 },
	{ "udp: ip protocol tcp", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.payload = 3000, .mss = 1000 }, D_PROTO_TCP, 0 },
	{ "udp: ipv6 next header tcp", { .l4proto = IPPROTO_UDP, .ipver = 6,
		.payload = 3000, .mss = 1000 }, D_NH, IPPROTO_TCP },
	{ "udp: type tcpv4", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.payload = 3000, .mss = 1000 }, D_TYPE_V4, 0 },
	{ "udp: ipv4 length one less", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.payload = 3000, .mss = 1000 }, D_LEN_MINUS, 0 },
	{ "udp: ipv6 trailing byte", { .l4proto = IPPROTO_UDP, .ipver = 6,
		.payload = 3000, .mss = 1000 }, D_TRAILER, 0 },
	{ "udp: ipv4 fragment offset", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.payload = 3000, .mss = 1000 }, D_FRAG_OFF, 0 },
	{ "udp: no payload", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.payload = 0, .mss = 1000 }, D_NONE, 0 },
	{ "udp: size 0", { .l4proto = IPPROTO_UDP, .ipver = 6,
		.payload = 3000, .mss = 1 }, D_SIZE_0, 0 },
	{ "udp: segment over 64 KB", { .l4proto = IPPROTO_UDP, .ipver = 4,
		.tags = 2, .payload = 65535 - 28, .mss = 65535 - 28 },
		D_NONE, 0 },
};

/* Fix the IPv4 or IPv6 length field by delta. */
static void adjust_len(struct built *b, int ipver, int delta)
{
	uint8_t *p = b->f + b->l3 + (ipver == 4 ? 2 : 4);

	put16(p, (uint16_t)(get16(p) + delta));
}

static void damage(struct built *b, const struct bad_row *r)
{
	uint8_t *ip = b->f + b->l3, *th = b->f + b->l4;

	switch (r->d) {
	case D_SIZE_0: b->m.size = 0; break;
	case D_TYPE_NONE: b->m.type = VIRTIO_NET_HDR_GSO_NONE; break;
	case D_TYPE_UDP: b->m.type = VIRTIO_NET_HDR_GSO_UDP; break;
	case D_TYPE_UDP_L4: b->m.type = T_UDP; break;
	case D_TYPE_2: b->m.type = 2; break;
	case D_TYPE_7F: b->m.type = 0x7f | T_ECN; break;
	case D_TYPE_V6: b->m.type = T_V6; break;
	case D_TYPE_V4: b->m.type = T_V4 | T_ECN; break;
	case D_ETHERTYPE_ARP: put16(ip - 2, 0x0806); break;
	case D_IPVER: ip[0] = (uint8_t)(r->val << 4 | (ip[0] & 0x0f)); break;
	case D_IHL: ip[0] = (uint8_t)(0x40 | r->val); break;
	case D_PROTO_UDP: ip[9] = IPPROTO_UDP; break;
	case D_PROTO_TCP: ip[9] = IPPROTO_TCP; break;
	case D_MF: ip[6] |= 0x20; break;
	case D_FRAG_OFF: ip[7] = 1; break;
	case D_LEN_PLUS: adjust_len(b, r->s.ipver, 1); break;
	case D_LEN_MINUS: adjust_len(b, r->s.ipver, -1); break;
	case D_TRAILER: b->len++; break;
	case D_NH: ip[6] = (uint8_t)r->val; break;
	case D_DOFF: th[12] = (uint8_t)(r->val << 4); break;
	case D_NONE: break;
	}
}

Test(gso, malformed_super_frames_are_refused)
{
	struct gso_iter it;
	uint8_t *copy;
	size_t i;

	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		build(&sfb, &bad_rows[i].s);
		damage(&sfb, &bad_rows[i]);
		copy = malloc(sfb.len);
		cr_assert_not_null(copy);
		memcpy(copy, sfb.f, sfb.len);
		cr_assert_eq(gso_begin(&it, copy, sfb.len, &sfb.m), -1,
			     "%s: accepted", bad_rows[i].desc);
		cr_assert_eq(gso_seg_len(&it), 0);
		cr_assert_eq(memcmp(copy, sfb.f, sfb.len), 0);
		free(copy);
	}
}

Test(gso, the_64_kb_limit_is_on_segments_not_super_frames)
{
	/* The "over 64 KB" rows above, cut smaller, are fine. */
	struct spec s = { .ipver = 4, .tags = 2, .payload = 65535 - 40,
			  .mss = 65535 - 22 - 40 };
	struct gso_iter it;

	build(&sfb, &s);
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), 2);
	cr_assert_eq(gso_seg_len(&it), 65535);
	s.mss++;
	build(&sfb, &s);
	cr_assert_eq(gso_begin(&it, sfb.f, sfb.len, &sfb.m), -1);
}

static const struct spec trunc_specs[] = {
	{ .ipver = 4, .payload = 300, .mss = 100 },
	{ .ipver = 4, .tags = 1, .ts = 1, .ip_opt_words = 2, .payload = 301,
	  .mss = 100 },
	{ .ipver = 6, .tags = 2, .ts = 1, .payload = 250, .mss = 64 },
	{ .ipver = 4, .tags = 1, .ip_opt_words = 1, .payload = 300,
	  .mss = 100, .l4proto = IPPROTO_UDP },
	{ .ipver = 6, .payload = 129, .mss = 64, .l4proto = IPPROTO_UDP },
};

Test(gso, every_truncation_of_a_super_frame_is_refused)
{
	struct gso_iter it;
	uint8_t *copy;
	size_t i, len;

	for (i = 0; i < sizeof(trunc_specs) / sizeof(trunc_specs[0]); i++) {
		build(&sfb, &trunc_specs[i]);
		copy = malloc(sfb.len);
		cr_assert_not_null(copy);
		memcpy(copy, sfb.f, sfb.len);
		cr_assert_gt(gso_begin(&it, copy, sfb.len, &sfb.m), 1);
		free(copy);
		for (len = 0; len < sfb.len; len++) {
			/* exactly len bytes, so ASan sees any overread */
			copy = malloc(len ? len : 1);
			cr_assert_not_null(copy);
			memcpy(copy, sfb.f, len);
			cr_assert_eq(gso_begin(&it, copy, len, &sfb.m), -1,
				     "spec %zu cut to %zu accepted", i, len);
			free(copy);
		}
	}
}

Test(gso, csum_complete_finishes_partial_tcp_and_udp_checksums)
{
	static const struct spec specs[] = {
		{ .ipver = 4, .tags = 1, .ts = 1, .payload = 333 },
		{ .ipver = 6, .payload = 1400 },
		{ .ipver = 4, .payload = 0 },
		{ .ipver = 4, .tags = 2, .payload = 77,
		  .l4proto = IPPROTO_UDP },
		{ .ipver = 6, .tags = 2, .payload = 1201,
		  .l4proto = IPPROTO_UDP },
	};
	uint8_t proto, *copy;
	size_t i, field;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		build(&sfb, &specs[i]);
		proto = specs[i].l4proto ? specs[i].l4proto : IPPROTO_TCP;
		cr_assert_not(l4_csum_ok(sfb.f, sfb.len, sfb.l3, sfb.l4,
					 specs[i].ipver, proto));
		copy = malloc(sfb.len);
		cr_assert_not_null(copy);
		memcpy(copy, sfb.f, sfb.len);
		cr_assert_eq(gso_csum_complete(copy, sfb.len, &sfb.m), 0);
		cr_assert(l4_csum_ok(copy, sfb.len, sfb.l3, sfb.l4,
				     specs[i].ipver, proto), "row %zu", i);
		/* nothing but the checksum field changed */
		field = sfb.l4 + sfb.m.csum_offset;
		memcpy(sfb.f + field, copy + field, 2);
		cr_assert_eq(memcmp(copy, sfb.f, sfb.len), 0);
		free(copy);
	}
}

Test(gso, csum_complete_sends_a_zero_udp_checksum_as_ffff)
{
	struct spec s = { .ipver = 4, .payload = 64, .l4proto = IPPROTO_UDP };
	uint16_t sum;

	build(&sfb, &s);
	/* Choose the last payload word so the whole sum is 0xffff. */
	put16(sfb.f + sfb.len - 2, 0);
	sum = ref_sum(0, sfb.f + sfb.l4, sfb.len - sfb.l4);
	put16(sfb.f + sfb.len - 2, (uint16_t)(0xffff - sum));
	cr_assert_eq(gso_csum_complete(sfb.f, sfb.len, &sfb.m), 0);
	cr_assert_eq(get16(sfb.f + sfb.l4 + 6), 0xffff);
	cr_assert(l4_csum_ok(sfb.f, sfb.len, sfb.l3, sfb.l4, 4, IPPROTO_UDP));
}

Test(gso, csum_complete_refuses_offsets_outside_the_frame)
{
	static const struct {
		long start_adj;		/* csum_start = len + start_adj */
		uint16_t offset;
		int ret;
	} rows[] = {
		{ 1, 0, -1 },
		{ 0, 0, -1 },
		{ -1, 0, -1 },
		{ -2, 0, 0 },		/* the field is the last 2 bytes */
		{ -10, 9, -1 },
		{ -10, 8, 0 },
		{ -10, 0xffff, -1 },
		{ 0xffff - 1500 - 60, 0, -1 },
	};
	struct spec s = { .ipver = 4, .payload = 1500 };
	uint8_t *copy;
	size_t i;
	int ret;

	build(&sfb, &s);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		copy = malloc(sfb.len);
		cr_assert_not_null(copy);
		memcpy(copy, sfb.f, sfb.len);
		sfb.m.csum_start =
			(uint16_t)((long)sfb.len + rows[i].start_adj);
		sfb.m.csum_offset = rows[i].offset;
		ret = gso_csum_complete(copy, sfb.len, &sfb.m);
		cr_assert_eq(ret, rows[i].ret, "row %zu: %d", i, ret);
		if (ret < 0)
			cr_assert_eq(memcmp(copy, sfb.f, sfb.len), 0);
		free(copy);
	}
}

Test(gso, csum_complete_leaves_other_frames_alone)
{
	static const struct {
		uint8_t flags, type;
	} rows[] = {
		{ 0, VIRTIO_NET_HDR_GSO_NONE },
		{ VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, T_V4 },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, T_V6 | T_ECN },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP },
	};
	struct spec s = { .ipver = 4, .payload = 1000, .mss = 300 };
	size_t i;

	build(&sfb, &s);
	memcpy(&tmp, &sfb, sizeof(sfb));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		sfb.m.flags = rows[i].flags;
		sfb.m.type = rows[i].type;
		sfb.m.csum_start = 0xffff;	/* would be out of range */
		cr_assert_eq(gso_csum_complete(sfb.f, sfb.len, &sfb.m), 0);
		cr_assert_eq(memcmp(sfb.f, tmp.f, sfb.len), 0, "row %zu", i);
	}
}

Test(gso, meta_is_little_endian_and_round_trips)
{
	static const uint8_t wire[GSO_VNET_HDR_LEN] = {
		0x01, 0x81, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00,
	};
	struct gso_meta m, m2;
	uint8_t out[GSO_VNET_HDR_LEN + 1];

	gso_meta_read(&m, wire);
	cr_assert_eq(m.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	cr_assert_eq(m.type, T_V4 | T_ECN);
	cr_assert_eq(m.hdr_len, 66);
	cr_assert_eq(m.size, 1448);
	cr_assert_eq(m.csum_start, 34);
	cr_assert_eq(m.csum_offset, 16);
	memset(out, 0xee, sizeof(out));
	gso_meta_write(out, &m);
	cr_assert_eq(memcmp(out, wire, sizeof(wire)), 0);
	cr_assert_eq(out[GSO_VNET_HDR_LEN], 0xee, "wrote past the header");

	m.hdr_len = 0xfedc;
	m.csum_offset = 0x1234;
	gso_meta_write(out, &m);
	gso_meta_read(&m2, out);
	cr_assert_eq(memcmp(&m, &m2, sizeof(m)), 0);
}

Test(gso, csum_helpers_match_rfc1071)
{
	/* RFC 1071 section 3 example: sum 0xddf2, checksum 0x220d. */
	static const uint8_t rfc[8] = { 0x00, 0x01, 0xf2, 0x03,
					0xf4, 0xf5, 0xf6, 0xf7 };

	cr_assert_eq(gso_csum_fold(gso_csum_add(0, rfc, sizeof(rfc))),
		     0x220d);
	/* an odd last byte is the high byte of a word */
	cr_assert_eq(gso_csum_fold(gso_csum_add(0, rfc, 1)), 0xffff);
	cr_assert_eq(gso_csum_fold(gso_csum_add(0, rfc + 2, 1)), 0x0dff);
	/* integers add as big-endian words; a huge seed carries around */
	cr_assert_eq(gso_csum_fold(gso_csum_add(0x1234, NULL, 0)), 0xedcb);
	cr_assert_eq(gso_csum_fold(gso_csum_add(UINT64_MAX, rfc, 8)), 0x220d);
	cr_assert_eq(gso_csum_fold(UINT64_MAX), 0);	/* -0 */
}

Test(gso, csum_add_matches_a_word_loop_at_any_length_and_alignment)
{
	static uint8_t buf[2100];
	size_t i, n, align, cut;
	uint64_t sum;
	uint16_t ref;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(pattern(i) | (i % 7 == 0 ? 0xf0 : 0));
	for (align = 0; align < 8; align++) {
		for (n = 0; n + align <= sizeof(buf); n += n < 80 ? 1 : 97) {
			ref = (uint16_t)~ref_sum(0, buf + align, n);
			sum = gso_csum_add(0, buf + align, n);
			cr_assert_eq(gso_csum_fold(sum), ref,
				     "n %zu align %zu", n, align);
			/* piecewise, cut at an even offset */
			cut = n / 3 & ~(size_t)1;
			sum = gso_csum_add(0, buf + align, cut);
			sum = gso_csum_add(sum, buf + align + cut, n - cut);
			cr_assert_eq(gso_csum_fold(sum), ref);
		}
	}
	/* all-ones data: the largest words, long enough to carry a lot */
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(gso_csum_fold(gso_csum_add(0, buf, sizeof(buf))), 0);
}
