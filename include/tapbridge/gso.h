/*
 * gso.h -- TAP offload metadata, checksum completion, TCP and UDP
 * segmentation.
 *
 * With IFF_VNET_HDR and TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN
 * (and TUN_F_USO4 | TUN_F_USO6 on Linux 6.2+) every TAP read starts with a
 * 10-byte virtio_net_hdr, then an Ethernet frame whose L4 checksum may be
 * partial (VIRTIO_NET_HDR_F_NEEDS_CSUM) or which may be a super-frame of up
 * to 64 KB: TCP (VIRTIO_NET_HDR_GSO_TCPV4, _TCPV6, optionally | _ECN) or
 * UDP datagrams of one socket (VIRTIO_NET_HDR_GSO_UDP_L4).  The tunnel only
 * carries plain, fully checksummed frames.  This module owns the
 * conversion: decoding and encoding the header, completing partial
 * checksums, and cutting a super-frame into real TCP segments or UDP
 * datagrams one at a time, each written straight into the caller's output
 * slot (as the kernel's tcp_gso_segment and __udp_gso_segment would).
 * It also exports the Internet checksum helpers other modules share.
 *
 * It keeps no global state, never allocates, never logs, never reads outside
 * [frame, frame + len) and never writes outside the buffers it is given:
 * bytes from the TAP can make it refuse a frame (-1), never anything else.
 * It does no I/O; the tap module reads and writes the header bytes.
 */
#ifndef TAPBRIDGE_GSO_H
#define TAPBRIDGE_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/* UDP segmentation (USO): Linux 6.2 headers, older ones lack the name. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

/* Bytes of struct virtio_net_hdr in front of every frame (no num_buffers). */
#define GSO_VNET_HDR_LEN	10

/* The longest segment gso_begin accepts to produce, Ethernet header on. */
#define GSO_MAX_SEG_LEN		65535

/* A decoded virtio_net_hdr; all fields in host order. */
struct gso_meta {
	uint8_t flags;		/* VIRTIO_NET_HDR_F_* */
	uint8_t type;		/* VIRTIO_NET_HDR_GSO_*, ECN bit included */
	uint16_t hdr_len;	/* headers length: a hint, never trusted */
	uint16_t size;		/* GSO: payload bytes per segment (MSS) */
	uint16_t csum_start;	/* NEEDS_CSUM: checksummed bytes start here */
	uint16_t csum_offset;	/* ... and the checksum is this far after */
};

/*
 * Segmentation state, filled by gso_begin and advanced by gso_next.  The
 * caller allocates it (on the stack is fine) and only reads it through
 * gso_seg_len; the fields are public for that reason alone.
 */
