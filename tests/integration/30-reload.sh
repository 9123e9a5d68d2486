#!/usr/bin/env bash
# 30-reload: SIGHUP reloads the configuration under traffic.  A second peer
# is added, then removed; the existing peer keeps its session (no new
# handshake) and a ping stream across the tunnel loses nothing; the TAP and
# bridge are not touched; so does a reload to 1024 peers (the most a
# configuration may have) and back.  A broken configuration, or a peer key
# that gives no shared secret, is refused with its FILE:LINE errors logged,
# and the daemon goes on with the old one.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up
conf=$LAB_DIR/gwA.conf
cp "$conf" "$LAB_DIR/gwA.conf.orig"
log=$LAB_DIR/gwA.log
pid=$(lab_pid A)
tapidx=$(ip -n "$LAB_P-gwA" -o link show tap0 | cut -d: -f1)
bridx=$(ip -n "$LAB_P-gwA" -o link show br0 | cut -d: -f1)

# hup N PATTERN: SIGHUP the daemon and wait for the Nth reload log line
# matching PATTERN (bounded).
hup()
{
	local n=$1 pat=$2 i
	kill -HUP "$pid"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -cE -- "$pat" "$log")" -ge "$n" ] && return 0
		sleep 0.1
	done
	lab_fail "no '$pat' (#$n) in the log after SIGHUP"
}

lab_get hs0 A peer.handshakes
lab_bg hA "$LAB_DIR/ping.out" ping -n -c 100 -i 0.1 -w 30 "$LAB_LAN4_B"
ping_pid=$LAB_LAST_PID
sleep 1	# let the stream run before the first reload

lab_step "add peer 'c'"
{
	echo "peer c {"
	echo "	public-key $(cat "$LAB_DIR/stranger.pub")"
	echo "	endpoint $LAB_WAN4_M:$LAB_PORT"
	echo "}"
} >>"$conf"
hup 1 'configuration reloaded: 2 peer\(s\), 1 kept, 1 new or changed, 0 removed'
n=$(lab_status A | "$LAB_PY" -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')
[ "$n" = 2 ] || lab_fail "status shows $n peers after adding one"
lab_say "2 peers"

sleep 1
lab_step "remove peer 'c'"
cp "$LAB_DIR/gwA.conf.orig" "$conf"
hup 1 'configuration reloaded: 1 peer\(s\), 1 kept, 0 new or changed, 1 removed'

lab_step "a broken configuration is refused"
echo "bogus-directive 1" >>"$conf"
hup 1 'reload refused'
grep -q "gwA.conf:[0-9]*: unknown directive 'bogus-directive'" "$log" ||
	lab_fail "the refused reload did not log the FILE:LINE error"
lab_pid_alive "$pid" || lab_fail "daemon died on a broken reload"
cp "$LAB_DIR/gwA.conf.orig" "$conf"

lab_step "a peer whose key is a low-order point is refused with FILE:LINE"
{
	echo "peer low {"
	echo "	public-key AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	echo "}"
} >>"$conf"
hup 2 'reload refused'
grep -q "gwA.conf:[0-9]*: peer 'low': public key is not usable" "$log" ||
	lab_fail "the low-order key was not refused with its FILE:LINE"
lab_pid_alive "$pid" || lab_fail "daemon died on a refused reload"
cp "$LAB_DIR/gwA.conf.orig" "$conf"

lab_step "the largest configuration: 1024 peers, then back to 1"
"$LAB_PY" - "$conf" <<'PY'
import base64, os, sys
with open(sys.argv[1], "a") as f:
    for i in range(1023):
        key = base64.b64encode(os.urandom(32)).decode()
        f.write("peer p%d {\n\tpublic-key %s\n}\n" % (i, key))
PY
hup 1 'configuration reloaded: 1024 peer\(s\), 1 kept, 1023 new'
cp "$LAB_DIR/gwA.conf.orig" "$conf"
hup 1 'configuration reloaded: 1 peer\(s\), 1 kept, 0 new or changed, 1023 removed'
! grep -q 'cannot hand it to the network process' "$log" ||
	lab_fail "a reload did not reach the network process"

lab_step "a restart-only setting changed: said so, the rest applied"
sed -i '/^control-socket /a control-group nogroup' "$conf"
hup 3 'configuration reloaded: 1 peer'
grep -q "'control-group' and 'user' take effect only at a restart" "$log" ||
	lab_fail "no warning that control-group needs a restart"
[ "$(stat -c %a "$LAB_DIR/gwA.sock")" = 600 ] ||
	lab_fail "the control socket changed mode on a reload"
cp "$LAB_DIR/gwA.conf.orig" "$conf"

lab_wait_exit "$ping_pid" 400
grep -q ' 0% packet loss' "$LAB_DIR/ping.out" ||
	lab_fail "ping during the reloads: $(grep loss "$LAB_DIR/ping.out")"
lab_get hs1 A peer.handshakes
[ "$hs1" = "$hs0" ] || lab_fail "peer 'b' needed a new handshake ($hs0 -> $hs1)"
[ "$(ip -n "$LAB_P-gwA" -o link show tap0 | cut -d: -f1)" = "$tapidx" ] ||
	lab_fail "tap0 was recreated"
[ "$(ip -n "$LAB_P-gwA" -o link show br0 | cut -d: -f1)" = "$bridx" ] ||
	lab_fail "br0 was recreated"
lab_say "100/100 pings through seven reloads; session, TAP and bridge kept"

lab_finish
echo "PASS: 30-reload"
