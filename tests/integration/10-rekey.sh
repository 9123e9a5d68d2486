#!/usr/bin/env bash
# 10-rekey: with rekey-interval 10 on both sides, a 25-second ping stream
# (every 0.2 s) spans at least two rekeys and loses nothing; the handshake
# counters grow by at least 2.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

lab_default_up -r 10 -p
lab_get hA0 A peer.handshakes
lab_get hB0 B peer.handshakes
lab_say "handshakes before: gwA $hA0, gwB $hB0"

lab_step "ping hostA -> hostB, 125 x 0.2 s"
out=$(lab_in hA ping -n -c 125 -i 0.2 -W 2 -w 40 "$LAB_LAN4_B" 2>&1)
echo "$out" | tail -n 2 | sed 's/^/    /'
echo "$out" | grep -q '125 packets transmitted, 125 received' ||
	lab_fail "ping lost echoes across rekeys"

lab_get hA1 A peer.handshakes
lab_get hB1 B peer.handshakes
lab_say "handshakes after:  gwA $hA1, gwB $hB1"
[ $((hA1 - hA0)) -ge 2 ] || lab_fail "gwA: handshakes grew by $((hA1 - hA0)), want >= 2"
[ $((hB1 - hB0)) -ge 2 ] || lab_fail "gwB: handshakes grew by $((hB1 - hB0)), want >= 2"
lab_get age A peer.session_age_s
[ "$age" != null ] && [ "$age" -le 15 ] ||
	lab_fail "gwA's session is $age s old with rekey-interval 10"

lab_finish
echo "PASS: 10-rekey"
