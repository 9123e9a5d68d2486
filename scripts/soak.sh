#!/usr/bin/env bash
#
# soak.sh [BIN]: `make soak SOAK_SECONDS=N` -- run the namespaced lab with
# two real daemons (rekey-interval 10, preshared key) under bidirectional
# iperf3 TCP traffic plus a ping stream for SOAK_SECONDS (default 300),
# printing RSS, fd count, handshakes and drop counters of both daemons at
# the start, every SOAK_EVERY seconds (default: a tenth of the run, at
# least 10) and at the end, then their growth.  Fails if a daemon dies,
# the traffic stops, or the tunnel does not work at the end.  Not part of
# `make check`; needs root.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
TAPBRIDGE=${1:-${TAPBRIDGE:-$root/build/tapbridge}}
export TAPBRIDGE
. "$root/scripts/lab.sh"
. "$root/tests/integration/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

secs=${SOAK_SECONDS:-300}
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 10 ] || {
	echo "soak: SOAK_SECONDS must be a whole number >= 10" >&2
	exit 2
}
every=${SOAK_EVERY:-$((secs / 10 > 10 ? secs / 10 : 10))}

lab_default_up -r 10 -p

report()
{
	lab_say "$(printf '%6s s  ' "$1")$(hostile_summary A)"
	lab_say "$(printf '%6s s  ' "$1")$(hostile_summary B)"
}

lab_step "soak: ${secs} s of bidirectional iperf3 hostA <-> hostB, rekey every 10 s"
read -r rssA0 fdsA0 <<<"$(hostile_usage A)"
read -r rssB0 fdsB0 <<<"$(hostile_usage B)"
report 0
lab_bg hB "$LAB_DIR/iperf-server.out" timeout $((secs + 60)) iperf3 -s -1 \
	-B "$LAB_LAN4_B" -p 5201
for ((i = 0; i < 50; i++)); do
	lab_in hB ss -Hltn "sport = :5201" | grep -q LISTEN && break
	sleep 0.1
done
lab_bg hA "$LAB_DIR/iperf.out" timeout $((secs + 30)) iperf3 -c "$LAB_LAN4_B" \
	-p 5201 --bidir -t "$secs" -i "$every" --connect-timeout 5000
ipid=$LAB_LAST_PID
# Bounded in count (one echo every 0.2 s for the run) and time (-w).
lab_bg hA "$LAB_DIR/ping.out" ping -n -q -c $((secs * 5)) -i 0.2 -W 2 \
	-w "$secs" "$LAB_LAN4_B"
ppid=$LAB_LAST_PID
t0=$SECONDS
while lab_pid_alive "$ipid"; do
	sleep 1
	for g in A B; do
		lab_pid_alive "$(lab_pid $g)" || lab_fail "gw$g's daemon died"
	done
	el=$((SECONDS - t0))
	if [ $((el % every)) -eq 0 ] && [ "$el" -lt "$secs" ]; then
		report "$el"
		# The packet pool's pages are touched as load needs them: growth
		# after the first sample under load is what would be a leak.
		if [ -z "${rssAw:-}" ]; then
			read -r rssAw fdsAw <<<"$(hostile_usage A)"
			read -r rssBw fdsBw <<<"$(hostile_usage B)"
		fi
	fi
	[ "$el" -le $((secs + 40)) ] || lab_fail "iperf3 did not end"
done
lab_wait_exit "$ipid" 10
rc=$?
lab_wait_exit "$ppid" 100 >/dev/null
report "$((SECONDS - t0))"
grep -E 'sender|receiver' "$LAB_DIR/iperf.out" | sed 's/^/    iperf3: /'
grep 'packets transmitted' "$LAB_DIR/ping.out" | sed 's/^/    ping: /'
[ "$rc" -eq 0 ] || {
	tail -n 5 "$LAB_DIR/iperf.out" >&2
	lab_fail "iperf3 failed (status $rc)"
}

lab_step "growth over the soak"
read -r rssA1 fdsA1 <<<"$(hostile_usage A)"
read -r rssB1 fdsB1 <<<"$(hostile_usage B)"
lab_say "gwA: rss $rssA0 -> ${rssAw:-?} (first sample under load) -> $rssA1 kB, fds $fdsA0 -> ${fdsAw:-?} -> $fdsA1"
lab_say "gwB: rss $rssB0 -> ${rssBw:-?} (first sample under load) -> $rssB1 kB, fds $fdsB0 -> ${fdsBw:-?} -> $fdsB1"
lab_wait_link
lab_wait_link hB "$LAB_LAN4_A"
lab_finish
echo "soak: done"
