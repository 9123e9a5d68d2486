#!/usr/bin/env bash
# 22-replay: capture what the gateways say on the WAN -- data under an old
# session, gwA's restart with its fresh initiation, gwB's response, the
# confirming keepalive, data both ways under the new session -- then replay
# all of it while a ping stream runs: from mallory, and from each gateway's
# own address and port (raw socket in its namespace, so a replay looks like
# the original by address).  Every replayed datagram is rejected and counted
# (replay / no-session / expired / auth / handshake drops), no handshake
# completes, no endpoint moves, the ping stream loses nothing.  Last, gwB
# restarts and mallory replays gwA's old initiation, which the new gwB has
# never seen: gwB may answer (76 bytes) but must not move its endpoint to
# mallory, and the link comes back.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
. "$(dirname "$0")/lib/hostile.sh"
lab_require_root
lab_require_tapbridge

lab_default_up
# Datagrams on the capture as on a real wire, not as GSO super-packets.
lab_wire_segments
pcap=$LAB_DIR/wan.pcap

lab_step "capture the WAN: old session, gwA's restart, new session"
lab_tcpdump wan "$LAB_DIR/tcpdump.out" -i wA -c 5000 -w "$pcap" \
	"udp and port $LAB_PORT and host $LAB_WAN4_A and host $LAB_WAN4_B"
tpid=$LAB_LAST_PID
lab_in hA ping -q -n -c 20 -i 0.05 -W 2 -w 10 "$LAB_LAN4_B" >/dev/null ||
	lab_fail "ping hostA -> hostB"
lab_stop A
lab_start A
lab_wait_link
lab_in hA ping -q -n -c 40 -i 0.05 -W 2 -w 10 "$LAB_LAN4_B" >/dev/null ||
	lab_fail "ping hostA -> hostB"
lab_in hB ping -q -n -c 40 -i 0.05 -W 2 -w 10 "$LAB_LAN4_A" >/dev/null ||
	lab_fail "ping hostB -> hostA"
sleep 0.2	# the last replies reach the capture
kill -INT "$tpid" 2>/dev/null
lab_wait_exit "$tpid" 50 >/dev/null
grep -E 'packets captured' "$LAB_DIR/tcpdump.out" | sed 's/^/    /'

# counters G: "DATA HS" -- sums of the counters that replayed data and
# replayed handshake messages to gateway G may move.
counters()
{
	local g=$1 v p sum_data=0 sum_hs=0
	for p in peer.drops.replay drops.no-session peer.drops.expired \
		 peer.drops.auth; do
		lab_get v "$g" "$p"
		sum_data=$((sum_data + v))
	done
	for p in drops.handshake peer.drops.handshake; do
		lab_get v "$g" "$p"
		sum_hs=$((sum_hs + v))
	done
	echo "$sum_data $sum_hs"
}

# replay WHO NS TARGET [RAW_SOURCE]: replay the capture's datagrams to
# TARGET from namespace NS; counts into ${LAB_DIR}/replay-WHO.out.
replay()
{
	local who=$1 ns=$2 target=$3
	shift 3
	lab_in "$ns" timeout 60 "$LAB_PY" "$LAB_LIB/replay.py" "$pcap" \
		"$LAB_PORT" "$target" "$@" >"$LAB_DIR/replay-$who.out" ||
		lab_fail "replay.py ($who) failed: $(cat "$LAB_DIR/replay-$who.out")"
	lab_say "$who: $(tr '\n' ' ' <"$LAB_DIR/replay-$who.out")"
}

lab_get hsA0 A peer.handshakes
lab_get hsB0 B peer.handshakes
read -r dataA0 hsdA0 <<<"$(counters A)"
read -r dataB0 hsdB0 <<<"$(counters B)"
epA=$(lab_stat A peer.endpoint)
epB=$(lab_stat B peer.endpoint)

