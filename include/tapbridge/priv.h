/*
 * priv.h -- the typed messages between the privileged parent and the
 * network process, over a SOCK_SEQPACKET socketpair.
 *
 * The parent re-reads the configuration and key files on SIGHUP (the
 * network process can read no file and resolve no name) and sends the
 * result; the network process reports readiness and the outcome of a
 * reload.  Every message is checked for its type and exact length on
 * receipt, and a malformed one ends the conversation; the parent treats
 * anything odd from the network process as a compromised child.  Buffers
 * that held keys are wiped.
 */
#ifndef TAPBRIDGE_PRIV_H
#define TAPBRIDGE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tapbridge/peer.h"

enum priv_type {
	PRIV_READY = 1,		/* net -> parent: sandboxed, running */
	PRIV_RELOAD_BEGIN,	/* parent -> net: struct priv_reload */
	PRIV_PEER,		/* parent -> net: struct peer_spec */
	PRIV_RELOAD_END,	/* parent -> net: apply */
	PRIV_RELOAD_DONE,	/* net -> parent: ok(1) seq(4, host order) */
	PRIV_LOG,		/* net -> parent: priority(1) line(1..PRIV_LOG_MAX) */
};

#define PRIV_LOG_MAX 480

#define PRIV_MAX_PEERS 1024

struct priv_reload {
	uint8_t private_key[32];
	uint32_t seq;		/* echoed in PRIV_RELOAD_DONE */
	uint32_t npeers;
	uint32_t rekey_s;
	uint32_t wan_mtu;
	uint8_t clamp_mss;
};

/* priv_send(fd, type, body, len): one message.  0, or -1 (errno set). */
int priv_send(int fd, enum priv_type type, const void *body, size_t len);

/*
 * priv_recv(fd, type, body, max, len): receive one message into body (room
 * for max bytes); its body must have exactly priv_body_len(type) bytes,
 * stored in *len.  Returns 1 for a message, 0 at the end of the
 * conversation, -1 for a malformed message (errno EPROTO) or an error
 * (errno EAGAIN: nothing to read on a non-blocking socket).
 */
int priv_recv(int fd, enum priv_type *type, void *body, size_t max,
	      size_t *len);

/* priv_body_len(type): the exact body length of a type, or -1 if unknown. */
long priv_body_len(enum priv_type type);

/* priv_notify(state): tell systemd, if it started us (NOTIFY_SOCKET). */
void priv_notify(const char *state);

#endif
