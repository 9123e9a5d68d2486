#!/usr/bin/env bash
# 11-teardown: on SIGTERM the daemon releases lan0 and deletes the bridge and
# TAP it created; a bridge that existed before it started is left in place
# (with lan0 and the TAP released from it), and a persistent TAP device
# that existed before is left as found (mtu, queue length, state, offloads).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

gw_links() { lab_in gwA ip -o -br link show | sed 's/^/    /'; }

lab_default_up

lab_step "run 1: daemon-created bridge"
gw_links
lab_stop A
lab_say "after SIGTERM:"
gw_links
lab_assert_released A
! lab_in gwA ip link show br0 >/dev/null 2>&1 || lab_fail "br0 left behind"

lab_step "run 2: pre-existing bridge br0"
lab_in gwA ip link add br0 type bridge forward_delay 0 stp_state 0 ||
	lab_fail "cannot create br0"
lab_in gwA ip link set br0 up
LAB_BRIDGE_PREEXISTED_A=1
lab_start A
lab_wait_link
lab_in gwA ip -o link show lan0 | grep -q 'master br0' ||
	lab_fail "lan0 not enslaved to the pre-existing br0"
gw_links
lab_stop A
lab_say "after SIGTERM:"
gw_links
lab_assert_released A
lab_in gwA ip link show br0 >/dev/null 2>&1 ||
	lab_fail "the pre-existing br0 was deleted"
ports=$(lab_in gwA bridge link show master br0 2>/dev/null)
[ -z "$ports" ] || lab_fail "ports left in the pre-existing br0: $ports"
lab_in gwA ip link del br0
LAB_BRIDGE_PREEXISTED_A=0

lab_step "run 3: pre-existing persistent TAP device tap0"
lab_in gwA ip tuntap add dev tap0 mode tap || lab_fail "cannot create tap0"
lab_in gwA ip link set tap0 mtu 1400 txqueuelen 500
tap_state() {
	lab_in gwA ip -o link show tap0 |
		grep -oE 'mtu [0-9]+|qlen [0-9]+|state [A-Z]+|master [^ ]+' |
		tr '\n' ' '
	# The offloads as in use; whether one is "[requested on]" (a fresh
	# TAP's wish list, cleared once anyone sets offloads) does not matter.
	lab_in gwA ethtool -k tap0 |
		grep -E '^(tx-checksumming|tcp-segmentation-offload|tx-udp-segmentation):' |
		sed 's/ \[requested .*\]//'
}
before=$(tap_state)
lab_start A
lab_wait_link
during=$(lab_in gwA ip -o link show tap0 | grep -oE 'mtu [0-9]+|qlen [0-9]+' | tr '\n' ' ')
lab_say "tap0 while in use: $during"
lab_stop A
after=$(tap_state)
lab_say "tap0 before: $(echo $before)"
lab_say "tap0 after:  $(echo $after)"
[ "$before" = "$after" ] || lab_fail "tap0 not left as found"
lab_in gwA ip tuntap del dev tap0 mode tap

lab_finish
echo "PASS: 11-teardown"
