#!/usr/bin/env bash
#
# demo.sh [BIN]: show tapbridge joining two offices into one LAN, on this
# machine, with network namespaces (scripts/lab.sh) and two real daemons.
# Needs root.  Everything it creates is removed when it ends.
set -uo pipefail

export LAB_TUNNEL=tapbridge
[ -n "${1:-}" ] && TAPBRIDGE=$1
. "$(dirname "$0")/lab.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it builds network namespaces); try: sudo make demo" >&2
	exit 1
fi
[ -x "$TAPBRIDGE" ] || { echo "demo: no daemon at $TAPBRIDGE (run make)" >&2; exit 1; }

show() { sed 's/^/    /'; }

cat <<MSG
tapbridge demo: two offices, one Ethernet segment.

  hostA 198.19.0.1 -- gwA ==(UDP, sealed, over the WAN 198.18.0.0/24)== gwB -- hostB 198.19.0.2

MSG

lab_step "1. build the lab: namespaces for WAN, two gateways, two hosts"
lab_up
for ns in gwA gwB hA hB; do
	printf '    %-4s %s\n' "$ns" "$(lab_in "$ns" ip -br -4 addr show | grep -v '^lo' | tr -s ' ' | tr '\n' ' ')"
done

lab_step "2. generate a key pair per gateway (tapbridge genkey | tapbridge pubkey)"
lab_keys
echo "    gwA public key: $(cat "$LAB_DIR/gwA.pub")"
echo "    gwB public key: $(cat "$LAB_DIR/gwB.pub")"

lab_step "3. write the configurations (gwA's shown) and check them (tapbridge -t)"
lab_conf
grep -v '^#' "$LAB_DIR/gwA.conf" | show
for g in gwA gwB; do
	printf '    %s: ' "$g"
	"$TAPBRIDGE" -t -c "$LAB_DIR/$g.conf" 2>&1 || lab_fail "$g.conf rejected"
done

lab_step "4. start the daemons (they create tap0 and br0 and enslave lan0)"
lab_start A
lab_start B
echo "    gwA pid $LAB_PID_A, gwB pid $LAB_PID_B"
lab_in gwA bridge link show | show

lab_step "5. hostA pings hostB across the tunnel"
lab_wait_link
lab_in hA ping -n -c 4 -i 0.2 -w 5 "$LAB_LAN4_B" | show ||
	lab_fail "ping failed"

lab_step "6. DHCP across the tunnel: dnsmasq on hostB, a client on hostA"
lab_dhcp_server hB
lab_dhcp_client hA
echo "    hostA's mv0 ($(lab_in hA cat /sys/class/net/mv0/address)) leased $LAB_LEASE from hostB's dnsmasq:"
grep -E 'DHCPACK' "$LAB_DIR/dnsmasq.log" | sed 's/.*DHCPACK/      DHCPACK/' | head -n 3
lab_in hA ip -br -4 addr show dev mv0 | show

lab_step "7. tapbridge status on each gateway"
for g in A B; do
	echo "    -- gw$g --"
	lab_status "$g" text | show || lab_fail "status of gw$g failed"
done

lab_step "8. stop the daemons (SIGTERM) and tear the lab down"
lab_stop A
lab_stop B
lab_assert_released A
lab_assert_released B
lab_in gwA ip -br link show | show
lab_down
lab_assert_clean
echo
echo "demo finished"
