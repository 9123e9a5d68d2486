#!/usr/bin/env bash
# 25-outage: with rekey-interval 10, both gateways' WAN links go down for
# 30 s while hostA keeps trying to reach hostB (a bounded ping every 0.2 s,
# which must all fail); the rekey falls due during the outage and cannot
# happen: no handshake completes on either side while the links are down
# (one needs a datagram from the other side).  When the links come back,
# with no operator action, hostA reaches hostB again within 5 s and a new
# handshake completes within 5 s.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

OUTAGE=${OUTAGE:-30}

lab_default_up -r 10
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "ping hostA -> hostB before the outage"

lab_step "WAN down for $OUTAGE s; hostA keeps pinging hostB"
lab_in gwA ip link set wan0 down || lab_fail "cannot take gwA's wan0 down"
lab_in gwB ip link set wan0 down || lab_fail "cannot take gwB's wan0 down"
t_down=$SECONDS
# Counted once both links are down: from now on no datagram crosses, so no
# handshake can complete until they come back (a session's first one, or
# one completing just before, is not the outage's).
lab_get hsA0 A peer.handshakes
lab_get hsB0 B peer.handshakes
# Bounded by its deadline (-w): without replies ping runs until then.
lab_bg hA "$LAB_DIR/ping.out" ping -n -c $((OUTAGE * 5)) -i 0.2 -W 1 \
	-w $((OUTAGE - 2)) "$LAB_LAN4_B"
HOSTILE_PING_PID=$LAB_LAST_PID
hostile_ping_wait
[ "$HOSTILE_PING_RX" -eq 0 ] ||
	lab_fail "$HOSTILE_PING_RX echoes crossed a WAN that was down"
while [ $((SECONDS - t_down)) -lt "$OUTAGE" ]; do sleep 0.2; done
lab_get hsA1 A peer.handshakes
lab_get hsB1 B peer.handshakes
lab_say "handshakes during the outage: gwA $hsA0 -> $hsA1, gwB $hsB0 -> $hsB1"
[ "$hsA1" -eq "$hsA0" ] && [ "$hsB1" -eq "$hsB0" ] ||
	lab_fail "a handshake completed across a WAN that was down"
for g in A B; do
	pid=$(lab_pid $g)
	lab_pid_alive "$pid" || lab_fail "gw$g's daemon died during the outage"
done

lab_step "WAN back: hostA must reach hostB within 5 s"
lab_in gwA ip link set wan0 up
lab_in gwB ip link set wan0 up
t0=$(date +%s%N)
lab_back_within "$t0" ||
	lab_fail "hostA -> hostB not back within 5 s of the WAN's return"
lab_say "hostA reached hostB ${LAB_BACK_MS} ms after the WAN came back"

# The rekey was due during the outage: a fresh session must follow.
for ((i = 0; i < 50; i++)); do
	lab_get hsA2 A peer.handshakes
	lab_get hsB2 B peer.handshakes
	[ "$hsA2" -gt "$hsA1" ] && [ "$hsB2" -gt "$hsB1" ] && break
	[ $(($(date +%s%N) - t0)) -lt 5000000000 ] || break
	sleep 0.1
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$hsA2" -gt "$hsA1" ] && [ "$hsB2" -gt "$hsB1" ] ||
	lab_fail "no new handshake within 5 s of the WAN's return (gwA $hsA1 -> $hsA2, gwB $hsB1 -> $hsB2)"
lab_say "new session ${ms} ms after the WAN came back (handshakes: gwA $hsA2, gwB $hsB2)"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "ping hostA -> hostB after the outage"
lab_ping hB "$LAB_LAN4_A" 5 || lab_fail "ping hostB -> hostA after the outage"

lab_finish
echo "PASS: 25-outage"
