#!/usr/bin/env bash
# 17-initscript: etc/init.d/tapbridge runs gwA's real daemon in the lab:
# start -> status running (0) and hostA reaches hostB; reload -> same PID,
# still running; restart -> a new PID, also after the control socket moved
# in the configuration; stop -> status stopped (3) and the LAN port
# released; start with a broken configuration fails, prints the file:line
# error and starts nothing.  The script's pidfile (-p) is in a directory
# with a blank in its name.  A link, a FIFO, a missing directory or another
# running daemon's pidfile makes a start fail before it detaches, leaving
# nothing; a daemon an older script started (pidfile next to its control
# socket) is found and restarted.  A daemon started by hand in the
# background from the lab's directory with relative paths (-c, private-key)
# reloads all the same.  The script gets the lab's files
# through its environment (never /etc).
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

INITD=$LAB_ROOT/etc/init.d/tapbridge
PIDFILE_A=
npeers=
restarted=

# initd ACTION [CONFIG [PIDFILE]]: run the init script for gwA inside its
# namespace, with PIDFILE (default $INITPID; empty: the script's own
# default, as when /etc/default names none); output in
# $LAB_DIR/initd.out, exit status returned.
initd()
{
	local conf=${2:-$LAB_DIR/gwA.conf} pidfile=${3-$INITPID}
	echo "---- initd $1 $(date +%T.%N) ----" >>"$LAB_DIR/gwA.log"
	lab_in gwA env TAPBRIDGE_DEFAULTS=/dev/null DAEMON="$TAPBRIDGE" \
		CONFIG="$conf" PIDFILE="$pidfile" START_WAIT=10 STOP_WAIT=10 \
		timeout 40 sh "$INITD" "$1" >"$LAB_DIR/initd.out" 2>&1
	local rc=$?
	sed 's/^/  | /' "$LAB_DIR/initd.out"
	return "$rc"
}

# initd_default ACTION CONFIG: the same with the script's own PIDFILE.
initd_default()
{
	initd "$1" "$2" ""
}

# daemon_pid: the PID in the pidfile of a daemon started by hand (empty if
# none); init_pid: the same for the init script's.
daemon_pid()
{
	cat "$PIDFILE_A" 2>/dev/null
}

init_pid()
{
	cat "$INITPID" 2>/dev/null
}

# gone PID WHEN: daemon PID must have ended within 10 s.
gone()
{
	local i
	for ((i = 0; i < 100; i++)); do
		lab_pid_alive "$1" || return 0
		sleep 0.1
	done
	lab_fail "daemon $1 still running $2"
}

# wait_npeers N [PID]: poll (at most 5 s) until gwA's status shows N peers,
# giving up early when no daemon runs (PID, or by default the init
# script's and the hand-started one); the count seen last is left in
# npeers.
wait_npeers()
{
	local i
	for ((i = 0; i < 50; i++)); do
		npeers=$(lab_status A 2>/dev/null | "$LAB_PY" -c \
			'import json, sys; print(len(json.load(sys.stdin)["peers"]))' \
			2>/dev/null)
		[ "$npeers" = "$1" ] && return 0
		if [ -n "${2:-}" ]; then
			lab_pid_alive "$2" || return 1
		else
			lab_pid_alive "$(init_pid)" ||
				lab_pid_alive "$(daemon_pid)" || return 1
		fi
		sleep 0.1
	done
	return 1
}

# on_exit: stop a daemon the init script or a test left running, then the
# lab.
on_exit()
{
	local pid
	for pid in $(daemon_pid) $(init_pid); do
		lab_pid_alive "$pid" || continue
		LAB_ALL_PIDS+=("$pid")
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			lab_pid_alive "$pid" || break
			sleep 0.1
		done
	done
	# Default pidfiles of this run's init script starts (/run).
	for f in /run/tapbridge/"$LAB_P"-*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null)
		[ -z "$pid" ] || ! lab_pid_alive "$pid" || {
			LAB_ALL_PIDS+=("$pid")
			kill -TERM "$pid" 2>/dev/null
		}
		rm -f "$f"
	done
	lab_down
}

