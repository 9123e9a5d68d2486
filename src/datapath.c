/*
 * datapath.c -- the data path's lifecycle, its entry points from the event
 * loop, its timers and its status; see datapath.h.  The send path is in
 * dp_tx.c, the receive path in dp_rx.c, handshakes in dp_handshake.c.
 */
#include <string.h>

#include <sodium.h>

#include "tapbridge/log.h"
#include "tapbridge/loop.h"
#include "tapbridge/tap.h"

#include "datapath_impl.h"

#define ROUTE_CHECK_MS	1000	/* ask the kernel for the route MTU */

/* gro hands back every frame and super-frame to write, vnet header first. */
static void emit_to_tap(void *ctx, const uint8_t *vnet, const uint8_t *frame,
			size_t len)
{
	struct datapath *dp = ctx;

	if (tap_write(dp->tap_fd, vnet, frame, len) < 0)
		dp->tap_write_errors++;
}

struct datapath *datapath_new(const struct datapath_setup *setup)
{
	struct datapath *dp;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return NULL;
	dp->scratch = sodium_malloc(sizeof(*dp->scratch));
	if (!dp->scratch)
		goto fail_free;
	dp->gro = gro_new(emit_to_tap, dp);
	if (!dp->gro)
		goto fail_scratch;
	gro_merge_udp(dp->gro, setup->gro_udp);
	dp->tap_fd = setup->tap_fd;
	dp->udp = setup->udp;
	dp->pool = setup->pool;
	dp->id = setup->id;
	dp->peers = setup->peers;
	dp->npeers = setup->npeers;
	dp->clamp_mss = setup->clamp_mss;
	snprintf(dp->interface, sizeof(dp->interface), "%s", setup->interface);
	snprintf(dp->bridge, sizeof(dp->bridge), "%s", setup->bridge);
	dp->now = loop_now_ms();
	ratelimit_init(&dp->rl);
	ratelimit_init(&dp->rl_proven);
	cookie_checker_init(&dp->cookie, dp->id->pub);
	return dp;

fail_scratch:
	sodium_free(dp->scratch);
fail_free:
	free(dp);
	return NULL;
}

void datapath_free(struct datapath *dp)
{
	size_t i;

	if (!dp)
		return;
	pkt_batch_put(dp->pool, &dp->out);
	for (i = 0; i < dp->npeers; i++)
		peer_fini(&dp->peers[i], dp->pool);
	free(dp->peers);
	sodium_free(dp->scratch);
	gro_free(dp->gro);
	sodium_memzero(&dp->cookie, sizeof(dp->cookie));
	free(dp);
}

/* ---- send path ---- */

int datapath_tap_ready(struct datapath *dp)
{
	struct pkt_batch b = { .n = 0 };
	unsigned i;
	int n;

	dp->now = loop_now_ms();
	n = tap_read_batch(dp->tap_fd, dp->pool, &b);
	for (i = 0; i < b.n; i++)
		dp_tx_from_tap(dp, b.p[i]);
	dp_flush_out(dp);
	if (dp->udp->too_big != dp->too_big_seen)
		datapath_tick(dp);
	return n;
}

static void path_timers(struct datapath *dp, struct peer *peer)
{
	unsigned size;

	frame_reasm_expire(peer->reasm, dp->now);
	if (peer->endpoint.sa.sa_family == AF_UNSPEC)
		return;
	if (dp->now - peer->route_check_ms >= ROUTE_CHECK_MS) {
		peer->route_check_ms = dp->now;
		pmtu_route(&peer->pmtu, udp_route_mtu(dp->udp, &peer->endpoint),
			   dp->now);
	}
	if (!peer_send_session(peer, dp->now))
		return;
	size = pmtu_next_probe(&peer->pmtu, dp->now, ++peer->probe_id);
	if (size)
		dp_send_probe(dp, peer, size);
}

/* A send failed with EMSGSIZE: the route's MTU fell; catch up at once. */
static void check_too_big(struct datapath *dp)
{
	size_t i;

	if (dp->udp->too_big == dp->too_big_seen)
		return;
	dp->too_big_seen = dp->udp->too_big;
	for (i = 0; i < dp->npeers; i++)
		dp->peers[i].route_check_ms = 0;
}

