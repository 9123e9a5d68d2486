#!/usr/bin/env bash
# 04-dhcp: dnsmasq on hostB leases 198.19.0.100-150; a DHCP client on a
# macvlan of hostA (a second MAC) gets a lease across the tunnel, applies it,
# and the leased address answers pings from hostB.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up

lab_step "dnsmasq on hostB"
lab_dhcp_server hB

lab_step "dhclient on hostA's macvlan mv0"
lab_dhcp_client hA
lease=$LAB_LEASE
lab_say "leased $lease"
IFS=. read -r o1 o2 o3 o4 <<<"$lease"
[ "$o1.$o2.$o3" = 198.19.0 ] && [ "$o4" -ge 100 ] && [ "$o4" -le 150 ] ||
	lab_fail "lease $lease outside 198.19.0.100-150"
lab_in hA ip -4 -o addr show dev mv0 | grep -q "inet $lease/24" ||
	lab_fail "lease $lease not applied to mv0"
grep -q " $lease " "$LAB_DIR/dnsmasq.leases" ||
	lab_fail "dnsmasq has no lease for $lease"
mvmac=$(lab_in hA cat /sys/class/net/mv0/address)
grep -qi "$mvmac" "$LAB_DIR/dnsmasq.leases" ||
	lab_fail "dnsmasq's lease is not for mv0's MAC $mvmac"

lab_step "hostB pings the leased address"
lab_ping hB "$lease" 3 || lab_fail "hostB cannot ping the leased $lease"

lab_finish
echo "PASS: 04-dhcp"
