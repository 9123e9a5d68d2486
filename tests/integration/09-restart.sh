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
lab_back_within "$t0" ||
	lab_fail "hostA -> hostB not back within 5 s of the restart (${LAB_BACK_MS} ms)"
lab_say "link back ${LAB_BACK_MS} ms after the new start"
lab_ping hB "$LAB_LAN4_A" 3 || lab_fail "hostB -> hostA after restart"
if [ "$LAB_TUNNEL" = tapbridge ]; then
	[ "$(lab_pid B)" = "$pidB" ] && lab_pid_alive "$pidB" ||
		lab_fail "gwB's daemon did not survive gwA's restart"
	lab_say "gwB still pid $pidB"
fi

lab_finish
echo "PASS: 09-restart"
