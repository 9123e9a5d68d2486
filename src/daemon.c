/*
 * daemon.c -- setup, privilege separation, event loops and teardown; see
 * daemon.h.
 *
 * One process sets everything up as root: keys, peers, the control socket,
 * the TAP, the bridge, the UDP socket.  It then forks.  The child, "net",
 * keeps the descriptors, confines itself (sandbox.h) and runs the data
 * path.  The parent, "priv", keeps only CAP_NET_ADMIN and CAP_KILL,
 * answers SIGHUP by re-reading the configuration for the child, and on
 * SIGTERM stops the child and undoes the setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/bridge.h"
#include "tapbridge/control.h"
#include "tapbridge/daemon.h"
#include "tapbridge/datapath.h"
#include "tapbridge/log.h"
#include "tapbridge/loop.h"
#include "tapbridge/priv.h"
#include "tapbridge/sandbox.h"
#include "tapbridge/tap.h"
#include "tapbridge/udp.h"

#define TICK_MS		100
#define MAX_FRAME	(9000 + WIRE_ETH_HDR_LEN + 8)	/* jumbo, QinQ */
#define POOL_MTU	65536	/* TCP super-frames, UDP GRO batches */
#define SANDBOX_ROOT	RUNSTATEDIR "/tapbridge/empty"
#define CHILD_STOP_MS	5000
#define TAP_TXQLEN	10000
/* Partial checksums and TCP super-frames: segmented here, sent with UDP
 * GSO.  Without them the kernel segments, which only costs speed. */
#define TAP_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

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
	struct udp udp;
	struct control *control;
	char pidfile[CONFIG_PATH_MAX];
	int ipc;			/* our end of the socketpair */
	pid_t child;
	int child_status;
	int stopping;
	/* network process only */
	struct pkt_pool *pool;
	struct datapath *dp;
	struct loop *loop;
	struct peer_spec *rspecs;	/* a reload being received */
	struct priv_reload rhdr;
	size_t rgot;
};

static void where(char *buf, size_t len, const struct config *c, int line)
{
	snprintf(buf, len, "%s:%d", c->file, line);
}

/* ---- preparation: everything that can fail on the configuration ---- */

static struct keys_secret *load_private(const struct config *c)
{
	char w[CONFIG_PATH_MAX + 16];

	where(w, sizeof(w), c, c->private_key_line);
	return keys_load(c->private_key, w);
}

/*
 * specs_make(c, u, out): resolve endpoints and read preshared keys for
 * every peer of c into guarded memory.  0 or -1 (every problem logged).
 */
static int specs_make(const struct config *c, const struct udp *u,
		      struct peer_spec **out)
{
	struct peer_spec *s;
	char w[CONFIG_PATH_MAX + 16], why[512];
	size_t i;
	int rc = 0;

	s = sodium_malloc(sizeof(*s) * (c->npeers ? c->npeers : 1));
	if (!s) {
		log_warn("peers");
		return -1;
	}
	memset(s, 0, sizeof(*s) * (c->npeers ? c->npeers : 1));
	for (i = 0; i < c->npeers; i++) {
		const struct config_peer *cp = &c->peers[i];
		struct keys_secret *psk;

		snprintf(s[i].name, sizeof(s[i].name), "%s", cp->name);
		memcpy(s[i].public_key, cp->public_key, WIRE_KEY_LEN);
		s[i].keepalive = cp->keepalive;
		s[i].endpoint.sa.sa_family = AF_UNSPEC;
		if (cp->endpoint.host[0] &&
		    udp_resolve(u, cp->endpoint.host, cp->endpoint.port,
				&s[i].endpoint, why, sizeof(why)) < 0) {
			log_warnx("%s:%d: peer '%s': %s", c->file,
				  cp->endpoint.line, cp->name, why);
			rc = -1;
		}
		if (!cp->preshared_key[0])
			continue;
		where(w, sizeof(w), c, cp->preshared_key_line);
		psk = keys_load(cp->preshared_key, w);
		if (!psk) {
			rc = -1;
			continue;
		}
		memcpy(s[i].psk, psk->key, WIRE_KEY_LEN);
		s[i].has_psk = 1;
		keys_secret_free(psk);
	}
	*out = s;
	return rc;
}

static void specs_free(struct peer_spec *s)
{
	sodium_free(s);	/* wipes */
}

