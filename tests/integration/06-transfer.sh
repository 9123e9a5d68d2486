#!/usr/bin/env bash
# 06-transfer: 50 MB of random bytes from hostA to hostB over TCP; the
# SHA-256 of what arrives equals that of what was sent.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up

src=$LAB_DIR/send.bin
dst=$LAB_DIR/recv.bin
head -c $((50 * 1024 * 1024)) /dev/urandom >"$src"

lab_step "50 MB hostA -> hostB (socat over TCP)"
lab_tcp_listen 5001 "$dst" 120
rpid=$LAB_LAST_PID
t0=$(date +%s%N)
lab_in hA timeout 120 socat -u "OPEN:$src" "TCP4:$LAB_LAN4_B:5001" ||
	lab_fail "sender failed or timed out"
lab_wait_exit "$rpid" 300 || lab_fail "receiver did not finish: $(cat "$LAB_DIR/socat-rx-5001.out")"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
lab_say "transfer took ${ms} ms ($((50 * 8 * 1000 / (ms > 0 ? ms : 1))) Mbit/s)"
a=$(sha256sum <"$src" | cut -d' ' -f1)
b=$(sha256sum <"$dst" | cut -d' ' -f1)
lab_say "sent $a"
lab_say "recv $b"
[ "$a" = "$b" ] || lab_fail "SHA-256 differs ($(stat -c %s "$dst") bytes received)"

lab_finish
echo "PASS: 06-transfer"
