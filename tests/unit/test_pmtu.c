/*
 * test_pmtu.c -- path MTU search against simulated paths.
 */
#include <criterion/criterion.h>

#include "tapbridge/pmtu.h"

/* Run the search against a path carrying sizes <= path, for ms. */
static uint64_t run(struct pmtu *m, unsigned path, uint64_t now,
		    uint64_t ms, unsigned *probes)
{
	uint64_t end = now + ms;
	uint32_t id = 0;

	for (; now < end; now += 50) {
		unsigned size = pmtu_next_probe(m, now, ++id);

		if (size) {
			(*probes)++;
			cr_assert_leq(size, PMTU_MAX);
			if (size <= path)
				pmtu_ack(m, id, now + 1);
		}
	}
	return now;
}

struct row {
	unsigned route, path, floor;
};

Test(pmtu, converges_to_the_path_mtu_from_below)
{
	static const struct row rows[] = {
		{ 1500, 1500, 576 }, { 1500, 1420, 576 }, { 1500, 1280, 576 },
		{ 9000, 1500, 1280 }, { 1500, 1000, 576 }, { 1420, 1420, 1280 },
		{ 1500, 576, 576 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pmtu m;
		unsigned probes = 0;

		pmtu_init(&m, 0, rows[i].floor, rows[i].route);
		cr_assert_eq(m.mtu, rows[i].floor, "uses the floor at first");
		run(&m, rows[i].path, 0, 10000, &probes);
		cr_assert_leq(m.mtu, rows[i].path, "row %zu: %u > %u", i,
			      m.mtu, rows[i].path);
		cr_assert_geq(m.mtu + PMTU_RESOLUTION, rows[i].path,
			      "row %zu: %u far below %u", i, m.mtu,
			      rows[i].path);
		cr_assert_leq(probes, 3 * 16, "row %zu: %u probes", i, probes);
	}
}

Test(pmtu, first_probe_is_the_route_mtu)
{
	struct pmtu m;

	pmtu_init(&m, 0, 576, 1500);
	cr_assert_eq(pmtu_next_probe(&m, 0, 1), 1500);
	pmtu_ack(&m, 1, 5);
	cr_assert_eq(m.mtu, 1500);
	cr_assert_eq(pmtu_next_probe(&m, 10, 2), 0, "settled: no probe");
}

Test(pmtu, stale_or_unknown_acks_are_ignored)
{
	struct pmtu m;

	pmtu_init(&m, 0, 576, 1500);
	cr_assert_eq(pmtu_next_probe(&m, 0, 7), 1500);
	pmtu_ack(&m, 8, 1);
	cr_assert_eq(m.mtu, 576);
	pmtu_ack(&m, 7, 1);
	cr_assert_eq(m.mtu, 1500);
}

/* A search on a 1500-byte route and path, settled; returns the time. */
static uint64_t settled_at_1500(struct pmtu *m, unsigned *probes)
{
	uint64_t now;

	pmtu_init(m, 0, 576, 1500);
	now = run(m, 1500, 0, 2000, probes);
	cr_assert_eq(m->mtu, 1500);
	return now;
}

Test(pmtu, follows_a_silent_drop_down)
{
	struct pmtu m;
	unsigned probes = 0;
	uint64_t now;

	now = settled_at_1500(&m, &probes);
	/* The path now carries 1280 only, and nobody tells us. */
	now = run(&m, 1280, now, PMTU_CONFIRM_MS + 10000, &probes);
	cr_assert_leq(m.mtu, 1280);
	cr_assert_geq(m.mtu + PMTU_RESOLUTION, 1280);
}

/*
 * The peer moved to another address whose path carries less: the size in
 * use is confirmed at once, not at the next periodic check, and the
 * search finds the new path's MTU within a few probe timeouts.
 */
Test(pmtu, check_soon_finds_a_smaller_new_path_before_the_periodic_check)
{
	struct pmtu m;
	unsigned probes = 0;
	uint64_t now;

	now = settled_at_1500(&m, &probes);
	pmtu_check_soon(&m, now);
	now = run(&m, 1280, now, PMTU_CONFIRM_MS / 2, &probes);
	cr_assert_leq(m.mtu, 1280);
	cr_assert_geq(m.mtu + PMTU_RESOLUTION, 1280);
}

/*
 * During a search, what was confirmed was confirmed on the old path: the
 * search starts again from the floor, and finds the new path's MTU.
 */
Test(pmtu, check_soon_while_searching_starts_again_from_the_floor)
{
	struct pmtu m;
	unsigned probes = 0;
	uint32_t id = 1;

	pmtu_init(&m, 0, 576, 1500);
	/* Old path: 1500 fails, 1038 passes, the search goes on above. */
	cr_assert_eq(pmtu_next_probe(&m, 0, id), 1500);
	pmtu_too_big(&m, 1500, 1);
	cr_assert_eq(pmtu_next_probe(&m, 2, ++id), 1038);
	pmtu_ack(&m, id, 3);
	cr_assert_eq(m.mtu, 1038);
	/* The peer moved: its new path carries 800 only. */
	pmtu_check_soon(&m, 4);
	cr_assert_eq(m.mtu, 576, "back to the floor until probed");
	run(&m, 800, 5, 10000, &probes);
	cr_assert_leq(m.mtu, 800);
	cr_assert_geq(m.mtu + PMTU_RESOLUTION, 800);
}

Test(pmtu, check_soon_with_a_fixed_wan_mtu_changes_nothing)
{
	struct pmtu m;

	pmtu_init(&m, 1400, 576, 1500);
	pmtu_check_soon(&m, 10);
	cr_assert_eq(m.mtu, 1400);
	cr_assert_eq(pmtu_next_probe(&m, 20, 1), 0);
}

Test(pmtu, follows_a_rise_up)
{
	struct pmtu m;
	unsigned probes = 0;
	uint64_t now;

	pmtu_init(&m, 0, 576, 1500);
	now = run(&m, 1280, 0, 5000, &probes);
	cr_assert_leq(m.mtu, 1280);
	now = run(&m, 1500, now, PMTU_CONFIRM_MS + 5000, &probes);
	cr_assert_eq(m.mtu, 1500);
}

Test(pmtu, a_lower_route_mtu_takes_effect_at_once)
{
	struct pmtu m;
	unsigned probes = 0;
	uint64_t now;

	pmtu_init(&m, 0, 576, 1500);
	now = run(&m, 1500, 0, 2000, &probes);
	cr_assert_eq(m.mtu, 1500);
	pmtu_route(&m, 1280, now);
	cr_assert_leq(m.mtu, 1280);
	now = run(&m, 1280, now, 3000, &probes);
	cr_assert_eq(m.mtu, 1280);
	/* And back up when the route allows it again. */
	pmtu_route(&m, 1500, now);
	run(&m, 1500, now, 3000, &probes);
	cr_assert_eq(m.mtu, 1500);
}

Test(pmtu, local_too_big_on_a_probe_counts_as_a_failure)
{
	struct pmtu m;

	pmtu_init(&m, 0, 576, 1500);
	cr_assert_eq(pmtu_next_probe(&m, 0, 1), 1500);
	pmtu_too_big(&m, 1500, 0);
	cr_assert_lt(pmtu_next_probe(&m, 1, 2), 1500);
}

Test(pmtu, fixed_wan_mtu_never_probes)
{
	struct pmtu m;

	pmtu_init(&m, 1400, 576, 1500);
	cr_assert_eq(m.mtu, 1400);
	cr_assert_eq(pmtu_next_probe(&m, 100000, 1), 0);
	/* Capped by a smaller route. */
	pmtu_route(&m, 1300, 100001);
	cr_assert_eq(m.mtu, 1300);
}
