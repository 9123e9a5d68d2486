#!/usr/bin/env bash
# 24-netem: a bad WAN between the gateways -- 5% loss, 20 ms +- 10 ms delay
# (so datagrams overtake each other) and 1% duplication, in each direction
# -- and a TCP transfer hostA -> hostB still completes with the right
# SHA-256 (the wait for it is bounded: 120 s; its duration is only
# reported).  The transfer is 20 MB when its sender has BBR, 4 MB with a
# loss-based congestion control (reno, cubic), which needs over 2 minutes
# for 20 MB at 5% loss and 40 ms.  The duplicates the WAN makes are
# rejected by the receivers' replay windows, and nothing fails
# authentication.
#
# The test kernel has no sch_netem, so the WAN switch's two gateway ports
# are taken out of its bridge and joined by lib/wanem.py, a userspace netem
# relaying frames between them over AF_PACKET sockets.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

LOSS=${LOSS:-5}
DELAY=${DELAY:-20}
JITTER=${JITTER:-10}
DUP=${DUP:-1}

lab_default_up
# Frames as on a real wire (no GSO super-packets), for the relay to impair
# one datagram at a time.
lab_wire_segments

lab_step "WAN: ${LOSS}% loss, ${DELAY} ms +- ${JITTER} ms delay, ${DUP}% duplication"
for p in wA wB; do
	lab_in wan ip link set "$p" nomaster || lab_fail "cannot unbridge $p"
	lab_in wan ethtool -K "$p" gro off >/dev/null 2>&1
done
lab_bg wan "$LAB_DIR/wanem.out" "$LAB_PY" "$LAB_LIB/wanem.py" wA wB \
	"$LOSS" "$DELAY" "$JITTER" "$DUP" 170
wpid=$LAB_LAST_PID
lab_wait_file "$LAB_DIR/wanem.out" '^ready' 100 ||
	lab_fail "wanem.py did not start: $(cat "$LAB_DIR/wanem.out")"
rtt=$(lab_in hA ping -n -c 10 -i 0.1 -W 2 -w 10 "$LAB_LAN4_B" | tail -n 1)
lab_say "hostA -> hostB: $rtt"
lab_get auth0 B peer.drops.auth
lab_get rep0 B peer.drops.replay

# The sender asks for BBR (TCP_CC overrides) only if the kernel has it
# already: asking root's socket for a congestion control the kernel lacks
# makes it load the module (tcp_bbr) on the host, for good.  Otherwise the
# sender keeps hostA's default.  Whatever it gets, 4 MB still make some
# 3,000 data datagrams, so the WAN drops and duplicates in each direction
# (1% of them: about 30 duplicates) for the checks below.
cc=${TCP_CC:-bbr}
if grep -qw -- "$cc" /proc/sys/net/ipv4/tcp_available_congestion_control; then
	have=$cc
else
	lab_say "NOTE: congestion control '$cc' is not in the kernel (have: $(cat /proc/sys/net/ipv4/tcp_available_congestion_control)); not loading its module on the host: the sender keeps the default"
	cc=
	have=$(lab_in hA sysctl -n net.ipv4.tcp_congestion_control)
fi
if [ "$have" = bbr ]; then mb=20; else mb=4; fi
[ "$mb" = 20 ] ||
	lab_say "NOTE: the sender has '$have', not BBR: $mb MB instead of 20"

lab_step "$mb MB hostA -> hostB across the bad WAN ($have; wait bounded at 120 s)"
HOSTILE_CC=$cc hostile_transfer_start "$mb" 0
hostile_transfer_check 1200

kill -TERM "$wpid" 2>/dev/null
lab_wait_exit "$wpid" 50 >/dev/null
grep -v '^ready' "$LAB_DIR/wanem.out" | sed 's/^/    wanem: /'
for d in wA_to_wB wB_to_wA; do
	for k in dropped duplicated sent; do
		n=$(hostile_sent "$LAB_DIR/wanem.out" "${d}_$k")
		[ "${n:-0}" -gt 0 ] || lab_fail "wanem: no frame $k $d: the WAN was not impaired"
	done
done
n=$(hostile_sent "$LAB_DIR/wanem.out" wA_to_wB_oversize)
[ "${n:-0}" -eq 0 ] || lab_fail "wanem saw $n frames larger than the MTU"
lab_get auth1 B peer.drops.auth
lab_get rep1 B peer.drops.replay
lab_say "gwB: replay drops +$((rep1 - rep0)) (the WAN's duplicates), auth drops +$((auth1 - auth0))"
[ "$auth1" -eq "$auth0" ] || lab_fail "datagrams failed authentication on gwB"
[ $((rep1 - rep0)) -gt 0 ] || lab_fail "gwB rejected none of the WAN's duplicates as replays"
dups=$(hostile_sent "$LAB_DIR/wanem.out" wA_to_wB_duplicated)
[ $((rep1 - rep0)) -le "$dups" ] ||
	lab_fail "gwB rejected $((rep1 - rep0)) datagrams as replays but the WAN duplicated only $dups: reordered datagrams were refused"

lab_finish
echo "PASS: 24-netem"
