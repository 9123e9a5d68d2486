/*
 * pmtu.c -- path MTU search; see pmtu.h.
 *
 * A round searches [lo, hi]: it probes hi first (the common case is that
 * the route's MTU passes), then bisects.  lo is either known to pass (the
 * family's floor, or a size acknowledged in this round) or, in a periodic
 * check, the size in use, to be confirmed when nothing larger passes.
 */
#include "tapbridge/pmtu.h"

static void set_mtu(struct pmtu *m, unsigned mtu)
{
	if (m->mtu != mtu) {
		m->mtu = mtu;
		m->changes++;
	}
}

static unsigned ceiling(const struct pmtu *m)
{
	unsigned c = m->route ? m->route : PMTU_MAX;

	if (m->fixed && m->fixed < c)
		c = m->fixed;
	if (c > PMTU_MAX)
		c = PMTU_MAX;
	return c;
}

static void round_start(struct pmtu *m, unsigned lo, unsigned hi,
			unsigned lo_ok)
{
	m->lo = lo;
	m->hi = hi < lo ? lo : hi;
	m->lo_ok = lo_ok;
	m->first = 1;
	m->probe = 0;
	m->tries = 0;
	m->next_ms = 0;
	if (lo_ok || m->mtu > m->hi)
		set_mtu(m, lo);
}

/* Search from the floor (or the ceiling if that is lower). */
static void search_from_floor(struct pmtu *m, unsigned hi)
{
	unsigned lo = m->floor < hi ? m->floor : hi;

	round_start(m, lo, hi, 1);
}

static void settle(struct pmtu *m, uint64_t now)
{
	set_mtu(m, m->lo);
	m->probe = 0;
	m->next_ms = now + PMTU_CONFIRM_MS;
}

void pmtu_init(struct pmtu *m, unsigned fixed, unsigned floor, unsigned route)
{
	m->fixed = fixed;
	m->floor = floor;
	m->route = route;
	m->mtu = 0;
	if (fixed) {
		round_start(m, ceiling(m), ceiling(m), 1);
		m->next_ms = UINT64_MAX;	/* never probe */
	} else {
		search_from_floor(m, ceiling(m));
	}
	m->changes = 0;
}

void pmtu_route(struct pmtu *m, unsigned route, uint64_t now)
{
	unsigned old = ceiling(m);

	m->route = route;
	if (ceiling(m) == old)
		return;
	if (m->fixed) {
		round_start(m, ceiling(m), ceiling(m), 1);
		m->next_ms = UINT64_MAX;
	} else if (ceiling(m) < m->mtu || ceiling(m) < m->hi) {
		search_from_floor(m, ceiling(m));
	} else if (m->next_ms) {
		m->next_ms = now;	/* a rise: check it soon */
	} else {
		m->hi = ceiling(m);
	}
}

void pmtu_check_soon(struct pmtu *m, uint64_t now)
{
	if (m->fixed)
		return;
	if (m->next_ms)
		m->next_ms = now;	/* settled: confirm the size at once */
	else
		search_from_floor(m, ceiling(m));	/* lo was the old path's */
}

static void probe_failed(struct pmtu *m, unsigned size, uint64_t now)
{
	m->probe = 0;
	m->tries = 0;
	m->first = 0;
	if (size <= m->lo) {
		/* The size in use stopped passing: start again lower. */
		search_from_floor(m, size > m->floor ? size - 1 : m->floor);
		return;
	}
	m->hi = size - 1;
}

unsigned pmtu_next_probe(struct pmtu *m, uint64_t now, uint32_t id)
{
	if (m->fixed)
		return 0;
	if (m->probe) {
		if (now - m->probe_ms < PMTU_PROBE_TIMEOUT_MS)
			return 0;
		if (m->tries < PMTU_PROBE_TRIES)
			goto send;
		probe_failed(m, m->probe, now);
	}
	if (m->next_ms) {
		if (now < m->next_ms)
			return 0;
		/* Periodic check: try for the ceiling, confirm the rest. */
		round_start(m, m->mtu, ceiling(m), 0);
	}
	if (m->hi - m->lo >= PMTU_RESOLUTION)
		m->probe = m->first ? m->hi : m->lo + (m->hi - m->lo + 1) / 2;
	else if (!m->lo_ok)
		m->probe = m->lo;
	else {
		settle(m, now);
		return 0;
	}
	m->first = 0;
	m->tries = 0;
send:
	m->tries++;
	m->probe_id = id;
	m->probe_ms = now;
	return m->probe;
}

void pmtu_ack(struct pmtu *m, uint32_t id, uint64_t now)
{
	if (!m->probe || id != m->probe_id)
		return;
	if (m->probe >= m->lo) {
		m->lo = m->probe;
		m->lo_ok = 1;
		set_mtu(m, m->lo);
	}
	m->probe = 0;
	m->tries = 0;
	if (m->hi - m->lo < PMTU_RESOLUTION)
		settle(m, now);
}

void pmtu_too_big(struct pmtu *m, unsigned size, uint64_t now)
{
	if (m->fixed)
		return;
	if (m->probe && size == m->probe)
		probe_failed(m, size, now);
}
