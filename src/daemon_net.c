/*
 * daemon_net.c -- the network process: set up the data path, confine
 * itself, then run the event loop; logs and reloads travel over the
 * socketpair to the parent.  See daemon_impl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/sandbox.h"

#include "daemon_impl.h"

static void peer_opts_of(const struct config *c, struct peer_opts *o)
{
	o->rekey_s = c->rekey_interval;
	o->wan_mtu = c->wan_mtu;
	o->max_frame = MAX_FRAME;
}

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
		d->net_failed = 1;
		loop_stop(d->loop);
	}
}

static void net_on_udp(void *cookie)
{
	struct daemon *d = cookie;

	datapath_udp_ready(d->dp);
}

static void net_on_control(void *cookie)
{
	struct daemon *d = cookie;

	control_serve(d->control, d->dp);
	/* A connection left waiting would wake the loop at once, again and
	 * again: the tick watches the socket again when a slot is free. */
	if (control_full(d->control)) {
		loop_del(d->loop, control_fd(d->control));
		d->control_paused = true;
	}
}

static void net_on_tick(void *cookie)
{
	struct daemon *d = cookie;

	datapath_tick(d->dp);
	control_tick(d->control, d->dp);
	if (d->control_paused && !control_full(d->control) &&
	    loop_add(d->loop, control_fd(d->control), net_on_control, d) == 0)
		d->control_paused = false;
}

static void net_on_signal(void *cookie, int signo)
{
	struct daemon *d = cookie;

	if (signo == SIGTERM || signo == SIGINT || signo == SIGQUIT)
		loop_stop(d->loop);
}

/* Tell the parent how the reload it numbered seq went. */
static void net_reload_done(struct daemon *d, uint32_t seq, bool ok)
{
	uint8_t body[1 + sizeof(seq)] = { ok };

	memcpy(body + 1, &seq, sizeof(seq));
	priv_send(d->ipc, PRIV_RELOAD_DONE, body, sizeof(body));
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
	bool ok;

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
	net_reload_done(d, d->rhdr.seq, ok);
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
	if (rc < 0 && errno == EAGAIN)
		return;
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
		/* Every reload is answered, also one that cannot apply. */
		if (d->rspecs && d->rgot == d->rhdr.npeers)
			net_apply(d);
		else
			net_reload_done(d, d->rhdr.seq, false);
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
	daemon_specs_free(d->specs);
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

/*
 * fork does not pass memory locks on: the secrets the parent handed down
 * in sodium_malloc memory (still do-not-dump) are locked again here, so
 * that this process's copies never reach swap either.  Like sodium_malloc,
 * go on without the lock where the system refuses it.
 */
static void net_relock(struct daemon *d)
{
	if (sodium_mlock(d->id.priv, sizeof(*d->id.priv)) < 0 ||
	    (d->specs && sodium_mlock(d->specs, daemon_specs_size(d->cfg)) < 0))
		log_warn("cannot lock the network process's key memory");
}

/* The network process: never returns. */
void daemon_net_main(struct daemon *d)
{
	int rc = 1;

	log_procname("net");
	log_ipc = d->ipc;
	fcntl(d->ipc, F_SETFL, O_NONBLOCK);	/* a full pipe drops a log line */
	log_set_sink(net_log_sink);
	net_relock(d);
	/* The parent's netlink socket: links are the parent's business. */
	bridge_forget(d->bridge);
	d->bridge = NULL;
	/* Nor its pidfile (the parent's lock stays with the parent). */
	if (d->pidfile_fd >= 0)
		close(d->pidfile_fd);
#ifndef TAPBRIDGE_SANITIZE
	/* Nor its standard streams (the journal under systemd): every line
	 * goes through the parent.  Sanitizer builds keep stderr for their
	 * reports. */
	daemon_null_streams();
#endif
	if (net_setup(d) < 0)
		goto out;
	if (sandbox_enter(SANDBOX_ROOT, d->uid, d->gid) < 0)
		goto out;
	priv_send(d->ipc, PRIV_READY, NULL, 0);
	datapath_start(d->dp);
	rc = loop_run(d->loop) < 0 || d->net_failed;
out:
	loop_free(d->loop);
	datapath_free(d->dp);
	pkt_pool_free(d->pool);
	handshake_identity_fini(&d->id);
	sodium_free(d->rspecs);
	_exit(rc);
}
