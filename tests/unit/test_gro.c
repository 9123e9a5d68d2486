/*
 * test_gro.c -- coalescing TCP segments and UDP datagrams into super-frames:
 * which segments merge, that every super-frame is a valid GSO frame that the
 * kernel would cut back into exactly the segments that went in, that
 * everything else leaves unchanged and in order, and the slot, segment and
 * size limits.
 *
 * Segments are built from a known pseudo-random byte stream by a small
 * builder (TCP or UDP, IPv4 or IPv6, with or without a VLAN tag and TCP
 * timestamps).  The emit callback keeps a copy of every output.  A
 * super-frame is checked by re-segmenting it here, the way the kernel's TCP
 * and UDP GSO do (copy headers, cut the payload at gso_size, fix lengths,
 * sequence numbers, IPv4 IDs and checksums), with checksums computed from
 * scratch (RFC 1071 over byte pairs), never by the code under test.
 */
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tapbridge/gro.h"
#include "tapbridge/gso.h"

#define STREAM_LEN	(256 * 1024)
#define MAX_FRAMES	512
#define MAX_OUT		512
#define MSS		1380	/* bulk payload behind a clamped MSS, TS on */
#define MSS_FULL	1448	/* a 1514-byte frame with timestamps */

#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_PSH		0x08
#define TH_ACK		0x10
#define TH_ECE		0x40
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* A TCP or UDP flow from host 198.18.0.<host> or fd00::<host> to ...1.1. */
struct flow {
	int ipver;
	uint16_t tci;		/* 802.1Q TCI; 0 = untagged */
	bool df;		/* IPv4: DF set */
	bool ts;		/* TCP timestamps option */
	uint8_t host;
	uint16_t sport;
	size_t salt;		/* where its payload starts in the stream */
	uint32_t isn;
	uint8_t proto;		/* IPPROTO_UDP, or 0 for TCP */
	uint16_t id_step;	/* IPv4 ID step between segments; 0 = 1 */
};

/* One segment of a flow; zero fields mean the normal value. */
struct spec {
	size_t off;		/* payload offset in the flow's stream */
	size_t pay;		/* payload bytes */
	int idx;		/* segment number, for the IPv4 ID */
	uint8_t flags;		/* TCP flags; 0 = ACK */
	uint32_t ack_adj, ts_adj, fl_adj;
	uint16_t win_adj, id_adj, tci;
	uint8_t tos, ttl_adj;
	size_t pad_to;		/* pad the frame to this length */
	uint8_t frag_xor;	/* into the IPv4 flags: 0x40 DF, 0x20 MF */
	bool bad_csum, bad_ipcsum;
	bool no_csum;		/* UDP: checksum 0 (first payload word fixed) */
	bool bad_len;		/* UDP: length field one short */
};

struct frame {
	uint8_t *p;		/* exactly len bytes */
	size_t len;
	size_t end;		/* end of the IP packet (len minus padding) */
	size_t pay;
	const uint8_t *payload;	/* what the payload must be */
};

struct out {
	uint8_t vnet[GRO_VNET_HDR_LEN];
	uint8_t *f;
	size_t len;
};

static uint8_t stream[STREAM_LEN];
static struct frame frames[MAX_FRAMES];
static int n_frames;
static struct out outs[MAX_OUT];
static int n_out;
static struct gro *g;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* RFC 1071, the plain way: big-endian byte pairs. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint8_t l4proto(const uint8_t *ip)
{
	return ip[0] >> 4 == 4 ? ip[9] : ip[6];
}

static uint32_t pseudo(const uint8_t *ip, int ipver, size_t l4_len)
{
	if (ipver == 4)
		return sum16(0, ip + 12, 8) + ip[9] + (uint32_t)l4_len;
	return sum16(0, ip + 8, 32) + ip[6] + (uint32_t)l4_len;
}

/* Fill in the checksum of the l4_len-byte TCP or UDP segment at th. */
static void l4_csum(uint8_t *ip, int ipver, uint8_t *th, size_t l4_len)
{
	bool udp = l4proto(ip) == IPPROTO_UDP;
	uint8_t *field = th + (udp ? 6 : 16);
	uint16_t cs;

	put16(field, 0);
	cs = (uint16_t)~fold16(sum16(pseudo(ip, ipver, l4_len), th, l4_len));
	put16(field, udp && !cs ? 0xffff : cs);	/* UDP: 0 is none */
}

static void capture(void *ctx, const uint8_t *vnet, const uint8_t *frame,
		    size_t len)
{
	struct out *o = &outs[n_out];

	cr_assert_eq(ctx, &n_out);
	cr_assert_lt(n_out, MAX_OUT);
	memcpy(o->vnet, vnet, GRO_VNET_HDR_LEN);
	o->f = malloc(len ? len : 1);
	cr_assert_not_null(o->f);
	memcpy(o->f, frame, len);
	o->len = len;
	n_out++;
}

static void clear_outs(void)
{
	while (n_out > 0)
		free(outs[--n_out].f);
}

static void clear_frames(void)
{
	while (n_frames > 0)
		free(frames[--n_frames].p);
}

static void setup(void)
{
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < STREAM_LEN; i++) {
		x = x * 1103515245 + 12345;
		stream[i] = (uint8_t)(x >> 16);
	}
	g = gro_new(capture, &n_out);
	cr_assert_not_null(g);
}

static void teardown(void)
{
	gro_free(g);
	clear_outs();
	clear_frames();
}

TestSuite(gro, .init = setup, .fini = teardown);

static struct frame *new_frame(size_t len)
{
	struct frame *fr = &frames[n_frames++];

	cr_assert_leq(n_frames, MAX_FRAMES);
	fr->p = calloc(1, len);
	cr_assert_not_null(fr->p);
	fr->len = len;
	fr->end = len;
	return fr;
}

