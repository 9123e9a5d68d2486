#!/usr/bin/env bash
#
# lab.sh -- a two-office tapbridge lab built from network namespaces.
#
# Sourced by tests/integration/NN-*.sh, scripts/demo.sh and scripts/bench.sh;
# also runnable by hand:  bash scripts/lab.sh up | down [PREFIX]
#
#              ${P}-wan: bridge br0 (the "internet", 198.18.0.0/24, fd00:0:0:1::/64)
#            wA /         | wM          \ wB
#     wan0 .1 /     wan0 .66 ${P}-mal    \ wan0 .2
#      ${P}-gwA                           ${P}-gwB
#       lan0 (pure L2: no address)         lan0
#        |                                   |
#       eth0 198.19.0.1 fd00:0:0:2::1       eth0 198.19.0.2 fd00:0:0:2::2
#      ${P}-hA                            ${P}-hB
#
# On each gateway the tunnel is either the real daemon (LAB_TUNNEL=tapbridge,
# the default: it creates tap0 and br0 and enslaves lan0 itself) or a kernel
# VXLAN stand-in (LAB_TUNNEL=vxlan: vx0, VNI 42, UDP 4789, bridged with lan0
# in br0), which validates the lab without the daemon and is the kernel
# baseline for scripts/bench.sh.
#
# Everything a run creates carries the per-run prefix ${LAB_P} (namespaces)
# or lives in ${LAB_DIR} (mode 0700: keys, configs, logs, pid files); every
# process it starts is recorded by PID.  lab_down (run from the EXIT trap)
# kills exactly those PIDs and whatever still runs inside our namespaces,
# deletes the namespaces and the directory; lab_assert_clean checks that.
# Every wait polls state, bounded in count and time.
#
# Tunables (environment):
#   TAPBRIDGE     daemon binary (default: build/tapbridge of this tree)
#   LAB_TUNNEL    tapbridge | vxlan
#   LAB_PREFIX    namespace prefix (default tb<pid><4 hex>)
#   LAB_WAN_MTU   MTU of the WAN links (default 1500; 1600 for vxlan so that
#                 the stand-in carries full 1514-byte frames)
#   LAB_KEEP=1    keep ${LAB_DIR} after lab_down (debugging)

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_TUNNEL=${LAB_TUNNEL:-tapbridge}
TAPBRIDGE=${TAPBRIDGE:-$LAB_ROOT/build/tapbridge}
case $TAPBRIDGE in
/*) ;;
*) TAPBRIDGE=$PWD/$TAPBRIDGE ;;
esac
if [ "$LAB_TUNNEL" = vxlan ]; then
	LAB_WAN_MTU=${LAB_WAN_MTU:-1600}
else
	LAB_WAN_MTU=${LAB_WAN_MTU:-1500}
fi
LAB_PORT=7000
LAB_LIB=$LAB_ROOT/tests/integration/lib
# Debian's interpreter when there is one: shims on PATH can cost a second a call.
if [ -x /usr/bin/python3 ]; then LAB_PY=${LAB_PY:-/usr/bin/python3}; else LAB_PY=${LAB_PY:-python3}; fi

# Addresses (the only ones the lab ever uses).
LAB_WAN4_A=198.18.0.1
LAB_WAN4_B=198.18.0.2
LAB_WAN4_M=198.18.0.66
LAB_WAN6_A=fd00:0:0:1::1
LAB_WAN6_B=fd00:0:0:1::2
LAB_WAN6_M=fd00:0:0:1::66
LAB_LAN4_A=198.19.0.1
LAB_LAN4_B=198.19.0.2
LAB_LAN6_A=fd00:0:0:2::1
LAB_LAN6_B=fd00:0:0:2::2
LAB_MAC_HA=02:74:62:00:0a:01
LAB_MAC_HB=02:74:62:00:0b:02

LAB_P=${LAB_P:-}
LAB_DIR=${LAB_DIR:-}
LAB_FAMILY=v4
LAB_PID_A=
LAB_PID_B=
LAB_BRIDGE_PREEXISTED_A=0
LAB_BRIDGE_PREEXISTED_B=0
LAB_BG_PIDS=()
LAB_ALL_PIDS=()
LAB_LAST_PID=
LAB_LEASE=
LAB_DOWN_DONE=0
LAB_STANDALONE=0
# The daemon's sandbox root (RUNSTATEDIR/tapbridge/empty, made at start);
# removed at teardown, when empty, if this run made it.  Its parent may
# exist already (another instance's pidfile) while empty/ does not: each is
# tracked on its own.
LAB_RUNDIR=/run/tapbridge
LAB_RUNDIR_MADE=${LAB_RUNDIR_MADE:-}
LAB_EMPTY_MADE=${LAB_EMPTY_MADE:-}

lab_say()
{
	printf '# %s\n' "$*"
}

lab_step()
{
	printf '\n==> %s\n' "$*"
}

# lab_fail MSG: report a failed check, show the daemons' logs, exit 1 (the
# EXIT trap tears the lab down).
lab_fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	lab_dump_logs >&2
	exit 1
}

lab_dump_logs()
{
	local f
	[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] || return 0
	for f in "$LAB_DIR"/gwA.log "$LAB_DIR"/gwB.log; do
		[ -s "$f" ] || continue
		printf -- '---- last lines of %s ----\n' "${f##*/}"
		tail -n 25 "$f"
	done
}

