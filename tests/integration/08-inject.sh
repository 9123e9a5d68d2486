#!/usr/bin/env bash
# 08-inject: while a ping stream runs, mallory (on the WAN) sends gwB forged
# datagrams, captured data datagrams with one bit flipped, and captured data
# datagrams replayed verbatim.  The drop counters move (short, no-session,
# handshake, auth, replay) and the ping stream loses nothing.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

lab_default_up

lab_step "ping stream hostA -> hostB (200 x 50 ms)"
lab_bg hA "$LAB_DIR/ping.out" ping -n -c 200 -i 0.05 -W 2 -w 30 "$LAB_LAN4_B"
ppid=$LAB_LAST_PID

lab_step "capture gwA -> gwB data datagrams on the WAN switch"
pcap=$LAB_DIR/wan.pcap
lab_bg wan "$LAB_DIR/tcpdump.out" tcpdump -Z root -n -i wA -c 20 -w "$pcap" \
	"udp and src host $LAB_WAN4_A and dst host $LAB_WAN4_B and dst port $LAB_PORT and udp[8] = 4 and greater 120"
tpid=$LAB_LAST_PID
lab_wait_exit "$tpid" 150 ||
	lab_fail "captured fewer than 20 data datagrams: $(cat "$LAB_DIR/tcpdump.out")"

lab_get short0 B drops.short
lab_get nos0 B drops.no-session
lab_get hs0 B drops.handshake
lab_get auth0 B peer.drops.auth
lab_get rep0 B peer.drops.replay
lab_get rx0 B peer.rx_frames

lab_step "mallory injects"
lab_in mal timeout 30 "$LAB_PY" "$LAB_LIB/inject.py" "$pcap" "$LAB_WAN4_B" "$LAB_PORT" \
	>"$LAB_DIR/inject.out" || lab_fail "inject.py failed"
sed 's/^/    sent /' "$LAB_DIR/inject.out"
sent() { sed -n "s/^$1=//p" "$LAB_DIR/inject.out"; }

lab_step "ping stream must lose nothing"
lab_wait_exit "$ppid" 400 || true
out=$(tail -n 3 "$LAB_DIR/ping.out")
echo "$out" | sed 's/^/    /'
echo "$out" | grep -q '200 packets transmitted, 200 received' ||
	lab_fail "ping stream lost echoes during the injection"

lab_step "drop counters on gwB"
check()
{
	local name=$1 path=$2 was=$3 want=$4 now
	lab_get now B "$path"
	lab_say "$(printf '%-20s %6s -> %-6s (sent %s)' "$path" "$was" "$now" "$want")"
	[ $((now - was)) -ge "$want" ] ||
		lab_fail "$path grew by $((now - was)), want >= $want ($name)"
}
check short drops.short "$short0" "$(sent short)"
check nosession drops.no-session "$nos0" "$(sent nosession)"
check handshake drops.handshake "$hs0" "$(sent handshake)"
check flip peer.drops.auth "$auth0" "$(sent flip)"
check replay peer.drops.replay "$rep0" "$(sent replay)"
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$LAB_WAN4_A:$LAB_PORT" ] ||
	lab_fail "gwB's peer endpoint moved to '$ep' (forged/replayed datagrams must not roam it)"
lab_get rx1 B peer.rx_frames
lab_say "gwB peer rx_frames $rx0 -> $rx1"

lab_finish
echo "PASS: 08-inject"
