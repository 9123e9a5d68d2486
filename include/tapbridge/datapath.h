/*
 * datapath.h -- the two directions of the tunnel and the handshake
 * dispatch: frames read from the TAP are sealed and sent to their peer;
 * datagrams received are authenticated, opened and written to the TAP.
 *
 * Owns the peers and the identity given to it, the packet pool, and the
 * per-reason drop counters.  Does no allocation, formatting or logging per
 * packet; drops bump a counter, and the few warnings an operator needs
 * (a handshake made for another key, an unknown peer key) are rate-limited.
 * Knows nothing of epoll: loop calls the *_ready functions when a
 * descriptor is readable and datapath_tick on the timer.
 */
#ifndef TAPBRIDGE_DATAPATH_H
#define TAPBRIDGE_DATAPATH_H

#include <stdint.h>
#include <stdio.h>

#include "tapbridge/gro.h"
#include "tapbridge/handshake.h"
#include "tapbridge/peer.h"
#include "tapbridge/pkt.h"
#include "tapbridge/udp.h"

struct datapath;

/* What the data path is given to run. */
struct datapath_setup {
	int tap_fd;			/* borrowed */
	struct udp *udp;		/* borrowed */
	struct pkt_pool *pool;		/* borrowed */
	struct handshake_identity *id;	/* borrowed */
	struct peer *peers;		/* consumed: array of npeers */
	size_t npeers;
	const char *interface, *bridge;	/* for status */
	int clamp_mss;			/* lower the MSS of TCP SYNs */
	int gro_udp;			/* write UDP super-frames (USO) */
};

/* datapath_new(setup): consumes setup->peers; NULL if memory fails. */
struct datapath *datapath_new(const struct datapath_setup *setup);
/* datapath_free(dp, pool): finalise peers and free; NULL is a no-op. */
void datapath_free(struct datapath *dp);

/*
 * datapath_tap_ready(dp): read up to one batch of frames from the TAP and
 * send them.  Returns frames read (0 when drained), or -1 if the TAP
 * failed.
 */
int datapath_tap_ready(struct datapath *dp);
/*
 * datapath_udp_ready(dp): receive and handle up to one batch of datagrams.
 * Returns datagrams received (0 when drained), or -1 if the socket failed.
 */
int datapath_udp_ready(struct datapath *dp);
/*
 * datapath_rx_buffer(dp, buf, len, gso_size, from): handle received bytes
 * as if the socket had returned them: one datagram, or several of gso_size
 * bytes back to back; buf is modified in place.  The seam for fuzzers and
 * tests, which drive the whole receive path without a socket.
 */
void datapath_rx_buffer(struct datapath *dp, uint8_t *buf, size_t len,
			size_t gso_size, const union pkt_addr *from);

/* datapath_tick(dp): run every peer's timers; call a few times a second. */
void datapath_tick(struct datapath *dp);
/* datapath_start(dp): initiate towards every peer with a known endpoint. */
void datapath_start(struct datapath *dp);

/*
 * datapath_reload(dp, specs, n, o, clamp_mss): make the peers those of
 * specs.  A peer whose name, public key and preshared key are unchanged
 * keeps its sessions, staged frames and counters (no frame lost); others
 * are created; peers no longer named are wiped.  Returns 0, or -1 (logged)
 * if memory failed, the old peers then untouched.
 */
int datapath_reload(struct datapath *dp, const struct peer_spec *specs,
		    size_t n, const struct peer_opts *o, int clamp_mss);

/* A read-only view of the data path's state, for status reports. */
struct datapath_info {
	const char *interface, *bridge;
	const union pkt_addr *listen;
	const uint64_t *drops;		/* RX_VERDICT_MAX counters */
	uint64_t tap_write_errors;
	uint64_t tap_bad_frames;	/* offload metadata not honoured */
	uint64_t tap_supers;		/* TCP/UDP super-frames read, cut */
	uint64_t udp_send_errors;	/* datagrams the kernel refused */
	const struct gro_stats *gro;	/* receive coalescing */
	const struct peer *peers;
	size_t npeers;
	uint64_t now_ms;		/* CLOCK_MONOTONIC */
};

/* datapath_info(dp, out): fill out; valid until dp next runs. */
void datapath_info(struct datapath *dp, struct datapath_info *out);

#endif
