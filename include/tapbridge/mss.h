/*
 * mss.h -- TCP MSS clamping of Ethernet frames crossing the tunnel.
 *
 * The tunnel carries frames smaller than the LAN MTU allows.  So that TCP
 * never needs fragmenting inside it, the data path passes every frame that
 * crosses the tunnel (both directions) through mss_clamp, which lowers the
 * MSS option of TCP SYN and SYN-ACK segments to what fits and patches the
 * TCP checksum incrementally (RFC 1624).  This module owns only that
 * rewrite.  It keeps no state, never allocates, never logs, never reads or
 * writes outside the frame it is given, never raises an MSS and never
 * touches a frame it cannot fully parse: bytes from the network can make it
 * do nothing, never anything else.
 */
#ifndef TAPBRIDGE_MSS_H
#define TAPBRIDGE_MSS_H

#include <stddef.h>
#include <stdint.h>

/* The smallest MSS ever written: Linux refuses anything below (TCP_MIN_MSS). */
#define MSS_MIN		88

/*
 * mss_clamp(frame, len, max_frame): frame is a whole Ethernet frame of len
 * bytes (destination MAC first, no FCS), modified in place.  If it carries
 * a TCP segment with SYN set (SYN or SYN-ACK) over IPv4 or IPv6, optionally
 * behind one or two 802.1Q / 802.1ad tags (TPID 0x8100 or 0x88a8), and its
 * MSS option exceeds the largest MSS whose segment would fit in a frame of
 * max_frame bytes, lower the option to that MSS and fix the TCP checksum.
 *
 * That MSS is max_frame - (14 + 4 per tag) - (20 for IPv4, 40 for IPv6)
 * - 20, counting neither IP nor TCP options (RFC 6691: the sender subtracts
 * those), and never below MSS_MIN: with a tiny max_frame the option becomes
 * MSS_MIN, not less.  Every MSS option of the segment is clamped (Linux
 * honours the last one).  Not touched: IP fragments, IPv6 packets with a
 * fragment header or with extension headers other than hop-by-hop, routing
 * and destination options (at most 8), and frames with a length field,
 * header length or option length that does not fit.  Ethernet padding after
 * the IP packet is ignored.
 *
 * Returns 1 if the frame was changed, 0 otherwise (then not one byte was
 * written).  Never reads outside [frame, frame + len): any malformed or
 * truncated frame is left untouched.
 */
int mss_clamp(uint8_t *frame, size_t len, size_t max_frame);

#endif /* TAPBRIDGE_MSS_H */
