#!/usr/bin/env bash
# 09-restart: SIGTERM gwA's daemon and start it again; hostA reaches hostB
# within 5 s of the new start, and gwB's daemon kept running (same PID).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up
pidB=$(lab_pid B)

lab_step "restart gwA"
lab_stop A
lab_assert_released A
t0=$(date +%s%N)
lab_start A
ok=0
# Bounded in count and time (5 s): the bound is the limit of the wait; the
# time it took is only reported, never asserted.
for ((i = 0; i < 50; i++)); do
	if lab_in hA ping -q -n -c 1 -W 0.2 -w 1 "$LAB_LAN4_B" >/dev/null 2>&1; then
		ok=1
		break
	fi
	[ $(($(date +%s%N) - t0)) -lt 5000000000 ] || break
	sleep 0.1	# an unreachable network fails at once: no busy loop
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ok" = 1 ] ||
	lab_fail "hostA -> hostB not back within 5 s of the restart (${ms} ms)"
lab_say "link back ${ms} ms after the new start"
lab_ping hB "$LAB_LAN4_A" 3 || lab_fail "hostB -> hostA after restart"
if [ "$LAB_TUNNEL" = tapbridge ]; then
	[ "$(lab_pid B)" = "$pidB" ] && lab_pid_alive "$pidB" ||
		lab_fail "gwB's daemon did not survive gwA's restart"
	lab_say "gwB still pid $pidB"
fi

lab_finish
echo "PASS: 09-restart"