static void peer_opts_of(const struct config *c, struct peer_opts *o)
{
	o->rekey_s = c->rekey_interval;
	o->wan_mtu = c->wan_mtu;
	o->max_frame = MAX_FRAME;
}

/* ---- the network process ---- */

static int log_ipc = -1;

/* Syslog lines of the network process go to the parent; never blocks. */
static void net_log_sink(int pri, const char *line)
{
	uint8_t body[1 + PRIV_LOG_MAX];
	size_t n = strlen(line);

	if (n > PRIV_LOG_MAX)
		n = PRIV_LOG_MAX;
	body[0] = (uint8_t)pri;
	memcpy(body + 1, line, n);
	priv_send(log_ipc, PRIV_LOG, body, 1 + n);
}

static void net_on_tap(void *cookie)
{
	struct daemon *d = cookie;

	if (datapath_tap_ready(d->dp) < 0) {
		log_warn("TAP device '%s' failed", d->cfg->interface);
		loop_stop(d->loop);
	}
}

static void net_on_udp(void *cookie)
{
	struct daemon *d = cookie;

	datapath_udp_ready(d->dp);
}

static void net_on_tick(void *cookie)
{
	struct daemon *d = cookie;

	datapath_tick(d->dp);
}

static void net_on_control(void *cookie)
{
	struct daemon *d = cookie;

	control_serve(d->control, d->dp);
}

static void net_on_signal(void *cookie, int signo)
{
	struct daemon *d = cookie;

	if (signo == SIGTERM || signo == SIGINT)
		loop_stop(d->loop);
}

/* Apply a complete reload from the parent. */
static void net_apply(struct daemon *d)
{
	struct handshake_identity id;
	struct keys_secret *priv = keys_secret_new();
	struct peer_opts o = {
		.rekey_s = d->rhdr.rekey_s,
		.wan_mtu = d->rhdr.wan_mtu,
		.max_frame = MAX_FRAME,
	};
	uint8_t ok = 0;

	if (priv) {
		memcpy(priv->key, d->rhdr.private_key, WIRE_KEY_LEN);
		if (handshake_identity_init(&id, priv) == 0) {
			if (sodium_memcmp(id.pub, d->id.pub, WIRE_KEY_LEN))
				log_warnx("reload: a new private key needs a "
					  "restart; keeping the old one");
			handshake_identity_fini(&id);
		}
	}
	ok = datapath_reload(d->dp, d->rspecs, d->rgot, &o,
			     d->rhdr.clamp_mss) == 0;
	priv_send(d->ipc, PRIV_RELOAD_DONE, &ok, 1);
}

static void net_on_ipc(void *cookie)
{
	struct daemon *d = cookie;
	union {
		struct priv_reload r;
		struct peer_spec s;
		uint8_t b[1];
	} body;
	enum priv_type type;
	size_t len;
	int rc;

	rc = priv_recv(d->ipc, &type, &body, sizeof(body), &len);
	if (rc <= 0) {
		/* The parent is gone or told us to stop by closing. */
		loop_stop(d->loop);
		goto out;
	}
	switch (type) {
	case PRIV_RELOAD_BEGIN:
		sodium_free(d->rspecs);
		d->rhdr = body.r;
		d->rgot = 0;
		d->rspecs = d->rhdr.npeers <= PRIV_MAX_PEERS ?
			sodium_malloc(sizeof(struct peer_spec) *
				      (d->rhdr.npeers ? d->rhdr.npeers : 1)) :
			NULL;
		break;
	case PRIV_PEER:
		if (d->rspecs && d->rgot < d->rhdr.npeers)
			d->rspecs[d->rgot++] = body.s;
		break;
	case PRIV_RELOAD_END:
		if (d->rspecs && d->rgot == d->rhdr.npeers)
			net_apply(d);
		sodium_free(d->rspecs);
		d->rspecs = NULL;
		sodium_memzero(&d->rhdr, sizeof(d->rhdr));
		break;
	default:
		break;
	}
out:
	sodium_memzero(&body, sizeof(body));
}

