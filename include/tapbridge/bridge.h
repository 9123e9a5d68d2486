/*
 * bridge.h -- the Linux bridge around the TAP, through libnl-route-3.
 *
 * Owns every rtnetlink operation of tapbridge: create the bridge when it
 * does not exist (use it when it does), enslave the TAP and the LAN port,
 * bring them up, set MTUs, and on teardown undo exactly what setup did:
 * release the LAN port, delete a bridge tapbridge created, leave alone what
 * existed before.  A bridge created by tapbridge carries the alias
 * "BRIDGE_ALIAS pid N", N the daemon's process: a later instance takes one
 * left by a killed daemon over as its own, and refuses one whose daemon
 * still runs (two instances given the same 'bridge').  Never touches
 * packets.
 */
#ifndef TAPBRIDGE_BRIDGE_H
#define TAPBRIDGE_BRIDGE_H

#define BRIDGE_ALIAS "tapbridge"

struct bridge;

/* Which of the three names a failed bridge_setup could not use. */
enum bridge_part {
	BRIDGE_PART_OTHER,	/* none in particular (netlink, memory) */
	BRIDGE_PART_BRIDGE,
	BRIDGE_PART_TAP,
	BRIDGE_PART_LAN,
};

/*
 * bridge_setup(br, tap, lan, failed): create or reuse bridge br, enslave
 * tap and lan (lan may be NULL or ""), bring all three up.  A lan port
 * already enslaved to another bridge is an error.  On failure, undoes what
 * it did, logs why once, sets *failed to the part at fault and returns
 * NULL.  Returns a handle for bridge_teardown.
 */
struct bridge *bridge_setup(const char *br, const char *tap, const char *lan,
			    enum bridge_part *failed);

/*
 * bridge_claim(b): mark a bridge that is ours with this process's pid (a
 * daemon that went into the background after bridge_setup).  0, or -1
 * (logged).
 */
int bridge_claim(struct bridge *b);

/*
 * bridge_set_mtu(b, ifname, mtu): set the MTU of one interface by name.
 * Returns 0, or -1 (logged).
 */
int bridge_set_mtu(struct bridge *b, const char *ifname, unsigned mtu);

/*
 * bridge_set_txqlen(b, ifname, len): set the transmit queue length of one
 * interface (the TAP: frames wait there for the daemon).  0 or -1 (logged).
 */
int bridge_set_txqlen(struct bridge *b, const char *ifname, unsigned len);

/* bridge_get_mtu(b, ifname): the MTU of an interface, or 0 (logged). */
unsigned bridge_get_mtu(struct bridge *b, const char *ifname);

/*
 * bridge_teardown(b): release the LAN port and the TAP from the bridge,
 * delete the bridge if tapbridge created it, free b.  NULL is a no-op.
 * Errors are logged; teardown goes on as far as it can.
 */
void bridge_teardown(struct bridge *b);

/*
 * bridge_forget(b): free b and close its netlink socket without changing
 * any link: for the network process, which inherits b across the fork and
 * must not keep a netlink socket.  NULL is a no-op.
 */
void bridge_forget(struct bridge *b);

#endif
