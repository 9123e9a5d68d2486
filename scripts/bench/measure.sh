#!/usr/bin/env bash
#
# bench/measure.sh -- the measurements of scripts/bench.sh, run inside the
# namespace lab (scripts/lab.sh and bench/tunnels.sh sourced first).
#
# Traffic always flows hostA (198.19.0.1) -> hostB (198.19.0.2).  Every
# iperf3 client and udpgen runs under timeout(1), every iperf3 server is a
# one-off (-1), servers and receivers are started through lab_bg and reaped
# by PID, every ping has -c and -w, and every search loop has a fixed step
# budget.
#
# Results go to BENCH_OUT (one "metric run value" line each, read by
# bench/report.py); progress lines to file descriptor 3.
#
# Tunables (environment, set by bench.sh): BENCH_SECONDS (TCP run length),
# BENCH_UDP_SECONDS (length of each UDP step), BENCH_PINGS, BENCH_UDPGEN
# (the compiled bench/udpgen.c).

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_IPERF_PORT=5201
BENCH_UDP_PORT=5301
BENCH_PY=${BENCH_PY:-python3}
BENCH_HZ=$(getconf CLK_TCK)
BENCH_PIDS=""

bench_say()
{
	printf '    %s\n' "$*" >&3
}

# bench_put METRIC RUN VALUE: record one number.
bench_put()
{
	printf '%s %s %s\n' "$1" "$2" "$3" >>"$BENCH_OUT"
}

bench_note()
{
	printf 'note %s\n' "$*" >>"$BENCH_OUT"
}