lab_require_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		echo "************************************************"
		echo "SKIP: needs root (network namespaces, bridges, TAP)"
		echo "************************************************"
		exit 77
	fi
}

# lab_require_tapbridge: skip (77) a scenario that tests the daemon itself
# when the lab runs the VXLAN stand-in.
lab_require_tapbridge()
{
	if [ "$LAB_TUNNEL" != tapbridge ]; then
		echo "SKIP: scenario needs LAB_TUNNEL=tapbridge (have $LAB_TUNNEL)"
		exit 77
	fi
}

lab_hex4()
{
	od -An -N2 -tx1 /dev/urandom | tr -d ' \n'
}

# lab_ns SHORT: full namespace name of wan|gwA|gwB|hA|hB|mal.
lab_ns()
{
	printf '%s-%s' "$LAB_P" "$1"
}

# lab_in SHORT CMD...: run CMD inside our namespace SHORT.
lab_in()
{
	local ns=$1
	shift
	ip netns exec "$LAB_P-$ns" "$@"
}

lab_pid_alive()
{
	local st
	[ -n "${1:-}" ] || return 1
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# lab_reap PID [TENTHS]: SIGTERM PID, wait up to TENTHS/10 s (default 50)
# for it to go, then SIGKILL.  Returns 0 if it went on SIGTERM, 1 if it
# needed SIGKILL.
lab_reap()
{
	local pid=$1 n=${2:-50} i
	lab_pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < n; i++)); do
		lab_pid_alive "$pid" || break
		sleep 0.1
	done
	if lab_pid_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

lab_init()
{
	[ -n "$LAB_P" ] && return 0
	LAB_P=${LAB_PREFIX:-tb$$$(lab_hex4)}
	LAB_DIR=$(mktemp -d "/tmp/$LAB_P.XXXXXX") || {
		echo "lab: cannot create a temporary directory" >&2
		exit 1
	}
	chmod 700 "$LAB_DIR"
	LAB_DOWN_DONE=0
	LAB_RUNDIR_MADE=0
	LAB_EMPTY_MADE=0
	[ -e "$LAB_RUNDIR" ] || LAB_RUNDIR_MADE=1
	[ -e "$LAB_RUNDIR/empty" ] || LAB_EMPTY_MADE=1
	if [ "$LAB_STANDALONE" -eq 0 ]; then
		trap lab_down EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
}

lab_sysctl()
{
	local ns=$1
	shift
	ip netns exec "$LAB_P-$ns" sysctl -q -w "$@" >/dev/null
}

lab_addns()
{
	local ns=$1
	ip netns add "$LAB_P-$ns" || return 1
	ip -n "$LAB_P-$ns" link set lo up
	lab_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.accept_ra=0
}

# lab_up: build the namespaces and links (no tunnel yet).
lab_up()
{
	local ns x gw
	lab_init
	for ns in wan gwA gwB hA hB mal; do
		lab_addns "$ns" || lab_fail "cannot create namespace $LAB_P-$ns"
	done
	# The WAN switch: no IPv6 of its own, no multicast snooping.
	lab_sysctl wan net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$LAB_P-wan" link add br0 type bridge forward_delay 0 \
		stp_state 0 mcast_snooping 0 || lab_fail "cannot create WAN bridge"
	for x in A:gwA:$LAB_WAN4_A:$LAB_WAN6_A B:gwB:$LAB_WAN4_B:$LAB_WAN6_B \
		 M:mal:$LAB_WAN4_M:$LAB_WAN6_M; do
		IFS=: read -r x gw _ <<<"$x"
		ip -n "$LAB_P-wan" link add "w$x" mtu "$LAB_WAN_MTU" type veth \
			peer name wan0 mtu "$LAB_WAN_MTU" netns "$LAB_P-$gw" ||
			lab_fail "cannot create WAN link for $gw"
		ip -n "$LAB_P-wan" link set "w$x" master br0 up
	done
	ip -n "$LAB_P-wan" link set br0 up
	lab_wan_addr gwA "$LAB_WAN4_A" "$LAB_WAN6_A"
	lab_wan_addr gwB "$LAB_WAN4_B" "$LAB_WAN6_B"
	lab_wan_addr mal "$LAB_WAN4_M" "$LAB_WAN6_M"
	lab_lan gwA hA "$LAB_LAN4_A" "$LAB_LAN6_A" "$LAB_MAC_HA"
	lab_lan gwB hB "$LAB_LAN4_B" "$LAB_LAN6_B" "$LAB_MAC_HB"
	lab_say "lab $LAB_P up (dir $LAB_DIR, tunnel $LAB_TUNNEL, WAN MTU $LAB_WAN_MTU)"
}