lab_up
trap on_exit EXIT
lab_keys
lab_conf
PIDFILE_A=$LAB_DIR/gwA.pid
# The init script's pidfile (-p), not the one the daemon would choose, in a
# directory whose name has a blank.
mkdir "$LAB_DIR/init run"
INITPID="$LAB_DIR/init run/gwA.pid"
lab_start B

lab_step "start"
initd start || lab_fail "init script start failed"
pid1=$(init_pid)
[ -n "$pid1" ] && lab_pid_alive "$pid1" ||
	lab_fail "no live daemon in $INITPID after start"
LAB_ALL_PIDS+=("$pid1")
initd status || lab_fail "status after start: exit $?, want 0"
grep -q "is running" "$LAB_DIR/initd.out" ||
	lab_fail "status does not say running"
lab_wait_link
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "hostA -> hostB after init start"
lab_say "daemon $pid1 started by the init script, link up"
initd start || lab_fail "a second start must succeed (already running)"
[ "$(init_pid)" = "$pid1" ] || lab_fail "a second start replaced the daemon"

lab_step "reload: a peer added to the configuration appears"
cp "$LAB_DIR/gwA.conf" "$LAB_DIR/gwA.conf.orig"
printf 'peer extra {\n\tpublic-key %s\n}\n' "$(cat "$LAB_DIR/stranger.pub")" \
	>>"$LAB_DIR/gwA.conf"
initd reload || lab_fail "init script reload failed"
wait_npeers 2
[ "$(init_pid)" = "$pid1" ] && lab_pid_alive "$pid1" ||
	lab_fail "reload changed or lost the daemon ($pid1 -> '$(init_pid)')"
[ "$npeers" = 2 ] || lab_fail "after reload: '$npeers' peer(s), want 2"
initd status || lab_fail "status after reload: exit $?, want 0"
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "hostA -> hostB after reload"

lab_step "reload with a broken configuration is refused; force-reload"
echo "rekey-interval 5000" >>"$LAB_DIR/gwA.conf"
initd reload
rc=$?
[ "$rc" -ne 0 ] || lab_fail "reload of a broken configuration succeeded"
grep -q "gwA.conf:[0-9]*: .*rekey-interval" "$LAB_DIR/initd.out" ||
	lab_fail "reload did not show the file:line error"
cp "$LAB_DIR/gwA.conf.orig" "$LAB_DIR/gwA.conf"
initd force-reload || lab_fail "init script force-reload failed"
wait_npeers 1
[ "$(init_pid)" = "$pid1" ] && lab_pid_alive "$pid1" ||
	lab_fail "force-reload changed or lost the daemon"
[ "$npeers" = 1 ] || lab_fail "after force-reload: '$npeers' peer(s), want 1"
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "hostA -> hostB after force-reload"
lab_say "same daemon $pid1 through reload, refused reload and force-reload"

# restart_from OLD: an init script restart must replace daemon OLD by a
# live new one, whose PID it leaves in $restarted.
restart_from()
{
	initd restart || lab_fail "init script restart failed"
	restarted=$(init_pid)
	[ -n "$restarted" ] && [ "$restarted" != "$1" ] &&
		lab_pid_alive "$restarted" ||
		lab_fail "restart: pid $1 -> '$restarted'"
	LAB_ALL_PIDS+=("$restarted")
	! lab_pid_alive "$1" || lab_fail "old daemon $1 survived the restart"
}

lab_step "restart"
restart_from "$pid1"
pid2=$restarted
initd status || lab_fail "status after restart: exit $?, want 0"
lab_wait_link
lab_say "new daemon $pid2, link up"

lab_step "control-socket changed: restart still finds the running daemon"
cp "$LAB_DIR/gwA.conf" "$LAB_DIR/gwA.conf.orig"
sed -i "s|^control-socket .*|control-socket $LAB_DIR/moved.sock|" \
	"$LAB_DIR/gwA.conf"