/* Ethernet header into h; returns its length. */
static size_t eth(uint8_t *h, uint8_t host, uint16_t tci, uint16_t type)
{
	size_t l2 = 12;

	memcpy(h, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00", 11);
	h[11] = host;
	if (tci) {
		put16(h + 12, 0x8100);
		put16(h + 14, tci);
		l2 = 16;
	}
	put16(h + l2, type);
	return l2 + 2;
}

static void ip_header(uint8_t *h, const struct flow *fl, const struct spec *sp,
		      size_t ip_len)
{
	uint32_t label = 0x12345 + sp->fl_adj;
	unsigned step = fl->id_step ? fl->id_step : 1;

	if (fl->ipver == 4) {
		h[0] = 0x45;
		h[1] = sp->tos;
		put16(h + 2, ip_len);
		put16(h + 4, 0x1000u + step * (unsigned)sp->idx + sp->id_adj);
		h[6] = (uint8_t)((fl->df ? 0x40 : 0) ^ sp->frag_xor);
		h[8] = (uint8_t)(64 - sp->ttl_adj);
		h[9] = fl->proto ? fl->proto : IPPROTO_TCP;
		memcpy(h + 12, "\xc6\x12\x00", 3);
		h[15] = fl->host;
		memcpy(h + 16, "\xc6\x12\x01\x01", 4);
		put16(h + 10, (uint16_t)~fold16(sum16(0, h, 20)));
		if (sp->bad_ipcsum)
			h[11] ^= 1;
		return;
	}
	h[0] = (uint8_t)(0x60 | sp->tos >> 4);
	h[1] = (uint8_t)(sp->tos << 4 | (label >> 16 & 0x0f));
	put16(h + 2, label & 0xffff);
	put16(h + 4, ip_len - 40);
	h[6] = fl->proto ? fl->proto : IPPROTO_TCP;
	h[7] = (uint8_t)(64 - sp->ttl_adj);
	h[8] = 0xfd;
	h[23] = fl->host;
	h[24] = 0xfd;
	h[38] = 1;
	h[39] = 1;
}

static struct frame *build(const struct flow *fl, const struct spec *sp)
{
	uint8_t h[128] = { 0 };
	bool udp = fl->proto == IPPROTO_UDP;
	size_t l2, tcp, thl = udp ? 8 : fl->ts ? 32 : 20, end;
	struct frame *fr;

	l2 = eth(h, fl->host, sp->tci ? sp->tci : fl->tci,
		 fl->ipver == 4 ? 0x0800 : 0x86dd);
	tcp = l2 + (fl->ipver == 4 ? 20 : 40);
	end = tcp + thl + sp->pay;
	ip_header(h + l2, fl, sp, end - l2);
	put16(h + tcp, fl->sport);
	put16(h + tcp + 2, 5201);
	if (udp) {
		put16(h + tcp + 4, end - tcp - sp->bad_len);
	} else {
		put32(h + tcp + 4, fl->isn + (uint32_t)sp->off);
		put32(h + tcp + 8, 0x10000 + sp->ack_adj);
		h[tcp + 12] = (uint8_t)(thl / 4 << 4);
		h[tcp + 13] = sp->flags ? sp->flags : TH_ACK;
		put16(h + tcp + 14, 512u + sp->win_adj);
	}
	if (fl->ts && !udp) {
		memcpy(h + tcp + 20, "\x01\x01\x08\x0a", 4);
		put32(h + tcp + 24, 1000 + sp->ts_adj);
		put32(h + tcp + 28, 2000);
	}
	fr = new_frame(end < sp->pad_to ? sp->pad_to : end);
	fr->end = end;
	fr->pay = sp->pay;
	fr->payload = stream + fl->salt + sp->off;
	cr_assert_leq(fl->salt + sp->off + sp->pay, STREAM_LEN);
	memcpy(fr->p, h, tcp + thl);
	memcpy(fr->p + tcp + thl, fr->payload, sp->pay);
	l4_csum(fr->p + l2, fl->ipver, fr->p + tcp, end - tcp);
	if (sp->no_csum) {	/* none, though the data sums to all ones */
		uint8_t *w = fr->p + tcp + 8;	/* the checksum moves here */

		put16(w, fold16(get16(w) + (uint32_t)get16(w - 2)));
		put16(w - 2, 0);
	}
	if (sp->bad_csum)
		fr->p[end - 1] ^= 0x55;
	return fr;
}

/* The i-th full segment of fl with payload size mss, ACK only. */
static struct frame *seg(const struct flow *fl, int i, size_t mss)
{
	struct spec sp = { .off = (size_t)i * mss, .pay = mss, .idx = i };

	return build(fl, &sp);
}

static void feed(const struct frame *fr)
{
	gro_add(g, fr->p, fr->len);
}

static void assert_plain(int o, const struct frame *fr)
{
	static const uint8_t zero[GRO_VNET_HDR_LEN];

	cr_assert_lt(o, n_out, "output %d missing", o);
	cr_assert_arr_eq(outs[o].vnet, zero, GRO_VNET_HDR_LEN,
			 "output %d has a vnet header", o);
	cr_assert_eq(outs[o].len, fr->len, "output %d: length %zu, not %zu", o,
		     outs[o].len, fr->len);
	cr_assert_arr_eq(outs[o].f, fr->p, fr->len, "output %d changed", o);
}

/* Cut segment i (payload at off, n bytes) out of super-frame x into s. */
static void cut(uint8_t *s, const struct out *x, size_t hdr, int i, size_t off,
		size_t n, bool last)
{
	size_t l2 = get16(x->f + 12) == 0x8100 ? 18 : 14;
	uint8_t *ip = s + l2;
	int ipver = x->f[l2] >> 4;
	size_t tcp = l2 + (ipver == 4 ? 20 : 40);
	uint8_t *th = s + tcp;

	memcpy(s, x->f, hdr);
	memcpy(s + hdr, x->f + off, n);
	if (ipver == 4) {
		put16(ip + 2, hdr + n - l2);
		put16(ip + 4, get16(x->f + l2 + 4) + (unsigned)i);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold16(sum16(0, ip, 20)));
	} else {
		put16(ip + 4, hdr + n - tcp);
	}
	if (l4proto(ip) == IPPROTO_UDP) {
		put16(th + 4, hdr + n - tcp);
	} else {
		put32(th + 4, get32(th + 4) + (uint32_t)(off - hdr));
		if (!last)
			th[13] &= (uint8_t)~(TH_PSH | TH_FIN);
	}
	l4_csum(ip, ipver, th, hdr + n - tcp);
}

