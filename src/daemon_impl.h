/*
 * daemon_impl.h -- private to daemon.c (setup, teardown, the fork),
 * daemon_net.c (the network process) and daemon_priv.c (the privileged
 * parent): the state they share and the functions they call across.
 */
#ifndef TAPBRIDGE_DAEMON_IMPL_H
#define TAPBRIDGE_DAEMON_IMPL_H

#include <stdbool.h>
#include <sys/types.h>

#include "tapbridge/bridge.h"
#include "tapbridge/config.h"
#include "tapbridge/control.h"
#include "tapbridge/daemon.h"
#include "tapbridge/datapath.h"
#include "tapbridge/keys.h"
#include "tapbridge/loop.h"
#include "tapbridge/offload.h"
#include "tapbridge/priv.h"
#include "tapbridge/tap.h"
#include "tapbridge/udp.h"

#define TICK_MS		100
#define MAX_FRAME	(9000 + WIRE_ETH_HDR_LEN + 8)	/* jumbo, QinQ */
#define POOL_MTU	65536	/* TCP super-frames, UDP GRO batches */
#define SANDBOX_ROOT	RUNSTATEDIR "/tapbridge/empty"
#define CHILD_STOP_MS	5000
#define REAP_RELAY_LINES 256	/* its log lines passed on per turn, stopping */
#define RELOAD_SEND_MS	5000	/* handing a reload over, at most */
#define PENDING_RELOADS	4	/* reloads awaiting their answer */

struct daemon {
	struct config *cfg;		/* current; replaced on reload */
	enum daemon_mode mode;
	struct handshake_identity id;
	struct peer_spec *specs;	/* sodium_malloc'd, cfg->npeers */
	uid_t uid;
	gid_t gid;
	int tap_fd;
	bool tap_uso;			/* the TAP takes UDP super-frames */
	struct bridge *bridge;
	struct offload_saved lan_offload;	/* turned on at setup */
	struct udp udp;
	struct control *control;
	bool control_paused;		/* all slots taken, fd unwatched */
	const char *pidfile_arg;	/* -p, or NULL */
	char pidfile[CONFIG_PATH_MAX];	/* ours: removed at the end */
	int pidfile_fd;			/* open and locked, or -1 */
	int ready_fd;			/* detach's pipe, while it waits */
	int ipc;			/* our end of the socketpair */
	pid_t child;
	int child_status;
	int stopping;
	int net_failed;		/* network process: the TAP failed */
	struct pending_reload {		/* sent on SIGHUP, not yet answered */
		uint32_t seq;
		struct config *cfg;
	} pending[PENDING_RELOADS];
	size_t npending;
	uint32_t reload_seq;
	char tap_name[IFNAMSIZ];	/* as at the start */
	int tap_found;			/* a persistent TAP, there before */
	struct tap_link tap_was;	/* ... and its settings then */
	/* network process only */
	struct pkt_pool *pool;
	struct datapath *dp;
	struct loop *loop;
	struct peer_spec *rspecs;	/* a reload being received */
	struct priv_reload rhdr;
	size_t rgot;
};

/* daemon.c: the private key of c, read from its key file (logged). */
struct keys_secret *daemon_load_private(const struct config *c);

/*
 * daemon_peer_keys_usable(c, priv): 0 when every peer's public key gives a
 * shared secret with priv and is not priv's own public key, else -1 with a
 * FILE:LINE message for each that fails (a low-order point, a paste from
 * the wrong side): found before the daemon detaches or sends a reload,
 * rather than by the network process.
 */
int daemon_peer_keys_usable(const struct config *c,
			    const struct keys_secret *priv);

/*
 * daemon_specs_make(c, u, out): resolve endpoints and read preshared keys
 * for every peer of c into guarded memory.  0 or -1 (every problem logged);
 * *out is set either way and freed with daemon_specs_free.
 */
int daemon_specs_make(const struct config *c, const struct udp *u,
		      struct peer_spec **out);
void daemon_specs_free(struct peer_spec *s);
/* daemon_specs_size(c): the bytes of daemon_specs_make's array for c. */
size_t daemon_specs_size(const struct config *c);

/* daemon.c: standard input, output and error on /dev/null. */
void daemon_null_streams(void);

/* daemon_net.c: the network process; never returns. */
void daemon_net_main(struct daemon *d) __attribute__((noreturn));

/* daemon_priv.c: the parent's loop until the network process ends or a
 * signal stops it; 0 on a clean stop. */
int daemon_priv_main(struct daemon *d);

/* daemon_priv.c: stop the network process, at most CHILD_STOP_MS, then
 * kill it. */
void daemon_priv_reap(struct daemon *d);
/* daemon_priv_forget_reloads(d): free the reloads still unanswered. */
void daemon_priv_forget_reloads(struct daemon *d);

#endif /* TAPBRIDGE_DAEMON_IMPL_H */
