/*
 * daemon.c -- setup, event loop and teardown; see daemon.h.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/bridge.h"
#include "tapbridge/control.h"
#include "tapbridge/daemon.h"
#include "tapbridge/datapath.h"
#include "tapbridge/log.h"
#include "tapbridge/loop.h"
#include "tapbridge/tap.h"
#include "tapbridge/udp.h"

#define TICK_MS		100
#define MAX_FRAME	(9000 + WIRE_ETH_HDR_LEN + 8)	/* jumbo, QinQ */
#define POOL_MTU	65536	/* TCP super-frames, UDP GRO batches */

struct daemon {
	const struct config *cfg;
	struct handshake_identity id;
	int tap_fd;
	struct bridge *bridge;
	struct udp udp;
	struct pkt_pool *pool;
	struct control *control;
	struct peer *peers;	/* until the data path takes them */
	struct datapath *dp;
	struct loop *loop;
};

static void where(char *buf, size_t len, const struct config *c, int line)
{
	snprintf(buf, len, "%s:%d", c->file, line);
}

/* Load the private key into d->id.  0 or -1 (logged). */
static int load_identity(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct keys_secret *priv;
	char w[CONFIG_PATH_MAX + 16];

	where(w, sizeof(w), c, c->private_key_line);
	priv = keys_load(c->private_key, w);
	if (!priv)
		return -1;
	if (handshake_identity_init(&d->id, priv) < 0) {
		log_warnx("%s: private key in '%s' is not usable", w,
			  c->private_key);
		return -1;
	}
	return 0;
}

/* Build the peers from the configuration.  Returns the array or NULL. */
static struct peer *make_peers(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct peer *peers = calloc(c->npeers, sizeof(*peers));
	struct peer_opts opts = {
		.rekey_s = c->rekey_interval,
		.wan_mtu = c->wan_mtu,
		.max_frame = MAX_FRAME,
	};
	char w[CONFIG_PATH_MAX + 16];
	size_t i;

	if (!peers)
		return NULL;
	for (i = 0; i < c->npeers; i++) {
		const struct config_peer *cp = &c->peers[i];
		struct keys_secret *psk = NULL;
		int rc;

		if (cp->preshared_key[0]) {
			where(w, sizeof(w), c, cp->preshared_key_line);
			psk = keys_load(cp->preshared_key, w);
			if (!psk)
				goto fail;
		}
		rc = peer_init(&peers[i], &d->id, cp, psk ? psk->key : NULL,
			       &opts);
		keys_secret_free(psk);
		if (rc < 0)
			goto fail;
	}
	return peers;

fail:
	while (i-- > 0)
		peer_fini(&peers[i], d->pool);
	free(peers);
	return NULL;
}

/* Resolve every configured endpoint.  0 or -1 (logged). */
static int resolve_endpoints(struct daemon *d, struct peer *peers)
{
	const struct config *c = d->cfg;
	union pkt_addr addr;
	char why[512];
	size_t i;
	int rc = 0;

	for (i = 0; i < c->npeers; i++) {
		const struct config_endpoint *e = &c->peers[i].endpoint;

		if (!e->host[0])
			continue;
		if (udp_resolve(&d->udp, e->host, e->port, &addr, why,
				sizeof(why)) < 0) {
			log_warnx("%s:%d: peer '%s': %s", c->file, e->line,
				  c->peers[i].name, why);
			rc = -1;
			continue;
		}
		peer_set_endpoint(&peers[i], &addr,
				  udp_route_mtu(&d->udp, &addr), 0);
	}
	return rc;
}

/*
 * The bridge drops frames larger than a port's MTU, so the TAP takes the
 * LAN port's MTU: full-size and jumbo LAN frames reach the daemon whole.
 */
static int match_lan_mtu(struct daemon *d)
{
	const struct config *c = d->cfg;
	unsigned mtu = 1500;

	if (c->lan_port[0]) {
		mtu = bridge_get_mtu(d->bridge, c->lan_port);
		if (!mtu)
			return -1;
	}
	if (mtu > MAX_FRAME - WIRE_ETH_HDR_LEN - 8) {
		log_warnx("lan-port '%s' has mtu %u; tapbridge carries frames "
			  "of mtu %u at most", c->lan_port, mtu,
			  MAX_FRAME - WIRE_ETH_HDR_LEN - 8);
		return -1;
	}
	return bridge_set_mtu(d->bridge, c->interface, mtu);
}

static void on_tap(void *cookie)
{
	struct daemon *d = cookie;

	if (datapath_tap_ready(d->dp) < 0) {
		log_warn("TAP device '%s' failed", d->cfg->interface);
		loop_stop(d->loop);
	}
}

static void on_udp(void *cookie)
{
	struct daemon *d = cookie;

	if (datapath_udp_ready(d->dp) < 0 && errno != EINTR)
		log_debug("udp receive: %s", strerror(errno));
}

static void on_tick(void *cookie)
{
	struct daemon *d = cookie;

	datapath_tick(d->dp);
}

static void on_control(void *cookie)
{
	struct daemon *d = cookie;

	control_serve(d->control, d->dp);
}

