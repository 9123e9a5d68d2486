/*
 * control.c -- the control socket and status reports; see control.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tapbridge/control.h"
#include "tapbridge/keys.h"
#include "tapbridge/log.h"

#define CONTROL_TIMEOUT_MS 200
#define CONTROL_REQ_MAX 64

struct control {
	int fd;
	struct sockaddr_un sun;
};

static void prometheus(const struct datapath_info *info, FILE *out);

static int fill_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		log_warnx("control socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_warn("cannot create directory '%s'", dir);
		return -1;
	}
	return 0;
}

/* A socket file nobody answers on is stale and may be replaced. */
static int clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket '%s' exists and is not a socket",
			  sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live) {
		log_warnx("control socket '%s' is in use by a running "
			  "tapbridge", sun->sun_path);
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

struct control *control_open(const char *path)
{
	struct control *c = calloc(1, sizeof(*c));
	mode_t old;

	if (!c)
		return NULL;
	if (fill_sun(&c->sun, path) < 0 || make_parent(path) < 0 ||
	    clear_stale(&c->sun) < 0)
		goto fail_free;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		log_warn("control socket");
		goto fail_free;
	}
	old = umask(0077);
	if (bind(c->fd, (struct sockaddr *)&c->sun, sizeof(c->sun)) < 0) {
		umask(old);
		log_warn("cannot bind control socket '%s'", path);
		goto fail_close;
	}
	umask(old);
	if (chmod(path, 0600) < 0) {
		log_warn("control socket '%s'", path);
		goto fail_unlink;
	}
	if (listen(c->fd, 8) < 0) {
		log_warn("cannot listen on control socket '%s'", path);
		goto fail_unlink;
	}
	return c;

fail_unlink:
	unlink(path);
fail_close:
	close(c->fd);
fail_free:
	free(c);
	return NULL;
}

int control_fd(const struct control *c)
{
	return c->fd;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->sun.sun_path);
	free(c);
}

static void write_all(int fd, const char *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN &&
		    poll(&pfd, 1, CONTROL_TIMEOUT_MS) == 1)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void control_serve(struct control *c, struct datapath *dp)
{
	struct datapath_info info;
	char req[CONTROL_REQ_MAX + 1], *out = NULL;
	struct pollfd pfd;
	size_t outlen = 0;
	ssize_t n;
	FILE *f;
	int fd;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, CONTROL_TIMEOUT_MS) != 1)
		goto out;
	n = recv(fd, req, CONTROL_REQ_MAX, 0);
	if (n <= 0)
		goto out;
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	f = open_memstream(&out, &outlen);
	if (!f)
		goto out;
	datapath_info(dp, &info);
	if (!strcmp(req, "status"))
		control_format(&info, f, CONTROL_TEXT);
	else if (!strcmp(req, "status json"))
		control_format(&info, f, CONTROL_JSON);
	else if (!strcmp(req, "status prometheus"))
		prometheus(&info, f);
	else
		fprintf(f, "error: unknown request\n");
	fclose(f);
	write_all(fd, out, outlen);
	free(out);
out:
	close(fd);
}

/* The whole answer of the daemon on fd, into *buf (malloc'd, NUL-ended). */
static int read_answer(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n;
	FILE *f;
	int err;

	f = open_memstream(buf, len);
	if (!f)
		return -1;
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		fwrite(chunk, 1, (size_t)n, f);
	err = errno;
	if (fclose(f) != 0 || n < 0) {
		free(*buf);
		*buf = NULL;
		errno = n < 0 ? err : errno;
		return -1;
	}
	return 0;
}

