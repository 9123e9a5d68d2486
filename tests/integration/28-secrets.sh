#!/usr/bin/env bash
# 28-secrets: key material never reaches a core dump, a log line or the
# status output.  Every process of both daemons (privileged parent and
# network process) has RLIMIT_CORE 0, or keeps its secrets in pages marked
# "do not dump" (VmFlags dd in /proc/PID/smaps, as sodium_malloc makes
# them), and those pages are locked (VmFlags lo), so never swapped.
# After traffic, rekeys, forged and foreign handshakes and a restart, with
# debug logging on, neither the logs, `tapbridge status` (text and JSON)
# nor `tapbridge -t` contain any private key or the preshared key, in
# base64 or in hex.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

lab_default_up -p -r 10

lab_step "no core dumps of secrets"
for g in A B; do
	keyregions=0
	for p in $(hostile_tree "$(lab_pid $g)"); do
		core=$(awk '/^Max core file size/ { print $5 }' "/proc/$p/limits")
		dd=$(grep -c '^VmFlags:.* dd' "/proc/$p/smaps" 2>/dev/null)
		name=$(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-60)
		lab_say "gw$g pid $p: core limit '$core', $dd do-not-dump regions ($name)"
		[ "$core" = 0 ] || [ "$dd" -gt 0 ] ||
			lab_fail "gw$g pid $p may dump its keys: core limit '$core' and no MADV_DONTDUMP region"
		# Nor swap: every writable do-not-dump region (sodium_malloc's)
		# is locked (VmFlags lo), in the network process too, which
		# fork gave the parent's key pages without their locks.
		read -r locked unlocked < <(awk '
			/^[0-9a-f]+-[0-9a-f]+ / { perms = $2 }
			/^VmFlags:/ && perms ~ /^rw/ && / dd/ {
				if (/ lo/) l++; else u++
			}
			END { print l + 0, u + 0 }' "/proc/$p/smaps")
		lab_say "gw$g pid $p: $locked locked key regions, $unlocked not locked"
		[ "$unlocked" = 0 ] ||
			lab_fail "gw$g pid $p: $unlocked writable do-not-dump region(s) not locked (of $((locked + unlocked)))"
		keyregions=$((keyregions + locked))
	done
	# The parent wipes its keys after the fork; the network process
	# holds them.
	[ "$keyregions" -gt 0 ] || lab_fail "gw$g: no locked key region in any process"
done

lab_step "exercise the daemons: traffic, rekeys, bad handshakes, a restart"
lab_ping hA "$LAB_LAN4_B" 5 || lab_fail "ping hostA -> hostB"
lab_in mal timeout 30 "$LAB_PY" "$LAB_LIB/flood.py" initiation "$LAB_WAN4_B" \
	"$LAB_PORT" 50 10 1000 >/dev/null || lab_fail "flood.py failed"
lab_in mal timeout 30 "$LAB_PY" "$LAB_LIB/flood.py" initiation "$LAB_WAN4_B" \
	"$LAB_PORT" 50 10 1000 "$(cat "$LAB_DIR/gwB.pub")" >/dev/null ||
	lab_fail "flood.py failed"
lab_in mal timeout 30 "$LAB_PY" "$LAB_LIB/flood.py" random "$LAB_WAN4_A" \
	"$LAB_PORT" 500 10 5000 >/dev/null || lab_fail "flood.py failed"
# Ping across a rekey (every 10 s).
lab_in hA ping -q -n -c 60 -i 0.2 -W 2 -w 20 "$LAB_LAN4_B" >/dev/null ||
	lab_fail "ping across a rekey"
lab_stop A
lab_start A
lab_wait_link
lab_get hs A peer.handshakes
lab_say "gwA handshakes since its restart: $hs"

lab_step "no key material in logs or status output"
out=$LAB_DIR/outputs
: >"$out"
for g in A B; do
	{
		lab_status $g
		lab_status $g text
		lab_in gw$g "$TAPBRIDGE" -t -c "$LAB_DIR/gw$g.conf" 2>&1
	} >>"$out" 2>&1
done
cat "$LAB_DIR/gwA.log" "$LAB_DIR/gwB.log" >>"$out"
lab_say "checking $(wc -l <"$out") lines of logs and status output"
n=0
for f in gwA.key gwB.key psk; do
	b64=$(tr -d ' \n' <"$LAB_DIR/$f")
	hex=$(printf '%s' "$b64" | base64 -d | od -An -tx1 | tr -d ' \n')
	[ ${#b64} -eq 44 ] && [ ${#hex} -eq 64 ] ||
		lab_fail "$f does not hold a base64 key of 32 bytes"
	for s in "$b64" "${b64:0:16}" "$hex" "${hex:0:16}"; do
		if grep -qiF -- "$s" "$out"; then
			grep -niF -- "$s" "$out" | head -n 3 | sed 's/^/    /'
			lab_fail "key material of $f appears in the logs or status output"
		fi
		n=$((n + 1))
	done
done
lab_say "$n key fragments searched, none found"
for g in A B; do
	pub=$(cat "$LAB_DIR/gw$g.pub")
	grep -qF -- "${pub:0:8}" "$out" ||
		lab_fail "status output does not name gw$g's public key (is the check blind?)"
done

lab_finish
echo "PASS: 28-secrets"