restart_from "$pid2"
pid2b=$restarted
[ -S "$LAB_DIR/moved.sock" ] || lab_fail "the new daemon is not on moved.sock"
initd status || lab_fail "status after the move: exit $?, want 0"
cp "$LAB_DIR/gwA.conf.orig" "$LAB_DIR/gwA.conf"
lab_say "daemon $pid2 stopped, $pid2b answers on moved.sock"
pid2=$pid2b

lab_step "stop"
initd stop || lab_fail "init script stop failed"
gone "$pid2" "after stop"
initd status
rc=$?
[ "$rc" -eq 3 ] || lab_fail "status after stop: exit $rc, want 3"
grep -q "not running" "$LAB_DIR/initd.out" ||
	lab_fail "status does not say stopped"
[ ! -e "$INITPID" ] || lab_fail "pidfile left after stop"
lab_assert_released A
initd stop || lab_fail "stop when stopped must succeed"
initd reload
rc=$?
[ "$rc" -eq 7 ] || lab_fail "reload when stopped: exit $rc, want 7"

lab_step "start with a broken configuration"
sed 's/^rekey-interval .*/rekey-interval 5000/' "$LAB_DIR/gwA.conf" \
	>"$LAB_DIR/broken.conf"
line=$(grep -n '^rekey-interval' "$LAB_DIR/broken.conf" | cut -d: -f1)
initd start "$LAB_DIR/broken.conf"
rc=$?
[ "$rc" -ne 0 ] || lab_fail "start with a broken configuration succeeded"
grep -q "broken.conf:$line: .*rekey-interval" "$LAB_DIR/initd.out" ||
	lab_fail "no 'broken.conf:$line:' error in the output"
[ ! -e "$INITPID" ] ||
	lab_fail "a daemon was started from a broken configuration"
! ip -n "$LAB_P-gwA" link show tap0 >/dev/null 2>&1 ||
	lab_fail "tap0 created from a broken configuration"
lab_say "refused with exit $rc and the file:line error"

lab_step "background start by hand with relative paths, then a reload"
sed "s|^private-key .*|private-key gwA.key|" "$LAB_DIR/gwA.conf" \
	>"$LAB_DIR/rel.conf"
# (Standard input closed: no socket may take descriptor 0.)
(cd "$LAB_DIR" && lab_in gwA "$TAPBRIDGE" -c rel.conf <&-) ||
	lab_fail "background start with relative paths failed"
pid3=$(daemon_pid)
[ -n "$pid3" ] && lab_pid_alive "$pid3" ||
	lab_fail "no live daemon in $PIDFILE_A after a background start"
LAB_ALL_PIDS+=("$pid3")
lab_wait_link
# The bridge names the daemon that went into the background, not the
# process that created it before.
lab_in gwA ip link show br0 | grep -q "alias tapbridge pid $pid3\$" ||
	lab_fail "br0 is not marked with the daemon's pid $pid3: $(lab_in gwA ip link show br0)"
printf 'peer extra {\n\tpublic-key %s\n}\n' "$(cat "$LAB_DIR/stranger.pub")" \
	>>"$LAB_DIR/rel.conf"
kill -HUP "$pid3"
wait_npeers 2
[ "$npeers" = 2 ] ||
	lab_fail "the reload did not find rel.conf or gwA.key: '$npeers' peer(s), want 2"
kill -TERM "$pid3"
gone "$pid3" "after SIGTERM"
lab_assert_released A
lab_say "daemon $pid3 (cwd $LAB_DIR) reloaded rel.conf and gwA.key"

