#!/usr/bin/env bash
#
# bench/tunnels.sh -- the tunnels scripts/bench.sh compares, each brought up
# in the namespace lab of scripts/lab.sh (sourced before this file).
#
# Every kind ends in the same shape as tapbridge's: on each gateway a TAP
# (or, for VXLAN, a vxlan) device and lan0 are ports of bridge br0, so the
# two hosts see one Ethernet segment; the tunnel runs between the gateways'
# WAN addresses 198.18.0.1 and .2 (LAB_WAN_MTU, 1500 for every kind).
#
#   tapbridge  the daemon under test (lab_start)
#   vxlan      kernel VXLAN, unencrypted (lab_start with LAB_TUNNEL=vxlan);
#              hosts, lan0 and vx0 at MTU 1450 so that VXLAN's 50 bytes fit
#              the 1500-byte WAN without IP fragments
#   openvpn    OpenVPN 2.6, p2p TLS (static-key mode has no AEAD ciphers),
#              dev tap, UDP, data-ciphers AES-256-GCM; each side has a
#              self-signed EC certificate made here with openssl and pins
#              the other's SHA-256 fingerprint (--peer-fingerprint), so no
#              CA is needed
#   tinc       tinc 1.0, Mode = switch, UDP, default cipher and digest
#              (blowfish-CBC, HMAC-SHA1); RSA keys made with openssl
#   fastd      fastd, mode tap, method salsa2012+umac, MTU 1500 (fastd's
#              default, which bridging a LAN of MTU 1500 needs: full-size
#              frames then go out as two IP fragments, fastd having no MSS
#              clamp)
#   fastd1434  the same at MTU 1434 (fastd's guide: 1500 - 28 - 24 - 14),
#              with lan0 and the hosts at 1434 too, as VXLAN's: no fragments
#
# Peer daemons run in the foreground through lab_bg (so lab_down reaps them
# by PID); their output goes to ${LAB_DIR}/gwA.log and gwB.log, which
# lab_fail shows.  Every wait polls, bounded in count and time.

BENCH_OVPN_PORT=1194
BENCH_TINC_PORT=655
BENCH_FASTD_PORT=10000

# bench_other GW: the other gateway.
bench_other()
{
	[ "$1" = gwA ] && echo gwB || echo gwA
}

# bench_wan4 GW: the gateway's WAN IPv4 address.
bench_wan4()
{
	[ "$1" = gwA ] && echo "$LAB_WAN4_A" || echo "$LAB_WAN4_B"
}

# bench_gw_pids: PIDs of every process in both gateway namespaces (the
# tunnel daemons, helpers included; nothing else runs there).
bench_gw_pids()
{
	ip netns pids "$LAB_P-gwA" 2>/dev/null
	ip netns pids "$LAB_P-gwB" 2>/dev/null
}

# bench_bridge_tap GW: wait (bounded, 10 s) for the daemon to create tap0,
# then make br0 with tap0 and lan0 as ports, all up.
bench_bridge_tap()
{
	local gw=$1 ns=$LAB_P-$1 i
	for ((i = 0; i < 100; i++)); do
		ip -n "$ns" link show tap0 >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip -n "$ns" link show tap0 >/dev/null 2>&1 ||
		lab_fail "$gw: the daemon made no tap0 within 10 s"
	ip -n "$ns" link add br0 type bridge forward_delay 0 stp_state 0 ||
		lab_fail "$gw: cannot create br0"
	ip -n "$ns" link set tap0 master br0 up &&
		ip -n "$ns" link set lan0 master br0 &&
		ip -n "$ns" link set br0 up ||
		lab_fail "$gw: cannot bridge tap0 and lan0"
}

# bench_start_peer GW LOGNAME CMD...: start a peer daemon in GW's namespace,
# output to ${LAB_DIR}/GW.log, and check it survives its first 0.3 s.
bench_start_peer()
{
	local gw=$1
	shift
	lab_bg "$gw" "$LAB_DIR/$gw.log" "$@"
	sleep 0.3
	lab_pid_alive "$LAB_LAST_PID" ||
		lab_fail "$gw: $1 exited at start: $(tail -n 3 "$LAB_DIR/$gw.log" | tr '\n' ' ')"
}

# ---- OpenVPN ---------------------------------------------------------------

bench_openvpn_certs()
{
	local gw
	for gw in gwA gwB; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -days 2 -subj "/CN=$gw" \
			-keyout "$LAB_DIR/ovpn-$gw.key" \
			-out "$LAB_DIR/ovpn-$gw.crt" >/dev/null 2>&1 ||
			lab_fail "openssl could not make a certificate for $gw"
	done
}

