#!/usr/bin/env bash
#
# bench.sh [BIN]: `make bench` -- tapbridge side by side with OpenVPN, tinc,
# fastd and kernel VXLAN in the two-office namespace lab (scripts/lab.sh),
# one table.  Needs root.  Reports, asserts nothing about speed; exits 1
# only if tapbridge itself could not be measured.
#
# BENCH_RUNS runs, each of every tunnel kind in turn (so that the machine's
# drift reaches every row alike), each in a subshell with a lab of its own
# (so one kind's failure or leftovers cannot touch the next): build the lab
# (WAN MTU 1500), measure the plain-wire RTT baseline (in tapbridge's runs
# also the wire's UDP 1x1 rate, a row of its own), bring the tunnel up,
# 2 s of TCP not measured, then TCP 1 stream (with CPU accounting), TCP 4
# streams, the two UDP rate searches (bench/udpgen.c sending with UDP GSO,
# then one datagram at a time), ping (50 ms apart, then back to back).  The
# lab's EXIT trap tears it down; only our own PIDs are killed.  Details of
# each kind in bench/tunnels.sh, of each measurement in bench/measure.sh;
# bench/report.py makes the table.
#
# Environment:
#   PEERS=1            install openvpn, tinc, fastd, iperf3 (and openssl)
#                      from Debian first when missing
#   BENCH_RUNS         runs per tunnel; each number is the median (default 3)
#   BENCH_SECONDS      length of each TCP run (default 5)
#   BENCH_UDP_SECONDS  length of each UDP search step (default 2, at most
#                      BENCH_SECONDS)
#   BENCH_UDP_BISECT   bisection steps of the UDP search (default 5)
#   BENCH_UDP_SEGS     datagrams per send in the "UDP GSO" column (default
#                      46: 64 KB; 2 to 64)
#   BENCH_PINGS        pings per RTT sample, 50 ms apart (default 50)
#   BENCH_PINGS_BUSY   pings per busy RTT sample, back to back (default 500)
#   BENCH_TUNNELS      the kinds to run (default: all), e.g. "tapbridge vxlan"
#   BENCH_KEEP=1       keep the per-kind logs and results (path printed)
#   BENCH_WIRE=1       veths that behave more like physical links:
#                      hostA's eth0 cuts TCP and UDP GSO sends into frames
#                      (tso, tx-udp-segmentation off), both wan0 cut UDP
#                      GSO sends into datagrams, and the gateways' lan0
#                      (GRO on) deliver what they receive up to 50 us late
#                      (gro_flush_timeout, napi_defer_hard_irqs 2), as a
#                      card's interrupt moderation (rx-usecs 50) does: what
#                      arrives together is merged.  The WAN stays a veth:
#                      its ports offer TSO, so wan0 never goes through
#                      NAPI and GRO or moderation there would do nothing
set -uo pipefail

BENCH_HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "${1:-}" ] && TAPBRIDGE=$1
export LAB_TUNNEL=tapbridge
# shellcheck source-path=SCRIPTDIR
. "$BENCH_HERE/lab.sh"
# shellcheck source-path=SCRIPTDIR
. "$BENCH_HERE/bench/tunnels.sh"
# shellcheck source-path=SCRIPTDIR
. "$BENCH_HERE/bench/measure.sh"

BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_UDP_SECONDS=${BENCH_UDP_SECONDS:-2}
BENCH_UDP_BISECT=${BENCH_UDP_BISECT:-5}
BENCH_UDP_SEGS=${BENCH_UDP_SEGS:-46}
BENCH_WIRE_MODERATION=50000	# ns: a network card's rx-usecs 50
BENCH_PINGS=${BENCH_PINGS:-50}
BENCH_PINGS_BUSY=${BENCH_PINGS_BUSY:-500}
BENCH_TUNNELS=${BENCH_TUNNELS:-tapbridge openvpn tinc fastd fastd1434 vxlan}
PEERS=${PEERS:-0}
BENCH_TMP=
BENCH_HEAD=
BENCH_CHILD=

bench_die()
{
	echo "bench: $*" >&2
	exit 1
}

bench_check_number()
{
	[[ "$2" =~ ^[1-9][0-9]*$ ]] && [ "$2" -le "$3" ] ||
		bench_die "$1 must be a whole number from 1 to $3 (got '$2')"
}

bench_label()
{
	case $1 in
	tapbridge) echo tapbridge ;;
	openvpn) echo "OpenVPN" ;;
	tinc) echo "tinc" ;;
	fastd) echo "fastd" ;;
	fastd1434) echo "fastd 1434" ;;
	vxlan) echo "VXLAN" ;;
	*) echo "$1" ;;
	esac
}