/*
 * Output o must be a super-frame made of the n segments in segs: check
 * the vnet header and fixed-up headers, then re-segment and compare.
 */
static void assert_super(int o, struct frame *const *segs, int n)
{
	static uint8_t s[GRO_MAX_LEN];
	const struct out *x = &outs[o];
	size_t hdr, gso, cs, l2, thl, off, total = 0, chunk;
	const uint8_t *ip;
	int ipver, i;
	uint16_t id;
	bool udp;

	cr_assert_lt(o, n_out, "output %d missing", o);
	hdr = le16(x->vnet + 2);
	gso = le16(x->vnet + 4);
	cs = le16(x->vnet + 6);
	l2 = get16(x->f + 12) == 0x8100 ? 18 : 14;
	ip = x->f + l2;
	ipver = ip[0] >> 4;
	udp = l4proto(ip) == IPPROTO_UDP;
	cr_assert_leq(x->len, GRO_MAX_LEN);
	cr_assert_eq(x->vnet[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	cr_assert_eq(x->vnet[1], udp ? VIRTIO_NET_HDR_GSO_UDP_L4 :
				 ipver == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
					      VIRTIO_NET_HDR_GSO_TCPV6);
	cr_assert_eq(cs, l2 + (ipver == 4 ? 20 : 40));
	cr_assert_eq(le16(x->vnet + 8), udp ? 6 : 16);
	thl = udp ? 8 : (size_t)(x->f[cs + 12] >> 4) * 4;
	cr_assert_eq(hdr, cs + thl);
	cr_assert_eq(gso, segs[0]->pay);
	if (ipver == 4) {
		cr_assert_eq(get16(ip + 2), x->len - l2);
		cr_assert_eq(fold16(sum16(0, ip, 20)), 0xffff,
			     "IPv4 header checksum");
	} else {
		cr_assert_eq(get16(ip + 4), x->len - cs);
	}
	if (udp)
		cr_assert_eq(get16(x->f + cs + 4), x->len - cs, "UDP length");
	cr_assert_eq(get16(x->f + cs + (udp ? 6 : 16)),
		     fold16(pseudo(ip, ipver, x->len - cs)),
		     "checksum field is not the pseudo-header sum");
	for (i = 0; i < n; i++)
		total += segs[i]->pay;
	cr_assert_eq(x->len, hdr + total, "super-frame payload length");
	for (i = 0, off = hdr; i < n; i++, off += chunk) {
		chunk = x->len - off < gso ? x->len - off : gso;
		cr_assert_arr_eq(x->f + off, segs[i]->payload, segs[i]->pay,
				 "payload of segment %d", i);
		cut(s, x, hdr, i, off, chunk, i == n - 1);
		cr_assert_eq(hdr + chunk, segs[i]->end, "segment %d length", i);
		id = (uint16_t)(get16(ip + 4) + i);
		if (ipver == 4 && ip[6] & 0x40 &&	/* DF: any ID */
		    get16(segs[i]->p + l2 + 4) != id) {
			memcpy(s + l2 + 4, segs[i]->p + l2 + 4, 2);
			memcpy(s + l2 + 10, segs[i]->p + l2 + 10, 2);
		}
		cr_assert_arr_eq(s, segs[i]->p, segs[i]->end,
				 "re-segmented segment %d differs", i);
	}
}

static void check_bulk(const struct flow *fl)
{
	struct frame *segs[45];
	int i;

	for (i = 0; i < 45; i++)
		segs[i] = seg(fl, i, MSS);
	for (i = 0; i < 45; i++)
		feed(segs[i]);
	cr_assert_eq(n_out, 0, "a super-frame left before the flush");
	gro_flush(g);
	cr_assert_eq(n_out, 1);
	assert_super(0, segs, 45);
	cr_assert_eq(gro_stats(g)->merged, 45);
	cr_assert_eq(gro_stats(g)->supers, 1);
	cr_assert_eq(gro_stats(g)->passed, 0);
}

/* The sequence numbers of these flows wrap around 2^32 mid-stream. */
static const struct flow v4 = { 4, 0, false, true, 2, 40000, 0, 0xffffc000,
				0, 0 };
static const struct flow v4_df_vlan = { 4, 0x2064, true, true, 3, 40001,
					1000, 0xfffff000, 0, 7919 };
static const struct flow v6 = { 6, 0, false, true, 4, 40002, 2000,
				0xffffd000, 0, 0 };
static const struct flow v6_vlan = { 6, 0x0fff, false, false, 5, 40003, 3000,
				     0x7fffffff, 0, 0 };

Test(gro, merges_45_ipv4_segments_into_one_valid_super_frame)
{
	check_bulk(&v4);
}

Test(gro, merges_45_tagged_ipv4_df_segments_with_any_ids)
{
	check_bulk(&v4_df_vlan);
}

Test(gro, merges_45_ipv6_segments_into_one_valid_super_frame)
{
	check_bulk(&v6);
}

Test(gro, merges_45_tagged_ipv6_segments_without_options)
{
	check_bulk(&v6_vlan);
}

/* UDP flows; IPv4 IDs consecutive unless id_step says otherwise. */
static const struct flow u4 = { .ipver = 4, .df = true, .host = 6,
				.sport = 40004, .salt = 4000,
				.proto = IPPROTO_UDP };
static const struct flow u4_vlan = { .ipver = 4, .tci = 0x0123, .host = 7,
				     .sport = 40005, .salt = 5000,
				     .proto = IPPROTO_UDP };
static const struct flow u4_df_ids = { .ipver = 4, .df = true, .host = 8,
				       .sport = 40006, .salt = 6000,
				       .proto = IPPROTO_UDP, .id_step = 7919 };
static const struct flow u6 = { .ipver = 6, .host = 9, .sport = 40007,
				.salt = 7000, .proto = IPPROTO_UDP };

Test(gro, merges_45_ipv4_df_udp_datagrams_into_one_valid_super_frame)
{
	check_bulk(&u4);
}

Test(gro, merges_45_tagged_ipv4_udp_datagrams_with_consecutive_ids)
{
	check_bulk(&u4_vlan);
}

Test(gro, merges_45_ipv4_df_udp_datagrams_with_any_ids)
{
	check_bulk(&u4_df_ids);
}

Test(gro, merges_45_ipv6_udp_datagrams_into_one_valid_super_frame)
{
	check_bulk(&u6);
}

Test(gro, udp_passes_unchanged_when_udp_merging_is_off)
{
	struct frame *a[5], *b[5];
	int i;

	gro_merge_udp(g, false);	/* a kernel without UDP_L4 */
	for (i = 0; i < 5; i++) {
		a[i] = seg(&u4, i, MSS);
		b[i] = seg(&v4, i, MSS);
		feed(a[i]);
		feed(b[i]);
	}
	gro_flush(g);
	cr_assert_eq(n_out, 6);
	for (i = 0; i < 5; i++)
		assert_plain(i, a[i]);
	assert_super(5, b, 5);	/* TCP still merges */
	gro_merge_udp(g, true);
}

/*
 * An IPv4 packet that says UDP but ends with its IP header, after a pending
 * TCP flow between the same hosts: both leave unchanged, in order, and
 * nothing reads past the packet (the ports gro compares are not there; the
 * frame is allocated to its exact size for ASan), with UDP merging on or off.
 */
Test(gro, udp_without_its_header_passes_after_a_pending_flow)
{
	struct frame *tcp, *bare;
	int merge;

	for (merge = 0; merge < 2; merge++) {
		gro_merge_udp(g, merge);
		tcp = seg(&v4, 0, MSS);
		bare = new_frame(14 + 20);
		memcpy(bare->p, tcp->p, bare->len);
		bare->p[14 + 2] = 0;
		bare->p[14 + 3] = 20;		/* IPv4 total length */
		bare->p[14 + 9] = IPPROTO_UDP;
		gso_ipv4_csum_fix(bare->p + 14, 20);
		feed(tcp);
		feed(bare);
		gro_flush(g);
		cr_assert_eq(n_out, 2, "UDP merging %s", merge ? "on" : "off");
		assert_plain(0, tcp);
		assert_plain(1, bare);
		clear_outs();
	}
	gro_merge_udp(g, true);
}

Test(gro, tcp_and_udp_with_the_same_addresses_and_ports_never_merge)
{
	const struct flow *tcp[] = { &v4, &v6 }, *udp[] = { &u4, &u6 };
	struct frame *a[10], *b[10];
	struct flow t;
	int i, v;

	for (v = 0; v < 2; v++) {
		t = *tcp[v];
		t.host = udp[v]->host;
		t.sport = udp[v]->sport;
		t.ts = false;
		for (i = 0; i < 10; i++) {
			a[i] = seg(&t, i, 1000);
			b[i] = seg(udp[v], i, 1000);
			feed(a[i]);
			feed(b[i]);
		}
		gro_flush(g);
		cr_assert_eq(n_out, 2, "IPv%d: merged", tcp[v]->ipver);
		assert_super(0, a, 10);
		assert_super(1, b, 10);
		clear_outs();
	}
}

Test(gro, lone_segment_is_emitted_unchanged_with_zero_vnet_header)
{
	struct spec sp = { .pay = 2, .pad_to = 60 };
	struct flow fl = v4;
	struct frame *a = seg(&v6_vlan, 0, MSS), *b;

	fl.ts = false;
	b = build(&fl, &sp);
	cr_assert_eq(b->end, 56);

	feed(a);
	feed(b);
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_plain(0, a);
	assert_plain(1, b);
	cr_assert_eq(gro_stats(g)->passed, 2);
	cr_assert_eq(gro_stats(g)->supers, 0);
}

Test(gro, padded_segments_merge_without_their_padding)
{
	struct flow fl[2] = { v4, u4 };
	struct spec s0 = { .off = 0, .pay = 4, .pad_to = 60 };
	struct spec s1 = { .off = 4, .pay = 4, .idx = 1, .pad_to = 60 };
	struct frame *segs[2];
	int i;

	fl[0].ts = false;
	for (i = 0; i < 2; i++) {
		segs[0] = build(&fl[i], &s0);
		segs[1] = build(&fl[i], &s1);
		cr_assert_eq(segs[1]->len, 60);
		cr_assert_lt(segs[1]->end, 60);
		feed(segs[0]);
		feed(segs[1]);
		gro_flush(g);
		cr_assert_eq(n_out, i + 1);
		assert_super(i, segs, 2);
	}
}

Test(gro, out_of_order_segment_flushes_and_starts_again_in_order)
{
	struct frame *s[8];
	int i;

	for (i = 0; i < 8; i++)
		s[i] = seg(&v6, i, MSS);
	feed(s[0]);
	feed(s[1]);
	feed(s[2]);
	feed(s[4]);
	cr_assert_eq(n_out, 1);
	feed(s[3]);
	feed(s[5]);
	feed(s[6]);
	feed(s[7]);
	gro_flush(g);
	cr_assert_eq(n_out, 4);
	assert_super(0, s, 3);
	assert_plain(1, s[4]);
	assert_plain(2, s[3]);
	assert_super(3, s + 5, 3);
}

Test(gro, two_interleaved_flows_make_two_super_frames)
{
	struct frame *a[20], *b[20];
	int i;

	for (i = 0; i < 20; i++) {
		a[i] = seg(&v4, i, MSS);
		b[i] = seg(&v6_vlan, i, MSS_FULL);
		feed(a[i]);
		feed(b[i]);
	}
	cr_assert_eq(n_out, 0);
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_super(0, a, 20);
	assert_super(1, b, 20);
	cr_assert_eq(gro_stats(g)->merged, 40);
}

Test(gro, same_ports_other_host_is_another_flow)
{
	struct flow other = v4;
	struct frame *a[3], *b[3];
	int i;

	other.host = 99;
	for (i = 0; i < 3; i++) {
		a[i] = seg(&v4, i, MSS);
		b[i] = seg(&other, i, MSS);
		feed(a[i]);
		feed(b[i]);
	}
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_super(0, a, 3);
	assert_super(1, b, 3);
}

Test(gro, psh_segment_joins_and_closes_its_super_frame)
{
	struct spec sp = { .off = 3 * MSS, .pay = MSS, .idx = 3,
			   .flags = TH_ACK | TH_PSH };
	struct frame *s[6];
	int i;

	for (i = 0; i < 6; i++)
		s[i] = i == 3 ? build(&v4, &sp) : seg(&v4, i, MSS);
	for (i = 0; i < 4; i++)
		feed(s[i]);
	cr_assert_eq(n_out, 1, "PSH did not close the super-frame");
	cr_assert(outs[0].f[14 + 20 + 13] & TH_PSH);
	assert_super(0, s, 4);
	feed(s[4]);
	feed(s[5]);
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_super(1, s + 4, 2);
}

Test(gro, psh_segment_of_a_new_flow_leaves_at_once)
{
	struct spec sp = { .pay = 100, .flags = TH_ACK | TH_PSH };
	struct frame *a = build(&v6, &sp);

	feed(a);
	cr_assert_eq(n_out, 1);
	assert_plain(0, a);
}

Test(gro, short_segment_closes_its_super_frame)
{
	struct spec sp = { .off = 5 * MSS, .pay = 100, .idx = 5 };
	struct frame *s[7];
	int i;

	for (i = 0; i < 5; i++)
		s[i] = seg(&v4_df_vlan, i, MSS);
	s[5] = build(&v4_df_vlan, &sp);
	sp = (struct spec){ .off = 5 * MSS + 100, .pay = MSS, .idx = 6 };
	s[6] = build(&v4_df_vlan, &sp);
	for (i = 0; i < 6; i++)
		feed(s[i]);
	cr_assert_eq(n_out, 1, "a short segment did not close");
	assert_super(0, s, 6);
	feed(s[6]);
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_plain(1, s[6]);
}

Test(gro, longer_segment_than_the_first_starts_a_new_super_frame)
{
	struct spec s0 = { .off = 0, .pay = 1000 };
	struct spec s1 = { .off = 1000, .pay = 1000, .idx = 1 };
	struct spec s2 = { .off = 2000, .pay = 1001, .idx = 2 };
	struct frame *s[3];
	int i;

	s[0] = build(&v4, &s0);
	s[1] = build(&v4, &s1);
	s[2] = build(&v4, &s2);
	for (i = 0; i < 3; i++)
		feed(s[i]);
	gro_flush(g);
	cr_assert_eq(n_out, 2);
	assert_super(0, s, 2);
	assert_plain(1, s[2]);
}

/*
 * Runs of datagrams of one payload size fed in a row, and the outputs
 * they must make: how many datagrams each holds (1: passed unchanged),
 * the first `early` of them before the flush.
 */
static const struct {
	const char *what;
	struct {
		int n;
		size_t pay;
	} run[3];
	int early;
	int outs[3];
} series[] = {
	{ "lone", { { 1, 1000 } }, 0, { 1 } },
	{ "shorter", { { 5, 1000 }, { 1, 100 } }, 1, { 6 } },
	{ "then more", { { 5, 1000 }, { 1, 100 }, { 1, 1000 } }, 1, { 6, 1 } },
	{ "longer", { { 2, 1000 }, { 2, 1001 } }, 1, { 2, 2 } },
	{ "longer alone", { { 2, 1000 }, { 1, 1001 } }, 1, { 2, 1 } },
	{ "63", { { 63, 500 } }, 0, { 63 } },
	{ "64", { { 64, 500 } }, 1, { 64 } },
	{ "65", { { 65, 500 } }, 1, { 64, 1 } },
	{ "130", { { 130, 500 } }, 2, { 64, 64, 2 } },
	{ "full", { { 44, 1472 } }, 1, { 44 } },	/* no room for a 45th */
	{ "over full", { { 50, 1472 } }, 1, { 44, 6 } },
};

Test(gro, udp_super_frames_close_on_short_longer_64th_or_full_datagrams)
{
	const struct flow *fls[] = { &u4, &u6, &u4_vlan };
	struct frame *d[130];
	size_t r, off;
	int f, i, j, n, o;

	for (r = 0; r < sizeof(series) / sizeof(series[0]); r++) {
		for (f = 0; f < 3; f++) {
			for (i = n = 0, off = 0; i < 3; i++) {
				for (j = 0; j < series[r].run[i].n; j++, n++) {
					struct spec sp = {
						.off = off, .idx = n,
						.pay = series[r].run[i].pay
					};

					d[n] = build(fls[f], &sp);
					off += sp.pay;
					feed(d[n]);
				}
			}
			cr_assert_eq(n_out, series[r].early, "%s, flow %d",
				     series[r].what, f);
			gro_flush(g);
			for (i = n = o = 0; i < 3 && series[r].outs[i]; i++) {
				if (series[r].outs[i] == 1)
					assert_plain(o++, d[n]);
				else
					assert_super(o++, d + n,
						     series[r].outs[i]);
				n += series[r].outs[i];
			}
			cr_assert_eq(n_out, o, "%s, flow %d", series[r].what,
				     f);
			clear_outs();
			clear_frames();
		}
	}
}

/*
 * UDP datagrams that must not merge: each passes unchanged after the
 * pending super-frame of its addresses and ports (or, for a fragment, of
 * its addresses), and not before one of other ports.
 */
static const struct {
	const char *what;
	bool v6, by_addrs;
	size_t pay;
	struct spec sp;
} unmergeable[] = {
	{ "zero checksum", false, false, 1000, { .no_csum = true } },
	{ "bad checksum", false, false, 1000, { .bad_csum = true } },
	{ "bad header checksum", false, false, 1000, { .bad_ipcsum = true } },
	{ "short length field", false, false, 1000, { .bad_len = true } },
	{ "no payload", false, false, 0, { 0 } },
	{ "fragment", false, true, 1000, { .frag_xor = 0x20 } },
	{ "v6 zero checksum", true, false, 1000, { .no_csum = true } },
	{ "v6 bad checksum", true, false, 1000, { .bad_csum = true } },
	{ "v6 short length field", true, false, 1000, { .bad_len = true } },
};

Test(gro, unmergeable_udp_datagrams_pass_after_their_pending_flow)
{
	struct frame *a[4], *b[2], *x;
	struct flow fa, fb;
	size_t i;
	int j, o;

	for (i = 0; i < sizeof(unmergeable) / sizeof(unmergeable[0]); i++) {
		struct spec sp = unmergeable[i].sp;

		fa = unmergeable[i].v6 ? u6 : u4;
		fb = fa;
		fb.sport++;
		sp.off = 2000;
		sp.pay = unmergeable[i].pay;
		sp.idx = 2;
		for (j = 0; j < 4; j++)
			a[j] = seg(&fa, j < 2 ? j : j + 1, 1000);
		b[0] = seg(&fb, 0, 1000);
		b[1] = seg(&fb, 1, 1000);
		x = build(&fa, &sp);
		feed(b[0]);
		feed(a[0]);
		feed(b[1]);
		feed(a[1]);
		feed(x);
		o = 0;
		if (unmergeable[i].by_addrs)
			assert_super(o++, b, 2);
		assert_super(o++, a, 2);
		assert_plain(o++, x);
		cr_assert_eq(n_out, o, "%s", unmergeable[i].what);
		feed(a[2]);
		feed(a[3]);
		gro_flush(g);
		if (!unmergeable[i].by_addrs)
			assert_super(o++, b, 2);
		assert_super(o++, a + 2, 2);
		cr_assert_eq(n_out, o, "%s", unmergeable[i].what);
		clear_outs();
	}
}

static struct frame *arp(void)
{
	struct frame *fr = new_frame(60);

	eth(fr->p, 7, 0, 0x0806);
	memcpy(fr->p + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	return fr;
}

static struct frame *udp4(void)
{
	struct frame *fr = new_frame(14 + 20 + 8 + 20);
	uint8_t *ip = fr->p + 14;

	eth(fr->p, 2, 0, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 48);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc6\x12\x00\x02\xc6\x12\x01\x01", 8);
	put16(ip + 10, (uint16_t)~fold16(sum16(0, ip, 20)));
	put16(ip + 20, 40100);	/* not the TCP flow's ports */
	put16(ip + 22, 5201);
	put16(ip + 24, 28);	/* checksum 0: none, so not merged */
	return fr;
}

static struct frame *icmp6(void)
{
	struct frame *fr = new_frame(14 + 40 + 8);
	uint8_t *ip = fr->p + 14;

	eth(fr->p, 4, 0, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, 8);
	ip[6] = 58;
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = 4;
	ip[24] = 0xfd;
	ip[38] = 1;
	ip[39] = 1;
	ip[40] = 128;
	return fr;
}

Test(gro, syn_fin_rst_udp_arp_and_icmp_pass_through_unchanged_in_order)
{
	struct spec syn = { .flags = TH_SYN };
	struct spec rst = { .flags = TH_RST | TH_ACK };
	struct spec fin = { .off = 2 * MSS, .idx = 2,
			    .flags = TH_FIN | TH_ACK };
	struct frame *a[2], *x[6];
	struct flow b = v6, c = v4;
	int i;

	b.sport = 1;
	c.sport = 2;
	a[0] = seg(&v4, 0, MSS);
	a[1] = seg(&v4, 1, MSS);
	x[0] = arp();
	x[1] = udp4();
	x[2] = icmp6();
	x[3] = build(&b, &syn);
	x[4] = build(&c, &rst);
	x[5] = build(&v4, &fin);
	feed(a[0]);
	feed(a[1]);
	for (i = 0; i < 6; i++)
		feed(x[i]);
	cr_assert_eq(n_out, 7);
	for (i = 0; i < 5; i++)
		assert_plain(i, x[i]);
	assert_super(5, a, 2);
	assert_plain(6, x[5]);
	gro_flush(g);
	cr_assert_eq(n_out, 7);
	cr_assert_eq(gro_stats(g)->passed, 6);
}

Test(gro, pure_ack_of_a_pending_flow_flushes_it_first)
{
	struct spec ack = { .off = 2 * MSS, .idx = 2, .win_adj = 100 };
	struct frame *a[2], *p;

	a[0] = seg(&v6_vlan, 0, MSS);
	a[1] = seg(&v6_vlan, 1, MSS);
	p = build(&v6_vlan, &ack);
	feed(a[0]);
	feed(a[1]);
	feed(p);
	cr_assert_eq(n_out, 2);
	assert_super(0, a, 2);
	assert_plain(1, p);
}

/* Changes to the second segment that must keep it out of the first's. */
static const struct {
	const char *what;
	bool v6;
	struct spec sp;
} differ[] = {
	{ "timestamp value", false, { .ts_adj = 1 } },
	{ "ack number", false, { .ack_adj = 1448 } },
	{ "window", false, { .win_adj = 1 } },
	{ "tos", false, { .tos = 0x10 } },
	{ "ttl", false, { .ttl_adj = 1 } },
	{ "vlan tag", false, { .tci = 0x0065 } },
	{ "ipv4 id gap", false, { .id_adj = 1 } },
	{ "df flag", false, { .frag_xor = 0x40 } },
	{ "ece flag", false, { .flags = TH_ACK | TH_ECE } },
	{ "traffic class", true, { .tos = 0x20 } },
	{ "flow label", true, { .fl_adj = 1 } },
	{ "hop limit", true, { .ttl_adj = 1 } },
	{ "v6 window", true, { .win_adj = 1 } },
};

/* The rows of differ for flows fl4 and fl6 (UDP: the IP-level ones). */
static void check_differ(struct flow fl4, struct flow fl6)
{
	struct frame *a, *b;
	size_t i;

	fl4.df = false;		/* for the ID gap */
	fl4.tci = 0x0064;
	fl6.tci = 0x0064;
	for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		const struct flow *fl = differ[i].v6 ? &fl6 : &fl4;
		struct spec sp = differ[i].sp;

		if (fl->proto == IPPROTO_UDP &&
		    (sp.ts_adj || sp.ack_adj || sp.win_adj || sp.flags))
			continue;
		sp.off = MSS;
		sp.pay = MSS;
		sp.idx = 1;
		a = seg(fl, 0, MSS);
		b = build(fl, &sp);
		feed(a);
		feed(b);
		gro_flush(g);
		cr_assert_eq(n_out, 2, "%s: merged", differ[i].what);
		assert_plain(0, a);
		assert_plain(1, b);
		clear_outs();
	}
}

Test(gro, segments_differing_in_headers_or_options_are_not_merged)
{
	check_differ(v4, v6);
}

Test(gro, udp_datagrams_differing_in_ip_headers_or_ids_are_not_merged)
{
	check_differ(u4, u6);
}

Test(gro, segment_with_bad_checksum_passes_through_unchanged)
{
	struct spec bad = { .off = 2 * MSS, .pay = MSS, .idx = 2,
			    .bad_csum = true };
	struct spec badip = { .off = 3 * MSS, .pay = MSS, .idx = 3,
			      .bad_ipcsum = true };
	struct frame *s[5];
	int i;

	s[0] = seg(&v4, 0, MSS);
	s[1] = seg(&v4, 1, MSS);
	s[2] = build(&v4, &bad);
	s[3] = build(&v4, &badip);
	s[4] = seg(&v4, 4, MSS);
	for (i = 0; i < 5; i++)
		feed(s[i]);
	gro_flush(g);
	cr_assert_eq(n_out, 4);
	assert_super(0, s, 2);
	assert_plain(1, s[2]);
	assert_plain(2, s[3]);
	assert_plain(3, s[4]);
}

Test(gro, bad_checksum_in_ipv6_passes_through_unchanged)
{
	struct spec bad = { .pay = 7, .bad_csum = true };
	struct frame *a = build(&v6, &bad);

	feed(a);
	cr_assert_eq(n_out, 1);
	assert_plain(0, a);
}

Test(gro, new_flow_beyond_gro_flows_evicts_the_oldest)
{
	struct frame *s[GRO_FLOWS + 1][2];
	struct flow fl = v4;
	int i;

	for (i = 0; i <= GRO_FLOWS; i++) {
		fl.sport = (uint16_t)(1000 + i);
		s[i][0] = seg(&fl, 0, MSS);
		s[i][1] = seg(&fl, 1, MSS);
	}
	for (i = 0; i < GRO_FLOWS; i++) {
		feed(s[i][0]);
		feed(s[i][1]);
	}
	cr_assert_eq(n_out, 0);
	feed(s[GRO_FLOWS][0]);
	cr_assert_eq(n_out, 1);
	assert_super(0, s[0], 2);
	feed(s[GRO_FLOWS][1]);
	gro_flush(g);
	cr_assert_eq(n_out, GRO_FLOWS + 1);
	for (i = 1; i <= GRO_FLOWS; i++)
		assert_super(i, s[i], 2);
}

Test(gro, super_frames_never_exceed_gro_max_len)
{
	struct frame *s[100];
	size_t per = (GRO_MAX_LEN - (14 + 20 + 32)) / MSS_FULL;
	int i, o = 0, done = 0;

	for (i = 0; i < 100; i++) {
		s[i] = seg(&v4, i, MSS_FULL);
		feed(s[i]);
	}
	gro_flush(g);
	cr_assert_eq(per, 44);
	while (done < 100) {
		int n = 100 - done < (int)per ? 100 - done : (int)per;

		cr_assert_leq(outs[o].len, GRO_MAX_LEN);
		assert_super(o++, s + done, n);
		done += n;
	}
	cr_assert_eq(n_out, o);
}

Test(gro, super_frame_may_be_exactly_gro_max_len)
{
	size_t half = (GRO_MAX_LEN - (14 + 20 + 32)) / 2;
	struct spec a = { .off = 0, .pay = half };
	struct spec b = { .off = half, .pay = half, .idx = 1 };
	struct spec c = { .off = 0, .pay = half + 1 };
	struct spec d = { .off = half + 1, .pay = half + 1, .idx = 1 };
	struct frame *s[4];

	cr_assert_eq(14 + 20 + 32 + 2 * half, GRO_MAX_LEN);
	s[0] = build(&v4, &a);
	s[1] = build(&v4, &b);
	feed(s[0]);
	feed(s[1]);
	cr_assert_eq(n_out, 1, "a full super-frame should leave at once");
	assert_super(0, s, 2);
	s[2] = build(&v6_vlan, &c);
	s[3] = build(&v6_vlan, &d);
	feed(s[2]);
	feed(s[3]);
	gro_flush(g);
	cr_assert_eq(n_out, 3);
	assert_plain(1, s[2]);
	assert_plain(2, s[3]);
}

Test(gro, frame_longer_than_gro_max_len_passes_through)
{
	struct spec sp = { .pay = GRO_MAX_LEN };
	struct frame *a = build(&v4, &sp);

	feed(a);
	cr_assert_eq(n_out, 1);
	assert_plain(0, a);
}

Test(gro, flush_emits_everything_pending_and_leaves_nothing)
{
	struct frame *s[5][3];
	struct flow fl = v6;
	int i, j;

	for (i = 0; i < 5; i++) {
		fl.sport = (uint16_t)(2000 + i);
		for (j = 0; j < 3; j++) {
			s[i][j] = seg(&fl, j, MSS);
			feed(s[i][j]);
		}
	}
	cr_assert_eq(n_out, 0);
	gro_flush(g);
	cr_assert_eq(n_out, 5);
	for (i = 0; i < 5; i++)
		assert_super(i, s[i], 3);
	gro_flush(g);
	cr_assert_eq(n_out, 5, "a second flush emitted again");
	cr_assert_eq(gro_stats(g)->merged, 15);
	cr_assert_eq(gro_stats(g)->supers, 5);
	cr_assert_eq(gro_stats(g)->passed, 0);
}

/*
 * A segment of the pending v4 flow that must not merge: how = 0 IPv4 MF
 * fragment, 1 with an IP option word, 2 TCP header length 60 (another
 * header length), 3 TCP header length 16, 4 fragment with an offset.
 */
static struct frame *mangle(int how)
{
	struct frame *orig = seg(&v4, 2, MSS), *fr;
	size_t opt = how == 1 ? 4 : 0, tcp = 14 + 20 + opt, tcp_len;
	uint8_t *ip;

	fr = new_frame(orig->len + opt);
	memcpy(fr->p, orig->p, 34);
	memset(fr->p + 34, 1, opt);		/* NOP options */
	memcpy(fr->p + tcp, orig->p + 34, orig->len - 34);
	ip = fr->p + 14;
	ip[0] = (uint8_t)(0x45 + opt / 4);
	put16(ip + 2, get16(ip + 2) + opt);
	if (how == 0)
		ip[6] |= 0x20;
	else if (how == 2)
		fr->p[tcp + 12] = 0xf0;
	else if (how == 3)
		fr->p[tcp + 12] = 0x40;
	else if (how == 4)
		ip[7] = 0x10;
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~fold16(sum16(0, ip, 20 + opt)));
	tcp_len = get16(ip + 2) - 20 - opt;
	l4_csum(ip, 4, fr->p + tcp, tcp_len);
	return fr;
}

Test(gro, unmergeable_segments_of_a_pending_flow_flush_it_first)
{
	struct frame *a[2], *m;
	int how;

	for (how = 0; how < 5; how++) {
		a[0] = seg(&v4, 0, MSS);
		a[1] = seg(&v4, 1, MSS);
		m = mangle(how);
		feed(a[0]);
		feed(a[1]);
		feed(m);
		gro_flush(g);
		cr_assert_eq(n_out, 2, "case %d", how);
		assert_super(0, a, 2);
		assert_plain(1, m);
		clear_outs();
	}
}

Test(gro, truncated_and_malformed_frames_pass_through_unchanged)
{
	struct frame *full = seg(&v6_vlan, 0, 100), *fr;
	size_t cuts[] = { 0, 1, 13, 14, 17, 18, 30, 57, 58, 77, 78, 100,
			  full->len - 1 };
	size_t i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		fr = new_frame(cuts[i]);
		memcpy(fr->p, full->p, cuts[i]);
		feed(fr);
		cr_assert_eq(n_out, 1, "cut at %zu", cuts[i]);
		assert_plain(0, fr);
		clear_outs();
	}
	fr = seg(&v4, 0, MSS);
	fr->p[14 + 2] = 0xff;		/* IPv4 total length beyond frame */
	feed(fr);
	fr = seg(&v6, 0, MSS);
	fr->p[14 + 4] = 0xff;		/* IPv6 payload length beyond frame */
	feed(fr);
	fr = seg(&v4_df_vlan, 0, MSS);
	put16(fr->p + 16, 0x8100);	/* a second tag: not ours */
	feed(fr);
	cr_assert_eq(n_out, 3);
	for (i = 0; i < 3; i++)
		assert_plain((int)i, &frames[n_frames - 3 + (int)i]);
	cr_assert_eq(gro_stats(g)->passed, sizeof(cuts) / sizeof(cuts[0]) + 3);
}

Test(gro, free_of_null_is_a_no_op)
{
	gro_free(NULL);
}