lab_wan_addr()
{
	local ns=$1 a4=$2 a6=$3
	ip -n "$LAB_P-$ns" addr add "$a4/24" dev wan0
	ip -n "$LAB_P-$ns" addr add "$a6/64" dev wan0 nodad
	ip -n "$LAB_P-$ns" link set wan0 up
}

# lab_lan GW HOST A4 A6 MAC: the office LAN, one veth from the gateway's
# lan0 to the host's eth0.  Gateways stay pure L2: IPv6 is off on lan0 and on
# the TAP/bridge the daemon creates later (default.disable_ipv6), so they
# neither own an address nor send ND/MLD of their own into the LAN.
lab_lan()
{
	local gw=$1 h=$2 a4=$3 a6=$4 mac=$5
	ip -n "$LAB_P-$gw" link add lan0 type veth peer name eth0 \
		address "$mac" netns "$LAB_P-$h" ||
		lab_fail "cannot create LAN link $gw-$h"
	lab_sysctl "$gw" net.ipv6.conf.lan0.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$LAB_P-$gw" link set lan0 up
	lab_sysctl "$h" net.ipv6.conf.eth0.accept_dad=0
	ip -n "$LAB_P-$h" addr add "$a4/24" dev eth0
	ip -n "$LAB_P-$h" addr add "$a6/64" dev eth0 nodad
	ip -n "$LAB_P-$h" link set eth0 up
}

