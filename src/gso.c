/*
 * gso.c -- virtio_net_hdr decoding, checksum completion, TCP and UDP
 * segmentation.
 *
 * Parsing is by byte access only, every offset checked against the bytes
 * known to exist before it is read; the super-frame is parsed completely in
 * gso_begin, so gso_next only copies and patches.  The checksum loop adds
 * 32-bit words in host order into a 64-bit accumulator and converts the
 * folded result to network order once per call (RFC 1071: the sum is
 * byte-order independent), so it costs one load and one add per 4 bytes.
 */
#include <endian.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tapbridge/eth.h"
#include "tapbridge/gso.h"

/* More standard protocol numbers, used here only (the shared ones: eth.h). */
#define IPV4_LEN_OFF		2
#define IPV4_ID_OFF		4
#define IPV4_CSUM_OFF		10
#define IPV4_ADDRS_OFF		12
#define IPV6_PLEN_OFF		4
#define IPV6_ADDRS_OFF		8

#define TCP_SEQ_OFF		4
#define TCP_FLAGS_OFF		13

#define GSO_TYPE_MASK		((uint8_t)~VIRTIO_NET_HDR_GSO_ECN)

static void put32(uint8_t *p, uint32_t v)
{
	eth_put16(p, (uint16_t)(v >> 16));
	eth_put16(p + 2, (uint16_t)v);
}

static uint16_t getle16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void putle16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void gso_meta_read(struct gso_meta *m, const uint8_t *vnet)
{
	m->flags = vnet[0];
	m->type = vnet[1];
	m->hdr_len = getle16(vnet + 2);
	m->size = getle16(vnet + 4);
	m->csum_start = getle16(vnet + 6);
	m->csum_offset = getle16(vnet + 8);
}

void gso_meta_write(uint8_t *vnet, const struct gso_meta *m)
{
	vnet[0] = m->flags;
	vnet[1] = m->type;
	putle16(vnet + 2, m->hdr_len);
	putle16(vnet + 4, m->size);
	putle16(vnet + 6, m->csum_start);
	putle16(vnet + 8, m->csum_offset);
}

/* Fold a 64-bit ones'-complement sum to 16 bits (end-around carries). */
static uint16_t fold16(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);	/* <= 2^33 - 2 */
	s = (s & 0xffffffff) + (s >> 32);	/* <= 2^32 - 1 */
	s = (s & 0xffff) + (s >> 16);		/* <= 0x1fffe */
	s = (s & 0xffff) + (s >> 16);		/* <= 0xffff */
	return (uint16_t)s;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

uint64_t gso_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t a = 0, b = 0, part;
	uint16_t h;
	uint8_t tail[2];

	/*
	 * Host-order words; two accumulators so the adds can overlap.  Each
	 * takes at most 2^32 words before it could overflow: 16 GB.
	 */
	for (; n >= 32; p += 32, n -= 32) {
		a += (uint64_t)load32(p) + load32(p + 4) + load32(p + 8) +
		     load32(p + 12);
		b += (uint64_t)load32(p + 16) + load32(p + 20) +
		     load32(p + 24) + load32(p + 28);
	}
	for (; n >= 4; p += 4, n -= 4)
		a += load32(p);
	if (n >= 2) {
		memcpy(&h, p, 2);
		b += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		tail[0] = p[0];
		tail[1] = 0;
		memcpy(&h, tail, 2);
		b += h;
	}
	a += b;
	if (a < b)
		a++;
	/* The folded host-order sum, byte-swapped, is the network one. */
	part = be16toh(fold16(a));
	sum += part;
	if (sum < part)
		sum++;		/* end-around carry at 64 bits */
	return sum;
}

uint16_t gso_csum_fold(uint64_t sum)
{
	return (uint16_t)~fold16(sum);
}

void gso_ipv4_csum_fix(uint8_t *ip, size_t ihl)
{
	eth_put16(ip + IPV4_CSUM_OFF, 0);
	eth_put16(ip + IPV4_CSUM_OFF, gso_csum_fold(gso_csum_add(0, ip, ihl)));
}

