/*
 * offload.h -- the LAN port's receive offloads: GRO, and GRO of the UDP
 * datagrams it forwards, turned on for the daemon's life and off again at
 * its end.
 *
 * With "rx-gro" and "rx-udp-gro-forwarding" on (ethtool -K's names), the
 * LAN port merges consecutive datagrams of one UDP flow from the office,
 * as it merges TCP segments, and the bridge hands them to the TAP as one
 * UDP super-frame (TAP USO, Linux 6.2 and later): the daemon reads a burst
 * in one call instead of one call per datagram, and cuts it back into the
 * very same datagrams.  Without the forwarding feature (off by default in
 * Linux) the kernel merges only datagrams for its own sockets.  This is
 * what Tailscale advises for its subnet routers.
 *
 * Done through SIOCETHTOOL by feature name, in the privileged process
 * before the fork.  Only the features found off and turned on are turned
 * off again; a feature the driver cannot change is left as it is.  Never
 * fatal: without it only speed is lost.
 */
#ifndef TAPBRIDGE_OFFLOAD_H
#define TAPBRIDGE_OFFLOAD_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define OFFLOAD_MAX	2	/* features offload_lan_on may turn on */

/* What offload_lan_on changed, for offload_restore. */
struct offload_saved {
	int ifindex;			/* 0: nothing to restore */
	unsigned n;			/* features turned on */
	uint32_t bit[OFFLOAD_MAX];	/* their indices in the device's set */
	char what[64];			/* their names, for the log */
};

/*
 * offload_lan_on(ifname, udp, saved): turn on rx-gro, and with udp also
 * rx-udp-gro-forwarding (only useful when the TAP takes UDP super-frames),
 * on interface ifname where they are off and the driver lets them change.
 * Fills *saved with what it turned on.  Returns the number of features
 * turned on (0: all were on already, or cannot change), or -1 when the
 * kernel refused (logged as a warning; nothing changed, *saved is empty).
 */
int offload_lan_on(const char *ifname, bool udp, struct offload_saved *saved);

/*
 * offload_restore(saved): turn off again what offload_lan_on turned on, on
 * the same interface (found by index: a rename does not matter, a deleted
 * one is nothing to undo).  Logs failures; clears *saved.
 */
void offload_restore(struct offload_saved *saved);

#endif /* TAPBRIDGE_OFFLOAD_H */
