/*
 * eth.h -- what the frame inspectors (mss, gso, gro) share: standard
 * Ethernet, IPv4, IPv6, TCP and UDP numbers (not tapbridge's wire format,
 * which is in wire.h), big-endian field access and the walk over
 * 802.1Q/802.1ad tags.
 * Pure inline helpers: no state, no I/O, never reads past len.
 */
#ifndef TAPBRIDGE_ETH_H
#define TAPBRIDGE_ETH_H

#include <stddef.h>
#include <stdint.h>

#define ETH_HDR_LEN		14
#define ETH_ADDRS_LEN		12	/* destination and source MAC */
#define ETH_TAG_LEN		4
#define ETH_MAX_TAGS		2
#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88a8

#define IPV4_HDR_LEN		20
#define IPV4_DF			0x4000	/* in the 16-bit fragment field */
#define IPV4_MF			0x2000
#define IPV4_OFFSET_MASK	0x1fff
#define IPV6_HDR_LEN		40
#define TCP_HDR_LEN		20
#define TCP_CSUM_OFF		16
#define TCP_FLAG_FIN		0x01	/* in the flags byte, offset 13 */
#define TCP_FLAG_SYN		0x02
#define TCP_FLAG_RST		0x04
#define TCP_FLAG_PSH		0x08
#define TCP_FLAG_ACK		0x10
#define TCP_FLAG_URG		0x20
#define TCP_FLAG_ECE		0x40
#define TCP_FLAG_CWR		0x80
#define UDP_HDR_LEN		8
#define UDP_CSUM_OFF		6

static inline uint16_t eth_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t eth_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void eth_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * eth_l2_parse(f, len, type): skip up to ETH_MAX_TAGS VLAN tags.  Returns
 * the L2 header length and stores the payload's ethertype in *type, or
 * returns 0 if the frame is too short or has more tags.
 */
static inline size_t eth_l2_parse(const uint8_t *f, size_t len,
				  uint16_t *type)
{
	size_t off = ETH_HDR_LEN - 2;
	int tags;

	for (tags = 0; tags <= ETH_MAX_TAGS; tags++) {
		if (len < off + 2)
			return 0;
		*type = eth_get16(f + off);
		if (*type != ETHERTYPE_8021Q && *type != ETHERTYPE_8021AD)
			return off + 2;
		off += ETH_TAG_LEN;
	}
	return 0;
}

#endif
