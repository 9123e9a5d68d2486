/*
 * mss.c -- lower the MSS option of TCP SYNs so segments fit the tunnel.
 *
 * Parsing is by byte access only; every offset is checked against the bytes
 * that are known to exist before it is read.  The frame is first parsed and
 * validated completely, and only then written, so a frame found malformed
 * half way is never left half modified.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>

#include "tapbridge/eth.h"
#include "tapbridge/mss.h"

/*
 * More standard protocol numbers, used by this parser only (the shared ones
 * are in eth.h; IP protocols and TCP options come from <netinet/in.h> and
 * <netinet/tcp.h>).
 */
#define IPV6_MAX_EXT_HDRS	8

/* 40 option bytes hold at most 10 four-byte MSS options. */
#define MAX_MSS_OPTS		10

/* Where the TCP segment sits in the frame, and what it may be clamped to. */
struct seg {
	size_t off;		/* TCP header, from the frame start */
	size_t len;		/* TCP header + payload */
	size_t ip_hdr;		/* 20 or 40: fixed, options not counted */
};

/* IPv4 packet at ip with avail bytes after it: find the TCP segment. */
static int ipv4_parse(const uint8_t *ip, size_t avail, struct seg *s)
{
	size_t ihl, total;

	if (avail < IPV4_HDR_LEN || ip[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = eth_get16(ip + 2);
	if (ihl < IPV4_HDR_LEN || total > avail || total < ihl + TCP_HDR_LEN)
		return -1;
	if (eth_get16(ip + 6) & (IPV4_MF | IPV4_OFFSET_MASK))
		return -1;
	if (ip[9] != IPPROTO_TCP)
		return -1;
	s->off = ihl;
	s->len = total - ihl;
	s->ip_hdr = IPV4_HDR_LEN;
	return 0;
}

/* IPv6 packet: walk hop-by-hop, routing and destination options to TCP. */
static int ipv6_parse(const uint8_t *ip, size_t avail, struct seg *s)
{
	size_t off = IPV6_HDR_LEN, end, hlen;
	uint8_t next;
	int n;

	if (avail < IPV6_HDR_LEN || ip[0] >> 4 != 6)
		return -1;
	end = IPV6_HDR_LEN + eth_get16(ip + 4);
	if (end > avail)
		return -1;
	next = ip[6];
	for (n = 0; next != IPPROTO_TCP; n++) {
		if (n == IPV6_MAX_EXT_HDRS)
			return -1;
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS)
			return -1;	/* fragment, AH, ESP, none, unknown */
		if (end - off < 8)
			return -1;
		hlen = ((size_t)ip[off + 1] + 1) * 8;
		if (hlen > end - off)
			return -1;
		next = ip[off];
		off += hlen;
	}
	if (end - off < TCP_HDR_LEN)
		return -1;
	s->off = off;
	s->len = end - off;
	s->ip_hdr = IPV6_HDR_LEN;
	return 0;
}

/*
 * Walk the options of a SYN segment and store the offsets (from the TCP
 * header) of its MSS values.  Returns how many, or -1 if the segment is not
 * a SYN or its header or options are malformed.  An option of kind MSS but
 * a length other than 4 is not an MSS option (Linux ignores it too).
 */
static int tcp_find_mss(const uint8_t *tcp, size_t len,
			size_t at[MAX_MSS_OPTS])
{
	size_t doff, i = TCP_HDR_LEN, olen;
	int n = 0;

	if (len < TCP_HDR_LEN)
		return -1;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > len || !(tcp[13] & TCP_FLAG_SYN))
		return -1;
	while (i < doff && tcp[i] != TCPOPT_EOL) {
		if (tcp[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (doff - i < 2)
			return -1;
		olen = tcp[i + 1];
		if (olen < 2 || olen > doff - i)
			return -1;
		if (tcp[i] == TCPOPT_MAXSEG && olen == TCPOLEN_MAXSEG &&
		    n < MAX_MSS_OPTS)
			at[n++] = i + 2;
		i += olen;
	}
	return n;
}

/*
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), on the checksum at csum: the
 * 16-bit word m became m_new.  Both are given as they add into the sum.
 */
static void csum_replace(uint8_t *csum, uint16_t m, uint16_t m_new)
{
	uint32_t sum;

	sum = (uint32_t)(uint16_t)~eth_get16(csum) + (uint16_t)~m + m_new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	eth_put16(csum, (uint16_t)~sum);
}

static uint16_t swab16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* The MSS of a full segment in a frame of max_frame bytes, capped 16 bits. */
static uint16_t mss_limit(size_t max_frame, size_t l2, size_t ip_hdr)
{
	size_t hdrs = l2 + ip_hdr + TCP_HDR_LEN;

	if (max_frame < hdrs + MSS_MIN)
		return MSS_MIN;
	if (max_frame - hdrs > UINT16_MAX)
		return UINT16_MAX;
	return (uint16_t)(max_frame - hdrs);
}

int mss_clamp(uint8_t *frame, size_t len, size_t max_frame)
{
	size_t at[MAX_MSS_OPTS], l2;
	uint16_t type, limit, old;
	uint8_t *tcp;
	struct seg s;
	int n, i, changed = 0;

	l2 = eth_l2_parse(frame, len, &type);
	if (!l2)
		return 0;
	if (type == ETHERTYPE_IPV4) {
		if (ipv4_parse(frame + l2, len - l2, &s) < 0)
			return 0;
	} else if (type == ETHERTYPE_IPV6) {
		if (ipv6_parse(frame + l2, len - l2, &s) < 0)
			return 0;
	} else {
		return 0;
	}
	tcp = frame + l2 + s.off;
	n = tcp_find_mss(tcp, s.len, at);
	if (n <= 0)
		return 0;
	limit = mss_limit(max_frame, l2, s.ip_hdr);
	for (i = 0; i < n; i++) {
		old = eth_get16(tcp + at[i]);
		if (old <= limit)
			continue;
		eth_put16(tcp + at[i], limit);
		/*
		 * At an odd offset from the TCP header the value straddles
		 * two checksum words, its high byte adding into the low
		 * half of one and its low byte into the high half of the
		 * next: it adds in byte-swapped (RFC 1071, byte order
		 * independence).
		 */
		if (at[i] & 1)
			csum_replace(tcp + TCP_CSUM_OFF, swab16(old),
				     swab16(limit));
		else
			csum_replace(tcp + TCP_CSUM_OFF, old, limit);
		changed = 1;
	}
	return changed;
}
