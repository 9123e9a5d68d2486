#!/usr/bin/env bash
# 23-nat-rebinding: both daemons listen on the port only ("listen 7000").
# While a ping stream runs hostA -> hostB, gwA's WAN address changes from
# .1 to .11 (what a NAT rebinding looks like to gwB): gwB's endpoint for
# gwA follows to 198.18.0.11:7000 within 5 s, the ping stream loses at
# most a few echoes and the session carries over (no new handshake).  Then
# mallory takes the abandoned address .1 and, from
# .1:7000, sends gwB forged data datagrams (gwB's real receiver index, a
# wrong key) and real handshakes from a daemon holding a stranger's key:
# gwB counts and ignores them, logs the unknown key once, and its endpoint
# stays at .11.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

NEW_A=198.18.0.11

lab_up
lab_keys
lab_conf
hostile_conf_any_listen
lab_start A
lab_start B
lab_wait_link
lab_wire_segments
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$LAB_WAN4_A:$LAB_PORT" ] || lab_fail "gwB's endpoint is '$ep' at start"

lab_step "ping stream; gwA's WAN address moves from $LAB_WAN4_A to $NEW_A"
hostile_ping_start 300 0.05
sleep 2
# Counted just before the move, 2 s into the stream (a handshake of the
# start still settling is not the move's).  Nothing may need a new one:
# the endpoint moves with the first data message from the new address,
# the session stays usable, and the rekey (rekey-interval 120, lab_conf's
# default) is not due before the end of this step (some 20 s).
lab_get hs0 B peer.handshakes
lab_sysctl gwA net.ipv4.conf.wan0.promote_secondaries=1
lab_in gwA ip addr add "$NEW_A/24" dev wan0 ||
	lab_fail "cannot add $NEW_A to gwA"
lab_in gwA ip addr del "$LAB_WAN4_A/24" dev wan0 ||
	lab_fail "cannot remove $LAB_WAN4_A from gwA"
t0=$(date +%s%N)
for ((i = 0; i < 50; i++)); do
	ep=$(lab_stat B peer.endpoint)
	[ "$ep" = "$NEW_A:$LAB_PORT" ] && break
	sleep 0.1
	[ $(($(date +%s%N) - t0)) -lt 5000000000 ] || break
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ep" = "$NEW_A:$LAB_PORT" ] ||
	lab_fail "gwB's endpoint is '$ep' ${ms} ms after the address change, want $NEW_A:$LAB_PORT"
lab_say "gwB's endpoint followed to $ep within ${ms} ms"
hostile_ping_wait
lost=$((HOSTILE_PING_TX - HOSTILE_PING_RX))
[ "$lost" -le 5 ] || lab_fail "ping lost $lost echoes across the rebinding (limit 5)"
lab_get hs1 B peer.handshakes
lab_say "gwB handshakes $hs0 -> $hs1"
[ "$hs1" -eq "$hs0" ] ||
	lab_fail "the session did not carry over: gwB made $((hs1 - hs0)) new handshake(s) across the rebinding"

lab_step "mallory takes the old address $LAB_WAN4_A"
lab_in mal ip addr add "$LAB_WAN4_A/24" dev wan0 ||
	lab_fail "cannot give mallory $LAB_WAN4_A"

# Learn gwB's receiver index from a data datagram gwA sends it.
lab_bg wan "$LAB_DIR/tcpdump-data.out" tcpdump -Z root -n -i wA -c 5 \
	-w "$LAB_DIR/data.pcap" \
	"udp and src host $NEW_A and dst host $LAB_WAN4_B and udp[8] = 4 and greater 100"
tpid=$LAB_LAST_PID
lab_wait_file "$LAB_DIR/tcpdump-data.out" 'listening on' 50 ||
	lab_fail "tcpdump did not start"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "ping hostA -> hostB after the rebinding"
lab_wait_exit "$tpid" 100 >/dev/null ||
	lab_fail "no data datagram gwA -> gwB captured"