static void on_signal(void *cookie, int signo)
{
	struct daemon *d = cookie;

	if (signo == SIGHUP) {
		log_warnx("SIGHUP: configuration reload is not supported yet; "
			  "restart tapbridge to apply changes");
		return;
	}
	log_info("received signal %d, shutting down", signo);
	loop_stop(d->loop);
}

static int setup_loop(struct daemon *d)
{
	d->loop = loop_new();
	if (!d->loop)
		return -1;
	if (loop_signals(d->loop, on_signal, d) < 0 ||
	    loop_add(d->loop, d->tap_fd, on_tap, d) < 0 ||
	    loop_add(d->loop, d->udp.fd, on_udp, d) < 0 ||
	    loop_add(d->loop, control_fd(d->control), on_control, d) < 0 ||
	    loop_tick(d->loop, TICK_MS, on_tick, d) < 0)
		return -1;
	return 0;
}

/* Pool and peers: everything that can fail on keys or names, before any
 * change to the system. */
static int prepare_peers(struct daemon *d)
{
	const struct config *c = d->cfg;

	d->pool = pkt_pool_new(4 * PKT_BATCH + 64 +
			       (unsigned)c->npeers * PEER_STAGED_MAX, POOL_MTU);
	if (!d->pool) {
		log_warn("packet pool");
		return -1;
	}
	d->peers = make_peers(d);
	if (!d->peers)
		return -1;
	return resolve_endpoints(d, d->peers);
}

static int setup_datapath(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct datapath_setup s;

	memset(&s, 0, sizeof(s));
	s.tap_fd = d->tap_fd;
	s.udp = &d->udp;
	s.pool = d->pool;
	s.id = &d->id;
	s.peers = d->peers;
	s.npeers = c->npeers;
	s.interface = c->interface;
	s.bridge = c->bridge;
	s.clamp_mss = c->clamp_mss;
	d->dp = datapath_new(&s);
	if (!d->dp) {
		log_warn("data path");
		return -1;
	}
	d->peers = NULL;	/* consumed */
	return 0;
}

static void free_peers(struct daemon *d)
{
	size_t i;

	if (!d->peers)
		return;
	for (i = 0; i < d->cfg->npeers; i++)
		peer_fini(&d->peers[i], d->pool);
	free(d->peers);
	d->peers = NULL;
}

static void teardown(struct daemon *d)
{
	loop_free(d->loop);
	datapath_free(d->dp);
	free_peers(d);
	control_close(d->control);
	bridge_teardown(d->bridge);
	if (d->tap_fd >= 0)
		close(d->tap_fd);
	udp_close(&d->udp);
	pkt_pool_free(d->pool);
	handshake_identity_fini(&d->id);
}

int daemon_run(const struct config *c, enum daemon_mode mode)
{
	struct daemon d;
	char a[LOG_ADDR_LEN];
	int created, rc = -1;

	memset(&d, 0, sizeof(d));
	d.cfg = c;
	d.tap_fd = -1;
	d.udp.fd = -1;
	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	if (load_identity(&d) < 0)
		goto out;
	if (udp_open(&d.udp, c->listen.host, c->listen.port) < 0)
		goto out;
	if (prepare_peers(&d) < 0)
		goto out;
	d.control = control_open(c->control_socket);
	if (!d.control)
		goto out;
	d.tap_fd = tap_open(c->interface, &created);
	if (d.tap_fd < 0)
		goto out;
	/* Partial checksums and TCP super-frames: segmented here, sent with
	 * UDP GSO.  Without them the kernel segments, which only costs speed. */
	tap_offload(d.tap_fd, c->interface, TUN_F_CSUM | TUN_F_TSO4 |
		    TUN_F_TSO6 | TUN_F_TSO_ECN);
	d.bridge = bridge_setup(c->bridge, c->interface, c->lan_port);
	if (!d.bridge || match_lan_mtu(&d) < 0)
		goto out;
	if (setup_datapath(&d) < 0)
		goto out;
	/*
	 * Detach before the loop exists: an epoll set watching a signalfd
	 * stays tied to the process that registered it, so a child forked
	 * afterwards would never hear SIGTERM.  Until here every error went
	 * to stderr, where whoever started us sees it.
	 */
	if (mode == DAEMON_BACKGROUND) {
		if (daemon(0, 0) < 0) {
			log_warn("cannot go into the background");
			goto out;
		}
		log_init(LOG_TO_SYSLOG, log_verbosity(), "tapbridge");
	}
	if (setup_loop(&d) < 0)
		goto out;
	log_info("tapbridge %s running: interface '%s', bridge '%s', "
		 "listening on %s, %zu peer(s)", TAPBRIDGE_VERSION,
		 c->interface, c->bridge,
		 log_addr(&d.udp.local.sa, a, sizeof(a)), c->npeers);
	datapath_start(d.dp);
	rc = loop_run(d.loop);
out:
	teardown(&d);
	return rc;
}

int daemon_check(const struct config *c)
{
	struct daemon d;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	d.cfg = c;
	if (sodium_init() < 0)
		return -1;
	if (load_identity(&d) < 0)
		return -1;
	d.pool = pkt_pool_new(1, 64);
	if (!d.pool)
		return -1;
	d.peers = make_peers(&d);
	if (!d.peers)
		rc = -1;
	free_peers(&d);
	pkt_pool_free(d.pool);
	handshake_identity_fini(&d.id);
	return rc;
}