bench_openvpn_conf()
{
	local gw=$1 peer fp role
	peer=$(bench_other "$gw")
	fp=$(openssl x509 -noout -fingerprint -sha256 \
		-in "$LAB_DIR/ovpn-$peer.crt" | sed 's/.*=//')
	[ -n "$fp" ] || lab_fail "no fingerprint for $peer's certificate"
	[ "$gw" = gwA ] && role=tls-server || role=tls-client
	cat >"$LAB_DIR/ovpn-$gw.conf" <<-EOF
		# $gw -- written by scripts/bench/tunnels.sh
		dev tap0
		dev-type tap
		disable-dco
		proto udp4
		local $(bench_wan4 "$gw")
		lport $BENCH_OVPN_PORT
		remote $(bench_wan4 "$peer") $BENCH_OVPN_PORT
		$role
		dh none
		cert $LAB_DIR/ovpn-$gw.crt
		key $LAB_DIR/ovpn-$gw.key
		peer-fingerprint $fp
		data-ciphers AES-256-GCM
		verb 3
	EOF
}

bench_openvpn_up()
{
	local gw i
	bench_openvpn_certs
	for gw in gwA gwB; do
		bench_openvpn_conf "$gw"
		bench_start_peer "$gw" openvpn --config "$LAB_DIR/ovpn-$gw.conf"
		bench_bridge_tap "$gw"
	done
	# The TLS handshake and cipher negotiation take a moment: wait for it.
	for ((i = 0; i < 150; i++)); do
		grep -q 'Initialization Sequence Completed' "$LAB_DIR/gwA.log" &&
			grep -q 'Initialization Sequence Completed' "$LAB_DIR/gwB.log" &&
			break
		sleep 0.1
	done
	grep -q 'Initialization Sequence Completed' "$LAB_DIR/gwB.log" ||
		lab_fail "openvpn: no session within 15 s"
	grep -q "Data Channel: cipher 'AES-256-GCM'" "$LAB_DIR/gwA.log" ||
		lab_fail "openvpn: data channel is not AES-256-GCM"
}

# ---- tinc 1.0 --------------------------------------------------------------

bench_tinc_conf()
{
	local gw=$1 d=$LAB_DIR/tinc-$1
	mkdir -p "$d/hosts"
	openssl genrsa -traditional -out "$d/rsa_key.priv" 2048 \
		>/dev/null 2>&1 || lab_fail "openssl could not make $gw's RSA key"
	chmod 600 "$d/rsa_key.priv"
	cat >"$d/tinc.conf" <<-EOF
		# $gw -- written by scripts/bench/tunnels.sh
		Name = $gw
		Mode = switch
		DeviceType = tap
		Interface = tap0
		AddressFamily = ipv4
		BindToAddress = $(bench_wan4 "$gw")
		Port = $BENCH_TINC_PORT
	EOF
	# gwB starts second and connects at once (gwA would retry in 5 s).
	[ "$gw" = gwA ] || echo "ConnectTo = gwA" >>"$d/tinc.conf"
	{
		echo "Address = $(bench_wan4 "$gw")"
		echo "Port = $BENCH_TINC_PORT"
		openssl rsa -in "$d/rsa_key.priv" -RSAPublicKey_out 2>/dev/null
	} >"$d/hosts/$gw"
	grep -q 'BEGIN RSA PUBLIC KEY' "$d/hosts/$gw" ||
		lab_fail "openssl could not write $gw's public key"
}

bench_tinc_up()
{
	local gw i
	bench_tinc_conf gwA
	bench_tinc_conf gwB
	cp "$LAB_DIR/tinc-gwA/hosts/gwA" "$LAB_DIR/tinc-gwB/hosts/gwA"
	cp "$LAB_DIR/tinc-gwB/hosts/gwB" "$LAB_DIR/tinc-gwA/hosts/gwB"
	for gw in gwA gwB; do
		bench_start_peer "$gw" tincd -c "$LAB_DIR/tinc-$gw" -D -d 1 \
			--pidfile="$LAB_DIR/tinc-$gw/tinc.pid"
		bench_bridge_tap "$gw"
	done
	# Meta connection up on both sides (UDP then follows the key exchange).
	for ((i = 0; i < 150; i++)); do
		grep -q 'activated' "$LAB_DIR/gwA.log" &&
			grep -q 'activated' "$LAB_DIR/gwB.log" && return 0
		sleep 0.1
	done
	lab_fail "tinc: no connection activated within 15 s"
}

# ---- fastd -----------------------------------------------------------------

bench_fastd_keys()
{
	local gw out
	for gw in gwA gwB; do
		out=$(fastd --generate-key 2>/dev/null) ||
			lab_fail "fastd --generate-key failed"
		printf '%s\n' "$out" | sed -n 's/^Secret: //p' \
			>"$LAB_DIR/fastd-$gw.secret"
		printf '%s\n' "$out" | sed -n 's/^Public: //p' \
			>"$LAB_DIR/fastd-$gw.public"
		[ -s "$LAB_DIR/fastd-$gw.secret" ] &&
			[ -s "$LAB_DIR/fastd-$gw.public" ] ||
			lab_fail "fastd --generate-key printed no key pair"
		chmod 600 "$LAB_DIR/fastd-$gw.secret"
	done
}