static int net_setup(struct daemon *d)
{
	struct datapath_setup s;
	struct peer_opts o;
	struct peer *peers;
	size_t i;

	d->pool = pkt_pool_new(4 * PKT_BATCH + 64 + (unsigned)d->cfg->npeers *
			       PEER_STAGED_MAX, POOL_MTU);
	peers = calloc(d->cfg->npeers ? d->cfg->npeers : 1, sizeof(*peers));
	if (!d->pool || !peers) {
		log_warn("network process memory");
		free(peers);
		return -1;
	}
	peer_opts_of(d->cfg, &o);
	for (i = 0; i < d->cfg->npeers; i++)
		if (peer_init(&peers[i], &d->id, &d->specs[i], &o, 0) < 0) {
			while (i-- > 0)
				peer_fini(&peers[i], d->pool);
			free(peers);
			return -1;
		}
	specs_free(d->specs);
	d->specs = NULL;
	memset(&s, 0, sizeof(s));
	s.tap_fd = d->tap_fd;
	s.udp = &d->udp;
	s.pool = d->pool;
	s.id = &d->id;
	s.peers = peers;
	s.npeers = d->cfg->npeers;
	s.interface = d->cfg->interface;
	s.bridge = d->cfg->bridge;
	s.clamp_mss = d->cfg->clamp_mss;
	s.gro_udp = d->tap_uso;
	d->dp = datapath_new(&s);
	if (!d->dp) {
		log_warn("data path");
		for (i = 0; i < d->cfg->npeers; i++)
			peer_fini(&peers[i], d->pool);
		free(peers);
		return -1;
	}
	d->loop = loop_new();
	if (!d->loop || loop_signals(d->loop, net_on_signal, d) < 0 ||
	    loop_add(d->loop, d->tap_fd, net_on_tap, d) < 0 ||
	    loop_add(d->loop, d->udp.fd, net_on_udp, d) < 0 ||
	    loop_add(d->loop, control_fd(d->control), net_on_control, d) < 0 ||
	    loop_add(d->loop, d->ipc, net_on_ipc, d) < 0 ||
	    loop_tick(d->loop, TICK_MS, net_on_tick, d) < 0)
		return -1;
	return 0;
}

/* The network process: never returns. */
static void net_main(struct daemon *d)
{
	int rc = 1;

	log_procname("net");
	log_ipc = d->ipc;
	fcntl(d->ipc, F_SETFL, O_NONBLOCK);	/* a full pipe drops a log line */
	log_set_sink(net_log_sink);
	if (net_setup(d) < 0)
		goto out;
	if (sandbox_enter(SANDBOX_ROOT, d->uid, d->gid) < 0)
		goto out;
	priv_send(d->ipc, PRIV_READY, NULL, 0);
	datapath_start(d->dp);
	rc = loop_run(d->loop) < 0;
out:
	loop_free(d->loop);
	datapath_free(d->dp);
	pkt_pool_free(d->pool);
	handshake_identity_fini(&d->id);
	sodium_free(d->rspecs);
	_exit(rc);
}

/* ---- the privileged parent ---- */

/* Send the reloaded configuration c to the network process. */
static int priv_reload_send(struct daemon *d, const struct config *c,
			    const struct peer_spec *specs,
			    const struct keys_secret *priv)
{
	struct priv_reload r;
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	memcpy(r.private_key, priv->key, WIRE_KEY_LEN);
	r.npeers = (uint32_t)c->npeers;
	r.rekey_s = c->rekey_interval;
	r.wan_mtu = c->wan_mtu;
	r.clamp_mss = c->clamp_mss;
	rc |= priv_send(d->ipc, PRIV_RELOAD_BEGIN, &r, sizeof(r));
	for (i = 0; i < c->npeers && !rc; i++)
		rc |= priv_send(d->ipc, PRIV_PEER, &specs[i], sizeof(specs[i]));
	rc |= priv_send(d->ipc, PRIV_RELOAD_END, NULL, 0);
	sodium_memzero(&r, sizeof(r));
	return rc;
}

/* Settings a running daemon cannot change: say so, keep the old ones. */
static void priv_fixed(const struct config *old, const struct config *c)
{
	if (strcmp(old->interface, c->interface) ||
	    strcmp(old->bridge, c->bridge) ||
	    strcmp(old->lan_port, c->lan_port) ||
	    strcmp(old->listen.host, c->listen.host) ||
	    old->listen.port != c->listen.port ||
	    strcmp(old->control_socket, c->control_socket) ||
	    strcmp(old->user, c->user))
		log_warnx("reload: 'interface', 'bridge', 'lan-port', "
			  "'listen', 'control-socket' and 'user' take effect "
			  "only at a restart");
}

