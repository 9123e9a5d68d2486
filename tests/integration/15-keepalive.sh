#!/usr/bin/env bash
# 15-keepalive: with 'keepalive 2' and no traffic at all, each gateway sends
# keepalives on the WAN: at least 3 in 12 s (one whenever it has sent
# nothing for 2 s would make about 6; the rest is slack for a busy machine,
# as the test asserts no timing); without the directive an idle tunnel
# sends no keepalive.  The longest silence is only reported.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

# capture SECONDS: the WAN's UDP datagrams for SECONDS, with epoch times;
# prints the capture file name.
capture()
{
	local out=$LAB_DIR/ka-$RANDOM.txt
	lab_tcpdump wan "$out" -i br0 -l -q -tt udp
	sleep "$1"	# observation window, not a wait for state
	lab_reap "$LAB_LAST_PID" 20
	echo "$out"
}

# gaps FILE SRC: "count max_gap_ms keepalives" of what SRC sent.
gaps()
{
	awk -v src="$2.$LAB_PORT" '
		$3 == src && $2 == "IP" {
			t = $1 * 1000; n++
			if (n > 1 && t - last > max) max = t - last
			last = t
			if ($NF == 29) ka++	# data header + MAC, empty
		}
		END { printf "%d %d %d\n", n, max, ka }' "$1"
}

lab_up
lab_keys
lab_conf -k 2
lab_start A
lab_start B
lab_wait_link
lab_step "idle tunnel with keepalive 2: 12 s of WAN capture"
# Without the directive at most one keepalive (the passive one, 10 s after
# data was last received) could fall in these 12 s: 3 tell the two apart.
f=$(capture 12)
for gw in A B; do
	[ $gw = A ] && src=$LAB_WAN4_A || src=$LAB_WAN4_B
	read -r n max ka <<<"$(gaps "$f" "$src")"
	lab_say "$gw: $n datagrams, $ka keepalives, longest silence $max ms"
	[ "$ka" -ge 3 ] ||
		lab_fail "$gw sent $ka keepalives in 12 s of idle tunnel (keepalive 2: want at least 3)"
done
lab_stop A
lab_stop B

lab_step "same without keepalive: no keepalive on an idle tunnel"
lab_conf
lab_start A
lab_start B
lab_wait_link
# Within 10 s of the last frame no passive keepalive is due either.
f=$(capture 5)
for src in "$LAB_WAN4_A" "$LAB_WAN4_B"; do
	read -r n max ka <<<"$(gaps "$f" "$src")"
	[ "$ka" -eq 0 ] || lab_fail "$src sent $ka keepalives without 'keepalive'"
done
lab_say "no keepalive without the directive"

lab_finish
echo "PASS: 15-keepalive"
