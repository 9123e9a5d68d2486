#!/usr/bin/env bash
# 03-ipv6: neighbour discovery and ping6 both ways over fd00:0:0:2::/64,
# and 4 MB over TCP/IPv6 hostA -> hostB whose SHA-256 matches (cut by gwA
# from IPv6 TCP super-frames), first with an IPv4 WAN, then again with the
# tunnel itself over IPv6 (listen and endpoints in fd00:0:0:1::/64).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

check_v6()
{
	lab_in hA ip -6 neigh flush dev eth0
	lab_in hB ip -6 neigh flush dev eth0
	lab_wait_link hA "$LAB_LAN6_B"
	lab_ping hA "$LAB_LAN6_B" 5 || lab_fail "hostA -> hostB ping6 lost echoes"
	lab_ping hB "$LAB_LAN6_A" 5 || lab_fail "hostB -> hostA ping6 lost echoes"
	got=$(lab_in hA ip -6 neigh show "$LAB_LAN6_B" dev eth0)
	echo "$got" | grep -qi "lladdr $LAB_MAC_HB" ||
		lab_fail "ND: hostA did not learn hostB's MAC: '$got'"
	got=$(lab_in hB ip -6 neigh show "$LAB_LAN6_A" dev eth0)
	echo "$got" | grep -qi "lladdr $LAB_MAC_HA" ||
		lab_fail "ND: hostB did not learn hostA's MAC: '$got'"
	lab_ping hA "$LAB_LAN6_B" 3 -s 1452 -M "do" ||
		lab_fail "hostA -> hostB: full-size IPv6 frames lost"
	tcp6_transfer
}

src=
port=5300
# tcp6_transfer: 4 MB from hostA to hostB over TCP/IPv6, SHA-256 compared;
# with tapbridge, gwA must have cut IPv6 TCP super-frames on the way.
tcp6_transfer()
{
	local cut0 cut1
	[ -n "$src" ] || {
		src=$LAB_DIR/send6.bin
		head -c $((4 * 1024 * 1024)) /dev/urandom >"$src"
	}
	port=$((port + 1))
	[ "$LAB_TUNNEL" != tapbridge ] || lab_get cut0 A tap_supers
	lab_tcp_transfer "$src" "$LAB_DIR/recv6-$port.bin" "$port" 30 \
		"TCP/IPv6" "$LAB_LAN6_B"
	if [ "$LAB_TUNNEL" = tapbridge ]; then
		lab_get cut1 A tap_supers
		[ "$cut1" -gt "$cut0" ] ||
			lab_fail "TCP/IPv6: gwA cut no super-frame ($cut0 -> $cut1)"
	fi
	lab_say "4 MB over TCP/IPv6: SHA-256 matches"
}

lab_up
lab_keys
lab_conf
lab_start A
lab_start B
lab_step "IPv6 on the LAN, IPv4 WAN: ND, ping6 both ways, TCP"
check_v6
lab_stop A
lab_stop B

lab_step "IPv6 on the LAN, IPv6 WAN: ND, ping6 both ways, TCP"
lab_conf -6
lab_start A
lab_start B
check_v6
if [ "$LAB_TUNNEL" = tapbridge ]; then
	ep=$(lab_stat A peer.endpoint)
	[ "$ep" = "[$LAB_WAN6_B]:$LAB_PORT" ] ||
		lab_fail "gwA's peer endpoint is '$ep', want [$LAB_WAN6_B]:$LAB_PORT"
fi

lab_finish
echo "PASS: 03-ipv6"