# lab_keys: key pairs for both gateways and a preshared key, made with the
# daemon itself, in ${LAB_DIR} (files 0600).
lab_keys()
{
	local g
	lab_init
	[ "$LAB_TUNNEL" = tapbridge ] || return 0
	[ -x "$TAPBRIDGE" ] || lab_fail "no daemon binary at $TAPBRIDGE"
	(
		umask 077
		for g in gwA gwB; do
			"$TAPBRIDGE" genkey >"$LAB_DIR/$g.key" || exit 1
			"$TAPBRIDGE" pubkey <"$LAB_DIR/$g.key" \
				>"$LAB_DIR/$g.pub" || exit 1
		done
		"$TAPBRIDGE" genkey >"$LAB_DIR/psk" || exit 1
		# A valid key that belongs to nobody, for wrong-key tests.
		"$TAPBRIDGE" genkey >"$LAB_DIR/stranger.key" || exit 1
		"$TAPBRIDGE" pubkey <"$LAB_DIR/stranger.key" \
			>"$LAB_DIR/stranger.pub" || exit 1
	) || lab_fail "genkey/pubkey failed"
	for g in gwA.pub gwB.pub psk stranger.pub; do
		[ -s "$LAB_DIR/$g" ] || lab_fail "empty key file $g"
	done
	chmod 600 "$LAB_DIR"/*.key "$LAB_DIR"/*.pub "$LAB_DIR/psk"
}

# lab_conf [-r REKEY] [-6] [-p] [-k KEEPALIVE] [-w GW] [-g GROUP]: write
# gwA.conf and gwB.conf.  -r rekey-interval, -6 IPv6 WAN (listen and
# endpoints), -p use the preshared key, -k keepalive, -w GW: GW names a
# wrong (stranger's) public key for its peer, -g: gateway A's
# control-group.
lab_conf()
{
	local rekey=120 psk=0 ka='' wrong='' group='' opt OPTIND=1
	LAB_FAMILY=v4
	while getopts "r:6pk:w:g:" opt; do
		case $opt in
		r) rekey=$OPTARG ;;
		6) LAB_FAMILY=v6 ;;
		p) psk=1 ;;
		k) ka=$OPTARG ;;
		w) wrong=$OPTARG ;;
		g) group=$OPTARG ;;
		*) lab_fail "lab_conf: bad option" ;;
		esac
	done
	lab_init
	[ "$LAB_TUNNEL" = tapbridge ] || return 0
	lab_conf_one gwA gwB b "$rekey" "$psk" "$ka" "$wrong" "$group"
	lab_conf_one gwB gwA a "$rekey" "$psk" "$ka" "$wrong" ""
}

lab_endpoint()
{
	local gw=$1 a
	if [ "$LAB_FAMILY" = v6 ]; then
		[ "$gw" = gwA ] && a=$LAB_WAN6_A || a=$LAB_WAN6_B
		printf '[%s]:%s' "$a" "$LAB_PORT"
	else
		[ "$gw" = gwA ] && a=$LAB_WAN4_A || a=$LAB_WAN4_B
		printf '%s:%s' "$a" "$LAB_PORT"
	fi
}

lab_conf_one()
{
	local me=$1 other=$2 pname=$3 rekey=$4 psk=$5 ka=$6 wrong=$7
	local group=$8 pub
	pub=$(cat "$LAB_DIR/$other.pub")
	[ "$wrong" = "$me" ] && pub=$(cat "$LAB_DIR/stranger.pub")
	{
		echo "# $me -- written by scripts/lab.sh"
		echo "interface tap0"
		echo "bridge br0"
		echo "lan-port lan0"
		echo "listen $(lab_endpoint "$me")"
		echo "private-key $LAB_DIR/$me.key"
		echo "control-socket $LAB_DIR/$me.sock"
		[ -n "$group" ] && echo "control-group $group"
		echo "rekey-interval $rekey"
		echo "user nobody"
		echo ""
		echo "peer $pname {"
		echo "	public-key $pub"
		echo "	endpoint $(lab_endpoint "$other")"
		[ "$psk" = 1 ] && echo "	preshared-key $LAB_DIR/psk"
		[ -n "$ka" ] && echo "	keepalive $ka"
		echo "}"
	} >"$LAB_DIR/$me.conf"
	chmod 600 "$LAB_DIR/$me.conf"
}

lab_gw()
{
	case $1 in
	A | gwA) echo gwA ;;
	B | gwB) echo gwB ;;
	*) lab_fail "no gateway '$1' (A or B)" ;;
	esac
}

# lab_pid A|B: the running daemon's PID (empty if none).
lab_pid()
{
	if [ "$(lab_gw "$1")" = gwA ]; then echo "$LAB_PID_A"; else echo "$LAB_PID_B"; fi
}

lab_ready()
{
	local ns=$1 gw=$2
	ip -n "$LAB_P-$ns" -o link show lan0 2>/dev/null | grep -q 'master br0' ||
		return 1
	ip -n "$LAB_P-$ns" -o link show br0 2>/dev/null | grep -q ',UP' ||
		return 1
	[ "$LAB_TUNNEL" != tapbridge ] || [ -S "$LAB_DIR/$gw.sock" ]
}

# lab_start A|B: start gateway A's or B's tunnel; returns once lan0 is in
# the bridge and the control socket exists (bounded: 10 s).  LAB_WRAP, when
# set, is a command (with its words) that execs the daemon, e.g. setpriv.
lab_start()
{
	local gw pid i
	gw=$(lab_gw "$1")
	if [ "$LAB_TUNNEL" = vxlan ]; then
		lab_vxlan_start "$gw"
		return
	fi
	[ -z "$(lab_pid "$gw")" ] || lab_fail "lab_start: $gw already running"
	[ -f "$LAB_DIR/$gw.conf" ] || lab_fail "lab_start: no $gw.conf (lab_conf)"
	rm -f "$LAB_DIR/$gw.sock"
	echo "---- start $(date +%T.%N) ----" >>"$LAB_DIR/$gw.log"
	# shellcheck disable=SC2086 # LAB_WRAP: a command and its words
	ip netns exec "$LAB_P-$gw" ${LAB_WRAP:-} "$TAPBRIDGE" -f -v \
		-c "$LAB_DIR/$gw.conf" 2>>"$LAB_DIR/$gw.log" </dev/null &
	pid=$!
	LAB_ALL_PIDS+=("$pid")
	echo "$pid" >"$LAB_DIR/$gw.pid"
	if [ "$gw" = gwA ]; then LAB_PID_A=$pid; else LAB_PID_B=$pid; fi
	for ((i = 0; i < 100; i++)); do
		lab_pid_alive "$pid" || {
			wait "$pid"
			lab_fail "$gw: daemon exited at start (status $?)"
		}
		lab_ready "$gw" "$gw" && return 0
		sleep 0.1
	done
	lab_fail "$gw: daemon not ready within 10 s (lan0 not in br0 or no control socket)"
}

# lab_stop A|B: SIGTERM the daemon by PID and wait (bounded, 10 s).  Fails
# the test if it does not exit, or exits with a status other than 0.
lab_stop()
{
	local gw pid i rc
	gw=$(lab_gw "$1")
	if [ "$LAB_TUNNEL" = vxlan ]; then
		lab_vxlan_stop "$gw"
		return
	fi
	pid=$(lab_pid "$gw")
	[ -n "$pid" ] || return 0
	if [ "$gw" = gwA ]; then LAB_PID_A=; else LAB_PID_B=; fi
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lab_pid_alive "$pid" || break
		sleep 0.1
	done
	if lab_pid_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		lab_fail "$gw: daemon ignored SIGTERM for 10 s (killed)"
	fi
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || lab_fail "$gw: daemon exited with status $rc on SIGTERM"
	rm -f "$LAB_DIR/$gw.pid"
}

lab_vxlan_start()
{
	local gw=$1 ns=$LAB_P-$1 here there
	if [ "$LAB_FAMILY" = v6 ]; then
		here=$LAB_WAN6_A
		there=$LAB_WAN6_B
	else
		here=$LAB_WAN4_A
		there=$LAB_WAN4_B
	fi
	[ "$gw" = gwA ] || { local t=$here; here=$there; there=$t; }
	if ip -n "$ns" link show br0 >/dev/null 2>&1; then
		eval "LAB_BRIDGE_PREEXISTED_${gw#gw}=1"
	else
		eval "LAB_BRIDGE_PREEXISTED_${gw#gw}=0"
		ip -n "$ns" link add br0 type bridge forward_delay 0 stp_state 0 ||
			lab_fail "$gw: cannot create br0"
	fi
	ip -n "$ns" link add vx0 mtu 1500 type vxlan id 42 dstport 4789 \
		local "$here" remote "$there" dev wan0 ||
		lab_fail "$gw: cannot create vxlan"
	ip -n "$ns" link set vx0 master br0 up
	ip -n "$ns" link set lan0 master br0
	ip -n "$ns" link set br0 up
	lab_ready "$gw" "$gw" || lab_fail "$gw: vxlan bridge not ready"
}

lab_vxlan_stop()
{
	local gw=$1 ns=$LAB_P-$1 pre
	ip -n "$ns" link show vx0 >/dev/null 2>&1 || return 0
	ip -n "$ns" link del vx0
	ip -n "$ns" link set lan0 nomaster
	eval "pre=\$LAB_BRIDGE_PREEXISTED_${gw#gw}"
	[ "$pre" = 1 ] || ip -n "$ns" link del br0
}

# lab_assert_released A|B: after a stop: no tap0, lan0 in no bridge, and
# br0 gone unless it existed before the start.
lab_assert_released()
{
	local gw ns pre
	gw=$(lab_gw "$1")
	ns=$LAB_P-$gw
	ip -n "$ns" -o link show lan0 >/dev/null 2>&1 ||
		lab_fail "$gw: lan0 vanished"
	! ip -n "$ns" -o link show lan0 | grep -q master ||
		lab_fail "$gw: lan0 still enslaved: $(ip -n "$ns" -o link show lan0)"
	! ip -n "$ns" link show tap0 >/dev/null 2>&1 ||
		lab_fail "$gw: tap0 left behind"
	! ip -n "$ns" link show vx0 >/dev/null 2>&1 ||
		lab_fail "$gw: vx0 left behind"
	eval "pre=\$LAB_BRIDGE_PREEXISTED_${gw#gw}"
	if [ "$pre" = 1 ]; then
		ip -n "$ns" link show br0 >/dev/null 2>&1 ||
			lab_fail "$gw: pre-existing br0 was deleted"
	else
		! ip -n "$ns" link show br0 >/dev/null 2>&1 ||
			lab_fail "$gw: br0 left behind"
	fi
}

# lab_tcp_listen PORT DST SECONDS [WHAT] [ADDR]: a TCP receiver (socat) on
# hostB's ADDR (default its IPv4 LAN address; an IPv6 one works too) and
# PORT writing what it gets into DST, for at most SECONDS; returns once it
# listens (fails after 5 s, messages prefixed by WHAT).  Its PID is in
# LAB_LAST_PID, its output in $LAB_DIR/socat-rx-PORT.out.
lab_tcp_listen()
{
	local port=$1 dst=$2 s=$3 what=${4:+$4: } addr=${5:-$LAB_LAN4_B} pid i
	local listen="TCP4-LISTEN:$port,bind=$addr"
	[[ $addr != *:* ]] || listen="TCP6-LISTEN:$port,bind=[$addr]"
	lab_bg hB "$LAB_DIR/socat-rx-$port.out" timeout "$s" socat -u \
		"$listen,reuseaddr" "CREATE:$dst"
	pid=$LAB_LAST_PID
	for ((i = 0; i < 50; i++)); do
		lab_in hB ss -Hltn "sport = :$port" | grep -q LISTEN && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || lab_fail "${what}TCP receiver not listening"
	LAB_LAST_PID=$pid
}

# lab_tcp_transfer SRC DST PORT SECONDS [WHAT] [ADDR]: send file SRC from
# hostA to hostB's ADDR (as lab_tcp_listen) over TCP (socat) into DST,
# bounded by SECONDS on each side, and fail (messages prefixed by WHAT)
# unless DST has SRC's SHA-256.
lab_tcp_transfer()
{
	local src=$1 dst=$2 port=$3 s=$4 what=${5:+$5: } addr=${6:-$LAB_LAN4_B}
	local to="TCP4:$addr:$port" rpid
	[[ $addr != *:* ]] || to="TCP6:[$addr]:$port"
	lab_tcp_listen "$port" "$dst" "$s" "${5:-}" "$addr"
	rpid=$LAB_LAST_PID
	lab_in hA timeout "$s" socat -u "OPEN:$src" "$to" ||
		lab_fail "${what}TCP sender failed or timed out"
	lab_wait_exit "$rpid" $((s * 10)) ||
		lab_fail "${what}TCP receiver failed: $(cat "$LAB_DIR/socat-rx-$port.out")"
	[ "$(sha256sum <"$src")" = "$(sha256sum <"$dst")" ] ||
		lab_fail "${what}SHA-256 of the transfer differs ($(stat -c %s "$dst") bytes received)"
}

# lab_wire_segments: make the gateways' WAN ports segment UDP GSO sends in
# software before they reach the link, as a NIC without UDP segmentation
# offload does, so a capture on the WAN sees the datagrams as they would be
# on a real wire (over veth a GSO send otherwise crosses as one large skb).
lab_wire_segments()
{
	local gw
	for gw in gwA gwB; do
		ip netns exec "$LAB_P-$gw" ethtool -K wan0 tx-udp-segmentation off \
			>/dev/null 2>&1 || lab_fail "$gw: cannot turn off UDP GSO on wan0"
	done
}

# lab_udp_burst WHAT TO PORT COUNT SIZE [GSO [BURST]]: COUNT numbered
# datagrams of SIZE bytes from hostA to hostB's address TO, port PORT
# (tests/integration/lib/udp_burst.py: GSO per send, a pause after every
# BURST sends); fails the test, its message starting with WHAT, unless all
# COUNT arrive intact.  Bounded: 20 s for each side.
lab_udp_burst()
{
	local what=$1 to=$2 port=$3 n=$4 size=$5 out rpid got
	shift 5
	out=$LAB_DIR/udp-$port.out
	lab_bg hB "$out" timeout 20 "$LAB_PY" "$LAB_LIB/udp_burst.py" recv \
		"$to" "$port" "$n" "$size" 15
	rpid=$LAB_LAST_PID
	lab_wait_file "$out" ready 50 ||
		lab_fail "$what: udp receiver: $(cat "$out")"
	lab_in hA timeout 20 "$LAB_PY" "$LAB_LIB/udp_burst.py" send "$to" \
		"$port" "$n" "$size" "$@" || lab_fail "$what: udp sender failed"
	lab_wait_exit "$rpid" 200
	got=$(sed -n 's/^got \([0-9]*\) intact$/\1/p' "$out")
	[ "${got:-0}" -eq "$n" ] ||
		lab_fail "$what: ${got:-0} of $n UDP datagrams of $size bytes arrived intact"
}

# lab_tap_tx GW: packets gateway GW's kernel handed to tap0 (one per skb,
# so one per super-frame).
lab_tap_tx()
{
	ip -n "$LAB_P-$1" -s -j link show tap0 | "$LAB_PY" -c \
		'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}

# lab_ping FROM_NS TO [COUNT] [ping options...]: quiet bounded ping, 0 if
# every echo was answered.
lab_ping()
{
	local ns=$1 to=$2 n=${3:-3}
	shift 3 2>/dev/null || shift $#
	ip netns exec "$LAB_P-$ns" ping -q -n -c "$n" -i 0.2 -W 2 \
		-w $((n + 4)) "$@" "$to" >/dev/null 2>&1
}

# lab_back_within T0: poll, bounded in count (50 tries) and time (5 s from
# T0, a `date +%s%N`), until hostA gets an echo reply from hostB; sets
# LAB_BACK_MS to the milliseconds since T0 either way.  0 once it does, 1
# if not.  The bound only limits the wait: callers report the time, never
# assert it.
lab_back_within()
{
	local t0=$1 i
	LAB_BACK_MS=
	for ((i = 0; i < 50; i++)); do
		if lab_in hA ping -q -n -c 1 -W 0.2 -w 1 "$LAB_LAN4_B" \
			>/dev/null 2>&1; then
			LAB_BACK_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		[ $(($(date +%s%N) - t0)) -lt 5000000000 ] || break
		sleep 0.1	# an unreachable network fails at once
	done
	LAB_BACK_MS=$((($(date +%s%N) - t0) / 1000000))
	return 1
}

# lab_wait_link [FROM_NS TO]: poll (at most 100 tries, 20 s) until FROM_NS
# (default hA) gets an echo reply from TO (default hostB's IPv4 address).
lab_wait_link()
{
	local ns=${1:-hA} to=${2:-$LAB_LAN4_B} i end
	end=$((SECONDS + 20))
	for ((i = 0; i < 100 && SECONDS < end; i++)); do
		ip netns exec "$LAB_P-$ns" ping -q -n -c 1 -W 0.2 -w 1 "$to" \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	lab_fail "no link: $ns cannot ping $to"
}

# lab_bg NS OUT CMD...: start CMD in namespace NS in the background, stdout
# and stderr to OUT; the PID goes to LAB_LAST_PID and is reaped by lab_down.
lab_bg()
{
	local ns=$1 out=$2
	shift 2
	ip netns exec "$LAB_P-$ns" "$@" >"$out" 2>&1 </dev/null &
	LAB_LAST_PID=$!
	LAB_BG_PIDS+=("$LAB_LAST_PID")
	LAB_ALL_PIDS+=("$LAB_LAST_PID")
}

# lab_wait_file FILE PATTERN [TENTHS]: poll until FILE has a line matching
# PATTERN (grep -E), bounded (default 100 x 0.1 s).
lab_wait_file()
{
	local f=$1 pat=$2 n=${3:-100} i
	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# lab_wait_exit PID [TENTHS]: poll until PID has exited (default 30 s);
# returns its exit status, or 124 after killing it on timeout.
lab_wait_exit()
{
	local pid=$1 n=${2:-300} i
	for ((i = 0; i < n; i++)); do
		lab_pid_alive "$pid" || { wait "$pid"; return; }
		sleep 0.1
	done
	lab_reap "$pid" 20
	return 124
}

# lab_tcpdump NS OUT ARGS...: start tcpdump (no privilege drop, line
# buffered) and wait until it listens.
lab_tcpdump()
{
	local ns=$1 out=$2
	shift 2
	lab_bg "$ns" "$out" tcpdump -Z root -l -n "$@"
	lab_wait_file "$out" 'listening on' 50 ||
		lab_fail "tcpdump in $ns did not start: $(cat "$out")"
}

# lab_status A|B [text]: the daemon's `tapbridge status --json` output (or
# its plain-text form with "text").
lab_status()
{
	local gw fmt=(--json)
	gw=$(lab_gw "$1")
	[ "${2:-}" != text ] || fmt=()
	ip netns exec "$LAB_P-$gw" "$TAPBRIDGE" status "${fmt[@]}" \
		-c "$LAB_DIR/$gw.conf"
}

# lab_stat A|B PATH: one number from status --json.  PATH is dotted;
# "peer" is the gateway's only peer, e.g. peer.drops.auth, drops.short.
lab_stat()
{
	local js
	js=$(lab_status "$1") || lab_fail "status --json of $1 failed"
	printf '%s' "$js" | "$LAB_PY" "$LAB_LIB/jget.py" "$2" ||
		lab_fail "status of $1: no '$2' in: $js"
}

# lab_get VAR A|B PATH: like lab_stat, into variable VAR, in this shell (so
# a failure ends the test); the value must be a number or null.
lab_get()
{
	local _js _v
	_js=$(lab_status "$2") || lab_fail "status --json of $2 failed"
	_v=$(printf '%s' "$_js" | "$LAB_PY" "$LAB_LIB/jget.py" "$3") ||
		lab_fail "status of $2: no '$3' in: $_js"
	[[ "$_v" =~ ^(-?[0-9]+|null)$ ]] ||
		lab_fail "status of $2: '$3' is '$_v', not a number"
	printf -v "$1" '%s' "$_v"
}

# lab_dhcp_server NS: dnsmasq on NS's eth0 serving 198.19.0.100-150, its
# pid, lease and log files in ${LAB_DIR}.
lab_dhcp_server()
{
	local ns=$1
	lab_bg "$ns" "$LAB_DIR/dnsmasq.out" dnsmasq --keep-in-foreground \
		--conf-file=/dev/null --no-resolv --no-hosts --port=0 \
		--user=root --group=root --interface=eth0 --bind-interfaces \
		--dhcp-range=198.19.0.100,198.19.0.150,255.255.255.0,10m \
		--dhcp-authoritative --dhcp-leasefile="$LAB_DIR/dnsmasq.leases" \
		--pid-file="$LAB_DIR/dnsmasq.pid" --log-dhcp \
		--log-facility="$LAB_DIR/dnsmasq.log"
	lab_wait_file "$LAB_DIR/dnsmasq.log" 'DHCP, IP range' 50 ||
		lab_fail "dnsmasq did not start: $(cat "$LAB_DIR"/dnsmasq.*)"
}

# lab_dhcp_client NS: a macvlan mv0 on NS's eth0 (a second MAC) asks for a
# lease once (bounded 25 s); a tiny script applies it to mv0 and records it
# in ${LAB_DIR}/lease.addr.  Sets LAB_LEASE to the leased address.
lab_dhcp_client()
{
	local ns=$1 addr pid
	ip -n "$LAB_P-$ns" link add link eth0 name mv0 type macvlan mode bridge ||
		lab_fail "cannot create macvlan in $ns"
	lab_sysctl "$ns" net.ipv6.conf.mv0.disable_ipv6=1
	ip -n "$LAB_P-$ns" link set mv0 up
	cat >"$LAB_DIR/dhclient-script" <<-EOF
		#!/bin/sh
		case "\$reason" in
		BOUND|RENEW|REBIND|REBOOT)
			ip addr add "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
			echo "\$new_ip_address" >"$LAB_DIR/lease.addr"
			;;
		esac
		exit 0
	EOF
	chmod 700 "$LAB_DIR/dhclient-script"
	printf 'timeout 20;\nrequest subnet-mask, broadcast-address;\n' \
		>"$LAB_DIR/dhclient.conf"
	rm -f "$LAB_DIR/lease.addr"
	timeout 25 ip netns exec "$LAB_P-$ns" dhclient -1 -v \
		-cf "$LAB_DIR/dhclient.conf" -sf "$LAB_DIR/dhclient-script" \
		-pf "$LAB_DIR/dhclient.pid" -lf "$LAB_DIR/dhclient.leases" \
		mv0 >"$LAB_DIR/dhclient.out" 2>&1 ||
		lab_fail "dhclient got no lease: $(tail -n 5 "$LAB_DIR/dhclient.out")"
	# dhclient forks to the background once bound: stop it by its PID.
	pid=$(cat "$LAB_DIR/dhclient.pid" 2>/dev/null)
	if [ -n "$pid" ]; then
		LAB_BG_PIDS+=("$pid")
		LAB_ALL_PIDS+=("$pid")
		kill -TERM "$pid" 2>/dev/null
	fi
	addr=$(cat "$LAB_DIR/lease.addr" 2>/dev/null)
	[ -n "$addr" ] || lab_fail "dhclient script recorded no lease"
	LAB_LEASE=$addr
}

# lab_down: stop everything this run started, delete its namespaces and its
# directory.  Idempotent; runs from the EXIT trap.
lab_down()
{
	local pid ns g
	[ -n "$LAB_P" ] && [ "$LAB_DOWN_DONE" -eq 0 ] || return 0
	LAB_DOWN_DONE=1
	for pid in $LAB_PID_A $LAB_PID_B; do
		lab_reap "$pid" 100 || echo "lab: daemon $pid needed SIGKILL" >&2
	done
	LAB_PID_A=
	LAB_PID_B=
	for pid in "${LAB_BG_PIDS[@]}"; do
		lab_reap "$pid" 30
	done
	LAB_BG_PIDS=()
	for ns in wan gwA gwB hA hB mal; do
		ip netns list 2>/dev/null | grep -q "^$LAB_P-$ns\b" || continue
		# Anything still running in our namespace is ours.
		for pid in $(ip netns pids "$LAB_P-$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$LAB_P-$ns" 2>/dev/null
	done
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ "${LAB_KEEP:-0}" = 1 ]; then
			echo "lab: keeping $LAB_DIR" >&2
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	# rmdir: only when empty.  The sandbox root always is, so this would
	# also take it from under a lab running at the same time (a daemon of
	# that lab starting just then would fail its chroot): labs run one at
	# a time (tests/integration/run.sh, scripts/bench.sh).
	if [ "$LAB_EMPTY_MADE" = 1 ]; then
		rmdir "$LAB_RUNDIR/empty" 2>/dev/null
	fi
	if [ "$LAB_RUNDIR_MADE" = 1 ]; then
		rmdir "$LAB_RUNDIR" 2>/dev/null
	fi
	for g in A B; do
		eval "LAB_BRIDGE_PREEXISTED_$g=0"
	done
}

# lab_assert_clean: nothing of this run is left: no namespace with our
# prefix, none of our PIDs alive, no temporary directory, no sandbox root
# directory (nor its parent) that this run made.
lab_assert_clean()
{
	local left pid
	left=$(ip netns list 2>/dev/null | grep "^$LAB_P-")
	[ -z "$left" ] || { echo "FAIL: namespaces left: $left" >&2; exit 1; }
	[ "$LAB_EMPTY_MADE" != 1 ] || [ ! -e "$LAB_RUNDIR/empty" ] || {
		echo "FAIL: $LAB_RUNDIR/empty made by this run and left" >&2
		exit 1
	}
	[ "$LAB_RUNDIR_MADE" != 1 ] || [ ! -e "$LAB_RUNDIR" ] || {
		echo "FAIL: $LAB_RUNDIR made by this run and left" >&2
		exit 1
	}
	for pid in "${LAB_ALL_PIDS[@]}" $LAB_PID_A $LAB_PID_B; do
		! lab_pid_alive "$pid" || {
			echo "FAIL: process $pid still running" >&2
			exit 1
		}
	done
	if [ "${LAB_KEEP:-0}" != 1 ] && [ -d "$LAB_DIR" ]; then
		echo "FAIL: $LAB_DIR left behind" >&2
		exit 1
	fi
	lab_say "clean: nothing of $LAB_P left"
}

# lab_finish: the common ending of a scenario: stop both tunnels (each must
# exit 0 on SIGTERM), check both gateways released their LAN port, tear the
# lab down and check nothing is left.
lab_finish()
{
	lab_stop A
	lab_stop B
	lab_assert_released A
	lab_assert_released B
	lab_down
	lab_assert_clean
}

# lab_default_up [lab_conf options]: the usual start of a scenario.
lab_default_up()
{
	lab_up
	lab_keys
	lab_conf "$@"
	lab_start A
	lab_start B
	lab_wait_link
}

lab_main()
{
	local state=${LAB_STATE:-/tmp/tapbridge-lab.state}
	LAB_STANDALONE=1
	case ${1:-} in
	up)
		lab_require_root
		[ ! -e "$state" ] || {
			echo "lab: $state exists; run 'down' first" >&2
			exit 1
		}
		trap 'lab_down' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		lab_default_up
		trap - EXIT INT TERM
		{
			echo "LAB_P=$LAB_P"
			echo "LAB_DIR=$LAB_DIR"
			echo "LAB_TUNNEL=$LAB_TUNNEL"
			echo "LAB_PID_A=$LAB_PID_A"
			echo "LAB_PID_B=$LAB_PID_B"
			echo "LAB_RUNDIR_MADE=$LAB_RUNDIR_MADE"
			echo "LAB_EMPTY_MADE=$LAB_EMPTY_MADE"
		} >"$state"
		lab_say "hostA reaches hostB; enter with: ip netns exec $LAB_P-hA bash"
		lab_say "tear down with: bash scripts/lab.sh down"
		;;
	down)
		if [ -n "${2:-}" ]; then
			LAB_P=$2
		elif [ -f "$state" ]; then
			# shellcheck disable=SC1090
			. "$state"
		else
			echo "lab: no $state and no PREFIX given" >&2
			exit 1
		fi
		# Daemons were started by another shell: no wait, poll /proc.
		lab_down
		rm -f "$state"
		lab_assert_clean
		;;
	*)
		echo "usage: bash scripts/lab.sh up | down [PREFIX]" >&2
		exit 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	lab_main "$@"
fi