int gso_csum_complete(uint8_t *frame, size_t len, const struct gso_meta *m)
{
	size_t start = m->csum_start, field;
	uint16_t csum;

	if (!(m->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    (m->type & GSO_TYPE_MASK) != VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	field = start + m->csum_offset;
	if (start > len || field > len || len - field < 2)
		return -1;
	/* The field holds the pseudo-header sum: it is the seed. */
	csum = gso_csum_fold(gso_csum_add(0, frame + start, len - start));
	eth_put16(frame + field, csum ? csum : 0xffff);
	return 0;
}

/* IPv4 header at it->l3: find the it->proto header and the pseudo-header
 * sum. */
static int ipv4_parse(struct gso_iter *it, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + it->l3;
	size_t avail = len - it->l3, ihl;

	if (avail < IPV4_HDR_LEN || ip[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_LEN || ihl > avail || eth_get16(ip + 2) != avail)
		return -1;
	if (eth_get16(ip + 6) & (IPV4_MF | IPV4_OFFSET_MASK) ||
	    ip[9] != it->proto)
		return -1;
	it->l4 = it->l3 + ihl;
	it->ip_id = eth_get16(ip + IPV4_ID_OFF);
	it->pseudo = gso_csum_add(it->proto, ip + IPV4_ADDRS_OFF, 8);
	it->ipv6 = 0;
	return 0;
}

/* IPv6 header at it->l3, the it->proto header right behind it: the
 * pseudo-header sum. */
static int ipv6_parse(struct gso_iter *it, const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + it->l3;
	size_t avail = len - it->l3;

	if (avail < IPV6_HDR_LEN || ip[0] >> 4 != 6)
		return -1;
	if ((size_t)eth_get16(ip + IPV6_PLEN_OFF) + IPV6_HDR_LEN != avail ||
	    ip[6] != it->proto)
		return -1;	/* extension headers are not supported */
	it->l4 = it->l3 + IPV6_HDR_LEN;
	it->ip_id = 0;
	it->pseudo = gso_csum_add(it->proto, ip + IPV6_ADDRS_OFF, 32);
	it->ipv6 = 1;
	return 0;
}

/* Headers end at it->hdr_len: the payload and the segment size. */
static int payload_parse(struct gso_iter *it, size_t len, size_t mss)
{
	if (it->hdr_len >= len)
		return -1;	/* no payload */
	it->payload = len - it->hdr_len;
	it->mss = mss < it->payload ? mss : it->payload;
	return it->hdr_len + it->mss > GSO_MAX_SEG_LEN ? -1 : 0;
}

/* TCP header at it->l4: header length, payload and segment size. */
static int tcp_parse(struct gso_iter *it, const uint8_t *f, size_t len,
		     size_t mss)
{
	const uint8_t *th = f + it->l4;
	size_t avail = len - it->l4, doff;

	if (avail < TCP_HDR_LEN)
		return -1;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > avail)
		return -1;
	it->hdr_len = it->l4 + doff;
	it->seq = eth_get32(th + TCP_SEQ_OFF);
	it->tcp_flags = th[TCP_FLAGS_OFF];
	return payload_parse(it, len, mss);
}

/* UDP header at it->l4 (its length field is rewritten per segment). */
static int udp_parse(struct gso_iter *it, size_t len, size_t mss)
{
	if (len - it->l4 < UDP_HDR_LEN)
		return -1;
	it->hdr_len = it->l4 + UDP_HDR_LEN;
	return payload_parse(it, len, mss);
}

int gso_begin(struct gso_iter *it, const uint8_t *frame, size_t len,
	      const struct gso_meta *m)
{
	uint8_t type = m->type & GSO_TYPE_MASK;
	uint16_t ethertype;
	int ret;

	memset(it, 0, sizeof(*it));
	if (m->size == 0)
		return -1;
	it->l3 = eth_l2_parse(frame, len, &ethertype);
	if (!it->l3)
		return -1;
	it->proto = type == VIRTIO_NET_HDR_GSO_UDP_L4 ? IPPROTO_UDP :
						       IPPROTO_TCP;
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 ||
	     type == VIRTIO_NET_HDR_GSO_UDP_L4) && ethertype == ETHERTYPE_IPV4)
		ret = ipv4_parse(it, frame, len);
	else if ((type == VIRTIO_NET_HDR_GSO_TCPV6 ||
		  type == VIRTIO_NET_HDR_GSO_UDP_L4) &&
		 ethertype == ETHERTYPE_IPV6)
		ret = ipv6_parse(it, frame, len);
	else
		ret = -1;	/* unknown type, or L3 not matching it */
	if (ret == 0 && it->proto == IPPROTO_UDP)
		ret = udp_parse(it, len, m->size);
	else if (ret == 0)
		ret = tcp_parse(it, frame, len, m->size);
	if (ret < 0) {
		memset(it, 0, sizeof(*it));	/* nothing left to write */
		return -1;
	}
	it->frame = frame;
	return (int)((it->payload + it->mss - 1) / it->mss);
}

