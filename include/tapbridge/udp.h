/*
 * udp.h -- the tunnel's UDP socket: open, batched receive and send, and
 * endpoint addresses.
 *
 * One socket carries every peer.  It is IPv4, IPv6, or dual-stack IPv6 when
 * bound to the IPv6 any-address (IPv4 peers then appear v4-mapped).
 * Receives never block; sends block when the socket buffer is full, which
 * pushes back on the TAP instead of dropping.  Every datagram leaves with
 * DF set (IP_PMTUDISC_DO): the tunnel never relies on IP fragmentation; a
 * datagram larger than the path allows fails with EMSGSIZE, counted in
 * too_big.  With UDP GRO the kernel may hand over several datagrams of one
 * sender back to back in one buffer (p->gso_size set), and a packet built
 * with p->gso_size set leaves as that many datagrams in one send (UDP GSO).
 * No logging in send or receive.
 */
#ifndef TAPBRIDGE_UDP_H
#define TAPBRIDGE_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "tapbridge/pkt.h"

#define UDP_GSO_MAX_SEGS 64	/* datagrams per GSO send */
#define UDP_GSO_MAX_BYTES 65000	/* payload bytes per GSO send */

struct udp {
	int fd;
	int gso;		/* the kernel takes UDP_SEGMENT */
	int family;		/* AF_INET or AF_INET6 */
	int no_ipv6;		/* IPv4 only because the host has no IPv6 */
	union pkt_addr local;	/* bound address, port filled in */
	uint64_t too_big;	/* sends refused with EMSGSIZE */
	uint64_t send_errors;	/* batched datagrams the kernel refused */
};

/*
 * udp_open(u, host, port): bind to host (numeric; "" = any address,
 * dual-stack when IPv6 is available) and port (0 = ephemeral).
 * Returns 0, or -1 (logged).
 */
int udp_open(struct udp *u, const char *host, uint16_t port);
/*
 * udp_plan(u, host, port): fill u as udp_open would (family, bound
 * address) without a socket (fd -1), for checking a configuration: names
 * then resolve with udp_resolve as for the running daemon.  Returns 0, or
 * -1 if host is not a numeric address.
 */
int udp_plan(struct udp *u, const char *host, uint16_t port);

/* udp_close(u): close the socket; safe on a closed or zeroed udp. */
void udp_close(struct udp *u);

/*
 * udp_resolve(u, host, port, out): resolve host (literal or name) to an
 * address the socket of u can reach, v4-mapped on a dual-stack socket.
 * Returns 0, or -1 with a message in why (no logging here).
 */
int udp_resolve(const struct udp *u, const char *host, uint16_t port,
		union pkt_addr *out, char *why, size_t whylen);

/*
 * udp_recv_batch(u, pool, b): receive until EAGAIN, b is full or the pool
 * runs dry; appends to b with the source in p->addr.  A packet may hold
 * several datagrams of p->gso_size bytes back to back (the last may be
 * shorter).  Returns packets received, or -1 (errno set).
 */
int udp_recv_batch(struct udp *u, struct pkt_pool *pool, struct pkt_batch *b);

/*
 * udp_send_batch(u, b): send every packet of b to its p->addr; a packet
 * with p->gso_size set goes out as datagrams of that size (UDP GSO).  Does
 * not consume b.  Returns packets handed to the kernel; a packet the kernel
 * refused (unreachable, too big) is skipped, not retried, and its
 * datagrams counted in send_errors.  A GSO send the kernel refuses as such
 * (EIO: no checksum offload on the way out before Linux 6.11, or an IPsec
 * route; EINVAL on some older kernels) goes out one datagram at a time, and
 * if that works, u->gso is cleared (logged once): the caller stops making
 * GSO packets.
 */
int udp_send_batch(struct udp *u, const struct pkt_batch *b);

/* udp_send(u, buf, len, to): one datagram; 0 or -1 (errno set). */
int udp_send(struct udp *u, const void *buf, size_t len,
	     const union pkt_addr *to);

/*
 * udp_route_mtu(u, to): the kernel's path MTU towards to (interface MTU,
 * or less if ICMP taught it so), or 0 if unknown.  Sends nothing.
 */
unsigned udp_route_mtu(const struct udp *u, const union pkt_addr *to);

/* udp_ip_overhead(to): IP + UDP header bytes of a datagram to to. */
unsigned udp_ip_overhead(const union pkt_addr *to);

/* udp_addr_equal(a, b): same family, address and port. */
bool udp_addr_equal(const union pkt_addr *a, const union pkt_addr *b);

#endif
