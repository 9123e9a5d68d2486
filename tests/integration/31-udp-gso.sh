#!/usr/bin/env bash
# 31-udp-gso: UDP super-packets cross whole.  hostA sends 1400-byte
# datagrams 40 at a time with UDP GSO (UDP_SEGMENT), over IPv4 and IPv6;
# every datagram reaches hostB intact, each as its own 1400-byte datagram.
# On a kernel with TAP USO (Linux 6.2+) gateway A reads them as super-frames
# (tap0 counts far fewer packets than datagrams; tap_supers counts every
# send), gateway B writes them back as super-frames (gro_supers grows), and
# neither refuses a frame; a capture on the WAN shows no IP fragment and no
# datagram above 1500 bytes.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

N=410		# not a multiple of 40: the last send is shorter
SIZE=1400
GSO=40

lab_default_up
lab_wire_segments

uso=1
if grep -q 'no UDP segmentation offload' "$LAB_DIR/gwA.log"; then
	uso=0
	lab_say "********************************************************"
	lab_say "this kernel has no TAP USO (Linux < 6.2): only delivery is"
	lab_say "checked, not that super-frames were read and written"
	lab_say "********************************************************"
fi

pcap=$LAB_DIR/wan.pcap
lab_tcpdump wan "$LAB_DIR/wan.out" -i br0 -s 96 -U -w "$pcap" udp

port=6100
for to in "$LAB_LAN4_B" "$LAB_LAN6_B"; do
	port=$((port + 1))
	lab_step "$N datagrams of $SIZE bytes to $to, $GSO per send (UDP GSO)"
	lab_get bad_a A tap_bad_frames
	lab_get cut_a A tap_supers
	lab_get supers_b B gro_supers
	tx0=$(lab_tap_tx gwA) || lab_fail "cannot read tap0's counters on gwA"
	lab_udp_burst "$to" "$to" "$port" "$N" "$SIZE" "$GSO"
	lab_say "$N/$N datagrams intact"

	tx1=$(lab_tap_tx gwA) || lab_fail "cannot read tap0's counters on gwA"
	lab_get bad_a1 A tap_bad_frames
	lab_get cut_a1 A tap_supers
	lab_get supers_b1 B gro_supers
	[ "$bad_a1" -eq "$bad_a" ] ||
		lab_fail "gwA refused $((bad_a1 - bad_a)) frames from the TAP"
	lab_say "gwA: tap0 handed over $((tx1 - tx0)) packets, $((cut_a1 - cut_a)) super-frames cut; gwB wrote $((supers_b1 - supers_b)) super-frames"
	[ "$uso" = 1 ] || continue
	# 11 super-frames, plus whatever else crossed (ND, keepalive-free).
	((tx1 - tx0 < N / 4)) ||
		lab_fail "gwA's tap0 handed over $((tx1 - tx0)) packets for $N datagrams: not read as super-frames"
	((cut_a1 - cut_a >= (N + GSO - 1) / GSO)) ||
		lab_fail "gwA cut $((cut_a1 - cut_a)) super-frames, not the $(((N + GSO - 1) / GSO)) sends"
	((supers_b1 > supers_b)) ||
		lab_fail "gwB wrote no UDP super-frame"
done

sleep 0.5
total=$(tcpdump -nr "$pcap" 2>/dev/null | wc -l)
frags=$(tcpdump -nr "$pcap" '(ip[6:2] & 0x3fff) != 0 or (ip6 and ip6[6] == 44)' 2>/dev/null | wc -l)
big=$(tcpdump -nr "$pcap" "greater $((1500 + 14 + 1))" 2>/dev/null | wc -l)
((total >= 2 * N)) || lab_fail "WAN capture: only $total datagrams"
[ "$frags" -eq 0 ] || lab_fail "$frags IP fragments on the WAN"
[ "$big" -eq 0 ] || lab_fail "$big datagrams above 1500 bytes on the WAN"
lab_say "WAN capture: $total datagrams, no IP fragment, none above 1500"

lab_finish
echo "PASS: 31-udp-gso"