# bench_install: PEERS=1: install from Debian what the peers need.
bench_install()
{
	local need=() pair cmd pkg
	for pair in openvpn:openvpn tincd:tinc fastd:fastd iperf3:iperf3 \
		openssl:openssl; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
	done
	[ "${#need[@]}" -gt 0 ] || return 0
	echo "bench: installing ${need[*]} (PEERS=1)"
	if ! { apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${need[@]}" >/dev/null; }; then
		echo "bench: apt-get could not install ${need[*]}; going on" >&2
	fi
}

bench_cpu_model()
{
	awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo
}

bench_header()
{
	local k v load
	echo "tapbridge benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "  machine : $(bench_cpu_model), $(nproc) cores, kernel $(uname -r)," \
		"load $(cut -d' ' -f1-3 /proc/loadavg) at start"
	if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
		echo "  WARNING : the machine was busy before the bench started" \
			"(load $load on $(nproc) cores): expect low, noisy numbers"
	fi
	echo "  lab     : scripts/lab.sh namespaces, WAN veth MTU 1500," \
		"traffic hostA -> hostB$([ "${BENCH_WIRE:-0}" != 1 ] ||
			echo ", BENCH_WIRE=1: hostA's eth0 and wan0 cut GSO sends, lan0 with GRO and $((BENCH_WIRE_MODERATION / 1000)) us moderation")"
	echo "  method  : median of $BENCH_RUNS run(s); TCP iperf3 -t $BENCH_SECONDS;" \
		"UDP bench/udpgen.c 1400-byte datagrams, $BENCH_UDP_SEGS per send (GSO)" \
		"and 1 per send, ${BENCH_UDP_SECONDS} s steps;" \
		"RTT $BENCH_PINGS pings 50 ms apart, busy RTT $BENCH_PINGS_BUSY back to back"
	printf '  versions: %s' "$(iperf3 --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2)"
	for k in $BENCH_TUNNELS; do
		# fastd's again, unless plain fastd is not in the list.
		[ "$k" != fastd1434 ] ||
			[[ " $BENCH_TUNNELS " != *" fastd "* ]] || continue
		if [ "$k" = vxlan ] || command -v "$(bench_tunnel_binary "$k")" \
			>/dev/null 2>&1; then
			v=$(bench_tunnel_version "$k")
		else
			v="$(bench_label "$k") not installed"
		fi
		printf ', %s' "$v"
	done
	printf '\n'
}

# bench_still_up RUN: true if the tunnel still works; otherwise note that it
# went down in RUN and end this run's subshell with status 2 (bench_main
# then skips the kind's later runs).
bench_still_up()
{
	bench_alive && return 0
	bench_note "the tunnel went down in run $1; later runs skipped"
	bench_say "the tunnel went down in run $1; later runs skipped"
	exit 2
}

# bench_udp_from RUN METRIC SEGS FIRST: one UDP search (bench_udp), from
# the rate an earlier run found in steps of 1.25, else from FIRST in steps
# of 2; the rate found is kept for the next run (METRIC_at).
bench_udp_from()
{
	local last
	last=$(awk -v m="$2_at" '$1 == m { v = $3 } END { printf "%d", v }' \
		"$BENCH_OUT")
	BENCH_UDP_RATE=0
	if [ "$last" -gt 0 ]; then
		bench_udp "$1" "$last" 5 "$2" "$3" || return 1
	else
		bench_udp "$1" "$4" 8 "$2" "$3" || return 1
	fi
	bench_put "$2_at" "$1" "$BENCH_UDP_RATE"
}

# bench_wire: BENCH_WIRE=1's links (see the top of this file).
bench_wire()
{
	local gw
	# hostA's card cuts TCP (TSO) and UDP (USO) sends into frames.  A
	# veth also takes a frame through its peer's NAPI, where GRO and the
	# moderation below act, only when the sending side offers no TSO (or
	# for a socket's UDP when the peer forwards UDP GRO, tapbridge's
	# lan-gro): without "tso off" the moderation would reach tapbridge's
	# lan0 alone.
	lab_in hA ethtool -K eth0 tso off tx-udp-segmentation off \
		>/dev/null 2>&1 || lab_fail "hostA: cannot turn off TSO and USO on eth0"
	lab_wire_segments
	for gw in gwA gwB; do
		lab_in "$gw" ethtool -K lan0 gro on >/dev/null 2>&1 ||
			lab_fail "$gw: cannot turn on GRO on lan0"
		lab_in "$gw" sh -c "echo $BENCH_WIRE_MODERATION >/sys/class/net/lan0/gro_flush_timeout &&
			echo 2 >/sys/class/net/lan0/napi_defer_hard_irqs" ||
			lab_fail "$gw: cannot moderate lan0"
	done
	bench_say "wire-like links: sends cut before hostA's eth0 and each wan0, GRO and $((BENCH_WIRE_MODERATION / 1000)) us of moderation on lan0"
}

