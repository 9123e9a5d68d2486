#!/usr/bin/env bash
# 05-vlan: 802.1Q-tagged frames (VID 42) crafted on hostA with an AF_PACKET
# socket arrive at hostB with the tag intact, up to the full 1518 bytes.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

sizes="64 300 1000 1518"
nsizes=$(wc -w <<<"$sizes")
lab_default_up

lab_step "tcpdump -e on hostB, tagged frames from hostA (sizes: $sizes)"
cap=$LAB_DIR/vlan.txt
lab_tcpdump hB "$cap" -e -i eth0 -c $((nsizes * 2)) 'vlan 42 and ether proto 0x88b5'
tpid=$LAB_LAST_PID
# Once to hostB's MAC (unicast, learned by the bridges), once broadcast.
lab_in hA timeout 20 "$LAB_PY" "$LAB_LIB/vlan_send.py" eth0 "$LAB_MAC_HB" 42 $sizes ||
	lab_fail "vlan_send (unicast) failed"
lab_in hA timeout 20 "$LAB_PY" "$LAB_LIB/vlan_send.py" eth0 ff:ff:ff:ff:ff:ff 42 $sizes ||
	lab_fail "vlan_send (broadcast) failed"
seen() { grep -E '^[0-9]{2}:' "$cap" | cut -c17-130 | sed 's/^/    /'; }
lab_wait_exit "$tpid" 100 ||
	lab_fail "hostB saw fewer than $((nsizes * 2)) tagged frames:
$(seen)"
seen
n=$(grep -c 'vlan 42' "$cap")
[ "$n" -eq $((nsizes * 2)) ] || lab_fail "frames with 'vlan 42' on hostB: $n"
for s in $sizes; do
	grep -q "length $s:" "$cap" ||
		lab_fail "no $s-byte tagged frame reached hostB"
done
grep -qi "$LAB_MAC_HA > $LAB_MAC_HB" "$cap" ||
	lab_fail "unicast tagged frame to hostB missing"

lab_finish
echo "PASS: 05-vlan"
