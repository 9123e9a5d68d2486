#!/usr/bin/env bash
# 02-arp-broadcast: ARP resolves across the tunnel in both directions, and
# broadcasts (ICMP to 198.19.0.255, UDP to the broadcast MAC) reach the
# other office.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up

lab_step "ARP: flush both neighbour caches, resolve across"
lab_in hA ip neigh flush dev eth0
lab_in hB ip neigh flush dev eth0
lab_ping hA "$LAB_LAN4_B" 1 || lab_fail "hostA -> hostB after flush"
got=$(lab_in hA ip neigh show "$LAB_LAN4_B" dev eth0)
echo "$got" | grep -qi "lladdr $LAB_MAC_HB" ||
	lab_fail "hostA did not learn hostB's MAC: '$got'"
lab_in hB ip neigh flush dev eth0
lab_in hA ip neigh flush dev eth0
lab_ping hB "$LAB_LAN4_A" 1 || lab_fail "hostB -> hostA after flush"
got=$(lab_in hB ip neigh show "$LAB_LAN4_A" dev eth0)
echo "$got" | grep -qi "lladdr $LAB_MAC_HA" ||
	lab_fail "hostB did not learn hostA's MAC: '$got'"

lab_step "broadcast ping to 198.19.0.255 from hostA answered by hostB"
lab_sysctl hB net.ipv4.icmp_echo_ignore_broadcasts=0
out=$(lab_in hA ping -n -b -c 3 -i 0.2 -W 2 -w 6 198.19.0.255 2>&1)
echo "$out" | grep -q "from $LAB_LAN4_B" ||
	lab_fail "no broadcast echo reply from hostB: $out"

lab_step "UDP broadcast from hostA seen on hostB with ff:ff:ff:ff:ff:ff"
cap=$LAB_DIR/bcast.txt
lab_tcpdump hB "$cap" -e -i eth0 -c 3 'ether broadcast and udp port 9999'
tpid=$LAB_LAST_PID
for i in 1 2 3; do
	echo "tapbridge broadcast $i" | lab_in hA timeout 5 socat -u - \
		UDP4-DATAGRAM:198.19.0.255:9999,broadcast ||
		lab_fail "socat broadcast send failed"
done
lab_wait_exit "$tpid" 100 || lab_fail "hostB saw fewer than 3 broadcasts: $(cat "$cap")"
n=$(grep -c 'ff:ff:ff:ff:ff:ff' "$cap")
[ "$n" -ge 3 ] || lab_fail "broadcast frames on hostB: $n of 3"
grep -qi "$LAB_MAC_HA > ff:ff:ff:ff:ff:ff" "$cap" ||
	lab_fail "broadcast source MAC is not hostA's: $(cat "$cap")"

lab_finish
echo "PASS: 02-arp-broadcast"