struct gso_iter {
	const uint8_t *frame;	/* the super-frame: borrowed, not changed */
	size_t l3;		/* offset of the IP header (after VLAN tags) */
	size_t l4;		/* offset of the TCP or UDP header */
	size_t hdr_len;		/* L2 + IP + L4 headers, options included */
	size_t payload;		/* L4 payload bytes of the super-frame */
	size_t done;		/* payload bytes already written out */
	size_t mss;		/* payload bytes per segment but the last */
	uint64_t pseudo;	/* pseudo-header sum without the length */
	uint32_t seq;		/* TCP sequence number of the super-frame */
	uint16_t ip_id;		/* IPv4 identification of the super-frame */
	uint16_t index;		/* segments already written out */
	uint8_t tcp_flags;	/* TCP flags byte of the super-frame */
	uint8_t ipv6;		/* 1 for IPv6, 0 for IPv4 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

/*
 * gso_meta_read(m, vnet): decode the GSO_VNET_HDR_LEN little-endian bytes at
 * vnet into m.  No validation: that is up to gso_csum_complete and
 * gso_begin.
 */
void gso_meta_read(struct gso_meta *m, const uint8_t *vnet);

/*
 * gso_meta_write(vnet, m): encode m into the GSO_VNET_HDR_LEN bytes at vnet
 * (little-endian), e.g. for a frame written to the TAP.
 */
void gso_meta_write(uint8_t *vnet, const struct gso_meta *m);

/*
 * gso_csum_complete(frame, len, m): frame is a whole Ethernet frame of len
 * bytes, modified in place.  If m has VIRTIO_NET_HDR_F_NEEDS_CSUM and is not
 * a GSO frame (m->type without the ECN bit is VIRTIO_NET_HDR_GSO_NONE),
 * store at csum_start + csum_offset the ones'-complement of the sum of all
 * bytes from csum_start to the end of the frame, seeded with the partial
 * (pseudo-header) sum that field holds; a result of 0 is stored as 0xffff,
 * as the kernel does (UDP reserves 0).  Any other frame is left as it is.
 *
 * Returns 0, or -1 if csum_start or the 2-byte field at csum_start +
 * csum_offset lies outside the frame (then the frame is unchanged).
 */
int gso_csum_complete(uint8_t *frame, size_t len, const struct gso_meta *m);

/*
 * gso_begin(it, frame, len, m): prepare to cut the super-frame of len bytes
 * at frame, described by m, into segments of m->size payload bytes.  The
 * frame is Ethernet, optionally behind one or two 802.1Q/802.1ad tags, then
 * IPv4 (options allowed, no fragment) for VIRTIO_NET_HDR_GSO_TCPV4 or IPv6
 * with TCP as next header (no extension header) for _TCPV6, then TCP
 * (options allowed); or, for VIRTIO_NET_HDR_GSO_UDP_L4, IPv4 or IPv6 (as
 * above) with UDP; then at least one payload byte.  The IP length field
 * must match len.  Header lengths come from parsing; m->hdr_len, csum_start
 * and csum_offset are ignored, since every segment gets a checksum computed
 * from scratch.  The frame is not modified, and must stay unchanged and in
 * place until the last gso_next.
 *
 * Returns the number of segments (>= 1), or -1 if the frame is not such a
 * super-frame, m->size is 0, the type (ECN bit aside) is none of the three,
 * or a segment would exceed GSO_MAX_SEG_LEN bytes.  On -1 the caller drops
 * the frame (and counts it); it is then safe to call gso_seg_len and
 * gso_next, which report nothing left.
 */
int gso_begin(struct gso_iter *it, const uint8_t *frame, size_t len,
	      const struct gso_meta *m);

/*
 * gso_set_mss(it, mss): cut the TCP super-frame begun in it into segments
 * of at most mss payload bytes instead, before the first gso_next.  A
 * receiver takes TCP segments of any size up to its MSS, so lowering the
 * size is always allowed; UDP datagrams keep the sender's boundaries.
 * Returns 0 when the size is now mss, -1 (it unchanged) for UDP, mss 0, an
 * mss not below the current size, or after the first segment.
 */
int gso_set_mss(struct gso_iter *it, size_t mss);

/*
 * gso_seg_len(it): the length of the next segment gso_next will write, a
 * whole Ethernet frame, or 0 when all are written.  All segments but the
 * last have the same length.
 */
size_t gso_seg_len(const struct gso_iter *it);

/*
 * gso_next(it, out): write the next segment to out, which has room for
 * gso_seg_len(it) bytes and does not overlap the super-frame: the headers
 * of the super-frame with IP length, IPv4 identification (+1 per segment)
 * and header checksum adjusted; for TCP the sequence number and flags (FIN
 * and PSH on the last segment only, CWR on the first only), for UDP the
 * length; then the next m->size payload bytes (the remainder for the last),
 * and a complete TCP or UDP checksum (a UDP sum of 0 is sent as 0xffff).
 * Returns the segment's length, or 0 (nothing written) when done.
 */
size_t gso_next(struct gso_iter *it, uint8_t *out);

/*
 * gso_csum_add(sum, p, n): add the n bytes at p, read as big-endian 16-bit
 * words (an odd last byte padded with a zero byte), to the ones'-complement
 * partial sum sum, and return the new partial sum.  Start with 0; values
 * such as pseudo-header protocol and length may be added to a sum as plain
 * integers (their big-endian word value).  The words start at p, so to sum
 * a buffer piecewise cut it at even offsets.  Returns a value folded by
 * gso_csum_fold; it is not itself 16 bits.
 */
uint64_t gso_csum_add(uint64_t sum, const uint8_t *p, size_t n);

/*
 * gso_csum_fold(sum): fold a partial sum from gso_csum_add to 16 bits and
 * return its ones'-complement: the value for a checksum field, in host
 * order (store it big-endian).  Data whose checksum is valid folds to 0.
 */
uint16_t gso_csum_fold(uint64_t sum);

/*
 * gso_ipv4_csum_fix(ip, ihl): recompute the header checksum of the IPv4
 * header of ihl bytes at ip (its other fields final).
 */
void gso_ipv4_csum_fix(uint8_t *ip, size_t ihl);

#endif /* TAPBRIDGE_GSO_H */