# bench_one KIND RUN: run RUN of KIND into $BENCH_TMP/KIND.txt, on a lab of
# its own: plain-wire baseline, the tunnel, 2 s of unmeasured TCP, then TCP
# x1 (with CPU accounting) and x4, the two UDP searches and both pings.
# Runs in a subshell: lab_up sets the lab's EXIT trap there, lab_fail ends
# only it.
# Exit 0, 1 (failed before measuring anything) or 2 (the tunnel went down).
bench_one()
{
	local kind=$1 r=$2 start
	BENCH_OUT=$BENCH_TMP/$kind.txt
	LAB_TUNNEL=$kind
	LAB_WAN_MTU=1500
	lab_up
	bench_say "plain-wire baseline"
	# tapbridge's runs also measure the wire's UDP 1x1 (bench_main).
	if [ "$kind" = tapbridge ] && [ -f "$BENCH_TMP/wire.txt" ]; then
		bench_baseline "$r" "$BENCH_TMP/wire.txt"
	else
		bench_baseline "$r"
	fi
	bench_say "bringing $kind up"
	bench_tunnel_up "$kind"
	[ "${BENCH_WIRE:-0}" != 1 ] || bench_wire
	BENCH_PIDS=$(bench_gw_pids | tr '\n' ' ')
	echo "tunnel processes: ${BENCH_PIDS:-none}"
	# shellcheck disable=SC2086
	[ -z "$BENCH_PIDS" ] || ps -o pid,nlwp,user,args -p $BENCH_PIDS
	# Unmeasured: a tunnel still finding its path MTU (tinc) or warming
	# caches is not judged on it.
	bench_say "warm-up: 2 s of TCP, not measured"
	bench_iperf "$LAB_DIR/warm.json" -t 2 ||
		bench_say "warm-up failed: $(bench_iperf_error "$LAB_DIR/warm.json")"
	bench_still_up "$r"
	bench_tcp "$r" 1 || bench_still_up "$r"
	bench_tcp "$r" 4 || bench_still_up "$r"
	# The first searches start at the TCP rate and step by 2, later ones
	# at the last run's result and step by 1.25.
	start=$(awk -v r="$r" '$1 == "tcp1" && $2 == r { printf "%d", $3 }' \
		"$BENCH_OUT")
	bench_udp_from "$r" udp "$BENCH_UDP_SEGS" "${start:-100}" ||
		bench_still_up "$r"
	bench_udp_from "$r" udp1 1 "${start:-100}" || bench_still_up "$r"
	bench_ping rtt "$r" || bench_still_up "$r"
	bench_ping rttb "$r" busy || bench_still_up "$r"
	lab_down
}

# bench_abort STATUS: on SIGINT or SIGTERM, stop the running kind's subshell
# (its EXIT trap tears its lab down; bounded by lab_down's own limits) and
# exit with STATUS.
bench_abort()
{
	if [ -n "$BENCH_CHILD" ] && lab_pid_alive "$BENCH_CHILD"; then
		echo "bench: interrupted; tearing the lab down" >&2
		kill -TERM "$BENCH_CHILD" 2>/dev/null
		wait "$BENCH_CHILD" 2>/dev/null
	fi
	exit "$1"
}

bench_cleanup()
{
	[ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ] || return 0
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: logs and results kept in $BENCH_TMP" >&2
	else
		rm -rf "$BENCH_TMP"
	fi
}

# bench_status FILE METRIC: a result file without a status gets one: ok
# when it holds METRIC, else failed, with its first note as the reason.
bench_status()
{
	grep -q '^status ' "$1" && return 0
	if grep -q "^$2 " "$1"; then
		echo "status ok" >>"$1"
	else
		echo "status failed" >>"$1"
		echo "why $(sed -n 's/^note //p' "$1" | head -n 1)" >>"$1"
	fi
}

