#!/usr/bin/env bash
# 01-ping: hostA and hostB ping each other over IPv4 across the tunnel, with
# small frames and with full-size (1514-byte) frames that do not fit the
# WAN unfragmented.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_default_up

lab_step "ping hostA -> hostB and hostB -> hostA"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "hostA -> hostB ping lost echoes"
lab_ping hB "$LAB_LAN4_A" 5 || lab_fail "hostB -> hostA ping lost echoes"

lab_step "full-size frames (1472-byte ICMP payload, DF set) both ways"
lab_ping hA "$LAB_LAN4_B" 3 -s 1472 -M "do" ||
	lab_fail "hostA -> hostB: 1514-byte frames lost"
lab_ping hB "$LAB_LAN4_A" 3 -s 1472 -M "do" ||
	lab_fail "hostB -> hostA: 1514-byte frames lost"

lab_finish
echo "PASS: 01-ping"