lab_get auth0 B peer.drops.auth
lab_get hsd0 B drops.handshake
lab_step "mallory, from $LAB_WAN4_A:$LAB_PORT, sends forged data under gwB's index"
lab_in mal timeout 30 "$LAB_PY" "$LAB_LIB/forge.py" "$LAB_DIR/data.pcap" \
	"$LAB_WAN4_B" "$LAB_PORT" "$LAB_WAN4_A" 4 >"$LAB_DIR/forge.out" 2>&1 ||
	lab_fail "forge.py failed: $(cat "$LAB_DIR/forge.out")"
forged=$(hostile_sent "$LAB_DIR/forge.out" forged)
sleep 0.3
lab_get auth1 B peer.drops.auth
lab_say "gwB peer.drops.auth +$((auth1 - auth0)) for $forged forged datagrams"
[ $((auth1 - auth0)) -ge "$forged" ] ||
	lab_fail "gwB counted $((auth1 - auth0)) auth drops for $forged forgeries"
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$NEW_A:$LAB_PORT" ] ||
	lab_fail "forged data moved gwB's endpoint to '$ep'"

lab_step "a daemon with a stranger's key at $LAB_WAN4_A:$LAB_PORT handshakes with gwB"
# The stranger copies gwA's configuration (peer: gwB, with gwB's real
# public key) with its own private key, in mallory's namespace.
sed -e "s|^private-key .*|private-key $LAB_DIR/stranger.key|" \
	-e "s|^control-socket .*|control-socket $LAB_DIR/mal.sock|" \
	-e "s|^listen .*|listen $LAB_WAN4_A:$LAB_PORT|" \
	"$LAB_DIR/gwA.conf" >"$LAB_DIR/mal.conf"
chmod 600 "$LAB_DIR/mal.conf"
lab_in mal ip link add lan0 type veth peer name lanx ||
	lab_fail "cannot create mallory's LAN"
lab_in mal ip addr add 198.19.0.99/24 dev lanx
lab_in mal ip link set lanx up
lab_in mal ip link set lan0 up
lab_bg mal "$LAB_DIR/mal.log" "$TAPBRIDGE" -f -v -c "$LAB_DIR/mal.conf"
spid=$LAB_LAST_PID
lab_wait_file "$LAB_DIR/mal.log" 'running' 100 ||
	lab_fail "the stranger's daemon did not start: $(cat "$LAB_DIR/mal.log")"
# A frame on its LAN makes it initiate; it retries every 2 s.
lab_in mal ping -q -n -c 3 -i 1 -W 1 -w 4 -I lanx 198.19.0.2 >/dev/null 2>&1 &&
	lab_fail "mallory's LAN reached hostB"
pat='handshake from.*unknown public-key'
lab_wait_file "$LAB_DIR/gwB.log" "$pat" 50 ||
	lab_fail "gwB logged no 'unknown public-key' line"
grep -E "$pat" "$LAB_DIR/gwB.log" | sed 's/^/    gwB: /'
lab_reap "$spid" 50 || lab_fail "the stranger's daemon needed SIGKILL"
lab_get hsd1 B drops.handshake
lab_say "gwB drops.handshake +$((hsd1 - hsd0))"
[ $((hsd1 - hsd0)) -ge 1 ] || lab_fail "gwB counted no rejected handshake"
[ "$(grep -cE "$pat" "$LAB_DIR/gwB.log")" -eq 1 ] ||
	lab_fail "gwB logged the unknown key more than once"
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$NEW_A:$LAB_PORT" ] ||
	lab_fail "the stranger moved gwB's endpoint to '$ep'"
lab_get hs2 B peer.handshakes
[ "$hs2" -eq "$hs1" ] || lab_fail "gwB completed a handshake with the stranger"
lab_say "gwB's endpoint stays $ep"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "ping hostA -> hostB after the attack"

lab_finish
echo "PASS: 23-nat-rebinding"