# by_hand NAME [WRAP...]: gwA's daemon in the background from NAME.conf
# (gwA.conf with control socket NAME.sock, so pidfile NAME.pid), started
# by hand (through WRAP if given); sets hand_pid to the daemon's PID, read
# from NAME.pid, or leaves it empty if that names no such daemon.
by_hand()
{
	local name=$1 pp line
	shift
	sed "s|^control-socket .*|control-socket $LAB_DIR/$name.sock|" \
		"$LAB_DIR/gwA.conf" >"$LAB_DIR/$name.conf"
	lab_in gwA "$@" "$TAPBRIDGE" -c "$LAB_DIR/$name.conf" \
		>"$LAB_DIR/$name.out" 2>&1 ||
		lab_fail "background start from $name.conf failed: $(cat "$LAB_DIR/$name.out")"
	# Its pidfile (next to the control socket) is written by the time the
	# start returns; the PID in it must be a live process started from
	# NAME.conf, and the daemon, not its network process (same command
	# line, child of the daemon).
	line="$TAPBRIDGE -c $LAB_DIR/$name.conf "
	hand_pid=$(cat "$LAB_DIR/$name.pid" 2>/dev/null)
	[ -n "$hand_pid" ] && lab_pid_alive "$hand_pid" &&
		[ "$(tr '\0' ' ' <"/proc/$hand_pid/cmdline" 2>/dev/null)" = "$line" ] ||
		{ hand_pid=; return; }
	LAB_ALL_PIDS+=("$hand_pid")
	pp=$(awk '{ print $4 }' "/proc/$hand_pid/stat" 2>/dev/null)
	[ "$(tr '\0' ' ' <"/proc/$pp/cmdline" 2>/dev/null)" != "$line" ] ||
		lab_fail "$name.pid names the network process $hand_pid, not the daemon $pp"
}

# no_start NAME WHY ARGS...: a background start from gwA.conf with ARGS
# must fail with exit 1 before detaching, say WHY (a regex), and leave
# gwA as it was.
no_start()
{
	local name=$1 why=$2 rc
	shift 2
	lab_in gwA timeout 20 "$TAPBRIDGE" -c "$LAB_DIR/gwA.conf" "$@" \
		>"$LAB_DIR/$name.out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] ||
		lab_fail "$name: start exit $rc, want 1: $(cat "$LAB_DIR/$name.out")"
	grep -Eq -- "$why" "$LAB_DIR/$name.out" ||
		lab_fail "$name: no '$why' in: $(cat "$LAB_DIR/$name.out")"
	lab_assert_released A
	! lab_in gwA ip link show br0 >/dev/null 2>&1 ||
		lab_fail "$name: br0 left behind"
	! lab_in gwA ip link show tap0 >/dev/null 2>&1 ||
		lab_fail "$name: tap0 left behind"
	[ ! -e "$LAB_DIR/gwA.sock" ] || lab_fail "$name: control socket left"
}

lab_step "no pidfile, no start: a link, a FIFO, no directory, another daemon's"
echo "not a pid" >"$LAB_DIR/victim"
ln -s "$LAB_DIR/victim" "$LAB_DIR/sym.pid"
no_start sym "cannot write pidfile '.*/sym.pid'" -p "$LAB_DIR/sym.pid"
[ "$(cat "$LAB_DIR/victim")" = "not a pid" ] ||
	lab_fail "the daemon wrote through the pidfile link: $(cat "$LAB_DIR/victim")"
[ -L "$LAB_DIR/sym.pid" ] || lab_fail "the daemon removed the planted link"
mkfifo "$LAB_DIR/fifo.pid"
no_start fifo "pidfile '.*/fifo.pid': not a regular file" \
	-p "$LAB_DIR/fifo.pid"
[ -p "$LAB_DIR/fifo.pid" ] || lab_fail "the daemon removed the planted FIFO"
no_start nodir "cannot write pidfile '.*/nodir/x.pid'" \
	-p "$LAB_DIR/nodir/x.pid"
# A pidfile a running tapbridge holds: a second daemon of another
# configuration (its own TAP, bridge, port, socket, and a veth for LAN port)
# given the same -p is refused and changes nothing.
lab_in gwA "$TAPBRIDGE" -c "$LAB_DIR/gwA.conf" -p "$LAB_DIR/held.pid" \
	>"$LAB_DIR/first.out" 2>&1 ||
	lab_fail "background start with -p held.pid failed: $(cat "$LAB_DIR/first.out")"