int gso_set_mss(struct gso_iter *it, size_t mss)
{
	if (it->proto != IPPROTO_TCP || !mss || mss >= it->mss || it->done)
		return -1;
	it->mss = mss;
	return 0;
}

size_t gso_seg_len(const struct gso_iter *it)
{
	size_t left = it->payload - it->done;

	return left ? it->hdr_len + (left < it->mss ? left : it->mss) : 0;
}

/* Patch the IP header of out for a segment with l4len TCP or UDP bytes. */
static void ip_fix(const struct gso_iter *it, uint8_t *out, size_t l4len)
{
	uint8_t *ip = out + it->l3;
	size_t ihl = it->l4 - it->l3;

	if (it->ipv6) {
		eth_put16(ip + IPV6_PLEN_OFF, (uint16_t)l4len);
		return;
	}
	eth_put16(ip + IPV4_LEN_OFF, (uint16_t)(ihl + l4len));
	eth_put16(ip + IPV4_ID_OFF, (uint16_t)(it->ip_id + it->index));
	gso_ipv4_csum_fix(ip, ihl);
}

/* The TCP header of a segment (before its checksum). */
static void tcp_fix(const struct gso_iter *it, uint8_t *th, size_t n)
{
	uint8_t flags = it->tcp_flags;

	if (it->done + n < it->payload)
		flags &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
	if (it->index)
		flags &= (uint8_t)~TCP_FLAG_CWR;
	put32(th + TCP_SEQ_OFF, it->seq + (uint32_t)it->done);
	th[TCP_FLAGS_OFF] = flags;
}

size_t gso_next(struct gso_iter *it, uint8_t *out)
{
	size_t seg_len = gso_seg_len(it), n, thlen, csum_off;
	uint8_t *th;
	uint16_t csum;
	uint64_t sum;

	if (!seg_len)
		return 0;
	th = out + it->l4;
	n = seg_len - it->hdr_len;
	thlen = it->hdr_len - it->l4;
	memcpy(out, it->frame, it->hdr_len);
	memcpy(out + it->hdr_len, it->frame + it->hdr_len + it->done, n);
	ip_fix(it, out, thlen + n);
	if (it->proto == IPPROTO_UDP) {
		eth_put16(th + 4, (uint16_t)(thlen + n));
		csum_off = UDP_CSUM_OFF;
	} else {
		tcp_fix(it, th, n);
		csum_off = TCP_CSUM_OFF;
	}
	eth_put16(th + csum_off, 0);
	/* The L4 header length is a multiple of 4: the payload sum can
	 * follow. */
	sum = gso_csum_add(it->pseudo + thlen + n, th, thlen);
	sum = gso_csum_add(sum, out + it->hdr_len, n);
	csum = gso_csum_fold(sum);
	/* UDP reserves 0 for "no checksum". */
	if (!csum && it->proto == IPPROTO_UDP)
		csum = 0xffff;
	eth_put16(th + csum_off, csum);

	it->done += n;
	it->index++;
	return seg_len;
}
