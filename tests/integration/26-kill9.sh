#!/usr/bin/env bash
# 26-kill9: crashes of gwA's daemon, each followed by a plain restart.
#   1. kill -9 of the network process: the privileged parent notices,
#      releases lan0, deletes the bridge and TAP and exits non-zero (for
#      a supervisor to restart it), never by a signal of its own.
#   2. kill -9 of the daemon itself (the parent): the network process
#      exits too (within 5 s); the bridge stays, tagged as tapbridge's.
#      2b. the same while the network process is stopped (SIGSTOP, as a
#      hung or compromised one): it dies with its parent all the same.
#   3. SIGTERM while the network process is stopped (SIGSTOP, as a hung or
#      compromised one): the daemon kills it after 5 s, exits and releases
#      everything.
#   4. the TAP device deleted under the daemon: it exits non-zero (for a
#      supervisor to restart it) and releases everything.
#   5. SIGTERM during setup (held in the middle with strace's syscall
#      delay): the daemon stops in order once set up and leaves nothing.
#   6. a second daemon given gwA's bridge is refused while gwA's runs
#      (and takes nothing of it).
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

# exits_failed PID WHAT PATTERN: gwA's daemon PID, which just lost WHAT,
# exits within 10 s, non-zero and not by a signal (a supervisor restarts
# it), and its log since line $mark says PATTERN.
exits_failed()
{
	local pid=$1 what=$2 pat=$3 rc
	lab_wait_exit "$pid" 100
	rc=$?
	lab_say "the daemon exited with status $rc"
	[ "$rc" -ne 124 ] ||
		lab_fail "the daemon did not exit within 10 s of losing $what"
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] ||
		lab_fail "the daemon exited with status $rc, want a non-zero exit (not a signal)"
	forget_A
	tail -n +$((mark + 1)) "$LAB_DIR/gwA.log" | sed 's/^/    gwA: /'
	grep -q -- "$pat" <(tail -n +$((mark + 1)) "$LAB_DIR/gwA.log") ||
		lab_fail "gwA's log does not say '$pat'"
}

# restart_A: start gwA again; hostA must reach hostB within 5 s.
restart_A()
{
	local t0
	t0=$(date +%s%N)
	lab_start A
	lab_back_within "$t0" ||
		lab_fail "hostA -> hostB not back within 5 s of the new start"
	lab_say "hostA reaches hostB ${LAB_BACK_MS} ms after the new start"
	lab_ping hB "$LAB_LAN4_A" 3 || lab_fail "hostB -> hostA after the restart"
}

lab_step "1. kill -9 gwA's network process"
pid=$(lab_pid A)
child=$(hostile_tree "$pid" | sed 1d | head -n 1)
[ -n "$child" ] || lab_fail "gwA's daemon $pid has no network process"
lab_say "daemon $pid, network process $child"
mark=$(wc -l <"$LAB_DIR/gwA.log")
kill -KILL "$child"
exits_failed "$pid" "its network process" 'network process exited'
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

lab_step "2b. kill -9 gwA's daemon while its network process is stopped"
pid=$(lab_pid A)
child=$(hostile_tree "$pid" | sed 1d | head -n 1)
[ -n "$child" ] || lab_fail "gwA's daemon $pid has no network process"
lab_say "daemon $pid, network process $child (stopped)"
kill -STOP "$child"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
forget_A
for ((i = 0; i < 50; i++)); do
	lab_pid_alive "$child" || break
	sleep 0.1
done
if lab_pid_alive "$child"; then
	kill -KILL "$child"	# ours: do not leave it behind
	lab_fail "the stopped network process $child outlived its parent by 5 s"
fi
restart_A

lab_step "3. SIGTERM while the network process is stopped"
pid=$(lab_pid A)
child=$(hostile_tree "$pid" | sed 1d | head -n 1)
[ -n "$child" ] || lab_fail "gwA's daemon $pid has no network process"
mark=$(wc -l <"$LAB_DIR/gwA.log")
kill -STOP "$child"
kill -TERM "$pid"
lab_wait_exit "$pid" 150
rc=$?
[ "$rc" -ne 124 ] ||
	lab_fail "the daemon did not exit within 15 s of SIGTERM with its network process stopped"