first=$(cat "$LAB_DIR/held.pid")
# (The PID is in the pidfile by the time the start returns.)
[ -n "$first" ] && lab_pid_alive "$first" ||
	lab_fail "no live daemon in held.pid right after the start: '$first'"
LAB_ALL_PIDS+=("$first")
lab_in gwA ip link add lanx type veth peer name lany ||
	lab_fail "cannot add a veth pair in gwA"
sed -e "s|^interface .*|interface tap1|" -e "s|^bridge .*|bridge br1|" \
	-e "s|^lan-port .*|lan-port lanx|" \
	-e "s|^\(listen .*:\)$LAB_PORT\$|\1$((LAB_PORT + 1))|" \
	-e "s|^control-socket .*|control-socket $LAB_DIR/other.sock|" \
	"$LAB_DIR/gwA.conf" >"$LAB_DIR/other.conf"
lab_in gwA timeout 20 "$TAPBRIDGE" -c "$LAB_DIR/other.conf" \
	-p "$LAB_DIR/held.pid" >"$LAB_DIR/other.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] ||
	lab_fail "second daemon on held.pid: exit $rc: $(cat "$LAB_DIR/other.out")"
grep -q "pidfile '.*/held.pid' is held by the tapbridge running as pid $first" \
	"$LAB_DIR/other.out" ||
	lab_fail "second daemon: unclear refusal: $(cat "$LAB_DIR/other.out")"
[ "$(cat "$LAB_DIR/held.pid")" = "$first" ] ||
	lab_fail "held.pid changed: $(cat "$LAB_DIR/held.pid")"
! lab_in gwA ip link show br1 >/dev/null 2>&1 || lab_fail "br1 left behind"
! lab_in gwA ip link show tap1 >/dev/null 2>&1 || lab_fail "tap1 left behind"
[ ! -e "$LAB_DIR/other.sock" ] || lab_fail "other.sock left behind"
lab_in gwA ip link show lanx | grep -q master && lab_fail "lanx left enslaved"
lab_in gwA ip link del lanx
# The reload must be seen to happen (a daemon that lost or ignored the
# signal would look the same a moment later): a peer added to its file
# appears in its status.
cp "$LAB_DIR/gwA.conf" "$LAB_DIR/gwA.conf.held"
printf 'peer extra {\n\tpublic-key %s\n}\n' "$(cat "$LAB_DIR/stranger.pub")" \
	>>"$LAB_DIR/gwA.conf"
kill -HUP "$first"
wait_npeers 2 "$first"
cp "$LAB_DIR/gwA.conf.held" "$LAB_DIR/gwA.conf"
[ "$npeers" = 2 ] ||
	lab_fail "no reload of held.pid's daemon on SIGHUP: '$npeers' peer(s), want 2"
[ "$(cat "$LAB_DIR/held.pid")" = "$first" ] && lab_pid_alive "$first" ||
	lab_fail "held.pid or its daemon lost after a reload"
kill -TERM "$first"
gone "$first" "after SIGTERM"
[ ! -e "$LAB_DIR/held.pid" ] || lab_fail "held.pid left after the stop"
lab_assert_released A
lab_say "each refused before detaching, nothing left, nothing overwritten"

lab_step "a daemon an older init script started (no -p): found, restarted"
by_hand "$LAB_P-legacy"
old=$hand_pid
[ -n "$old" ] || lab_fail "cannot find the daemon started with $LAB_P-legacy.conf"
[ -s "$LAB_DIR/$LAB_P-legacy.pid" ] ||
	lab_fail "no $LAB_P-legacy.pid next to its control socket"
initd_default status "$LAB_DIR/$LAB_P-legacy.conf" ||
	lab_fail "status of the legacy daemon: exit $?, want 0"
