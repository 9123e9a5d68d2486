/*
 * gro.c -- coalesce received TCP segments into TSO super-frames, and UDP
 * datagrams of one flow into USO (UDP_L4) super-frames.
 *
 * Each slot holds one pending super-frame: the first segment is copied in
 * whole (so that a segment left alone can be released byte for byte), and
 * every later segment contributes only its payload, appended once.  The
 * headers are fixed up when the slot is released.  Frames are parsed by
 * byte access only, each offset checked against the frame length first;
 * wire fields are big-endian except the virtio_net_hdr (little-endian).
 * Checksums are summed and folded by gso.c's helpers.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tapbridge/eth.h"
#include "tapbridge/gro.h"
#include "tapbridge/gso.h"

#define UDP_MAX_SEGS	64	/* the kernel refuses more than 128 */

_Static_assert(sizeof(struct virtio_net_hdr) == GRO_VNET_HDR_LEN,
	       "virtio_net_hdr size");
_Static_assert(GRO_MAX_LEN <= 0xffff, "lengths must fit 16-bit fields");

/* What a frame is, as far as merging goes. */
enum kind {
	K_OTHER,	/* not TCP over IP: belongs to no flow */
	K_ADDRS,	/* TCP (maybe) with unknown ports: flows by address */
	K_PORTS,	/* TCP with known ports, not mergeable */
	K_MERGE,	/* a mergeable segment */
};

/* How strictly a frame must match a slot to be of its flow. */
enum key {
	KEY_ANY,	/* every busy slot */
	KEY_ADDRS,	/* IP version and addresses */
	KEY_PORTS,	/* and ports */
	KEY_FULL,	/* and MACs: the flow a segment merges into */
};

/* A parsed frame; offsets are from the frame start. */
struct seg {
	const uint8_t *f;
	size_t len;		/* frame length */
	size_t l2;		/* Ethernet header: 14 or 18 */
	size_t tcp;		/* TCP or UDP header */
	size_t hdr;		/* first payload byte */
	size_t pay;		/* payload length */
	int ipver;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/* One pending super-frame; free when ipver is 0. */
struct slot {
	uint8_t *buf;		/* GRO_MAX_LEN bytes: headers, then payload */
	size_t len;		/* super-frame so far */
	size_t first_len;	/* first frame as received (may be padded) */
	uint64_t stamp;		/* start order: smaller is older */
	uint32_t segs;
	uint32_t next_seq;	/* sequence number the next segment needs */
	uint16_t l2, tcp, hdr;	/* as in struct seg */
	uint16_t gso;		/* first segment's payload */
	uint16_t last_pay;	/* last segment's payload */
	uint16_t last_id;	/* IPv4: last segment's ID */
	uint8_t psh;		/* PSH of any segment */
	uint8_t ipver;
	uint8_t proto;
};

struct gro {
	void (*emit)(void *ctx, const uint8_t *vnet, const uint8_t *frame,
		     size_t len);
	void *ctx;
	uint64_t clock;
	bool udp;		/* merge UDP too */
	struct gro_stats stats;
	uint8_t *store;
	struct slot slots[GRO_FLOWS];
};

static const uint8_t zero_vnet[GRO_VNET_HDR_LEN];

static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

/*
 * Checksums are gso.c's (gso_csum_add/gso_csum_fold: big-endian word sums,
 * complemented fold); a header or segment is valid when the fold of its
 * sum, pseudo-header included, is 0.
 */
static bool csum_ok(uint64_t sum)
{
	return gso_csum_fold(sum) == 0;
}

static size_t addr_off(int ipver)
{
	return ipver == 4 ? 12 : 8;
}

static size_t addr_len(int ipver)
{
	return ipver == 4 ? 8 : 32;
}

/* Pseudo-header sum for proto's l4_len bytes after IP header ip: the
 * addresses, and protocol and length added as plain integers. */
static uint64_t csum_pseudo(const uint8_t *ip, int ipver, uint8_t proto,
			    size_t l4_len)
{
	return gso_csum_add(proto + l4_len, ip + addr_off(ipver),
			    addr_len(ipver));
}

/* Whether the l4_len bytes of s's TCP or UDP header and payload carry a
 * valid checksum (pseudo-header included). */
static bool l4_csum_ok(const struct seg *s, size_t l4_len)
{
	return csum_ok(gso_csum_add(csum_pseudo(s->f + s->l2, s->ipver,
						s->proto, l4_len),
				    s->f + s->tcp, l4_len));
}

/* IPv4 at ip, l2 bytes into a frame of len: check it, find the segment. */
static enum kind parse_ipv4(struct seg *s, const uint8_t *ip, size_t *tcp_len,
			    bool *clean)
{
	size_t hl, tot;

	if (s->len < s->l2 + IPV4_HDR_LEN || ip[0] >> 4 != 4)
		return K_OTHER;
	hl = (size_t)(ip[0] & 0x0f) * 4;
	tot = eth_get16(ip + 2);
	if (hl < IPV4_HDR_LEN || tot < hl || s->l2 + tot > s->len ||
	    (ip[9] != IPPROTO_TCP && ip[9] != IPPROTO_UDP))
		return K_OTHER;
	s->ipver = 4;
	s->proto = ip[9];
	if (eth_get16(ip + 6) & (IPV4_MF | IPV4_OFFSET_MASK))
		return K_ADDRS;
	s->tcp = s->l2 + hl;
	*tcp_len = tot - hl;
	*clean = hl == IPV4_HDR_LEN &&
		 csum_ok(gso_csum_add(0, ip, IPV4_HDR_LEN));
	return K_MERGE;
}

static enum kind parse_ipv6(struct seg *s, const uint8_t *ip, size_t *tcp_len)
{
	size_t plen;

