#!/usr/bin/env bash
# 21-handshake-flood: while a ping stream and a paced 10 MB transfer run
# hostA -> hostB, mallory sends gwB 50,000 well-formed initiations (type 1,
# 148 bytes) with a random mac1, then 20,000 with a VALID mac1 (gwB's
# public key is public) and random contents, which gwB can only reject
# after its DH and AEAD.  gwB answers mallory nothing but cookie replies
# (64 bytes, once mallory's handshake budget is spent), grows no state
# (RSS, fds), logs no flood, counts every
# initiation, and the real session survives: no new handshake on either
# gateway, ping loss under 1%, the transfer arrives intact.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

N_RANDOM=${N_RANDOM:-50000}
N_VALID=${N_VALID:-20000}
# Each valid-mac1 initiation costs gwB a DH and an AEAD (about 50 us here):
# the rate keeps the flood from saturating a CPU of the 2-CPU test machine.
RANDOM_RATE=${RANDOM_RATE:-20000}
VALID_RATE=${VALID_RATE:-5000}
RSS_SLACK_KB=${RSS_SLACK_KB:-2048}

lab_up
lab_keys
lab_conf
pubB=$(cat "$LAB_DIR/gwB.pub")

lab_step "capture a real initiation gwA -> gwB to check our mac1 code"
lab_bg wan "$LAB_DIR/tcpdump-init.out" tcpdump -Z root -n -i wA -c 1 \
	-w "$LAB_DIR/init.pcap" \
	"udp and dst host $LAB_WAN4_B and dst port $LAB_PORT and udp[8] = 1"
tpid=$LAB_LAST_PID
lab_wait_file "$LAB_DIR/tcpdump-init.out" 'listening on' 50 ||
	lab_fail "tcpdump did not start: $(cat "$LAB_DIR/tcpdump-init.out")"
lab_start A
lab_start B
lab_wait_link
lab_wait_exit "$tpid" 100 ||
	lab_fail "no initiation to gwB captured: $(cat "$LAB_DIR/tcpdump-init.out")"
"$LAB_PY" "$LAB_LIB/flood.py" mac1check "$LAB_DIR/init.pcap" "$LAB_PORT" \
	"$pubB" | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] ||
	lab_fail "flood.py computes mac1 differently from gwA: its 'valid' mac1 would not be"

flood()
{
	local n=$1 rate=$2 out=$3
	shift 3
	lab_in mal timeout 60 "$LAB_PY" "$LAB_LIB/flood.py" initiation \
		"$LAB_WAN4_B" "$LAB_PORT" "$n" 40 "$rate" "$@" >"$out" ||
		lab_fail "flood.py failed: $(cat "$out")"
	sed 's/^/    flood: /' "$out" | grep -E 'sent|elapsed'
	[ "$(hostile_sent "$out" sent)" -eq "$n" ] ||
		lab_fail "mallory sent only $(hostile_sent "$out" sent) of $n initiations"
}

lab_step "warm-up: 10 MB transfer, 2,000 initiations of each kind"
# The packet pool's pages are touched on first use: measure growth from a
# state where the data path has already run under the same kind of load.
hostile_transfer_start 10 0
flood 2000 20000 "$LAB_DIR/warm1.out"
flood 2000 5000 "$LAB_DIR/warm2.out" "$pubB"
hostile_transfer_check
read -r rss0 fds0 <<<"$(hostile_usage B)"
lab_say "gwB daemon before: VmRSS $rss0 kB, $fds0 fds"
lab_get hsA0 A peer.handshakes
lab_get hsB0 B peer.handshakes
lab_get drop0 B drops.handshake
lab_get pdrop0 B peer.drops.handshake
log0=$(wc -l <"$LAB_DIR/gwB.log")
lab_tcpdump mal "$LAB_DIR/mal.txt" -i wan0 -q \
	"udp and src host $LAB_WAN4_B"

lab_step "ping stream + 10 MB transfer; mallory floods gwB with initiations"
hostile_ping_start 1200 0.05
hostile_transfer_start 10 8
t0=$SECONDS
pid=$(lab_pid B)
c0=$(hostile_cpu_ticks "$pid")
flood "$N_RANDOM" "$RANDOM_RATE" "$LAB_DIR/random.out"
c1=$(hostile_cpu_ticks "$pid")
flood "$N_VALID" "$VALID_RATE" "$LAB_DIR/valid.out" "$pubB"
c2=$(hostile_cpu_ticks "$pid")
lab_say "gwB cpu: $((c1 - c0)) ticks for $N_RANDOM random-mac1, $((c2 - c1)) for $N_VALID valid-mac1 initiations (includes the transfer)"
hostile_transfer_check
hostile_ping_stop
lab_say "flood + transfer took $((SECONDS - t0)) s"
hostile_ping_check 50

lab_step "gwB answered mallory nothing but cookie replies"
sleep 0.5	# last replies in flight, if any, reach the capture
replies=$(grep -c ' UDP, length' "$LAB_DIR/mal.txt")
other=$(awk '/ UDP, length/ { if ($NF + 0 != 64) n++ } END { print n + 0 }' \
	"$LAB_DIR/mal.txt")
lab_say "datagrams gwB -> mallory: $replies, other than 64-byte cookie replies: $other"
[ "$other" -eq 0 ] || lab_fail "gwB sent mallory $other datagrams that are not cookie replies"

lab_step "the real session survived, no state grew"
lab_get hsA1 A peer.handshakes
lab_get hsB1 B peer.handshakes
lab_say "handshakes: gwA $hsA0 -> $hsA1, gwB $hsB0 -> $hsB1"
[ "$hsA1" -eq "$hsA0" ] && [ "$hsB1" -eq "$hsB0" ] ||
	lab_fail "the flood caused new handshakes (session reset)"
lab_get age B peer.session_age_s
[ "$age" != null ] && [ "$age" -ge $((SECONDS - t0 - 2)) ] ||
	lab_fail "gwB's session is $age s old: it was replaced during the flood"
read -r rss1 fds1 <<<"$(hostile_usage B)"
lab_say "gwB daemon after:  VmRSS $rss1 kB, $fds1 fds"
[ $((rss1 - rss0)) -le "$RSS_SLACK_KB" ] ||
	lab_fail "gwB's RSS grew by $((rss1 - rss0)) kB (limit $RSS_SLACK_KB kB)"
[ "$fds1" -le "$fds0" ] || lab_fail "gwB's fd count grew from $fds0 to $fds1"
lab_get drop1 B drops.handshake
lab_get pdrop1 B peer.drops.handshake
counted=$((drop1 - drop0 + pdrop1 - pdrop0))
lab_say "handshake drops counted: $counted for $((N_RANDOM + N_VALID)) initiations"
[ "$counted" -ge $(((N_RANDOM + N_VALID) * 99 / 100)) ] ||
	lab_fail "gwB counted $counted handshake drops for $((N_RANDOM + N_VALID)) initiations"
loglines=$(($(wc -l <"$LAB_DIR/gwB.log") - log0))
lab_say "gwB log lines during the flood: $loglines"
[ "$loglines" -le 5 ] || {
	tail -n "$loglines" "$LAB_DIR/gwB.log" | sort | uniq -c | sort -rn | head
	lab_fail "gwB logged $loglines lines during the flood (not rate-limited)"
}
ep=$(lab_stat B peer.endpoint)
[ "$ep" = "$LAB_WAN4_A:$LAB_PORT" ] ||
	lab_fail "gwB's peer endpoint moved to '$ep'"

lab_finish
echo "PASS: 21-handshake-flood"