lab_say "the daemon exited with status $rc"
[ "$rc" -eq 1 ] || lab_fail "exit status $rc, want 1 (tapbridge(8): the network process was killed)"
forget_A
grep -q "did not stop; killing it" <(tail -n +$((mark + 1)) "$LAB_DIR/gwA.log") ||
	lab_fail "gwA's log does not say it killed its network process"
lab_pid_alive "$child" && lab_fail "the stopped network process $child still exists"
lab_assert_released A
restart_A

lab_step "4. the TAP device deleted under the daemon"
pid=$(lab_pid A)
mark=$(wc -l <"$LAB_DIR/gwA.log")
lab_in gwA ip link del tap0
exits_failed "$pid" "its TAP device" "TAP device 'tap0' failed"
lab_assert_released A
restart_A

lab_step "5. SIGTERM during setup"
lab_stop A
forget_A
if ! command -v strace >/dev/null; then
	echo "************************************************"
	echo "SKIP step 5: strace is not installed (scripts/deps.sh installs it)"
	echo "************************************************"
else
	# socketpair comes after the bridge, TAP and control socket and
	# before the fork and the event loop: hold it there for 10 s.
	lab_bg gwA "$LAB_DIR/strace.out" strace -f -qq -o /dev/null \
		-e trace=socketpair -e inject=socketpair:delay_enter=10000000 \
		"$TAPBRIDGE" -f -v -c "$LAB_DIR/gwA.conf"
	spid=$LAB_LAST_PID
	for ((i = 0; i < 50; i++)); do
		lab_in gwA ip -o link show lan0 | grep -q 'master br0' && break
		sleep 0.1
	done
	lab_in gwA ip -o link show lan0 | grep -q 'master br0' ||
		lab_fail "the held daemon did not set up the bridge"
	dpid=
	for p in $(hostile_tree "$spid" | sed 1d); do
		[ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$TAPBRIDGE")" ] &&
			{ dpid=$p; break; }
	done
	[ -n "$dpid" ] || lab_fail "no tapbridge under strace $spid"
	[ -z "$(cat /proc/"$dpid"/task/*/children 2>/dev/null)" ] ||
		lab_fail "missed the setup window: the daemon has forked already"
	kill -TERM "$dpid"
	lab_wait_exit "$spid" 150
	rc=$?
	lab_say "strace (and the daemon it held, pid $dpid) exited with status $rc"
	[ "$rc" -eq 0 ] ||
		lab_fail "the daemon stopped during setup exited $rc: $(tail -3 "$LAB_DIR/strace.out")"
	lab_assert_released A
	lab_start A
	lab_wait_link
fi

lab_step "6. a second daemon naming gwA's bridge is refused while gwA runs"
[ -n "$(lab_pid A)" ] || lab_start A
sed -e "s|^interface .*|interface tap1|" \
	-e "s|^control-socket .*|control-socket $LAB_DIR/second.sock|" \
	-e "s|^listen \(.*\):[0-9]*\$|listen \1:$((LAB_PORT + 1))|" \
	"$LAB_DIR/gwA.conf" >"$LAB_DIR/second.conf"
chmod 600 "$LAB_DIR/second.conf"
lab_in gwA timeout 10 "$TAPBRIDGE" -f -c "$LAB_DIR/second.conf" \
	>"$LAB_DIR/second.out" 2>&1 </dev/null
rc=$?
sed 's/^/    second: /' "$LAB_DIR/second.out"
[ "$rc" -eq 1 ] || lab_fail "the second daemon exited $rc, want 1"
grep -q "bridge 'br0' belongs to the tapbridge running as pid $(lab_pid A)" \
	"$LAB_DIR/second.out" || lab_fail "the second daemon did not say whose br0 is"
! lab_in gwA ip link show tap1 >/dev/null 2>&1 || lab_fail "tap1 left behind"
lab_in gwA ip -o link show lan0 | grep -q 'master br0' ||
	lab_fail "the second daemon took lan0 out of gwA's bridge"
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "hostA -> hostB after the refused start"

lab_step "normal stop: nothing left"
lab_finish
echo "PASS: 26-kill9"