	if (s->len < s->l2 + IPV6_HDR_LEN || ip[0] >> 4 != 6)
		return K_OTHER;
	plen = eth_get16(ip + 4);
	if (s->l2 + IPV6_HDR_LEN + plen > s->len)
		return K_OTHER;
	s->ipver = 6;
	if (ip[6] == IPPROTO_ICMPV6)
		return K_OTHER;
	if (ip[6] != IPPROTO_TCP && ip[6] != IPPROTO_UDP)
		return K_ADDRS;	/* extension headers: TCP or UDP may follow */
	s->proto = ip[6];
	s->tcp = s->l2 + IPV6_HDR_LEN;
	*tcp_len = plen;
	return K_MERGE;
}

/*
 * A UDP datagram of udp_len (at least UDP_HDR_LEN) bytes at s->tcp:
 * mergeable with a payload, its length field right, a checksum present
 * (IPv4 may omit it: such a datagram passes, since a rebuilt one would gain
 * one) and valid.
 */
static enum kind classify_udp(struct seg *s, size_t udp_len, bool clean)
{
	const uint8_t *uh = s->f + s->tcp;

	if (!clean || udp_len == UDP_HDR_LEN || eth_get16(uh + 4) != udp_len ||
	    s->len > GRO_MAX_LEN || (uh[6] == 0 && uh[7] == 0))
		return K_PORTS;
	if (!l4_csum_ok(s, udp_len))
		return K_PORTS;
	s->hdr = s->tcp + UDP_HDR_LEN;
	s->pay = udp_len - UDP_HDR_LEN;
	return K_MERGE;
}

/*
 * Parse frame f of len bytes into s.  K_ADDRS and up fill l2 and ipver,
 * K_PORTS and up also tcp, K_MERGE everything.  Without udp, a UDP
 * datagram is K_PORTS before its checksum is looked at.
 */
static enum kind classify(struct seg *s, const uint8_t *f, size_t len,
			  bool udp)
{
	const uint8_t *th;
	size_t tcp_len = 0, thl;
	bool clean = true;
	enum kind k;
	uint16_t type;

	s->f = f;
	s->len = len;
	s->l2 = ETH_HDR_LEN;
	if (len < ETH_HDR_LEN)
		return K_OTHER;
	type = eth_get16(f + ETH_ADDRS_LEN);
	if (type == ETHERTYPE_8021Q) {
		s->l2 += ETH_TAG_LEN;
		if (len < s->l2)
			return K_OTHER;
		type = eth_get16(f + ETH_ADDRS_LEN + ETH_TAG_LEN);
	}
	if (type == ETHERTYPE_IPV4)
		k = parse_ipv4(s, f + s->l2, &tcp_len, &clean);
	else if (type == ETHERTYPE_IPV6)
		k = parse_ipv6(s, f + s->l2, &tcp_len);
	else
		return K_OTHER;
	if (k != K_MERGE)
		return k;
	if (s->proto == IPPROTO_UDP) {
		/* K_PORTS and up compare ports: they must be there. */
		if (tcp_len < UDP_HDR_LEN)
			return K_ADDRS;
		return udp ? classify_udp(s, tcp_len, clean) : K_PORTS;
	}
	if (tcp_len < TCP_HDR_LEN)
		return K_ADDRS;
	th = f + s->tcp;
	thl = (size_t)(th[12] >> 4) * 4;
	if (!clean || thl < TCP_HDR_LEN || thl >= tcp_len ||
	    len > GRO_MAX_LEN || (th[13] & TCP_FLAG_ACK) == 0 ||
	    th[13] & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST |
		      TCP_FLAG_URG | TCP_FLAG_CWR))
		return K_PORTS;
	if (!l4_csum_ok(s, tcp_len))
		return K_PORTS;
	s->hdr = s->tcp + thl;
	s->pay = tcp_len - thl;
	return K_MERGE;
}