static void priv_reload(struct daemon *d)
{
	struct config *c = calloc(1, sizeof(*c));
	struct keys_secret *priv = NULL;
	struct peer_spec *specs = NULL;

	log_info("SIGHUP: reloading '%s'", d->cfg->file);
	if (!c || config_load(d->cfg->file, c) < 0)
		goto refused;
	priv = load_private(c);
	if (!priv || specs_make(c, &d->udp, &specs) < 0)
		goto refused;
	priv_fixed(d->cfg, c);
	priv_notify("RELOADING=1");
	if (priv_reload_send(d, c, specs, priv) < 0)
		log_warn("reload: cannot reach the network process");
	priv_notify("READY=1");
	config_fini(d->cfg);
	free(d->cfg);
	d->cfg = c;
	c = NULL;
	goto out;
refused:
	log_warnx("reload refused: keeping the running configuration");
out:
	if (specs)
		specs_free(specs);
	keys_secret_free(priv);
	if (c) {
		config_fini(c);
		free(c);
	}
}

/* A log line from the network process: trusted for nothing, printable
 * ASCII only, logged with a priority it may choose among the usual. */
static void priv_log_line(const uint8_t *body, size_t len)
{
	char line[PRIV_LOG_MAX + 1];
	size_t i;
	int pri = body[0];

	for (i = 1; i < len; i++)
		line[i - 1] = body[i] >= 0x20 && body[i] < 0x7f ?
			(char)body[i] : '?';
	line[len - 1] = '\0';
	if (pri != LOG_CRIT && pri != LOG_WARNING && pri != LOG_INFO &&
	    pri != LOG_DEBUG)
		pri = LOG_WARNING;
	log_line(pri, line);
}

static void priv_on_ipc(void *cookie)
{
	struct daemon *d = cookie;
	enum priv_type type;
	uint8_t body[1 + PRIV_LOG_MAX];
	size_t len;
	int rc;

	rc = priv_recv(d->ipc, &type, body, sizeof(body), &len);
	if (rc == 0)
		return;		/* EOF: SIGCHLD tells us the rest */
	if (rc > 0 && type == PRIV_LOG) {
		priv_log_line(body, len);
		return;
	}
	if (rc < 0 || (type != PRIV_READY && type != PRIV_RELOAD_DONE)) {
		log_warnx("network process sent a malformed message; "
			  "stopping it");
		kill(d->child, SIGKILL);
		return;
	}
	if (type == PRIV_READY) {
		log_info("network process %d is sandboxed and running",
			 (int)d->child);
		priv_notify("READY=1");
	} else if (!body[0]) {
		log_warnx("reload failed in the network process");
	}
}

static void priv_on_signal(void *cookie, int signo)
{
	struct daemon *d = cookie;
	int status;

	switch (signo) {
	case SIGHUP:
		if (!d->stopping)
			priv_reload(d);
		break;
	case SIGCHLD:
		if (waitpid(d->child, &status, WNOHANG) != d->child)
			break;
		d->child = 0;
		d->child_status = status;
		if (!d->stopping)
			log_warnx("network process exited (%s %d)",
				  WIFSIGNALED(status) ? "signal" : "status",
				  WIFSIGNALED(status) ? WTERMSIG(status) :
							WEXITSTATUS(status));
		loop_stop(d->loop);
		break;
	default:
		log_info("received signal %d, shutting down", signo);
		d->stopping = 1;
		/* Closing our end tells the network process to exit. */
		shutdown(d->ipc, SHUT_RDWR);
		break;
	}
}

