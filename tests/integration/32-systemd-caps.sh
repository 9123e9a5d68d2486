#!/usr/bin/env bash
# 32-systemd-caps: the daemon runs within what the shipped systemd unit
# grants it.  The unit's CapabilityBoundingSet and NoNewPrivileges are read
# from etc/systemd/tapbridge@.service and applied with setpriv(1) (this
# test machine runs no systemd): both gateways start under them, with
# 'control-group' set on A (its socket is chowned), traffic crosses, status
# answers, a reload and a stop work, and nothing is left.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
command -v setpriv >/dev/null || {
	echo "SKIP: setpriv (util-linux) is not installed"
	exit 77
}

unit="$(dirname "$0")/../../etc/systemd/tapbridge@.service"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ -n "$caps" ] || lab_fail "no CapabilityBoundingSet in $unit"
grep -q '^NoNewPrivileges=yes$' "$unit" ||
	lab_fail "the unit no longer sets NoNewPrivileges=yes: update this test"
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset+=",+${c,,}"
done
LAB_WRAP="setpriv --no-new-privs --bounding-set $bset"
lab_step "the unit's bounding set: $caps ($LAB_WRAP)"

lab_default_up -g nogroup

for gw in A B; do
	parent=$(lab_pid $gw)
	bnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$parent/status")
	nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$parent/status")
	[ "$nnp" = 1 ] || lab_fail "gw$gw: the daemon runs without no-new-privs"
	lab_say "gw$gw: CapBnd $bnd, NoNewPrivs $nnp"
done
[ "$(stat -c %G "$LAB_DIR/gwA.sock")" = nogroup ] ||
	lab_fail "gwA.sock is group $(stat -c %G "$LAB_DIR/gwA.sock"), not nogroup"

lab_step "traffic and status under the unit's limits"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "no ping through the tunnel"
lab_status A text | grep -q "^peer 'b' " ||
	lab_fail "no status from gwA: $(lab_status A text)"

lab_step "reload and stop"
kill -HUP "$(lab_pid A)"
for ((i = 0; i < 50; i++)); do
	grep -q "configuration reloaded: 1 peer" "$LAB_DIR/gwA.log" && break
	sleep 0.1
done
grep -q "configuration reloaded: 1 peer" "$LAB_DIR/gwA.log" ||
	lab_fail "gwA did not reload: $(tail -5 "$LAB_DIR/gwA.log")"
lab_ping hA "$LAB_LAN4_B" 3 || lab_fail "no ping after the reload"
lab_finish
echo "PASS: 32-systemd-caps"