static bool slot_matches(const struct slot *sl, const struct seg *s,
			 enum key key)
{
	const uint8_t *a = sl->buf, *b;
	size_t ao;

	if (!sl->ipver || key == KEY_ANY)
		return sl->ipver != 0;
	b = s->f;
	ao = addr_off(s->ipver);
	if (sl->ipver != s->ipver ||
	    memcmp(a + sl->l2 + ao, b + s->l2 + ao, addr_len(s->ipver)))
		return false;
	if (key >= KEY_PORTS && memcmp(a + sl->tcp, b + s->tcp, 4))
		return false;
	return key < KEY_FULL ||
	       (sl->proto == s->proto && !memcmp(a, b, ETH_ADDRS_LEN));
}

/* The oldest busy slot that matches s under key (s unused for KEY_ANY). */
static struct slot *oldest(struct gro *g, const struct seg *s, enum key key)
{
	struct slot *best = NULL, *sl;

	for (sl = g->slots; sl < g->slots + GRO_FLOWS; sl++)
		if (slot_matches(sl, s, key) &&
		    (!best || sl->stamp < best->stamp))
			best = sl;
	return best;
}

static void pass(struct gro *g, const uint8_t *f, size_t len)
{
	g->stats.passed++;
	g->emit(g->ctx, zero_vnet, f, len);
}