bench_fastd_conf()
{
	local gw=$1 peer
	peer=$(bench_other "$gw")
	cat >"$LAB_DIR/fastd-$gw.conf" <<-EOF
		# $gw -- written by scripts/bench/tunnels.sh
		log level info;
		interface "tap0";
		mode tap;
		method "salsa2012+umac";
		secret "$(cat "$LAB_DIR/fastd-$gw.secret")";
		bind $(bench_wan4 "$gw"):$BENCH_FASTD_PORT;
		mtu $BENCH_FASTD_MTU;
		peer "$peer" {
			key "$(cat "$LAB_DIR/fastd-$peer.public")";
			remote $(bench_wan4 "$peer"):$BENCH_FASTD_PORT;
		}
	EOF
	chmod 600 "$LAB_DIR/fastd-$gw.conf"
}

# bench_fastd_up [MTU]: fastd at MTU (default 1500: what bridging a LAN of
# MTU 1500 needs, fastd's default; its outer datagrams then fragment).
# With a lower MTU (1434: 1500 - 28 - 24 - 14, fastd's guide for TAP over
# IPv4) lan0 and the hosts get it too, as VXLAN's, and nothing fragments.
bench_fastd_up()
{
	local gw i
	BENCH_FASTD_MTU=${1:-1500}
	bench_fastd_keys
	for gw in gwA gwB; do
		bench_fastd_conf "$gw"
		bench_start_peer "$gw" fastd -c "$LAB_DIR/fastd-$gw.conf"
		bench_bridge_tap "$gw"
	done
	for ((i = 0; i < 150; i++)); do
		grep -q 'established' "$LAB_DIR/gwA.log" &&
			grep -q 'established' "$LAB_DIR/gwB.log" && break
		sleep 0.1
	done
	((i < 150)) || lab_fail "fastd: no session established within 15 s"
	[ "$BENCH_FASTD_MTU" = 1500 ] || bench_lan_mtu "$BENCH_FASTD_MTU"
}

# bench_lan_mtu MTU: lan0 on both gateways and both hosts' eth0 at MTU.
bench_lan_mtu()
{
	local gw h
	for gw in gwA gwB; do
		ip -n "$LAB_P-$gw" link set lan0 mtu "$1" ||
			lab_fail "$gw: cannot set lan0's MTU $1"
	done
	for h in hA hB; do
		ip -n "$LAB_P-$h" link set eth0 mtu "$1" ||
			lab_fail "$h: cannot set MTU $1"
	done
}

# ---- VXLAN and tapbridge ---------------------------------------------------

bench_vxlan_up()
{
	local gw h
	lab_start A
	lab_start B
	for gw in gwA gwB; do
		ip -n "$LAB_P-$gw" link set vx0 mtu 1450 ||
			lab_fail "$gw: cannot set the VXLAN MTU 1450"
	done
	bench_lan_mtu 1450
}

bench_tapbridge_up()
{
	lab_keys
	lab_conf
	lab_start A
	lab_start B
}

# ---- dispatch ----------------------------------------------------------------

# bench_tunnel_up KIND: bring KIND up on both gateways and wait until hostA
# reaches hostB through it.  Fails through lab_fail.
bench_tunnel_up()
{
	case $1 in
	tapbridge) bench_tapbridge_up ;;
	vxlan) bench_vxlan_up ;;
	openvpn) bench_openvpn_up ;;
	tinc) bench_tinc_up ;;
	fastd) bench_fastd_up ;;
	fastd1434) bench_fastd_up 1434 ;;
	*) lab_fail "unknown tunnel kind '$1'" ;;
	esac
	lab_wait_link
}

# bench_tunnel_binary KIND: the program KIND needs (empty for the kernel).
bench_tunnel_binary()
{
	case $1 in
	tapbridge) echo "$TAPBRIDGE" ;;
	openvpn) echo openvpn ;;
	tinc) echo tincd ;;
	fastd | fastd1434) echo fastd ;;
	*) echo "" ;;
	esac
}

# bench_tunnel_version KIND: one line naming KIND's version.
bench_tunnel_version()
{
	local v
	case $1 in
	tapbridge)
		v=$("$TAPBRIDGE" -V 2>/dev/null | head -n 1)
		echo "${v:-tapbridge (no version from -V)}"
		;;
	vxlan) echo "kernel vxlan $(uname -r)" ;;
	openvpn) openvpn --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2 ;;
	tinc) tincd --version 2>/dev/null | head -n 1 ;;
	fastd) fastd --version 2>/dev/null | head -n 1 ;;
	esac
}
