/*
 * gro.h -- coalescing received TCP segments and UDP datagrams into
 * super-frames, so that one TAP write carries a whole burst of a flow.
 *
 * The data path hands every Ethernet frame it received from the peer (a
 * plain frame with complete checksums) to gro_add, and calls gro_flush at
 * the end of each receive batch.  The module owns the decision which
 * frames merge and the building of the super-frames: consecutive full-size
 * segments of one TCP flow (same addresses, ports, MACs, VLAN tag, IP and
 * TCP header fields, options and ACK, in sequence, with a valid checksum)
 * become one frame of at most GRO_MAX_LEN bytes with a virtio_net_hdr
 * asking the kernel for TCP segmentation offload (gso_type TCPV4/TCPV6,
 * gso_size = the first segment's payload) and a partial checksum
 * (NEEDS_CSUM, the TCP checksum field holding the pseudo-header sum).
 * Likewise consecutive UDP datagrams of one flow (same addresses, ports,
 * MACs, VLAN tag and IP header fields, a valid non-zero checksum, at most
 * 64 of them) become one frame with gso_type UDP_L4 and gso_size = the
 * first datagram's payload; the kernel cuts it back into the very same
 * datagrams (Linux 6.2 and later; see gro_merge_udp).
 * Every other frame, and a segment that ends up alone, is released
 * unchanged behind an all-zero virtio_net_hdr.  Frames of one flow leave
 * in the order they came; nothing is ever dropped.
 *
 * It keeps at most GRO_FLOWS super-frames pending, in storage allocated
 * once by gro_new.  It never allocates after that, never logs, never
 * writes to a device (the caller's emit callback does), never modifies
 * the frames it is given and never reads outside them: bytes from the
 * network can only make it pass a frame through unchanged.
 */
#ifndef TAPBRIDGE_GRO_H
#define TAPBRIDGE_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRO_VNET_HDR_LEN	10	/* struct virtio_net_hdr */
#define GRO_FLOWS		8	/* super-frames being built at once */
#define GRO_MAX_LEN		65000	/* largest super-frame (whole frame) */

struct gro;

/* Counters for status; they only grow. */
struct gro_stats {
	uint64_t merged;	/* segments released inside super-frames */
	uint64_t supers;	/* super-frames released */
	uint64_t passed;	/* frames released unchanged (lone ones too) */
};

/*
 * gro_new(emit, ctx): make a coalescer.  emit(ctx, vnet, frame, len) is
 * called for every super-frame or frame gro releases, vnet being its
 * GRO_VNET_HDR_LEN-byte virtio_net_hdr (little-endian fields) and frame
 * the len-byte Ethernet frame; both are valid only during the call, and
 * emit must not call back into this gro.  Allocates storage for GRO_FLOWS
 * super-frames here, once.  Returns the coalescer (free with gro_free), or
 * NULL if memory ran out (errno set).
 */
struct gro *gro_new(void (*emit)(void *ctx, const uint8_t *vnet,
				 const uint8_t *frame, size_t len),
		    void *ctx);

/*
 * gro_merge_udp(g, on): whether UDP datagrams are merged (the default) or
 * all passed unchanged, for a TAP whose kernel lacks UDP_L4 (Linux < 6.2).
 */
void gro_merge_udp(struct gro *g, bool on);

/*
 * gro_free(g): release g and its storage without emitting what is still
 * pending (call gro_flush first to keep it).  NULL is a no-op.
 */
void gro_free(struct gro *g);

/*
 * gro_add(g, frame, len): take one received Ethernet frame of len bytes
 * (destination MAC first, no FCS).  The frame is not consumed: gro copies
 * what it keeps, and the caller may reuse the buffer on return.  The frame
 * either joins the pending super-frame of its flow, or starts one (the old
 * one of the same flow, if it could not join, is emitted first), or, if it
 * is not a mergeable segment or datagram, the pending super-frames of its
 * flow are emitted and then the frame itself, unchanged, with an all-zero
 * vnet header.  When all GRO_FLOWS slots are busy, a new flow evicts (emits)
 * the oldest.  A segment with PSH set, shorter than the first, or leaving
 * no room for another, completes its super-frame, which is emitted at once.
 *
 * Mergeable: Ethernet with at most one 802.1Q tag, IPv4 without options
 * and not a fragment (header checksum valid) or IPv6 with next header TCP,
 * TCP with ACK and without SYN, FIN, RST, URG or CWR, a payload, a valid
 * TCP checksum, and a frame of at most GRO_MAX_LEN bytes.  For UDP the
 * same Ethernet and IP rules, a UDP length field equal to the IP payload,
 * a payload, and a non-zero valid checksum; a shorter datagram than the
 * first, or the 64th, completes its super-frame.
 */
void gro_add(struct gro *g, const uint8_t *frame, size_t len);

/*
 * gro_flush(g): emit every pending super-frame, oldest first; afterwards
 * nothing is pending.  Call at the end of each receive batch.
 */
void gro_flush(struct gro *g);

/* gro_stats(g): g's counters, valid as long as g; never NULL. */
const struct gro_stats *gro_stats(const struct gro *g);

#endif /* TAPBRIDGE_GRO_H */