int control_query(const char *path, const char *request, FILE *out)
{
	struct sockaddr_un sun;
	char req[CONTROL_REQ_MAX + 2], *ans = NULL;
	size_t len = 0;
	int fd, rc = -1;

	if (fill_sun(&sun, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_warn("cannot connect to control socket '%s' (is tapbridge "
			 "running with this configuration?)", path);
		goto out_close;
	}
	snprintf(req, sizeof(req), "%s\n", request);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
	    read_answer(fd, &ans, &len) < 0) {
		log_warn("control socket '%s'", path);
		goto out_close;
	}
	if (len == 0) {
		log_warnx("control socket '%s': no answer from the daemon",
			  path);
	} else if (!strncmp(ans, "error: ", 7)) {
		log_warnx("control socket '%s': request '%s' refused (a daemon "
			  "older than this command?): %.*s", path, request,
			  (int)strcspn(ans + 7, "\n"), ans + 7);
	} else {
		fwrite(ans, 1, len, out);
		rc = 0;
	}
	free(ans);
out_close:
	close(fd);
	return rc;
}

/* ---- reports ---- */

static const enum rx_verdict global_drops[] = {
	RX_DROP_SHORT, RX_DROP_NO_SESSION, RX_DROP_HANDSHAKE,
};
static const enum rx_verdict peer_drops[] = {
	RX_DROP_AUTH, RX_DROP_REPLAY, RX_DROP_EXPIRED, RX_DROP_HANDSHAKE,
	RX_DROP_INNER,
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void drops_text(FILE *out, const uint64_t *d, const enum rx_verdict *v,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(out, "%s %s %" PRIu64, i ? "," : "",
			rx_verdict_name(v[i]), d[v[i]]);
	fputc('\n', out);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* Members "name":count, comma-separated, without braces. */
static void drops_json(FILE *out, const uint64_t *d, const enum rx_verdict *v,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "",
			rx_verdict_name(v[i]), d[v[i]]);
}

static void frag_text(FILE *out, const struct peer *p)
{
	const uint64_t *d = frame_reasm_drops(p->reasm);
	unsigned i;

	for (i = 0; i < FRAME_DROP_MAX; i++)
		fprintf(out, "%s %s %" PRIu64, i ? "," : "",
			frame_drop_name(i), d[i]);
	fputc('\n', out);
}

static void frag_json(FILE *out, const struct peer *p)
{
	const uint64_t *d = frame_reasm_drops(p->reasm);
	unsigned i;

	for (i = 0; i < FRAME_DROP_MAX; i++)
		fprintf(out, ",\"fragment_%s\":%" PRIu64, frame_drop_name(i),
			d[i]);
}

static void peer_text(FILE *out, const struct peer *p, uint64_t now)
{
	char a[LOG_ADDR_LEN];

	fprintf(out, "peer '%s' (key %s)\n", p->name, p->fingerprint);
	fprintf(out, "  endpoint: %s\n",
		log_addr(&p->endpoint.sa, a, sizeof(a)));
	if (p->hs_done_ms)
		fprintf(out, "  latest handshake: %" PRIu64 " s ago "
			"(%" PRIu64 " in all)\n",
			(now - p->hs_done_ms) / 1000, p->stats.handshakes);
	else
		fprintf(out, "  latest handshake: none\n");
	if (p->current)
		fprintf(out, "  session: %" PRIu64 " s old\n",
			(now - p->current->birth_ms) / 1000);
	else
		fprintf(out, "  session: none\n");
	fprintf(out, "  received: %" PRIu64 " frames, %" PRIu64 " bytes\n",
		p->stats.rx_frames, p->stats.rx_bytes);
	fprintf(out, "  sent: %" PRIu64 " frames, %" PRIu64 " bytes "
		"(%" PRIu64 " not sent)\n", p->stats.tx_frames,
		p->stats.tx_bytes, p->stats.tx_dropped);
	fprintf(out, "  path mtu: %u%s; %" PRIu64 " frames sent in pieces, "
		"%" PRIu64 " reassembled, %" PRIu64 " mss clamped\n",
		p->pmtu.mtu, p->pmtu.fixed ? " (wan-mtu)" : "",
		p->stats.tx_fragmented, p->stats.rx_reassembled,
		p->stats.mss_clamped);
	fprintf(out, "  dropped:");
	drops_text(out, p->stats.drops, peer_drops, NELEM(peer_drops));
	fprintf(out, "  fragments dropped:");
	frag_text(out, p);
}

static void peer_json(FILE *out, const struct peer *p, uint64_t now)
{
	char a[LOG_ADDR_LEN], key[KEYS_B64_LEN];

	keys_to_base64(key, p->public_key);
	fprintf(out, "{\"name\":");
	json_str(out, p->name);
	fprintf(out, ",\"public_key\":\"%s\",", key);
	if (p->endpoint.sa.sa_family == AF_UNSPEC)
		fprintf(out, "\"endpoint\":null,");
	else
		fprintf(out, "\"endpoint\":\"%s\",",
			log_addr(&p->endpoint.sa, a, sizeof(a)));
	if (p->hs_done_ms)
		fprintf(out, "\"last_handshake_s\":%" PRIu64 ",",
			(now - p->hs_done_ms) / 1000);
	else
		fprintf(out, "\"last_handshake_s\":null,");
	if (p->current)
		fprintf(out, "\"session_age_s\":%" PRIu64 ",",
			(now - p->current->birth_ms) / 1000);
	else
		fprintf(out, "\"session_age_s\":null,");
	fprintf(out, "\"handshakes\":%" PRIu64 ",\"rx_frames\":%" PRIu64
		",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
		",\"tx_bytes\":%" PRIu64 ",\"tx_dropped\":%" PRIu64,
		p->stats.handshakes, p->stats.rx_frames, p->stats.rx_bytes,
		p->stats.tx_frames, p->stats.tx_bytes, p->stats.tx_dropped);
	fprintf(out, ",\"path_mtu\":%u,\"tx_fragmented\":%" PRIu64
		",\"rx_reassembled\":%" PRIu64 ",\"mss_clamped\":%" PRIu64
		",\"drops\":", p->pmtu.mtu, p->stats.tx_fragmented,
		p->stats.rx_reassembled, p->stats.mss_clamped);
	fputc('{', out);
	drops_json(out, p->stats.drops, peer_drops, NELEM(peer_drops));
	frag_json(out, p);
	fputs("}}", out);
}

void control_format(const struct datapath_info *info, FILE *out,
		    enum control_format fmt)
{
	char a[LOG_ADDR_LEN];
	size_t i;

	log_addr(&info->listen->sa, a, sizeof(a));
	if (fmt == CONTROL_TEXT) {
		fprintf(out, "interface '%s', bridge '%s', listening on %s\n",
			info->interface, info->bridge, a);
		fprintf(out, "coalesced: %" PRIu64 " frames into %" PRIu64
			" super-frames, %" PRIu64 " written singly\n",
			info->gro->merged, info->gro->supers,
			info->gro->passed);
		fprintf(out, "dropped (no peer):");
		drops_text(out, info->drops, global_drops,
			   NELEM(global_drops));
		for (i = 0; i < info->npeers; i++)
			peer_text(out, &info->peers[i], info->now_ms);
		return;
	}
	fprintf(out, "{\"interface\":");
	json_str(out, info->interface);
	fprintf(out, ",\"bridge\":");
	json_str(out, info->bridge);
	fprintf(out, ",\"listen\":\"%s\",\"tap_write_errors\":%" PRIu64
		",\"tap_bad_frames\":%" PRIu64 ",\"gro_merged\":%" PRIu64
		",\"gro_supers\":%" PRIu64 ",\"gro_passed\":%" PRIu64
		",\"drops\":", a, info->tap_write_errors,
		info->tap_bad_frames, info->gro->merged, info->gro->supers,
		info->gro->passed);
	fputc('{', out);
	drops_json(out, info->drops, global_drops, NELEM(global_drops));
	fprintf(out, "},\"peers\":[");
	for (i = 0; i < info->npeers; i++) {
		if (i)
			fputc(',', out);
		peer_json(out, &info->peers[i], info->now_ms);
	}
	fprintf(out, "]}\n");
}

/* ---- Prometheus text exposition format (version 0.0.4) ---- */

/*
 * Every sample is an integer; a gauge without a value (no handshake yet,
 * no session) is left out rather than given NaN, so that sums and
 * comparisons never meet NaN; tapbridge_peer_session_up says which.
 * Samples of one family stay together, as the format requires.
 */

/* A label value in quotes: backslash, double quote and newline escaped. */
static void prom_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void prom_head(FILE *out, const char *name, const char *type,
		      const char *help)
{
	fprintf(out, "# HELP tapbridge_%s %s\n# TYPE tapbridge_%s %s\n",
		name, help, name, type);
}

/* One sample of a per-peer family; reason may be NULL. */
static void prom_peer(FILE *out, const char *name, const struct peer *p,
		      const char *reason, uint64_t v)
{
	fprintf(out, "tapbridge_%s{peer=", name);
	prom_str(out, p->name);
	if (reason)
		fprintf(out, ",reason=\"%s\"", reason);
	fprintf(out, "} %" PRIu64 "\n", v);
}

/* Per-peer counters, straight from struct peer_stats. */
static const struct {
	const char *name, *help;
	size_t off;
} prom_counters[] = {
#define C(name, field, help) { name, help, offsetof(struct peer_stats, field) }
	C("peer_handshakes_total", handshakes, "Handshakes completed."),
	C("peer_received_frames_total", rx_frames,
	  "Frames received from the peer and written to the TAP device."),
	C("peer_received_bytes_total", rx_bytes,
	  "Bytes of the frames received from the peer."),
	C("peer_sent_frames_total", tx_frames, "Frames sent to the peer."),
	C("peer_sent_bytes_total", tx_bytes,
	  "Bytes of the frames sent to the peer."),
	C("peer_unsent_frames_total", tx_dropped,
	  "Frames not sent: no endpoint known, or too many held while no "
	  "session."),
	C("peer_fragmented_frames_total", tx_fragmented,
	  "Frames sent in fragments inside the tunnel."),
	C("peer_reassembled_frames_total", rx_reassembled,
	  "Frames reassembled from fragments."),
	C("peer_mss_clamped_total", mss_clamped,
	  "TCP SYNs whose MSS was lowered."),
#undef C
};

/* Per-peer gauges: get() sets *v and returns 0, or -1 for no value. */
static int session_up(const struct peer *p, uint64_t now, uint64_t *v)
{
	*v = p->current != NULL;
	return 0;
}

static int handshake_age(const struct peer *p, uint64_t now, uint64_t *v)
{
	*v = (now - p->hs_done_ms) / 1000;
	return p->hs_done_ms ? 0 : -1;
}

static int session_age(const struct peer *p, uint64_t now, uint64_t *v)
{
	*v = p->current ? (now - p->current->birth_ms) / 1000 : 0;
	return p->current ? 0 : -1;
}

static int path_mtu(const struct peer *p, uint64_t now, uint64_t *v)
{
	*v = p->pmtu.mtu;
	return 0;
}

static const struct {
	const char *name, *help;
	int (*get)(const struct peer *p, uint64_t now, uint64_t *v);
} prom_gauges[] = {
	{ "peer_session_up", "1 while the peer has a current session, "
	  "else 0.", session_up },
	{ "peer_last_handshake_age_seconds", "Seconds since the latest "
	  "completed handshake; absent before the first.", handshake_age },
	{ "peer_session_age_seconds", "Age of the current session in "
	  "seconds; absent without one.", session_age },
	{ "peer_path_mtu_bytes", "Path MTU towards the peer in use.",
	  path_mtu },
};

static void prom_peer_info(FILE *out, const struct datapath_info *info)
{
	char a[LOG_ADDR_LEN], key[KEYS_B64_LEN];
	const struct peer *p;
	size_t i;

	prom_head(out, "peer_info", "gauge", "Always 1; the labels name the "
		  "peer, its public key and its endpoint (empty while "
		  "unknown).");
	for (i = 0; i < info->npeers; i++) {
		p = &info->peers[i];
		keys_to_base64(key, p->public_key);
		a[0] = '\0';
		if (p->endpoint.sa.sa_family != AF_UNSPEC)
			log_addr(&p->endpoint.sa, a, sizeof(a));
		fputs("tapbridge_peer_info{peer=", out);
		prom_str(out, p->name);
		fprintf(out, ",public_key=\"%s\",endpoint=", key);
		prom_str(out, a);
		fputs("} 1\n", out);
	}
}

static void prom_peers(FILE *out, const struct datapath_info *info)
{
	const struct peer *p;
	size_t i, j, k;
	uint64_t v;

	prom_peer_info(out, info);
	for (j = 0; j < NELEM(prom_gauges); j++) {
		prom_head(out, prom_gauges[j].name, "gauge",
			  prom_gauges[j].help);
		for (i = 0; i < info->npeers; i++)
			if (prom_gauges[j].get(&info->peers[i], info->now_ms,
					       &v) == 0)
				prom_peer(out, prom_gauges[j].name,
					  &info->peers[i], NULL, v);
	}
	for (j = 0; j < NELEM(prom_counters); j++) {
		prom_head(out, prom_counters[j].name, "counter",
			  prom_counters[j].help);
		for (i = 0; i < info->npeers; i++) {
			p = &info->peers[i];
			memcpy(&v, (const char *)&p->stats +
			       prom_counters[j].off, sizeof(v));
			prom_peer(out, prom_counters[j].name, p, NULL, v);
		}
	}
	prom_head(out, "peer_dropped_datagrams_total", "counter",
		  "Datagrams from the peer dropped, by reason.");
	for (i = 0; i < info->npeers; i++) {
		p = &info->peers[i];
		for (k = 0; k < NELEM(peer_drops); k++)
			prom_peer(out, "peer_dropped_datagrams_total", p,
				  rx_verdict_name(peer_drops[k]),
				  p->stats.drops[peer_drops[k]]);
	}
	prom_head(out, "peer_dropped_fragments_total", "counter",
		  "Fragments from the peer dropped, by reason.");
	for (i = 0; i < info->npeers; i++) {
		p = &info->peers[i];
		for (k = 0; k < FRAME_DROP_MAX; k++)
			prom_peer(out, "peer_dropped_fragments_total", p,
				  frame_drop_name(k),
				  frame_reasm_drops(p->reasm)[k]);
	}
}

static void prom_counter(FILE *out, const char *name, const char *help,
			 uint64_t v)
{
	prom_head(out, name, "counter", help);
	fprintf(out, "tapbridge_%s %" PRIu64 "\n", name, v);
}

static void prometheus(const struct datapath_info *info, FILE *out)
{
	char a[LOG_ADDR_LEN];
	size_t k;

	prom_head(out, "info", "gauge", "Always 1; the labels name the TAP "
		  "device, the bridge and the listening address.");
	fputs("tapbridge_info{interface=", out);
	prom_str(out, info->interface);
	fputs(",bridge=", out);
	prom_str(out, info->bridge);
	fputs(",listen=", out);
	prom_str(out, log_addr(&info->listen->sa, a, sizeof(a)));
	fputs("} 1\n", out);
	prom_head(out, "dropped_datagrams_total", "counter", "Datagrams "
		  "dropped before a peer was identified, by reason.");
	for (k = 0; k < NELEM(global_drops); k++)
		fprintf(out, "tapbridge_dropped_datagrams_total{reason=\"%s\"} "
			"%" PRIu64 "\n", rx_verdict_name(global_drops[k]),
			info->drops[global_drops[k]]);
	prom_counter(out, "tap_write_errors_total", "Frames the TAP device "
		     "refused.", info->tap_write_errors);
	prom_counter(out, "tap_bad_frames_total", "Frames from the TAP "
		     "device whose offload metadata could not be honoured.",
		     info->tap_bad_frames);
	prom_counter(out, "coalesced_frames_total", "Received TCP segments "
		     "written to the TAP device inside super-frames.",
		     info->gro->merged);
	prom_counter(out, "coalesced_super_frames_total", "Super-frames "
		     "written to the TAP device.", info->gro->supers);
	prom_counter(out, "uncoalesced_frames_total", "Received frames "
		     "written to the TAP device singly.", info->gro->passed);
	prom_peers(out, info);
}