bench_main()
{
	local kind kinds out rc why ok=1 bin t0 r
	bench_check_number BENCH_RUNS "$BENCH_RUNS" 15
	bench_check_number BENCH_SECONDS "$BENCH_SECONDS" 60
	bench_check_number BENCH_UDP_SECONDS "$BENCH_UDP_SECONDS" 60
	bench_check_number BENCH_PINGS "$BENCH_PINGS" 1000
	[[ "$BENCH_UDP_BISECT" =~ ^[0-9]$ ]] ||
		bench_die "BENCH_UDP_BISECT must be 0 to 9"
	bench_check_number BENCH_UDP_SEGS "$BENCH_UDP_SEGS" 64
	((BENCH_UDP_SEGS >= 2)) || bench_die "BENCH_UDP_SEGS must be 2 to 64"
	((BENCH_UDP_SECONDS <= BENCH_SECONDS)) || BENCH_UDP_SECONDS=$BENCH_SECONDS
	for kind in $BENCH_TUNNELS; do
		case $kind in
		tapbridge | openvpn | tinc | fastd | fastd1434 | vxlan) ;;
		*) bench_die "unknown tunnel '$kind' in BENCH_TUNNELS (tapbridge openvpn tinc fastd fastd1434 vxlan)" ;;
		esac
	done
	[ "$(id -u)" -eq 0 ] ||
		bench_die "needs root (it builds network namespaces); try: sudo make bench"
	[ -x "$TAPBRIDGE" ] || bench_die "no daemon at $TAPBRIDGE (run make)"
	[ "$PEERS" != 1 ] || bench_install
	command -v iperf3 >/dev/null 2>&1 ||
		bench_die "iperf3 is not installed: apt-get install iperf3, or make bench PEERS=1"
	BENCH_TMP=$(mktemp -d /tmp/tbbench.XXXXXX) ||
		bench_die "cannot create a temporary directory"
	trap bench_cleanup EXIT
	BENCH_UDPGEN=$BENCH_TMP/udpgen
	"${CC:-cc}" -O2 -Wall -o "$BENCH_UDPGEN" "$BENCH_LIB/udpgen.c" ||
		bench_die "cannot build the UDP generator bench/udpgen.c"
	trap 'bench_abort 130' INT
	trap 'bench_abort 143' TERM
	exec 3>&1
	BENCH_HEAD=$(bench_header)
	printf '%s\n\n' "$BENCH_HEAD"
	# The plain wire's UDP 1x1 row, measured in tapbridge's runs; not
	# under BENCH_WIRE, whose settings come with the tunnel.
	case " $BENCH_TUNNELS " in
	*" tapbridge "*) [ "${BENCH_WIRE:-0}" = 1 ] ||
		echo "label plain wire" >"$BENCH_TMP/wire.txt" ;;
	esac
	for kind in $BENCH_TUNNELS; do
		out=$BENCH_TMP/$kind.txt
		echo "label $(bench_label "$kind")" >"$out"
		bin=$(bench_tunnel_binary "$kind")
		if [ -n "$bin" ] && ! command -v "$bin" >/dev/null 2>&1; then
			echo "status missing" >>"$out"
			echo "==> $kind: not installed (make bench PEERS=1 installs it)"
		fi
	done
	# Run by run, every kind in each (a fresh lab each time), so that the
	# machine's drift over the bench reaches every row alike.
	for ((r = 1; r <= BENCH_RUNS; r++)); do
		for kind in $BENCH_TUNNELS; do
			out=$BENCH_TMP/$kind.txt
			grep -q -e '^status ' -e '^down ' "$out" && continue
			echo "==> $kind, run $r of $BENCH_RUNS"
			t0=$SECONDS
			# In the background so that a signal reaches bench_abort
			# at once.
			(bench_one "$kind" "$r") >>"$BENCH_TMP/$kind.log" 2>&1 &
			BENCH_CHILD=$!
			wait "$BENCH_CHILD"
			rc=$?
			BENCH_CHILD=
			echo "    ($((SECONDS - t0)) s)"
			[ "$rc" -eq 0 ] && continue
			if [ "$rc" -eq 2 ]; then
				echo "down $r" >>"$out"
				continue
			fi
			why=$(sed -n 's/^FAIL: //p' "$BENCH_TMP/$kind.log" | tail -n 1)
			echo "    failed: ${why:-exit status $rc}"
			sed 's/^/    | /' "$BENCH_TMP/$kind.log" | tail -n 15
			if grep -q '^tcp1 ' "$out"; then
				echo "note run $r failed: ${why:-exit status $rc}; later runs skipped" >>"$out"
				echo "down $r" >>"$out"
			else
				echo "status failed" >>"$out"
				echo "why ${why:-exit status $rc}" >>"$out"
			fi
		done
	done
	for kind in $BENCH_TUNNELS; do
		bench_status "$BENCH_TMP/$kind.txt" tcp1
	done
	kinds=$BENCH_TUNNELS
	if [ -f "$BENCH_TMP/wire.txt" ]; then
		kinds="$kinds wire"
		bench_status "$BENCH_TMP/wire.txt" udp1
	fi
	printf '\n%s\n\n' "$BENCH_HEAD"
	# shellcheck disable=SC2086 # a list of words
	"$BENCH_PY" "$BENCH_LIB/report.py" table "$BENCH_TMP" $kinds
	bench_legend
	if ! grep -q '^status ok' "$BENCH_TMP/tapbridge.txt" 2>/dev/null ||
		! grep -q '^tcp1 ' "$BENCH_TMP/tapbridge.txt" 2>/dev/null; then
		ok=0
	fi
	case " $BENCH_TUNNELS " in
	*" tapbridge "*) ;;
	*) ok=1 ;;
	esac
	[ "$ok" = 1 ] || {
		echo "bench: tapbridge itself could not be measured" >&2
		exit 1
	}
}

