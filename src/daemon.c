/*
 * daemon.c -- setup, the fork into two processes, and teardown; see
 * daemon.h.
 *
 * One process sets everything up as root: keys, peers, the control socket,
 * the TAP, the bridge, the UDP socket.  It then forks.  The child, "net",
 * keeps the descriptors, confines itself (sandbox.h) and runs the data
 * path (daemon_net.c).  The parent, "priv", keeps only CAP_NET_ADMIN and
 * CAP_KILL, answers SIGHUP by re-reading the configuration for the child,
 * and on SIGTERM stops the child (daemon_priv.c); then this file undoes the
 * setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/sandbox.h"
#include "tapbridge/tap.h"

#include "daemon_impl.h"

#define TAP_TXQLEN	10000
/* Partial checksums and TCP super-frames (and UDP ones where the kernel
 * has USO: tap_offload_uso): segmented here, sent with UDP GSO.  Without them
 * the kernel segments, which only costs speed. */
#define TAP_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

static void where(char *buf, size_t len, const struct config *c, int line)
{
	snprintf(buf, len, "%s:%d", c->file, line);
}

/* ---- preparation: everything that can fail on the configuration ---- */

struct keys_secret *daemon_load_private(const struct config *c)
{
	char w[CONFIG_PATH_MAX + 16];

	where(w, sizeof(w), c, c->private_key_line);
	return keys_load(c->private_key, w);
}

int daemon_peer_keys_usable(const struct config *c,
			    const struct keys_secret *priv)
{
	uint8_t own[KEYS_LEN];
	size_t i;
	int rc = 0;

	/* A peer given this gateway's own public key (a paste from the
	 * wrong side) could never complete a handshake.  (A weak private
	 * key leaves own all zeros, which no public-key line can give.) */
	keys_public(own, priv);
	for (i = 0; i < c->npeers; i++) {
		const struct config_peer *p = &c->peers[i];

		if (sodium_memcmp(p->public_key, own, sizeof(own)) == 0) {
			log_warnx("%s:%d: peer '%s': public key is this "
				  "gateway's own (from 'private-key'): give the "
				  "peer's, the output of 'tapbridge pubkey' on "
				  "the peer", c->file, p->public_key_line,
				  p->name);
			rc = -1;
		} else if (!handshake_pub_usable(priv, p->public_key)) {
			log_warnx("%s:%d: peer '%s': public key is not usable: "
				  "it gives no shared secret with this "
				  "gateway's key", c->file, p->public_key_line,
				  p->name);
			rc = -1;
		}
	}
	return rc;
}

size_t daemon_specs_size(const struct config *c)
{
	return sizeof(struct peer_spec) * (c->npeers ? c->npeers : 1);
}

int daemon_specs_make(const struct config *c, const struct udp *u,
		      struct peer_spec **out)
{
	struct peer_spec *s;
	char w[CONFIG_PATH_MAX + 16], why[512];
	size_t i;
	int rc = 0;

