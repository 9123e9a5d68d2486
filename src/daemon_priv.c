/*
 * daemon_priv.c -- the privileged parent: relays the network process's log
 * lines, re-reads the configuration on SIGHUP and hands it over, and stops
 * the network process on SIGTERM.  See daemon_impl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/sandbox.h"

#include "daemon_impl.h"

static void free_config(struct config *c)
{
	if (c) {
		config_fini(c);
		free(c);
	}
}

/* The oldest reload awaiting its answer, taken off the queue. */
static struct config *pending_shift(struct daemon *d)
{
	struct config *c = d->pending[0].cfg;

	memmove(d->pending, d->pending + 1,
		--d->npending * sizeof(d->pending[0]));
	return c;
}

/*
 * The network process answered reload seq: ok or not.  Reloads are
 * answered in order, each is a whole configuration, and the one it took
 * last is the running one; reloads sent before seq and never answered (a
 * lost message) are forgotten.
 */
static void priv_reload_done(struct daemon *d, uint32_t seq, bool ok)
{
	while (d->npending && (int32_t)(d->pending[0].seq - seq) < 0)
		free_config(pending_shift(d));
	if (!d->npending || d->pending[0].seq != seq)
		return;		/* not one we are waiting for */
	if (ok) {
		free_config(d->cfg);
		d->cfg = pending_shift(d);
	} else {
		log_warnx("reload failed in the network process; it keeps "
			  "its configuration");
		free_config(pending_shift(d));
	}
}

void daemon_priv_forget_reloads(struct daemon *d)
{
	while (d->npending)
		free_config(d->pending[--d->npending].cfg);
}

/*
 * priv_send on the non-blocking IPC socket, waiting for room until
 * deadline (loop_now_ms): a reload of many peers fills the socket faster than
 * the network process, busy with frames, reads it.
 */