/* Release sl: a lone segment as it came, else a super-frame.  Frees sl. */
static void slot_emit(struct gro *g, struct slot *sl)
{
	uint8_t vnet[GRO_VNET_HDR_LEN], *ip = sl->buf + sl->l2;
	uint8_t *th = sl->buf + sl->tcp;
	int ipver = sl->ipver;
	uint16_t csum;

	sl->ipver = 0;
	if (sl->segs == 1) {
		pass(g, sl->buf, sl->first_len);
		return;
	}
	if (ipver == 4) {
		eth_put16(ip + 2, (uint16_t)(sl->len - sl->l2));
		gso_ipv4_csum_fix(ip, IPV4_HDR_LEN);
	} else {
		eth_put16(ip + 4, (uint16_t)(sl->len - sl->tcp));
	}
	/* Partial checksum: the field holds the pseudo-header sum, folded
	 * but not complemented. */
	csum = (uint16_t)~gso_csum_fold(csum_pseudo(ip, ipver, sl->proto,
						     sl->len - sl->tcp));
	vnet[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (sl->proto == IPPROTO_UDP) {
		eth_put16(th + 4, (uint16_t)(sl->len - sl->tcp));
		eth_put16(th + UDP_CSUM_OFF, csum);
		vnet[1] = VIRTIO_NET_HDR_GSO_UDP_L4;
		put_le16(vnet + 8, UDP_CSUM_OFF);
	} else {
		th[13] |= sl->psh;
		eth_put16(th + TCP_CSUM_OFF, csum);
		vnet[1] = ipver == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
				       VIRTIO_NET_HDR_GSO_TCPV6;
		put_le16(vnet + 8, TCP_CSUM_OFF);
	}
	put_le16(vnet + 2, sl->hdr);
	put_le16(vnet + 4, sl->gso);
	put_le16(vnet + 6, sl->tcp);
	g->stats.supers++;
	g->stats.merged += sl->segs;
	g->emit(g->ctx, vnet, sl->buf, sl->len);
}

/* Start a super-frame in the free slot sl with segment s. */
static void slot_start(struct gro *g, struct slot *sl, const struct seg *s)
{
	const uint8_t *th = s->f + s->tcp;

	memcpy(sl->buf, s->f, s->len);
	sl->first_len = s->len;
	sl->len = s->hdr + s->pay;
	sl->stamp = g->clock++;
	sl->segs = 1;
	sl->next_seq = eth_get32(th + 4) + (uint32_t)s->pay;
	sl->l2 = (uint16_t)s->l2;
	sl->tcp = (uint16_t)s->tcp;
	sl->hdr = (uint16_t)s->hdr;
	sl->gso = (uint16_t)s->pay;
	sl->last_pay = sl->gso;
	sl->last_id = eth_get16(s->f + s->l2 + 4);
	sl->psh = 0;
	sl->ipver = (uint8_t)s->ipver;
	sl->proto = s->proto;
}

/* Whether segment s, of sl's flow, may be appended to sl (tcp_gro_receive). */
static bool slot_can_join(const struct slot *sl, const struct seg *s)
{
	const uint8_t *ia = sl->buf + sl->l2, *ib = s->f + s->l2;
	const uint8_t *ta = sl->buf + sl->tcp, *tb = s->f + s->tcp;

	if (s->l2 != sl->l2 || s->hdr != sl->hdr ||
	    memcmp(sl->buf + ETH_ADDRS_LEN, s->f + ETH_ADDRS_LEN,
		   s->l2 - ETH_ADDRS_LEN))
		return false;	/* tag, or header length */
	if (sl->ipver == 4) {
		if (ia[1] != ib[1] || ia[8] != ib[8] ||
		    (eth_get16(ia + 6) ^ eth_get16(ib + 6)) & IPV4_DF)
			return false;
		if (!(eth_get16(ib + 6) & IPV4_DF) &&
		    eth_get16(ib + 4) != (uint16_t)(sl->last_id + 1))
			return false;
	} else if (memcmp(ia, ib, 4) || ia[7] != ib[7]) {
		return false;
	}
	if (sl->proto == IPPROTO_UDP)
		return s->pay <= sl->gso && sl->last_pay == sl->gso &&
		       sl->segs < UDP_MAX_SEGS &&
		       sl->len + s->pay <= GRO_MAX_LEN;
	if (eth_get32(tb + 4) != sl->next_seq || memcmp(ta + 8, tb + 8, 5) ||
	    (ta[13] ^ tb[13]) & ~TCP_FLAG_PSH || memcmp(ta + 14, tb + 14, 2) ||
	    memcmp(ta + TCP_HDR_LEN, tb + TCP_HDR_LEN,
		   sl->hdr - sl->tcp - TCP_HDR_LEN))
		return false;	/* ack, header length, flags, window, opts */
	return s->pay <= sl->gso && sl->last_pay == sl->gso &&
	       sl->len + s->pay <= GRO_MAX_LEN;
}

/* Append s to sl; emit sl if s completes it. */
static void slot_join(struct gro *g, struct slot *sl, const struct seg *s)
{
	uint8_t flags = s->proto == IPPROTO_TCP ? s->f[s->tcp + 13] : 0;

	memcpy(sl->buf + sl->len, s->f + s->hdr, s->pay);
	sl->len += s->pay;
	sl->segs++;
	sl->next_seq += (uint32_t)s->pay;
	sl->last_pay = (uint16_t)s->pay;
	sl->last_id = eth_get16(s->f + s->l2 + 4);
	sl->psh |= flags & TCP_FLAG_PSH;
	if (flags & TCP_FLAG_PSH || s->pay < sl->gso ||
	    sl->len + sl->gso > GRO_MAX_LEN ||
	    (sl->proto == IPPROTO_UDP && sl->segs == UDP_MAX_SEGS))
		slot_emit(g, sl);
}

static void merge(struct gro *g, const struct seg *s)
{
	struct slot *sl = oldest(g, s, KEY_FULL);

	if (sl && slot_can_join(sl, s)) {
		slot_join(g, sl, s);
		return;
	}
	if (sl)
		slot_emit(g, sl);
	if (s->proto == IPPROTO_TCP && s->f[s->tcp + 13] & TCP_FLAG_PSH) {
		pass(g, s->f, s->len);	/* would be complete at once */
		return;
	}
	if (!sl) {
		for (sl = g->slots; sl < g->slots + GRO_FLOWS; sl++)
			if (!sl->ipver)
				break;
	}
	if (sl == g->slots + GRO_FLOWS) {
		sl = oldest(g, NULL, KEY_ANY);
		slot_emit(g, sl);
	}
	slot_start(g, sl, s);
}

struct gro *gro_new(void (*emit)(void *ctx, const uint8_t *vnet,
				 const uint8_t *frame, size_t len),
		    void *ctx)
{
	struct gro *g;
	int i;

	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->store = malloc((size_t)GRO_FLOWS * GRO_MAX_LEN);
	if (!g->store)
		goto fail_free_gro;
	for (i = 0; i < GRO_FLOWS; i++)
		g->slots[i].buf = g->store + (size_t)i * GRO_MAX_LEN;
	g->emit = emit;
	g->ctx = ctx;
	g->udp = true;
	return g;

fail_free_gro:
	free(g);
	errno = ENOMEM;
	return NULL;
}

void gro_merge_udp(struct gro *g, bool on)
{
	g->udp = on;
}

void gro_free(struct gro *g)
{
	if (!g)
		return;
	free(g->store);
	free(g);
}

void gro_add(struct gro *g, const uint8_t *frame, size_t len)
{
	struct slot *sl;
	struct seg s;
	enum kind k;

	k = classify(&s, frame, len, g->udp);
	if (k == K_MERGE) {
		merge(g, &s);
		return;
	}
	if (k != K_OTHER) {
		while ((sl = oldest(g, &s, k == K_PORTS ? KEY_PORTS :
							  KEY_ADDRS)))
			slot_emit(g, sl);
	}
	pass(g, frame, len);
}

void gro_flush(struct gro *g)
{
	struct slot *sl;

	while ((sl = oldest(g, NULL, KEY_ANY)))
		slot_emit(g, sl);
}

const struct gro_stats *gro_stats(const struct gro *g)
{
	return &g->stats;
}