	s = sodium_malloc(daemon_specs_size(c));
	if (!s) {
		log_warn("peers");
		return -1;
	}
	memset(s, 0, daemon_specs_size(c));
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

void daemon_specs_free(struct peer_spec *s)
{
	sodium_free(s);	/* wipes */
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

/* The pidfile of -p, or by default the one next to the control socket:
 * NAME.sock -> NAME.pid. */
static void pidfile_path(const struct daemon *d, char *path, size_t len)
{
	const char *cs = d->cfg->control_socket;
	size_t n = strlen(cs);

	if (d->pidfile_arg) {
		snprintf(path, len, "%s", d->pidfile_arg);
		return;
	}
	if (n > 5 && !strcmp(cs + n - 5, ".sock"))
		n -= 5;
	snprintf(path, len, "%.*s.pid", (int)n, cs);
}

/* Say who holds the pidfile at fd: its PID, once it has written it. */
static void pidfile_held(int fd, const char *path)
{
	char pid[16];
	ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	if (pid[0])
		log_warnx("pidfile '%s' is held by the tapbridge running as "
			  "pid %s", path, pid);
	else
		log_warnx("pidfile '%s' is held by a tapbridge that is "
			  "starting", path);
}

/*
 * Open, lock (flock) and empty the pidfile before going into the
 * background, so that a start that cannot have it fails where the
 * operator sees it; detach writes the PID.  Not through a symbolic link,
 * not into anything but a regular file.  The lock keeps a second daemon
 * from taking the file over, or from removing it at its own stop; a file
 * created here is removed again on failure, unless another holds it.
 * d->pidfile is set only while the file is ours.
 */
static int open_pidfile(struct daemon *d)
{
	char path[sizeof(d->pidfile)];
	struct stat st, now;
	int fd, created = 0, held = 0, tries;

	pidfile_path(d, path, sizeof(path));
	for (tries = 0; tries < 3; tries++) {
		created = 1;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_NONBLOCK | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST) {
			created = 0;
			fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
				  O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue;	/* just removed: create it */
		}
		if (fd < 0) {
			log_warn("cannot write pidfile '%s'", path);
			return -1;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			log_warnx("cannot write pidfile '%s': not a regular "
				  "file", path);
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			held = errno == EWOULDBLOCK;
			if (held)
				pidfile_held(fd, path);
			else
				log_warn("cannot lock pidfile '%s'", path);
			goto fail;
		}
		/* A daemon that stops may have removed the file between
		 * our open and our lock: the lock must be on the file that
		 * is there. */
		if (stat(path, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		log_warnx("cannot write pidfile '%s': it keeps being replaced",
			  path);
		return -1;
	}
	if (ftruncate(fd, 0) < 0) {
		log_warn("cannot write pidfile '%s'", path);
		goto fail;
	}
	d->pidfile_fd = fd;
	snprintf(d->pidfile, sizeof(d->pidfile), "%s", path);
	return 0;
fail:
	if (created && !held)
		unlink(path);	/* before the lock, if any, goes */
	close(fd);
	return -1;
}

/* Our PID into the pidfile open_pidfile locked; the descriptor (and the
 * lock) stay until the end. */
static int put_pidfile(struct daemon *d)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (pwrite(d->pidfile_fd, buf, (size_t)len, 0) == len)
		return 0;
	log_warn("cannot write pidfile '%s'", d->pidfile);
	return -1;
}

/* The group of 'control-group' (-1 for none): 0, or -1 (logged) if it
 * does not exist. */
static int control_group_gid(const struct config *c, gid_t *gid)
{
	struct group *gr;

	*gid = (gid_t)-1;
	if (!c->control_group[0])
		return 0;
	gr = getgrnam(c->control_group);
	if (!gr) {
		log_warnx("%s:%d: group '%s' does not exist", c->file,
			  c->control_group_line, c->control_group);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* 'control-group': members may ask for status too (mode 0660). */
static int control_allow_group(const struct config *c)
{
	gid_t gid;

	if (control_group_gid(c, &gid) < 0)
		return -1;
	if (gid == (gid_t)-1)
		return 0;
	if (chown(c->control_socket, (uid_t)-1, gid) < 0 ||
	    chmod(c->control_socket, 0660) < 0) {
		log_warn("control socket '%s'", c->control_socket);
		return -1;
	}
	return 0;
}

/* Pass the stop and reload signals pending here (blocked since the start)
 * on to process to. */
static void forward_held(pid_t to)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
	sigset_t held;
	size_t i;

	sigpending(&held);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigismember(&held, sigs[i]) == 1)
			kill(to, sigs[i]);	/* blocked there: the loop's */
}

void daemon_null_streams(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/*
 * Go into the background as daemon(3) would (a new process in a new
 * session, standard streams on /dev/null, the working directory kept: a
 * relative path, -c or a key, must mean at a reload what it meant at the
 * start), except that the process the shell waits for ends only once the
 * daemon has written its PID into the pidfile: exit status 0 then means
 * running, and the pidfile holds the PID from then on; a SIGTERM or SIGHUP
 * it got meanwhile is passed on to the daemon.  Returns 0 in the
 * daemon, -1 if that failed (said on standard error, which the shell
 * still sees; the original process exits 1 once the failed daemon has
 * undone its setup and ended).
 */
static int detach(struct daemon *d)
{
	char ok = 0;
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("cannot go into the background");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_warn("cannot go into the background");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &ok, 1) < 0 && errno == EINTR)
			;
		/* A SIGTERM or SIGHUP sent to this process, during setup
		 * or since the fork, is the daemon's: pass it on. */
		if (ok == 1)
			forward_held(pid);
		_exit(ok == 1 ? 0 : 1);
	}
	close(p[0]);
	/* Open until this process ends, also through its teardown. */
	d->ready_fd = p[1];
	if (setsid() < 0) {
		log_warn("cannot go into the background");
		return -1;
	}
	bridge_claim(d->bridge);	/* our pid changed */
	if (put_pidfile(d) < 0)
		return -1;
	daemon_null_streams();
	ok = 1;
	if (write(d->ready_fd, &ok, 1) != 1)
		return -1;
	close(d->ready_fd);
	d->ready_fd = -1;
	return 0;
}