lab_step "replay everything while a ping stream runs"
hostile_ping_start 1200 0.05
replay mal-to-B mal "$LAB_WAN4_B"
replay mal-to-A mal "$LAB_WAN4_A"
replay gwA-to-B gwA "$LAB_WAN4_B" "$LAB_WAN4_A"
replay gwB-to-A gwB "$LAB_WAN4_A" "$LAB_WAN4_B"
sleep 0.3
hostile_ping_stop
[ "$HOSTILE_PING_RX" -eq "$HOSTILE_PING_TX" ] ||
	lab_fail "ping lost $((HOSTILE_PING_TX - HOSTILE_PING_RX)) echoes during the replay"

lab_step "every replayed datagram was rejected and counted"
sent()
{
	local n=0 f
	for f in "$LAB_DIR"/replay-*-to-"$1".out; do
		n=$((n + $(hostile_sent "$f" "$2")))
	done
	echo "$n"
}
for g in A B; do
	read -r d1 h1 <<<"$(counters $g)"
	eval "d0=\$data${g}0 h0=\$hsd${g}0"
	nd=$(sent "$g" data)
	nh=$(($(sent "$g" initiation) + $(sent "$g" response)))
	lab_say "gw$g: data rejected +$((d1 - d0)) for $nd replayed, handshake messages rejected +$((h1 - h0)) for $nh replayed"
	[ "$nd" -gt 0 ] && [ "$nh" -gt 0 ] ||
		lab_fail "the capture holds no data or no handshake message for gw$g"
	# Each datagram lands in exactly one counter: as many rejections as
	# replays means none was accepted.
	[ $((d1 - d0)) -ge "$nd" ] ||
		lab_fail "gw$g counted $((d1 - d0)) rejections for $nd replayed data datagrams"
	[ $((h1 - h0)) -ge "$nh" ] ||
		lab_fail "gw$g counted $((h1 - h0)) rejections for $nh replayed handshake messages"
done
lab_get hsA1 A peer.handshakes
lab_get hsB1 B peer.handshakes
lab_say "handshakes: gwA $hsA0 -> $hsA1, gwB $hsB0 -> $hsB1"
[ "$hsA1" -eq "$hsA0" ] && [ "$hsB1" -eq "$hsB0" ] ||
	lab_fail "a replayed handshake message completed a handshake"
[ "$(lab_stat A peer.endpoint)" = "$epA" ] ||
	lab_fail "gwA's peer endpoint moved from $epA to $(lab_stat A peer.endpoint)"
[ "$(lab_stat B peer.endpoint)" = "$epB" ] ||
	lab_fail "gwB's peer endpoint moved from $epB to $(lab_stat B peer.endpoint)"
lab_say "endpoints unchanged: gwA -> $epA, gwB -> $epB"

lab_step "gwB restarts; mallory replays gwA's initiation, unknown to the new gwB"
# A restarted responder cannot tell an old initiation from a new one (the
# timestamp check needs the last one seen), so it may answer; it must not
# send its traffic to mallory: the endpoint may follow only a datagram that
# proves freshness (a response to our own initiation, or data under a
# session the peer has confirmed).
lab_stop B
lab_start B
lab_tcpdump mal "$LAB_DIR/mal.txt" -i wan0 -q "udp and src host $LAB_WAN4_B"
replay old-to-B mal "$LAB_WAN4_B"
sleep 0.3
big=$(awk '/ UDP, length/ { if ($NF + 0 > 148) n++ } END { print n + 0 }' \
	"$LAB_DIR/mal.txt")
lab_say "gwB -> mallory: $(grep -c ' UDP, length' "$LAB_DIR/mal.txt") datagrams, $big bigger than an initiation"
[ "$big" -eq 0 ] || lab_fail "gwB sent mallory datagrams bigger than an initiation"
ep=$(lab_stat B peer.endpoint)
lab_say "gwB's peer endpoint: $ep"
[ "$ep" = "$epB" ] ||
	lab_fail "a replayed initiation moved gwB's peer endpoint to $ep"
lab_wait_link hB "$LAB_LAN4_A"
lab_wait_link

lab_finish
echo "PASS: 22-replay"