static int reload_send(struct daemon *d, enum priv_type type,
		       const void *body, size_t len, uint64_t deadline)
{
	struct pollfd p = { .fd = d->ipc, .events = POLLOUT };
	uint64_t now;

	while (priv_send(d->ipc, type, body, len) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		now = loop_now_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Send the reloaded configuration c to the network process. */
static int priv_reload_send(struct daemon *d, const struct config *c,
			    const struct peer_spec *specs,
			    const struct keys_secret *priv)
{
	uint64_t deadline = loop_now_ms() + RELOAD_SEND_MS;
	struct priv_reload r;
	size_t i;
	int rc = 0, err = 0;

	memset(&r, 0, sizeof(r));
	memcpy(r.private_key, priv->key, WIRE_KEY_LEN);
	r.seq = ++d->reload_seq;
	r.npeers = (uint32_t)c->npeers;
	r.rekey_s = c->rekey_interval;
	r.wan_mtu = c->wan_mtu;
	r.clamp_mss = c->clamp_mss;
	rc |= reload_send(d, PRIV_RELOAD_BEGIN, &r, sizeof(r), deadline);
	for (i = 0; i < c->npeers && !rc; i++)
		rc |= reload_send(d, PRIV_PEER, &specs[i], sizeof(specs[i]),
				  deadline);
	if (rc)
		err = errno;
	/* Also after a failure, with a second more: the network process
	 * then refuses and wipes the incomplete reload (one that never gets
	 * its end is replaced by the next reload). */
	rc |= reload_send(d, PRIV_RELOAD_END, NULL, 0,
			  rc ? loop_now_ms() + 1000 : deadline);
	sodium_memzero(&r, sizeof(r));
	if (err)
		errno = err;	/* the first failure is the one to tell */
	return rc;
}

/* Settings a running daemon cannot change: say so, keep the old ones. */
static void priv_fixed(const struct config *old, const struct config *c)
{
	if (strcmp(old->interface, c->interface) ||
	    strcmp(old->bridge, c->bridge) ||
	    strcmp(old->lan_port, c->lan_port) ||
	    old->lan_gro != c->lan_gro ||
	    strcmp(old->listen.host, c->listen.host) ||
	    old->listen.port != c->listen.port ||
	    strcmp(old->control_socket, c->control_socket) ||
	    strcmp(old->control_group, c->control_group) ||
	    strcmp(old->user, c->user))
		log_warnx("reload: 'interface', 'bridge', 'lan-port', "
			  "'lan-gro', 'listen', 'control-socket', "
			  "'control-group' and 'user' take effect only at a "
			  "restart");
}

static void priv_reload(struct daemon *d)
{
	struct config *c = calloc(1, sizeof(*c));
	struct keys_secret *priv = NULL;
	struct peer_spec *specs = NULL;

	log_info("SIGHUP: reloading '%s'", d->cfg->file);
	if (!c || config_load(d->cfg->file, c) < 0)
		goto refused;
	priv = daemon_load_private(c);
	if (!priv || daemon_peer_keys_usable(c, priv) < 0 ||
	    daemon_specs_make(c, &d->udp, &specs) < 0)
		goto refused;
	priv_fixed(d->cfg, c);
	priv_notify("RELOADING=1");
	if (priv_reload_send(d, c, specs, priv) < 0) {
		log_warn("reload: cannot hand it to the network process");
		priv_notify("READY=1");
		goto out;
	}
	priv_notify("READY=1");
	/* The running configuration once the network process took it. */
	if (d->npending == PENDING_RELOADS)
		free_config(pending_shift(d));	/* superseded anyway */
	d->pending[d->npending].seq = d->reload_seq;
	d->pending[d->npending++].cfg = c;
	c = NULL;
	goto out;
refused:
	log_warnx("reload refused: keeping the running configuration");
out:
	if (specs)
		daemon_specs_free(specs);
	keys_secret_free(priv);
	free_config(c);
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
	if (rc < 0 && errno == EAGAIN)
		return;
	if (rc == 0) {
		/* EOF: the process closed its end or died; SIGCHLD tells us
		 * the rest.  Not watched any more, or the loop would spin. */
		loop_del(d->loop, d->ipc);
		return;
	}
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
	} else {
		uint32_t seq;

		memcpy(&seq, body + 1, sizeof(seq));
		priv_reload_done(d, seq, body[0] != 0);
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
		/* daemon_priv_reap closes our end, which tells the network
		 * process to exit, and waits for it, CHILD_STOP_MS at most. */
		loop_stop(d->loop);
		break;
	}
}

/* Pass on at most max log lines the network process sent; the rest is
 * moot. */
static void relay_logs(struct daemon *d, unsigned max)
{
	uint8_t body[1 + PRIV_LOG_MAX];
	enum priv_type type;
	size_t len;

	while (max-- > 0 &&
	       priv_recv(d->ipc, &type, body, sizeof(body), &len) > 0)
		if (type == PRIV_LOG)
			priv_log_line(body, len);
}

/*
 * Wait for the network process, at most CHILD_STOP_MS by the clock, then
 * kill it; its last log lines are passed on meanwhile, a bounded number at
 * a time, so that one that keeps logging cannot keep us waiting.
 */
void daemon_priv_reap(struct daemon *d)
{
	struct timespec ts = { 0, 20 * 1000000 };
	uint64_t deadline;
	int status;

	if (!d->child)
		return;
	shutdown(d->ipc, SHUT_WR);	/* an EOF for it: exit */
	deadline = loop_now_ms() + CHILD_STOP_MS;
	do {
		relay_logs(d, REAP_RELAY_LINES);
		if (waitpid(d->child, &status, WNOHANG) == d->child) {
			relay_logs(d, REAP_RELAY_LINES);
			d->child_status = status;
			d->child = 0;
			return;
		}
		nanosleep(&ts, NULL);
	} while (loop_now_ms() < deadline);
	log_warnx("network process %d did not stop; killing it",
		  (int)d->child);
	kill(d->child, SIGKILL);
	waitpid(d->child, &d->child_status, 0);
	d->child = 0;
}

int daemon_priv_main(struct daemon *d)
{
	log_procname("priv");
	/* Never wait on the network process: a stuck one must not keep
	 * SIGHUP or SIGTERM from being handled. */
	fcntl(d->ipc, F_SETFL, O_NONBLOCK);
	/* The parent needs no secret: the network process has them. */
	handshake_identity_fini(&d->id);
	daemon_specs_free(d->specs);
	d->specs = NULL;
	if (sandbox_parent() < 0)
		return -1;
	d->loop = loop_new();
	if (!d->loop || loop_signals(d->loop, priv_on_signal, d) < 0 ||
	    loop_add(d->loop, d->ipc, priv_on_ipc, d) < 0)
		return -1;
	if (loop_run(d->loop) < 0)
		return -1;
	daemon_priv_reap(d);
	/*
	 * A network process that failed, even while stopping, is reported;
	 * one that ended on its own, whatever its status, is a failure too:
	 * the service manager should start the daemon again.
	 */
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
	return d->stopping ? 0 : -1;
}
