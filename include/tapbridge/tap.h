/*
 * tap.h -- the TAP device: open or create it, read and write whole
 * Ethernet frames in batches.
 *
 * Owns /dev/net/tun and the TUNSETIFF ioctl (rtnetlink cannot create TAP
 * devices).  The descriptor is non-blocking and close-on-exec.  A TAP that
 * tapbridge creates is not persistent: the kernel removes it when the last
 * descriptor closes, so even a killed daemon leaves no TAP behind.  Reads
 * and writes never log; callers count failures.
 */
#ifndef TAPBRIDGE_TAP_H
#define TAPBRIDGE_TAP_H

#include "tapbridge/pkt.h"

/*
 * tap_open(name, created): attach to TAP 'name', creating it if absent
 * (IFF_TAP | IFF_NO_PI).  *created is set to 1 if it did not exist.
 * Returns the descriptor, or -1 (logged).
 */
int tap_open(const char *name, int *created);

/*
 * tap_read_batch(fd, pool, b): read frames until EAGAIN, until b is full or
 * the pool runs dry; appends them to b.  Returns frames read, or -1 if the
 * device failed (errno set).
 */
int tap_read_batch(int fd, struct pkt_pool *pool, struct pkt_batch *b);

/*
 * tap_write(fd, p): write one frame (p->data, p->len).  Does not consume p.
 * Returns 0, or -1 (errno set; EAGAIN/ENOBUFS mean the frame was dropped).
 */
int tap_write(int fd, const struct pkt *p);

/* tap_write_buf(fd, buf, len): write one frame from a plain buffer. */
int tap_write_buf(int fd, const uint8_t *buf, size_t len);

#endif
