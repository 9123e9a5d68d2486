/*
 * control_status.c -- rendering a status snapshot (struct datapath_info)
 * as text for people, JSON for scripts, or the Prometheus text format;
 * see control.h and control_impl.h.  Writes to a stream only: the socket
 * and the requests are control.c's.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "tapbridge/control.h"
#include "tapbridge/keys.h"
#include "tapbridge/log.h"

#include "control_impl.h"

/* The drop reasons each report lists, in this order. */
static const enum rx_verdict global_drops[] = {
	RX_DROP_SHORT, RX_DROP_NO_SESSION, RX_DROP_HANDSHAKE,
};
static const enum rx_verdict peer_drops[] = {
	RX_DROP_AUTH, RX_DROP_REPLAY, RX_DROP_EXPIRED, RX_DROP_HANDSHAKE,
	RX_DROP_INNER,
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- text and JSON ---- */

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
		fprintf(out, "segmented: %" PRIu64 " super-frames read\n",
			info->tap_supers);
		fprintf(out, "unsent: %" PRIu64 " datagrams refused by the "
			"kernel\n", info->udp_send_errors);
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
		",\"tap_bad_frames\":%" PRIu64 ",\"tap_supers\":%" PRIu64
		",\"udp_send_errors\":%" PRIu64
		",\"gro_merged\":%" PRIu64 ",\"gro_supers\":%" PRIu64
		",\"gro_passed\":%" PRIu64 ",\"drops\":", a,
		info->tap_write_errors, info->tap_bad_frames, info->tap_supers,
		info->udp_send_errors, info->gro->merged, info->gro->supers,
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

void control_prometheus(const struct datapath_info *info, FILE *out)
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
	prom_counter(out, "tap_super_frames_total", "TCP and UDP super-frames "
		     "read from the TAP device and cut into segments here.",
		     info->tap_supers);
	prom_counter(out, "udp_send_errors_total", "Datagrams to peers the "
		     "kernel refused to send.", info->udp_send_errors);
	prom_counter(out, "coalesced_frames_total", "Received TCP segments "
		     "and UDP datagrams written to the TAP device inside "
		     "super-frames.", info->gro->merged);
	prom_counter(out, "coalesced_super_frames_total", "Super-frames "
		     "written to the TAP device.", info->gro->supers);
	prom_counter(out, "uncoalesced_frames_total", "Received frames "
		     "written to the TAP device singly.", info->gro->passed);
	prom_peers(out, info);
}
