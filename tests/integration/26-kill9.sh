#!/usr/bin/env bash
# 26-kill9: crashes of gwA's daemon, each followed by a plain restart.
#   1. kill -9 of the network process: the privileged parent notices,
#      releases lan0, deletes the bridge and TAP and exits non-zero (for
#      a supervisor to restart it), never by a signal of its own.
#   2. kill -9 of the daemon itself (the parent): the network process
#      exits too (within 5 s); the bridge stays, tagged as tapbridge's.
# After each, a new daemon starts (taking over the bridge left behind, and
# saying so), hostA reaches hostB again within 5 s of the start, gwB's
# daemon runs on untouched, and a normal stop at the end leaves nothing.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

lab_default_up
pidB=$(lab_pid B)

# forget_A: clear the lab's record of gwA's daemon (it is gone).
forget_A()
{
	LAB_PID_A=
	rm -f "$LAB_DIR/gwA.pid"
}

# restart_A: start gwA again; hostA must reach hostB within 5 s.
restart_A()
{
	local t0 ok=0 ms
	t0=$(date +%s%N)
	lab_start A
	while [ $(($(date +%s%N) - t0)) -lt 5000000000 ]; do
		if lab_in hA ping -q -n -c 1 -W 0.2 -w 1 "$LAB_LAN4_B" \
			>/dev/null 2>&1; then
			ok=1
			break
		fi
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ok" = 1 ] || lab_fail "hostA -> hostB not back within 5 s of the new start"
	lab_say "hostA reaches hostB ${ms} ms after the new start"
	lab_ping hB "$LAB_LAN4_A" 3 || lab_fail "hostB -> hostA after the restart"
}

lab_step "1. kill -9 gwA's network process"
pid=$(lab_pid A)
child=$(hostile_tree "$pid" | sed 1d | head -n 1)
[ -n "$child" ] || lab_fail "gwA's daemon $pid has no network process"
lab_say "daemon $pid, network process $child"
mark=$(wc -l <"$LAB_DIR/gwA.log")
kill -KILL "$child"
lab_wait_exit "$pid" 100
rc=$?
lab_say "the daemon exited with status $rc"
[ "$rc" -ne 124 ] || lab_fail "the daemon did not exit within 10 s of losing its network process"
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] ||
	lab_fail "the daemon exited with status $rc, want a non-zero exit (not a signal)"
forget_A
tail -n +$((mark + 1)) "$LAB_DIR/gwA.log" | sed 's/^/    gwA: /'
grep -q 'network process exited' <(tail -n +$((mark + 1)) "$LAB_DIR/gwA.log") ||
	lab_fail "gwA's log does not say its network process exited"
lab_assert_released A
restart_A

lab_step "2. kill -9 gwA's daemon"
pid=$(lab_pid A)
tree=$(hostile_tree "$pid")
lab_say "processes: ${tree//$'\n'/ }"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
forget_A
for p in $tree; do
	for ((i = 0; i < 50; i++)); do
		lab_pid_alive "$p" || break
		sleep 0.1
	done
	lab_pid_alive "$p" &&
		lab_fail "process $p of the killed daemon still runs 5 s later"
done
lab_say "left behind: $(lab_in gwA ip -o -br link show | awk '{ print $1 }' | tr '\n' ' ')"
left_br=0
lab_in gwA ip link show br0 >/dev/null 2>&1 && left_br=1
mark=$(wc -l <"$LAB_DIR/gwA.log")
restart_A
tail -n +$((mark + 1)) "$LAB_DIR/gwA.log" | sed 's/^/    gwA: /'
if [ "$left_br" = 1 ]; then
	grep -q "taking over bridge 'br0'" <(tail -n +$((mark + 1)) "$LAB_DIR/gwA.log") ||
		lab_fail "the new daemon did not say it took over the bridge left behind"
fi
[ "$(lab_pid B)" = "$pidB" ] && lab_pid_alive "$pidB" ||
	lab_fail "gwB's daemon did not survive"

lab_step "normal stop: nothing left"
lab_finish
echo "PASS: 26-kill9"