void datapath_tick(struct datapath *dp)
{
	size_t i;

	dp->now = loop_now_ms();
	check_too_big(dp);
	for (i = 0; i < dp->npeers; i++) {
		struct peer *peer = &dp->peers[i];
		unsigned act = peer_tick(peer, dp->pool, dp->now);

		if (act & PEER_SEND_INITIATION)
			dp_send_initiation(dp, peer);
		if (act & PEER_FLUSH_STAGED)
			dp_flush_staged(dp, peer);
		if (act & PEER_SEND_KEEPALIVE)
			dp_send_keepalive(dp, peer);
		path_timers(dp, peer);
	}
	dp_flush_out(dp);
}

void datapath_start(struct datapath *dp)
{
	size_t i;

	dp->now = loop_now_ms();
	for (i = 0; i < dp->npeers; i++)
		if (dp->peers[i].endpoint.sa.sa_family != AF_UNSPEC)
			peer_want_handshake(&dp->peers[i], dp->now);
	datapath_tick(dp);
}

/* ---- receive path ---- */

int datapath_udp_ready(struct datapath *dp)
{
	struct pkt_batch b = { .n = 0 };
	unsigned i;
	int n;

	dp->now = loop_now_ms();
	n = udp_recv_batch(dp->udp, dp->pool, &b);
	for (i = 0; i < b.n; i++)
		dp_rx_datagrams(dp, b.p[i]);
	gro_flush(dp->gro);
	pkt_batch_put(dp->pool, &b);
	dp_flush_out(dp);
	return n;
}

void datapath_info(struct datapath *dp, struct datapath_info *out)
{
	out->interface = dp->interface;
	out->bridge = dp->bridge;
	out->listen = &dp->udp->local;
	out->drops = dp->drops;
	out->tap_write_errors = dp->tap_write_errors;
	out->tap_bad_frames = dp->tap_bad_frames;
	out->tap_supers = dp->tap_supers;
	out->udp_send_errors = dp->udp->send_errors;
	out->gro = gro_stats(dp->gro);
	out->peers = dp->peers;
	out->npeers = dp->npeers;
	out->now_ms = loop_now_ms();
}

static struct peer *peer_named(struct datapath *dp, const char *name)
{
	size_t i;

	for (i = 0; i < dp->npeers; i++)
		if (!strcmp(dp->peers[i].name, name))
			return &dp->peers[i];
	return NULL;
}

int datapath_reload(struct datapath *dp, const struct peer_spec *specs,
		    size_t n, const struct peer_opts *o, int clamp_mss)
{
	struct peer *next = calloc(n ? n : 1, sizeof(*next));
	unsigned added = 0, kept = 0, removed = 0;
	uint8_t *reused;
	size_t i;

	reused = calloc(dp->npeers ? dp->npeers : 1, 1);
	if (!next || !reused) {
		log_warn("reload");
		free(next);
		free(reused);
		return -1;
	}
	dp->now = loop_now_ms();
	for (i = 0; i < n; i++) {
		struct peer *old = peer_named(dp, specs[i].name);

		if (old && peer_same_keys(old, &specs[i])) {
			next[i] = *old;		/* sessions and all */
			reused[old - dp->peers] = 1;
			peer_update(&next[i], &specs[i], o, dp->now);
			kept++;
			continue;
		}
		if (peer_init(&next[i], dp->id, &specs[i], o, dp->now) < 0)
			goto fail;
		peer_want_handshake(&next[i], dp->now);
		added++;
	}
	for (i = 0; i < dp->npeers; i++)
		if (!reused[i]) {
			peer_fini(&dp->peers[i], dp->pool);
			removed++;
		}
	free(dp->peers);
	free(reused);
	dp->peers = next;
	dp->npeers = n;
	dp->clamp_mss = clamp_mss;
	log_info("configuration reloaded: %zu peer(s), %u kept, %u new or "
		 "changed, %u removed", n, kept, added, removed);
	return 0;

fail:
	while (i-- > 0)
		if (!peer_named(dp, next[i].name) ||
		    !reused[peer_named(dp, next[i].name) - dp->peers])
			peer_fini(&next[i], dp->pool);
	free(next);
	free(reused);
	return -1;
}