# The restarted daemon gets the default pidfile, /run/tapbridge/NAME.pid.
defpid=/run/tapbridge/$LAB_P-legacy.pid
initd_default restart "$LAB_DIR/$LAB_P-legacy.conf" ||
	lab_fail "restart of the legacy daemon failed"
new=$(cat "$defpid" 2>/dev/null)
[ -n "$new" ] && [ "$new" != "$old" ] && lab_pid_alive "$new" ||
	lab_fail "no new live daemon in $defpid: '$new'"
LAB_ALL_PIDS+=("$new")
! lab_pid_alive "$old" || lab_fail "the legacy daemon $old survived restart"
[ ! -e "$LAB_DIR/$LAB_P-legacy.pid" ] || lab_fail "legacy pidfile left behind"
initd_default status "$LAB_DIR/$LAB_P-legacy.conf" ||
	lab_fail "status after the restart: exit $?, want 0"
initd_default stop "$LAB_DIR/$LAB_P-legacy.conf" ||
	lab_fail "stop with the default pidfile failed"
gone "$new" "after stop"
[ ! -e "$defpid" ] || lab_fail "$defpid left behind"
lab_assert_released A
lab_say "legacy daemon $old replaced by $new ($defpid), stopped, nothing left"

# term_during SYSCALL: a background start under strace, its first SYSCALL
# held 3 s, gets SIGTERM meanwhile: for bind during its setup, for setsid
# after its fork, while it waits for the daemon to be up.  Either way the
# daemon must stop once in the background and leave nothing.
term_during()
{
	local sc=$1 spid dpid p i pid5
	lab_bg gwA "$LAB_DIR/held.out" strace -f -qq -o /dev/null \
		-e trace="$sc" -e inject="$sc":delay_enter=3000000:when=1 \
		"$TAPBRIDGE" -c "$LAB_DIR/gwA.conf"
	spid=$LAB_LAST_PID
	dpid=
	for ((i = 0; i < 20; i++)); do
		for p in $(cat /proc/"$spid"/task/*/children 2>/dev/null); do
			[ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$TAPBRIDGE")" ] &&
				dpid=$p
		done
		[ -n "$dpid" ] && break
		sleep 0.1
	done
	[ -n "$dpid" ] || lab_fail "no tapbridge under strace $spid"
	if [ "$sc" = bind ]; then
		! lab_in gwA ip link show br0 >/dev/null 2>&1 ||
			lab_fail "missed the setup window: br0 exists before SIGTERM"
	else
		for ((i = 0; i < 50; i++)); do
			lab_in gwA ip link show br0 >/dev/null 2>&1 && break
			sleep 0.1
		done
		lab_in gwA ip link show br0 >/dev/null 2>&1 ||
			lab_fail "setup did not finish under strace"
	fi
	kill -TERM "$dpid"
	lab_wait_exit "$spid" 200 >/dev/null
	for ((i = 0; i < 100; i++)); do
		[ -e "$PIDFILE_A" ] || lab_in gwA ip link show br0 >/dev/null 2>&1 ||
			break
		sleep 0.1
	done
	pid5=$(daemon_pid)
	[ -z "$pid5" ] || ! lab_pid_alive "$pid5" ||
		{ LAB_ALL_PIDS+=("$pid5"); lab_fail "the daemon runs on after a SIGTERM during its start ($sc)"; }
	lab_assert_released A
}

if command -v strace >/dev/null; then
	lab_step "SIGTERM during a background start: the daemon stops once up"
	term_during bind
	lab_say "during setup: stopped in order once in the background"
	term_during setsid
	lab_say "after the fork: passed on, stopped in order"
else
	echo "************************************************"
	echo "SKIP step: strace is not installed (scripts/deps.sh installs it)"
	echo "************************************************"
fi

lab_stop B
lab_assert_released B
lab_down
lab_assert_clean
[ ! -e "$PIDFILE_A" ] || lab_fail "pidfile left behind"
[ ! -e "$INITPID" ] || lab_fail "the init script's pidfile left behind"
echo "PASS: 17-initscript"