# bench_busy: busy jiffies of the whole machine: user, nice, system, irq
# and softirq of /proc/stat's "cpu" line (not idle or iowait, and not
# steal: time the hypervisor gave to other guests).
bench_busy()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# bench_proc_jiffies PID...: user + system jiffies of these processes (all
# their threads); gone processes count 0.
bench_proc_jiffies()
{
	local pid s t=0 f
	for pid in "$@"; do
		s=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		# Fields after the command name, which may hold spaces.
		read -r -a f <<<"${s##*) }"
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# bench_fmt EXPR: evaluate a floating point awk expression, 3 decimals.
bench_fmt()
{
	awk "BEGIN { printf \"%.3f\", $1 }"
}

# bench_lt A B: true if number A < number B.
bench_lt()
{
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

# bench_pids_alive: every process of BENCH_PIDS still runs.
bench_pids_alive()
{
	local pid
	for pid in $BENCH_PIDS; do
		lab_pid_alive "$pid" || return 1
	done
}

# bench_alive: the tunnel daemons (if any) still run and hostA reaches
# hostB (3 tries, about 3 s at most).
bench_alive()
{
	local i
	bench_pids_alive || return 1
	for ((i = 0; i < 3; i++)); do
		lab_in hA ping -q -n -c 1 -W 1 -w 1 "$LAB_LAN4_B" \
			>/dev/null 2>&1 && return 0
	done
	return 1
}

# bench_iperf OUT ARGS...: one iperf3 test hostA -> hostB, JSON to OUT.
# Starts a one-off server in hB, waits (bounded) until it listens, runs the
# client under a time limit, reaps the server.  Returns the client's status.
bench_iperf()
{
	local out=$1 spid i rc
	shift
	lab_bg hB "$LAB_DIR/iperf-server.out" iperf3 -s -1 \
		-B "$LAB_LAN4_B" -p "$BENCH_IPERF_PORT"
	spid=$LAB_LAST_PID
	for ((i = 0; i < 50; i++)); do
		lab_in hB ss -Hltn "sport = :$BENCH_IPERF_PORT" 2>/dev/null |
			grep -q . && break
		sleep 0.1
	done
	lab_in hA timeout $((BENCH_SECONDS + BENCH_UDP_SECONDS + 20)) \
		iperf3 -c "$LAB_LAN4_B" -p "$BENCH_IPERF_PORT" -J \
		--connect-timeout 3000 "$@" >"$out" 2>"$out.err"
	rc=$?
	lab_wait_exit "$spid" 50 >/dev/null
	return "$rc"
}

bench_iperf_error()
{
	"$BENCH_PY" "$BENCH_LIB/report.py" error "$1" 2>/dev/null |
		head -n 1
}

# bench_tcp RUN STREAMS: TCP for BENCH_SECONDS with STREAMS streams.
# Records tcp1 or tcp4 (Mbit/s at the receiver); for one stream also cpu
# (whole machine's CPU seconds per Gbit) and tcpu (the tunnel daemons').
bench_tcp()
{
	local run=$1 n=$2 out=$LAB_DIR/tcp.json b0 b1 d0 d1 res mbps bytes
	b0=$(bench_busy)
	# shellcheck disable=SC2086
	d0=$(bench_proc_jiffies $BENCH_PIDS)
	if ! bench_iperf "$out" -t "$BENCH_SECONDS" -P "$n" ||
		! res=$("$BENCH_PY" "$BENCH_LIB/report.py" tcp "$out"); then
		bench_say "run $run: TCP x$n failed: $(bench_iperf_error "$out")"
		bench_note "run $run: iperf3 TCP x$n failed: $(bench_iperf_error "$out")"
		return 1
	fi
	b1=$(bench_busy)
	# shellcheck disable=SC2086
	d1=$(bench_proc_jiffies $BENCH_PIDS)
	read -r mbps bytes <<<"$res"
	bench_put "tcp$n" "$run" "$mbps"
	if [ "$n" = 1 ] && [ "$bytes" -gt 0 ]; then
		bench_put cpu "$run" "$(bench_fmt "($b1 - $b0) / $BENCH_HZ / ($bytes * 8 / 1e9)")"
		# Only when every daemon lived through the run (a dead one's
		# time is gone from /proc).
		[ -z "$BENCH_PIDS" ] || ! bench_pids_alive ||
			bench_put tcpu "$run" "$(bench_fmt "($d1 - $d0) / $BENCH_HZ / ($bytes * 8 / 1e9)")"
	fi
	bench_say "run $run: TCP x$n $mbps Mbit/s"
}

# bench_udp_try RATE SEGS: one UDP step at RATE Mbit/s of 1400-byte
# datagrams from bench/udpgen.c, SEGS datagrams per send (UDP GSO) or one
# at a time (SEGS 1); sets U_SENT, U_RECV (Mbit/s of UDP payload), U_LOSS
# (percent) and, on failure, U_ERR.
bench_udp_try()
{
	local out=$LAB_DIR/udp.out spid res rx
	U_SENT=0
	U_RECV=0
	U_LOSS=100
	U_ERR=
	lab_bg hB "$out" timeout $((BENCH_UDP_SECONDS + 15)) "$BENCH_UDPGEN" \
		recv "$LAB_LAN4_B" "$BENCH_UDP_PORT" $((BENCH_UDP_SECONDS + 5))
	spid=$LAB_LAST_PID
	if ! lab_wait_file "$out" '^ready' 50; then
		U_ERR="receiver did not start: $(head -c 200 "$out")"
		lab_reap "$spid" 20
		return 1
	fi
	res=$(lab_in hA timeout $((BENCH_UDP_SECONDS + 10)) "$BENCH_UDPGEN" \
		send "$LAB_LAN4_B" "$BENCH_UDP_PORT" 1400 "$1" \
		"$BENCH_UDP_SECONDS" "$2" 2>&1)
	if [ $? -ne 0 ]; then
		U_ERR="sender failed: $res"
		lab_reap "$spid" 20
		return 1
	fi
	lab_wait_exit "$spid" 150 >/dev/null
	rx=$(grep '^received ' "$out")
	read -r U_SENT U_RECV U_LOSS < <(awk -v s="$res" -v r="$rx" 'BEGIN {
		split(s, a); split(r, b)
		if (a[1] != "sent" || b[1] != "received" || a[2] == 0 || a[4] == 0)
			exit 1
		lost = a[2] > b[2] ? (a[2] - b[2]) * 100 / a[2] : 0
		printf "%.1f %.1f %.3f\n", a[3] * 8000 / a[4], b[3] * 8000 / a[4], lost
	}') || {
		U_ERR="no result (sender: '$res', receiver: '$rx')"
		return 1
	}
	echo "udp step ${1}M x$2: sent $U_SENT received $U_RECV Mbit/s, loss $U_LOSS%"
}

# bench_udp RUN START STEP METRIC SEGS: the highest rate of 1400-byte UDP
# datagrams, SEGS per send, that loses under 1%.  From START Mbit/s,
# multiply (or divide) by STEP/4 until the loss crosses 1% (at most 8
# steps), then bisect (at most BENCH_UDP_BISECT steps, stopping at 3%
# precision).  Records METRIC: the received Mbit/s of the fastest passing
# step; METRIC_limited when the generator itself could not send faster.
# Sets BENCH_UDP_RATE to the offered rate of that step (a good start for
# the next run).
bench_udp()
{
	local run=$1 rate=$2 step=$3 metric=$4 segs=$5 lo=0 hi=0 best=''
	local limited=0 n=0 mid why=''
	((rate < 5)) && rate=5
	while ((n < 8)); do
		why="every rate tried, down to ${rate}M, lost 1% or more"
		bench_udp_try "$rate" "$segs" || {
			why="udpgen at ${rate}M: $U_ERR"
			break
		}
		n=$((n + 1))
		if bench_lt "$U_LOSS" 1; then
			lo=$rate
			best=$U_RECV
			# The generator could not reach the rate: it is the limit.
			if bench_lt "$U_SENT" "$(bench_fmt "$rate * 0.9")"; then
				limited=1
				break
			fi
			((hi > 0)) && break
			rate=$((rate * step / 4))
		else
			hi=$rate
			((lo > 0)) && break
			rate=$((rate * 4 / step))
			# Sender short of the rate: go just below what it sent.
			mid=$(awk -v s="$U_SENT" 'BEGIN { printf "%d", s * 0.9 }')
			((mid >= rate)) || rate=$mid
			((rate >= 5)) || break
		fi
	done
	n=0
	while ((limited == 0 && lo > 0 && hi > lo && n < BENCH_UDP_BISECT)); do
		((hi - lo > lo * 3 / 100 && hi - lo > 1)) || break
		mid=$(((lo + hi) / 2))
		bench_udp_try "$mid" "$segs" || {
			bench_note "run $run: $metric: udpgen at ${mid}M: $U_ERR"
			break
		}
		n=$((n + 1))
		if bench_lt "$U_LOSS" 1; then
			lo=$mid
			best=$U_RECV
			if bench_lt "$U_SENT" "$(bench_fmt "$mid * 0.9")"; then
				limited=1
			fi
		else
			hi=$mid
		fi
	done
	if [ -z "$best" ]; then
		bench_say "run $run: $metric: $why"
		bench_note "run $run: $metric: $why"
		return 1
	fi
	bench_put "$metric" "$run" "$best"
	[ "$limited" = 0 ] || bench_put "${metric}_limited" "$run" 1
	BENCH_UDP_RATE=$lo
	bench_say "run $run: UDP 1400 B x$segs per send: $best Mbit/s under 1% loss$([ "$limited" = 0 ] || echo ' (generator limit)')"
}

# bench_ping METRIC RUN [busy]: median RTT of BENCH_PINGS pings hostA ->
# hostB, 50 ms apart; records METRIC (ms).  With "busy", BENCH_PINGS_BUSY
# pings back to back instead (ping -A as root: the next one leaves when the
# reply is in): the latency of a path in use, not of one that has been
# quiet for 50 ms, whose processes and CPUs are all asleep.
bench_ping()
{
	local metric=$1 run=$2 out=$LAB_DIR/ping.out med
	if [ "${3:-}" = busy ]; then
		lab_in hA ping -n -A -c "$BENCH_PINGS_BUSY" -W 1 -w 10 \
			"$LAB_LAN4_B" >"$out" 2>&1
	else
		lab_in hA ping -n -c "$BENCH_PINGS" -i 0.05 -W 1 \
			-w $((BENCH_PINGS / 20 + 10)) "$LAB_LAN4_B" >"$out" 2>&1
	fi
	med=$("$BENCH_PY" "$BENCH_LIB/report.py" ping "$out") || {
		bench_note "run $run: ping ($metric) got no reply"
		return 1
	}
	bench_put "$metric" "$run" "$med"
	bench_say "run $run: ping median $med ms ($metric)"
}

# bench_baseline RUN [WIRE]: the RTT over a plain wire, the path every
# tunnel's datagrams take: each gateway's wan0 bridged with its lan0, so
# that frames cross the WAN switch as they are, no tunnel.  With WIRE (a
# result file), also the UDP 1x1 search over that wire into WIRE: what the
# lab carries of datagrams sent one by one when nothing seals them (not a
# bound for a tunnel, whose sender's system call may end earlier, at the
# TAP).  Undone afterwards (bridges deleted, ports released, wan0's
# addresses as they were) so that the tunnel starts on a clean gateway.
bench_baseline()
{
	local run=$1 wire=${2:-} gw
	for gw in gwA gwB; do
		ip -n "$LAB_P-$gw" link add br0 type bridge forward_delay 0 \
			stp_state 0 &&
			ip -n "$LAB_P-$gw" link set wan0 master br0 &&
			ip -n "$LAB_P-$gw" link set lan0 master br0 &&
			ip -n "$LAB_P-$gw" link set br0 up ||
			lab_fail "$gw: cannot build the baseline bridge"
	done
	lab_wait_link
	bench_ping base "$run"
	bench_ping baseb "$run" busy
	if [ -n "$wire" ]; then
		local BENCH_OUT=$wire
		bench_udp_from "$run" udp1 1 1000 || :
	fi
	for gw in gwA gwB; do
		ip -n "$LAB_P-$gw" link del br0 ||
			lab_fail "$gw: cannot delete the baseline bridge"
		ip -n "$LAB_P-$gw" link set wan0 up ||
			lab_fail "$gw: wan0 does not come back up"
	done
	lab_in gwA ping -q -n -c 1 -W 1 -w 5 "$LAB_WAN4_B" >/dev/null 2>&1 ||
		lab_fail "the WAN does not work again after the baseline"
}
