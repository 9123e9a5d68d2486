/*
 * tap.h -- the TAP device: open or create it, read and write whole
 * Ethernet frames in batches.
 *
 * Owns /dev/net/tun and the TUNSETIFF ioctl (rtnetlink cannot create TAP
 * devices).  The descriptor is non-blocking and close-on-exec.  The device
 * is opened with IFF_VNET_HDR: every frame read or written is preceded by a
 * TAP_VNET_HDR_LEN-byte virtio_net_hdr, which carries checksum and
 * segmentation offload metadata (see gso.h and gro.h).  A TAP that
 * tapbridge creates is not persistent: the kernel removes it when the last
 * descriptor closes, so even a killed daemon leaves no TAP behind.  Reads
 * and writes never log; callers count failures.
 */
#ifndef TAPBRIDGE_TAP_H
#define TAPBRIDGE_TAP_H

#include <stdbool.h>

#include "tapbridge/pkt.h"

/*
 * tap_open(name, created): attach to TAP 'name', creating it if absent
 * (IFF_TAP | IFF_NO_PI).  *created is set to 1 if it did not exist.
 * Returns the descriptor, or -1 (logged).
 */
int tap_open(const char *name, int *created);

#define TAP_VNET_HDR_LEN 10

/* What tapbridge changes on a TAP device, to put back on one it found. */
struct tap_link {
	int mtu;
	int qlen;
};

/* tap_link_get(name, l), tap_link_set(name, l): read or set the MTU and
 * queue length of interface name.  0, or -1 (logged). */
int tap_link_get(const char *name, struct tap_link *l);
int tap_link_set(const char *name, const struct tap_link *l);

/*
 * tap_offload(fd, flags): ask the kernel to hand over frames with partial
 * checksums and TCP super-frames (TUN_F_* flags; 0 = none).  Returns 0, or
 * -1 (logged) if the kernel refused.
 */
int tap_offload(int fd, const char *name, unsigned flags);

/*
 * tap_offload_uso(fd, base): set offloads base plus UDP segmentation offload
 * (TUN_F_USO4 | TUN_F_USO6, Linux 6.2): the kernel then both hands over and
 * takes frames with gso_type UDP_L4.  Returns whether it agreed; if not,
 * nothing changed and the caller sets base with tap_offload.
 */
bool tap_offload_uso(int fd, unsigned base);

/*
 * tap_read_batch(fd, pool, b): read frames until EAGAIN, until b is full or
 * the pool runs dry; appends them to b, each starting with its virtio_net_hdr.
 * Returns frames read, or -1 if the device failed (errno set).
 */
int tap_read_batch(int fd, struct pkt_pool *pool, struct pkt_batch *b);

/*
 * tap_write(fd, vnet, frame, len): write one frame after its virtio_net_hdr
 * (TAP_VNET_HDR_LEN bytes).  Returns 0, or -1 (errno set; the frame was
 * dropped).
 */
int tap_write(int fd, const uint8_t *vnet, const uint8_t *frame, size_t len);

#endif
