#!/usr/bin/env bash
# 33-lan-gro: the LAN port merges the office's UDP.  Gateway A's daemon
# turns on lan0's GRO and UDP GRO forwarding, found off (as Linux leaves a
# veth), for its life.  With lan0 holding what it receives for up to 1 ms,
# as a network card's interrupt moderation does, hostA's 1400-byte
# datagrams, one per send in bursts, reach A's TAP as super-frames (tap0
# hands over far fewer packets than datagrams, tap_supers grows) and every
# one arrives intact at hostB, over IPv4 and IPv6.  At the stop both
# features are off again; with 'lan-gro no' the daemon leaves them off.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

N=400
SIZE=1400
BURST=40

# feature GW NAME: on or off, as ethtool -k shows lan0's feature NAME.
feature()
{
	ip netns exec "$LAB_P-$1" ethtool -k lan0 |
		awk -v f="$2:" '$1 == f { print $2 }'
}

# expect_features GW STATE WHEN: lan0's GRO and UDP GRO forwarding are STATE.
expect_features()
{
	local f v
	for f in generic-receive-offload rx-udp-gro-forwarding; do
		v=$(feature "$1" "$f")
		[ "$v" = "$2" ] || lab_fail "$3: $1's lan0 has $f '${v:-?}', not $2"
	done
	lab_say "$3: $1's lan0 has GRO and UDP GRO forwarding $2"
}

command -v ethtool >/dev/null || lab_fail "ethtool is missing (scripts/deps.sh)"
lab_up
lab_keys
lab_conf
expect_features gwA off "before the start"
lab_start A
lab_start B
lab_wait_link
expect_features gwA on "while the daemon runs"
grep -q "lan-port 'lan0': turned on rx-gro, rx-udp-gro-forwarding" \
	"$LAB_DIR/gwA.log" || lab_fail "gwA did not log what it turned on"

uso=1
if grep -q 'no UDP segmentation offload' "$LAB_DIR/gwA.log"; then
	uso=0
	lab_say "********************************************************"
	lab_say "this kernel has no TAP USO (Linux < 6.2): only delivery and"
	lab_say "GRO are checked, not that super-frames were read"
	lab_say "********************************************************"
fi

# Interrupt moderation: lan0 delivers what it received at most 1 ms late.
ip netns exec "$LAB_P-gwA" sh -c \
	'echo 1000000 >/sys/class/net/lan0/gro_flush_timeout' ||
	lab_fail "cannot set lan0's gro_flush_timeout"

port=6200
for to in "$LAB_LAN4_B" "$LAB_LAN6_B"; do
	port=$((port + 1))
	lab_step "$N datagrams of $SIZE bytes to $to, one per send, $BURST back to back"
	lab_get cut_a A tap_supers
	tx0=$(lab_tap_tx gwA) || lab_fail "cannot read tap0's counters on gwA"
	lab_udp_burst "$to" "$to" "$port" "$N" "$SIZE" 1 "$BURST"
	tx1=$(lab_tap_tx gwA) || lab_fail "cannot read tap0's counters on gwA"
	lab_get cut_a1 A tap_supers
	lab_say "$N/$N datagrams intact; gwA's tap0 handed over $((tx1 - tx0)) packets, $((cut_a1 - cut_a)) super-frames cut"
	[ "$uso" = 1 ] || continue
	((tx1 - tx0 < N / 4)) ||
		lab_fail "gwA's tap0 handed over $((tx1 - tx0)) packets for $N datagrams: lan0 merged none"
	((cut_a1 - cut_a > 0)) || lab_fail "gwA cut no UDP super-frame"
done

lab_step "stop: lan0 as it was found"
lab_stop A
expect_features gwA off "after the stop"
grep -q "lan-port 'lan0': turned rx-gro, rx-udp-gro-forwarding off again" \
	"$LAB_DIR/gwA.log" || lab_fail "gwA did not log turning them off"

lab_step "lan-gro no: lan0 left alone"
sed -i '2i lan-gro no' "$LAB_DIR/gwA.conf"
lab_start A
lab_wait_link
expect_features gwA off "with 'lan-gro no'"
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "no ping across with lan-gro no"
lab_stop A
lab_assert_released A

lab_finish
echo "PASS: 33-lan-gro"
