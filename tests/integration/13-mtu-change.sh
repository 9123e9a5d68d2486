#!/usr/bin/env bash
# 13-mtu-change: the WAN MTU falls from 1500 to 1280 in the middle of a TCP
# transfer; the transfer completes with the right SHA-256 and the session
# stays up (no new handshake was needed), and the path MTU follows.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up

src=$LAB_DIR/send.bin
dst=$LAB_DIR/recv.bin
head -c $((40 * 1024 * 1024)) /dev/urandom >"$src"
lab_get hs0 A peer.handshakes
lab_get mtu A peer.path_mtu
[ "$mtu" = 1500 ] || lab_fail "path MTU is $mtu at start, not 1500"

lab_step "40 MB hostA -> hostB, WAN MTU 1500 -> 1280 during the transfer"
lab_tcp_listen 5001 "$dst" 120
rpid=$LAB_LAST_PID
# Pace the sender (1 MB every 60 ms) so the change lands mid-transfer.
lab_bg hA "$LAB_DIR/socat-tx.out" timeout 120 sh -c \
	"'$LAB_PY' '$LAB_LIB/pace.py' '$src' 1048576 0.06 | socat -u - TCP4:$LAB_LAN4_B:5001"
spid=$LAB_LAST_PID
for ((i = 0; i < 100; i++)); do
	[ "$(stat -c %s "$dst" 2>/dev/null || echo 0)" -gt $((8 * 1024 * 1024)) ] && break
	sleep 0.1
done
[ "$i" -lt 100 ] || lab_fail "transfer did not get going"
for x in A:gwA B:gwB M:mal; do
	IFS=: read -r x gw <<<"$x"
	ip -n "$LAB_P-wan" link set "w$x" mtu 1280
	ip -n "$LAB_P-$gw" link set wan0 mtu 1280
done
lab_say "WAN MTU lowered to 1280 after $(stat -c %s "$dst") bytes"
lab_wait_exit "$spid" 900 || lab_fail "sender failed: $(cat "$LAB_DIR/socat-tx.out")"
lab_wait_exit "$rpid" 300 || lab_fail "receiver failed"
[ "$(sha256sum <"$src")" = "$(sha256sum <"$dst")" ] ||
	lab_fail "SHA-256 differs ($(stat -c %s "$dst") bytes received)"
lab_say "transfer complete, SHA-256 matches"

lab_get mtu A peer.path_mtu
[ "$mtu" = 1280 ] || lab_fail "path MTU of A is $mtu, not 1280"
lab_get hs1 A peer.handshakes
lab_get age A peer.session_age_s
[ "$hs1" = "$hs0" ] || lab_fail "a new handshake was needed ($hs0 -> $hs1)"
[ "$age" != null ] || lab_fail "no session after the change"
lab_ping hA "$LAB_LAN4_B" 5 -M do -s 1472 ||
	lab_fail "full-size ping fails after the change"
lab_say "session kept (handshakes $hs1, age ${age}s), path MTU 1280"

lab_finish
echo "PASS: 13-mtu-change"
