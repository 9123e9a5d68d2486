#!/usr/bin/env bash
# 07-wrong-key: gwA names a wrong public key for gwB.  No ping gets through,
# and gwB, which receives initiations it cannot authenticate, logs exactly
# one (rate-limited) line containing "handshake from" and "public-key".
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

lab_up
lab_keys
lab_conf -w gwA
lab_start A
lab_start B

lab_step "hostA -> hostB must fail: gwA has a stranger's key for gwB"
# The first ping makes gwA initiate; wait (bounded) for gwB's complaint.
lab_in hA ping -q -n -c 1 -W 1 -w 1 "$LAB_LAN4_B" >/dev/null 2>&1 &&
	lab_fail "a ping got through with a wrong key"
pat='handshake from.*public-key|public-key.*handshake from'
lab_wait_file "$LAB_DIR/gwB.log" "$pat" 100 ||
	lab_fail "gwB logged no 'handshake from ... public-key' line"
# Keep gwA retrying for a while: still nothing through, still one line.
out=$(lab_in hA ping -n -c 6 -i 0.5 -W 1 -w 6 "$LAB_LAN4_B" 2>&1)
echo "$out" | grep -q ' 0 received' ||
	lab_fail "pings got through with a wrong key: $out"
n=$(grep -Ec "$pat" "$LAB_DIR/gwB.log")
grep -E "$pat" "$LAB_DIR/gwB.log" | sed 's/^/    gwB: /'
[ "$n" -eq 1 ] || lab_fail "gwB logged $n 'handshake from ... public-key' lines, want 1"
lab_get hs B drops.handshake
lab_say "gwB drops.handshake = $hs"
[ "$hs" -ge 1 ] || lab_fail "gwB counted no rejected handshake"
lab_get hs A peer.handshakes
[ "$hs" -eq 0 ] || lab_fail "gwA reports $hs completed handshakes"

lab_finish
echo "PASS: 07-wrong-key"
