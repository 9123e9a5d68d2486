#!/usr/bin/env bash
# 20-random-flood: while a ping stream (every 50 ms) and a paced 20 MB TCP
# transfer run hostA -> hostB, mallory sends gwB's listen port 200,000
# random datagrams of random sizes (0..1500 bytes; most start with a valid
# message type 1, 2 or 4).  The transfer arrives with the right SHA-256,
# the ping stream loses under 1%, gwB's daemon grows by at most 2 MB of RSS
# and no file descriptor, and its drop counters account for every datagram
# (short + no-session + handshake).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

FLOOD_N=${FLOOD_N:-200000}
FLOOD_RATE=${FLOOD_RATE:-25000}
RSS_SLACK_KB=${RSS_SLACK_KB:-2048}

lab_default_up

flood()
{
	lab_in mal timeout 90 "$LAB_PY" "$LAB_LIB/flood.py" random \
		"$LAB_WAN4_B" "$LAB_PORT" "$1" 60 "$FLOOD_RATE" >"$2" ||
		lab_fail "flood.py failed: $(cat "$2")"
}

lab_step "warm-up: 20 MB transfer during 20,000 random datagrams"
# The packet pool is allocated at start but its pages are touched on first
# use: measure growth from a state where the data path has already run
# under the same kind of load.
read -r rss_idle fds_idle <<<"$(hostile_usage B)"
lab_say "gwB daemon idle: VmRSS $rss_idle kB, $fds_idle fds"
hostile_transfer_start 20 0
flood 20000 "$LAB_DIR/warm.out"
hostile_transfer_check
read -r rss0 fds0 <<<"$(hostile_usage B)"
lab_say "gwB daemon before: VmRSS $rss0 kB, $fds0 fds"
lab_get short0 B drops.short
lab_get nos0 B drops.no-session
lab_get hs0 B drops.handshake
rcvbuf0=$(hostile_udp_stat gwB RcvbufErrors)

lab_step "ping stream + 20 MB transfer hostA -> hostB; mallory floods gwB"
hostile_ping_start 1200 0.05
hostile_transfer_start 20 10
t0=$SECONDS
flood "$FLOOD_N" "$LAB_DIR/flood.out"
sed 's/^/    flood: /' "$LAB_DIR/flood.out"
sent=$(hostile_sent "$LAB_DIR/flood.out" sent)
[ "$sent" -eq "$FLOOD_N" ] ||
	lab_fail "mallory sent only $sent of $FLOOD_N datagrams within 60 s"
hostile_transfer_check
# The ping stream covers the flood and the transfer; then stop it.
hostile_ping_stop
lab_say "flood + transfer took $((SECONDS - t0)) s"
hostile_ping_check 100

lab_step "gwB's daemon did not grow"
read -r rss1 fds1 <<<"$(hostile_usage B)"
lab_say "gwB daemon after:  VmRSS $rss1 kB, $fds1 fds"
[ $((rss1 - rss0)) -le "$RSS_SLACK_KB" ] ||
	lab_fail "gwB's RSS grew by $((rss1 - rss0)) kB (limit $RSS_SLACK_KB kB)"
[ "$fds1" -le "$fds0" ] || lab_fail "gwB's fd count grew from $fds0 to $fds1"

lab_step "gwB's drop counters account for the flood"
rcvbuf1=$(hostile_udp_stat gwB RcvbufErrors)
lab_say "kernel receive-buffer drops in gwB: $((rcvbuf1 - rcvbuf0))"
total=0
for c in short no-session handshake; do
	lab_get now B "drops.$c"
	case $c in
	short) was=$short0 ;;
	no-session) was=$nos0 ;;
	handshake) was=$hs0 ;;
	esac
	want=$(hostile_sent "$LAB_DIR/flood.out" "expect_$c")
	lab_say "$(printf 'drops.%-11s +%-7d (flood sent %d of that kind)' \
		"$c" $((now - was)) "$want")"
	total=$((total + now - was))
done
# Every datagram lands in one of the three counters; the kernel may drop a
# few itself if the daemon falls behind, so demand 99%.
[ $((total * 100)) -ge $((sent * 99)) ] ||
	lab_fail "drop counters grew by $total for $sent flood datagrams"
[ "$total" -le $((sent + 50)) ] ||
	lab_fail "drop counters grew by $total, more than the $sent datagrams sent"
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$LAB_WAN4_A:$LAB_PORT" ] ||
	lab_fail "gwB's peer endpoint moved to '$ep'"

lab_finish
echo "PASS: 20-random-flood"
