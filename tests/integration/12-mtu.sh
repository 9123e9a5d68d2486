#!/usr/bin/env bash
# 12-mtu: full-size frames across WAN MTUs of 1500, 1420 and 1280.  For each:
# `ping -M do -s 1472` from hostA to hostB succeeds; 1472-byte UDP datagrams
# arrive intact; a TCP transfer matches its SHA-256; the TCP SYN seen at
# hostB carries the clamped MSS; a capture on the WAN shows no IP fragment
# and no datagram above the WAN MTU, and the TCP transfer's segments in
# datagrams of the size sealed fastest (1312 payload bytes, 1369-byte IPv4
# packets, on x86) where that costs at most 1/8 of the segment (1500,
# 1420), full-size ones where it would cost more (1280).  Then, at 1500 with
# clamp-mss turned off by a reload, hostB sees the unclamped MSS and gwA
# still cuts the TCP super-frames to fit the path: the transfer crosses
# without tunnel fragments (bar a few frames that reach the TAP singly).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up
lab_wire_segments

# set_wan_mtu M: every link of the WAN switch, both ends.
set_wan_mtu()
{
	local m=$1 x gw
	for x in A:gwA B:gwB M:mal; do
		IFS=: read -r x gw <<<"$x"
		ip -n "$LAB_P-wan" link set "w$x" mtu "$m"
		ip -n "$LAB_P-$gw" link set wan0 mtu "$m"
	done
}

# wait_pmtu GW M: poll until the daemon's path MTU to its peer is M.
wait_pmtu()
{
	local gw=$1 m=$2 v i
	for ((i = 0; i < 100; i++)); do
		lab_get v "$gw" peer.path_mtu
		[ "$v" = "$m" ] && return 0
		sleep 0.1
	done
	lab_fail "$gw: path MTU is $v, not $m, after 10 s"
}

src=$LAB_DIR/send.bin
head -c $((8 * 1024 * 1024)) /dev/urandom >"$src"
port=5100

for mtu in 1500 1420 1280; do
	lab_step "WAN MTU $mtu"
	set_wan_mtu "$mtu"
	wait_pmtu A "$mtu"
	wait_pmtu B "$mtu"
	pcap=$LAB_DIR/wan-$mtu.pcap
	lab_tcpdump wan "$LAB_DIR/wan-$mtu.out" -i br0 -s 96 -U -w "$pcap" udp
	wanpid=$LAB_LAST_PID
	syn=$LAB_DIR/syn-$mtu.txt
	lab_tcpdump hB "$syn" -i eth0 -v "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0"
	synpid=$LAB_LAST_PID

	lab_ping hA "$LAB_LAN4_B" 5 -M do -s 1472 ||
		lab_fail "MTU $mtu: ping -M do -s 1472 hostA -> hostB lost echoes"
	lab_say "ping -M do -s 1472: 5/5"

	port=$((port + 1))
	lab_udp_burst "MTU $mtu" "$LAB_LAN4_B" "$port" 50 1472
	lab_say "50/50 UDP datagrams of 1472 bytes intact"

	port=$((port + 1))
	lab_tcp_transfer "$src" "$LAB_DIR/recv-$mtu.bin" "$port" 60 "MTU $mtu"
	lab_say "8 MB over TCP: SHA-256 matches"

	want=$((mtu - 28 - 30 - 14 - 40))
	lab_wait_file "$syn" "mss $want" 30 ||
		lab_fail "MTU $mtu: SYN at hostB lacks 'mss $want': $(grep -o 'mss [0-9]*' "$syn")"
	lab_say "SYN at hostB carries mss $want"
	lab_reap "$synpid" 20

	lab_reap "$wanpid" 20
	total=$(tcpdump -nr "$pcap" 2>/dev/null | wc -l)
	frags=$(tcpdump -nr "$pcap" '(ip[6:2] & 0x3fff) != 0 or (ip6 and ip6[6] == 44)' 2>/dev/null | wc -l)
	big=$(tcpdump -nr "$pcap" "greater $((mtu + 14 + 1))" 2>/dev/null | wc -l)
	[ "$total" -gt 5000 ] || lab_fail "MTU $mtu: capture saw only $total datagrams"
	[ "$frags" -eq 0 ] || lab_fail "MTU $mtu: $frags IP fragments on the WAN"
	[ "$big" -eq 0 ] || lab_fail "MTU $mtu: $big datagrams above the WAN MTU"
	lab_say "WAN capture: $total datagrams, no IP fragment, none above $mtu"

	# The 8 MB cross as about 6700 TCP segments, nearly all cut from
	# super-frames by gwA; count the datagrams of the expected size.
	want=$mtu
	case $(uname -m) in
	x86_64 | i?86) [ "$mtu" -gt 1280 ] && want=1369 ;;
	esac
	n=$(tcpdump -nr "$pcap" "ip[2:2] == $want" 2>/dev/null | wc -l)
	[ "$n" -ge 4000 ] ||
		lab_fail "MTU $mtu: only $n datagrams of $want bytes (the TCP segments' size)"
	lab_say "TCP segments in $n datagrams of $want bytes"
done

lab_step "WAN MTU 1500, clamp-mss off"
set_wan_mtu 1500
wait_pmtu A 1500
wait_pmtu B 1500
for gw in gwA gwB; do
	sed -i '1a clamp-mss no' "$LAB_DIR/$gw.conf"
	n=$(grep -c 'configuration reloaded' "$LAB_DIR/$gw.log")
	kill -HUP "$(lab_pid "$gw")"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'configuration reloaded' "$LAB_DIR/$gw.log")" -gt "$n" ] &&
			break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || lab_fail "$gw: no reload logged after SIGHUP"
done
syn=$LAB_DIR/syn-noclamp.txt
lab_tcpdump hB "$syn" -i eth0 -v "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0"
synpid=$LAB_LAST_PID
lab_get frag0 A peer.tx_fragmented
lab_tcp_transfer "$src" "$LAB_DIR/recv-noclamp.bin" $((port + 1)) 60 "no clamp"
lab_get frag1 A peer.tx_fragmented
lab_wait_file "$syn" "mss 1460" 30 ||
	lab_fail "clamp-mss no: SYN at hostB lacks 'mss 1460': $(grep -o 'mss [0-9]*' "$syn")"
lab_reap "$synpid" 20
# 8 MB are about 6700 segments: 1% of them may have come singly.
[ $((frag1 - frag0)) -le 67 ] ||
	lab_fail "clamp-mss no: $((frag1 - frag0)) frames sent in tunnel fragments"
lab_say "8 MB over TCP with mss 1460: SHA-256 matches, $((frag1 - frag0)) frames fragmented in the tunnel"

lab_finish
echo "PASS: 12-mtu"