/* Wait for the network process, at most CHILD_STOP_MS, then kill it. */
static void priv_reap(struct daemon *d)
{
	struct timespec ts = { 0, 20 * 1000000 };
	int i, status;

	if (!d->child)
		return;
	shutdown(d->ipc, SHUT_RDWR);
	for (i = 0; i < CHILD_STOP_MS / 20; i++) {
		if (waitpid(d->child, &status, WNOHANG) == d->child) {
			d->child_status = status;
			d->child = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	log_warnx("network process %d did not stop; killing it",
		  (int)d->child);
	kill(d->child, SIGKILL);
	waitpid(d->child, &d->child_status, 0);
	d->child = 0;
}

static int priv_main(struct daemon *d)
{
	sigset_t set;

	log_procname("priv");
	/* The parent needs no secret: the network process has them. */
	handshake_identity_fini(&d->id);
	specs_free(d->specs);
	d->specs = NULL;
	if (sandbox_parent() < 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->loop = loop_new();
	if (!d->loop || loop_signals(d->loop, priv_on_signal, d) < 0 ||
	    loop_add(d->loop, d->ipc, priv_on_ipc, d) < 0)
		return -1;
	if (loop_run(d->loop) < 0)
		return -1;
	priv_reap(d);
	/* A network process that failed, even while stopping, is reported. */
	if (!(WIFEXITED(d->child_status) && WEXITSTATUS(d->child_status) == 0)) {
		if (d->stopping)
			log_warnx("network process failed while stopping "
				  "(%s %d)", WIFSIGNALED(d->child_status) ?
				  "signal" : "status",
				  WIFSIGNALED(d->child_status) ?
				  WTERMSIG(d->child_status) :
				  WEXITSTATUS(d->child_status));
		return -1;
	}
	return 0;
}

/* ---- setup and teardown ---- */

/*
 * A start refused a value that -t accepted (only the kernel could tell):
 * the module said why; say which line set the value.  line 0: a default.
 */
static void refused(const struct config *c, int line, const char *what,
		    const char *value)
{
	if (line)
		log_warnx("%s:%d: cannot use %s '%s' (see the message above)",
			  c->file, line, what, value);
	else
		log_warnx("%s: cannot use the default %s '%s' (see the message "
			  "above)", c->file, what, value);
}

static void refused_listen(const struct config *c)
{
	const struct config_endpoint *l = &c->listen;
	char v[CONFIG_HOST_MAX + 16];

	snprintf(v, sizeof(v), strchr(l->host, ':') ? "[%s]:%u" : "%s:%u",
		 l->host[0] ? l->host : "*", l->port);
	refused(c, l->line, "listen", v);
}

static void refused_bridge(const struct config *c, enum bridge_part part)
{
	switch (part) {
	case BRIDGE_PART_BRIDGE:
		refused(c, c->bridge_line, "bridge", c->bridge);
		break;
	case BRIDGE_PART_TAP:
		refused(c, c->interface_line, "interface", c->interface);
		break;
	case BRIDGE_PART_LAN:
		refused(c, c->lan_port_line, "lan-port", c->lan_port);
		break;
	case BRIDGE_PART_OTHER:
		break;
	}
}

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
		log_warnx("%s:%d: lan-port '%s' has mtu %u; tapbridge carries "
			  "frames of mtu %u at most", c->file, c->lan_port_line,
			  c->lan_port, mtu, MAX_FRAME - WIRE_ETH_HDR_LEN - 8);
		return -1;
	}
	return bridge_set_mtu(d->bridge, c->interface, mtu);
}

/* The pidfile sits next to the control socket: NAME.sock -> NAME.pid. */
static int write_pidfile(struct daemon *d)
{
	const char *cs = d->cfg->control_socket;
	size_t n = strlen(cs);
	FILE *f;

	if (n > 5 && !strcmp(cs + n - 5, ".sock"))
		n -= 5;
	snprintf(d->pidfile, sizeof(d->pidfile), "%.*s.pid", (int)n, cs);
	f = fopen(d->pidfile, "we");
	if (!f) {
		log_warn("cannot write pidfile '%s'", d->pidfile);
		d->pidfile[0] = '\0';
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

/* 'control-group': members may ask for status too (mode 0660). */
static int control_allow_group(const struct config *c)
{
	struct group *gr;

	if (!c->control_group[0])
		return 0;
	gr = getgrnam(c->control_group);
	if (!gr) {
		log_warnx("%s:%d: group '%s' does not exist", c->file,
			  c->control_group_line, c->control_group);
		return -1;
	}
	if (chown(c->control_socket, (uid_t)-1, gr->gr_gid) < 0 ||
	    chmod(c->control_socket, 0660) < 0) {
		log_warn("control socket '%s'", c->control_socket);
		return -1;
	}
	return 0;
}

/* Everything up to the fork, in the order teardown undoes it. */
static int setup(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct keys_secret *priv;
	enum bridge_part part;
	int created;

	priv = load_private(c);
	if (!priv)
		return -1;
	if (handshake_identity_init(&d->id, priv) < 0) {
		log_warnx("%s:%d: private key in '%s' is not usable", c->file,
			  c->private_key_line, c->private_key);
		return -1;
	}
	if (sandbox_user(c->user, &d->uid, &d->gid) < 0) {
		refused(c, c->user_line, "user", c->user);
		return -1;
	}
	if (udp_open(&d->udp, c->listen.host, c->listen.port) < 0) {
		refused_listen(c);
		return -1;
	}
	if (specs_make(c, &d->udp, &d->specs) < 0)
		return -1;
	d->control = control_open(c->control_socket);
	if (!d->control) {
		refused(c, c->control_socket_line, "control-socket",
			c->control_socket);
		return -1;
	}
	if (control_allow_group(c) < 0 || sandbox_root(SANDBOX_ROOT) < 0)
		return -1;
	d->tap_fd = tap_open(c->interface, &created);
	if (d->tap_fd < 0) {
		refused(c, c->interface_line, "interface", c->interface);
		return -1;
	}
	/* With USO the bridge hands over UDP super-frames too (from senders
	 * using UDP GSO, or a LAN port doing UDP GRO), and received
	 * datagrams are written back as such. */
	d->tap_uso = tap_has_uso(d->tap_fd, TAP_OFFLOADS);
	if (!d->tap_uso) {
		log_info("TAP device '%s': this kernel has no UDP segmentation "
			 "offload (Linux < 6.2); UDP datagrams are read and "
			 "written one by one", c->interface);
		tap_offload(d->tap_fd, c->interface, TAP_OFFLOADS);
	}
	d->bridge = bridge_setup(c->bridge, c->interface, c->lan_port, &part);
	if (!d->bridge) {
		refused_bridge(c, part);
		return -1;
	}
	if (match_lan_mtu(d) < 0)
		return -1;
	/* Room for bursts while the daemon is busy sealing (default 500). */
	bridge_set_txqlen(d->bridge, c->interface, TAP_TXQLEN);
	return 0;
}

static void teardown(struct daemon *d)
{
	priv_reap(d);
	loop_free(d->loop);
	if (d->ipc >= 0)
		close(d->ipc);
	control_close(d->control);
	if (d->tap_fd >= 0)
		close(d->tap_fd);
	bridge_teardown(d->bridge);
	udp_close(&d->udp);
	if (d->specs)
		specs_free(d->specs);
	handshake_identity_fini(&d->id);
	if (d->pidfile[0])
		unlink(d->pidfile);
}

int daemon_run(struct config **cfg, enum daemon_mode mode)
{
	struct daemon d;
	char a[LOG_ADDR_LEN];
	int sv[2], rc = -1;

	memset(&d, 0, sizeof(d));
	d.cfg = *cfg;
	d.mode = mode;
	d.tap_fd = d.ipc = -1;
	d.udp.fd = -1;
	/* Secrets never reach a core dump. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	if (setup(&d) < 0)
		goto out;
	if (mode == DAEMON_BACKGROUND) {
		if (daemon(0, 0) < 0) {
			log_warn("cannot go into the background");
			goto out;
		}
		log_init(LOG_TO_SYSLOG, log_verbosity(), "tapbridge");
		write_pidfile(&d);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("socketpair");
		goto out;
	}
	log_info("tapbridge %s running: interface '%s', bridge '%s', "
		 "listening on %s, %zu peer(s)", TAPBRIDGE_VERSION,
		 d.cfg->interface, d.cfg->bridge,
		 log_addr(&d.udp.local.sa, a, sizeof(a)), d.cfg->npeers);
	d.child = fork();
	if (d.child < 0) {
		log_warn("fork");
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (d.child == 0) {
		close(sv[0]);
		d.ipc = sv[1];
		net_main(&d);
	}
	close(sv[1]);
	d.ipc = sv[0];
	rc = priv_main(&d);
out:
	teardown(&d);
	*cfg = d.cfg;
	return rc;
}

int daemon_check(const struct config *c)
{
	struct keys_secret *priv;
	struct handshake_identity id;
	struct peer_spec *specs = NULL;
	struct udp u;
	uid_t uid;
	gid_t gid;
	int rc = 0;

	if (sodium_init() < 0)
		return -1;
	priv = load_private(c);
	if (!priv)
		rc = -1;
	else if (handshake_identity_init(&id, priv) < 0)
		rc = -1;
	else
		handshake_identity_fini(&id);
	/* Names are resolved as the daemon would, for the family it binds. */
	memset(&u, 0, sizeof(u));
	u.family = AF_INET6;
	if (specs_make(c, &u, &specs) < 0)
		rc = -1;
	if (specs)
		specs_free(specs);
	if (sandbox_user(c->user, &uid, &gid) < 0)
		rc = -1;
	return rc;
}
