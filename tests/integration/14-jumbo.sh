#!/usr/bin/env bash
# 14-jumbo: the operator raises the office LANs' MTU to 9000 before starting
# tapbridge; the TAP follows the LAN port, and 9000-byte packets (pings, a
# TCP transfer, 8000-byte UDP datagrams sent 8 at a time with UDP GSO)
# cross a 1500-byte WAN in tunnel fragments, with no IP fragment on the
# WAN.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_up
for x in gwA:lan0 hA:eth0 gwB:lan0 hB:eth0; do
	IFS=: read -r ns ifc <<<"$x"
	ip -n "$LAB_P-$ns" link set "$ifc" mtu 9000 || lab_fail "mtu 9000 on $ns"
done
lab_wire_segments
lab_keys
lab_conf
lab_start A
lab_start B
lab_wait_link

for gw in gwA gwB; do
	m=$(ip -n "$LAB_P-$gw" -o link show tap0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	[ "$m" = 9000 ] || lab_fail "$gw: tap0 has mtu '$m', not the LAN port's 9000"
done
lab_say "tap0 follows lan0: mtu 9000 on both gateways"

pcap=$LAB_DIR/wan.pcap
lab_tcpdump wan "$LAB_DIR/wan.out" -i br0 -s 96 -U -w "$pcap" udp
wanpid=$LAB_LAST_PID
lab_ping hA "$LAB_LAN4_B" 5 -M do -s 8972 ||
	lab_fail "ping -M do -s 8972 hostA -> hostB lost echoes"
lab_ping hB "$LAB_LAN4_A" 5 -M do -s 8972 ||
	lab_fail "ping -M do -s 8972 hostB -> hostA lost echoes"
lab_say "9000-byte pings both ways: 5/5"

src=$LAB_DIR/send.bin
head -c $((4 * 1024 * 1024)) /dev/urandom >"$src"
lab_tcp_transfer "$src" "$LAB_DIR/recv.bin" 5001 60
lab_say "4 MB over TCP with jumbo MTU: SHA-256 matches"

# UDP GSO with jumbo datagrams: the super-frame's datagrams do not fit a
# tunnel datagram, so each is sent in tunnel fragments.
lab_udp_burst "8 per GSO send" "$LAB_LAN4_B" 5002 40 8000 8
lab_say "40/40 UDP datagrams of 8000 bytes, 8 per GSO send: intact"

lab_reap "$wanpid" 20
frags=$(tcpdump -nr "$pcap" '(ip[6:2] & 0x3fff) != 0' 2>/dev/null | wc -l)
big=$(tcpdump -nr "$pcap" 'greater 1515' 2>/dev/null | wc -l)
[ "$frags" -eq 0 ] || lab_fail "$frags IP fragments on the WAN"
[ "$big" -eq 0 ] || lab_fail "$big datagrams above the WAN MTU"
lab_get n A peer.tx_fragmented
[ "$n" -gt 0 ] || lab_fail "A sent no frame in tunnel fragments"
lab_say "WAN: no IP fragment, none above 1500; $n frames sent in pieces by A"

lab_finish
echo "PASS: 14-jumbo"