bench_legend()
{
	local base
	base=$(cat "$BENCH_TMP"/*.txt | awk '$1 == "base" { print $3 }' |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
	cat <<-EOF

	TCP x1, x4: iperf3 TCP throughput with 1 and 4 streams, at the receiver.
	UDP GSO, UDP 1x1: highest rate of 1400-byte UDP datagrams received with
	  under 1% loss (steps x2 or x1.25 until the loss crosses 1%, then
	  bisection), from bench/udpgen.c: GSO hands the kernel $BENCH_UDP_SEGS datagrams
	  per send (UDP_SEGMENT, as QUIC stacks do), 1x1 one at a time (sendmmsg).
	  hostA's veth hands gwA each GSO send whole, so a tunnel whose TAP takes
	  UDP super-frames (tapbridge on Linux 6.2+) reads it in one piece and the
	  others get it cut up by the kernel; on a physical LAN the sender's card
	  cuts it and every tunnel reads datagrams one by one, as in 1x1, unless
	  the gateway's card merges them again (GRO; tapbridge(8) CAVEATS).  The
	  receiver reads with UDP GRO and recvmmsg.  ">": the generator was the
	  limit in at least one run (the median may be a lower bound).
	plain wire: UDP 1x1 with no tunnel (each gateway's lan0 bridged to its
	  wan0, as for +RTT), measured in tapbridge's runs (not with
	  BENCH_WIRE=1): what this lab carries of datagrams sent one by one
	  when nothing seals them; each send crosses both bridges to hostB's
	  socket within the sender's own system call.
	RTT: median ping round trip hostA -> hostB through the tunnel; +RTT: the
	  same minus the median over a plain wire (each gateway's lan0 bridged
	  to its wan0, so frames take the tunnel's path across the WAN switch,
	  no tunnel: ${base:-?} ms).
	+RTT busy: the same with $BENCH_PINGS_BUSY pings back to back (ping -A: each
	  leaves when the last reply is in), baseline likewise: the latency of
	  a path in use, where +RTT's pings find every process and CPU on the
	  path asleep after 50 ms of quiet (a userspace tunnel wakes a process
	  at each gateway on the way out and back; kernel VXLAN wakes none).
	CPU/Gbit: CPU seconds the whole machine spent during the single-stream run
	  per Gbit received (iperf3 and anything else running included; not the
	  hypervisor's steal time); tun CPU:
	  the tunnel daemons' own user+system time per Gbit (none for VXLAN, which
	  works in the kernel's softirq).
	tapbridge vs. row: tapbridge's median divided by the row's; above x1 is
	  better for x1, x4 and UDP, below x1 is better for the RTTs and CPU.
	  Each run is on a fresh lab; the tunnel gets 2 s of TCP first, not measured.
	MTU: WAN MTU 1500 for every tunnel.  VXLAN runs with hosts, lan0 and vx0
	  at MTU 1450 and "fastd 1434" with hosts, lan0 and its TAP at 1434, so
	  that their headers fit without IP fragments; the others keep MTU 1500
	  on the LAN and carry full-size frames their own way (tapbridge:
	  fragments inside the tunnel and clamps the TCP MSS; OpenVPN 2.6: clamps
	  the TCP MSS (mssfix), the kernel fragments larger outer datagrams;
	  fastd: no MSS clamp, the kernel fragments its outer datagrams of
	  full-size frames; tinc: path MTU discovery, ICMP frag-needed and MSS
	  clamping).
	EOF
}

bench_main