/* Everything up to the fork, in the order teardown undoes it. */
static int setup(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct keys_secret *priv;
	enum bridge_part part;
	int created;

	priv = daemon_load_private(c);
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
	if (daemon_peer_keys_usable(c, d->id.priv) < 0 ||
	    daemon_specs_make(c, &d->udp, &d->specs) < 0)
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
	/* A persistent TAP device is left as it was found (restore_tap),
	 * also when setup fails from here on. */
	snprintf(d->tap_name, sizeof(d->tap_name), "%s", c->interface);
	d->tap_found = !created && tap_link_get(d->tap_name, &d->tap_was) == 0;
	/* With USO the bridge hands over UDP super-frames too (from senders
	 * using UDP GSO, or a LAN port doing UDP GRO), and received
	 * datagrams are written back as such. */
	d->tap_uso = tap_offload_uso(d->tap_fd, TAP_OFFLOADS);
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
	if (c->lan_port[0] && c->lan_gro)
		offload_lan_on(c->lan_port, d->tap_uso, &d->lan_offload);
	/* Room for bursts while the daemon is busy sealing (default 500). */
	bridge_set_txqlen(d->bridge, c->interface, TAP_TXQLEN);
	return 0;
}

/* Undo on a TAP device that existed before what setup changed on it
 * (under the name of the start: a reload does not change it). */
static void restore_tap(struct daemon *d)
{
	if (!d->tap_found || d->tap_fd < 0)
		return;
	tap_offload(d->tap_fd, d->tap_name, 0);
	tap_link_set(d->tap_name, &d->tap_was);
}

static void teardown(struct daemon *d)
{
	daemon_priv_reap(d);
	loop_free(d->loop);
	if (d->ipc >= 0)
		close(d->ipc);
	control_close(d->control);
	restore_tap(d);
	if (d->tap_fd >= 0)
		close(d->tap_fd);
	offload_restore(&d->lan_offload);
	bridge_teardown(d->bridge);
	udp_close(&d->udp);
	if (d->specs)
		daemon_specs_free(d->specs);
	handshake_identity_fini(&d->id);
	daemon_priv_forget_reloads(d);
	if (d->pidfile[0])
		unlink(d->pidfile);	/* before the lock goes */
	if (d->pidfile_fd >= 0)
		close(d->pidfile_fd);
	if (d->ready_fd >= 0)
		close(d->ready_fd);	/* the shell's process exits 1 now */
}

int daemon_run(struct config **cfg, enum daemon_mode mode,
	       const char *pidfile)
{
	struct daemon d;
	char a[LOG_ADDR_LEN];
	int sv[2], rc = -1;

	memset(&d, 0, sizeof(d));
	d.cfg = *cfg;
	d.mode = mode;
	d.tap_fd = d.ipc = d.pidfile_fd = d.ready_fd = -1;
	d.udp.fd = -1;
	d.pidfile_arg = pidfile;
	if (pidfile && strlen(pidfile) >= sizeof(d.pidfile)) {
		log_warnx("pidfile path '%s' is too long", pidfile);
		return -1;
	}
	/* Secrets never reach a core dump. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	/* A SIGTERM or SIGHUP during setup waits for the loop, which then
	 * stops or reloads in order: it must not leave the bridge behind. */
	if (loop_block_signals() < 0)
		return -1;
	if (sodium_init() < 0) {
		log_warnx("libsodium failed to initialise");
		return -1;
	}
	if (setup(&d) < 0)
		goto out;
	if ((mode == DAEMON_BACKGROUND || pidfile) && open_pidfile(&d) < 0)
		goto out;
	if (mode == DAEMON_BACKGROUND) {
		if (detach(&d) < 0)
			goto out;
		log_init(LOG_TO_SYSLOG, log_verbosity(), "tapbridge");
	} else if (pidfile && put_pidfile(&d) < 0) {
		goto out;
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
		daemon_net_main(&d);
	}
	close(sv[1]);
	d.ipc = sv[0];
	rc = daemon_priv_main(&d);
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
	priv = daemon_load_private(c);
	if (!priv || handshake_identity_init(&id, priv) < 0) {
		rc = -1;
	} else {
		if (daemon_peer_keys_usable(c, id.priv) < 0)
			rc = -1;
		handshake_identity_fini(&id);
	}
	/* Names are resolved as the daemon would, for the family it binds. */
	if (udp_plan(&u, c->listen.host, c->listen.port) < 0 ||
	    daemon_specs_make(c, &u, &specs) < 0)
		rc = -1;
	if (specs)
		daemon_specs_free(specs);
	if (sandbox_user(c->user, &uid, &gid) < 0) {
		refused(c, c->user_line, "user", c->user);
		rc = -1;
	}
	if (control_group_gid(c, &gid) < 0)
		rc = -1;
	return rc;
}
