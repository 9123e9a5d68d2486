# hostile.sh -- helpers shared by the attack and fault scenarios
# (tests/integration/2N-*.sh) and scripts/soak.sh.  Sourced after
# scripts/lab.sh; uses only the lab's namespaces, addresses and PID
# bookkeeping, so lab_down still removes everything they start.

# hostile_tree PID: PID and every descendant of it, one per line (the
# daemon may run as a privileged parent and an unprivileged child).
hostile_tree()
{
	[ -n "${1:-}" ] || return 0
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			keep[root] = 1
			print root
			do {
				more = 0
				for (i = 1; i <= NR; i++) {
					p = pids[i]
					if (!(p in keep) && (parent[p] in keep)) {
						keep[p] = 1
						print p
						more = 1
					}
				}
			} while (more)
		}'
}

# hostile_rss_kb PID: VmRSS of PID and its descendants, in kB.
hostile_rss_kb()
{
	local p sum=0 v
	for p in $(hostile_tree "$1"); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# hostile_fds PID: open file descriptors of PID and its descendants.
hostile_fds()
{
	local p sum=0 n
	for p in $(hostile_tree "$1"); do
		n=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		sum=$((sum + n))
	done
	echo "$sum"
}

# hostile_usage A|B: one line "rss_kb fds" for gateway A's or B's daemon.
hostile_usage()
{
	local pid
	pid=$(lab_pid "$1")
	[ -n "$pid" ] || lab_fail "hostile_usage: no daemon on $1"
	echo "$(hostile_rss_kb "$pid") $(hostile_fds "$pid")"
}

# hostile_cpu_ticks PID: user+system clock ticks of PID and descendants.
hostile_cpu_ticks()
{
	local p sum=0 v
	for p in $(hostile_tree "$1"); do
		# Fields after the ")" of the command name: utime is the 12th.
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
			awk '{ print $12 + $13 }')
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# hostile_udp_stat NS FIELD: a counter of the Udp line of /proc/net/snmp
# in namespace NS (e.g. RcvbufErrors, InErrors).
hostile_udp_stat()
{
	lab_in "$1" cat /proc/net/snmp | awk -v f="$2" '
		$1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == "Udp:" && hdr { print $col[f]; exit }'
}

# hostile_ping_start COUNT INTERVAL [TO]: a bounded ping stream from hostA
# (to hostB's IPv4 address by default) in the background; its PID in
# HOSTILE_PING_PID, its output in ${LAB_DIR}/ping.out.
hostile_ping_start()
{
	local n=$1 iv=$2 to=${3:-$LAB_LAN4_B} limit
	limit=$(awk -v n="$n" -v i="$iv" 'BEGIN { printf "%d", n * i + 10 }')
	lab_bg hA "$LAB_DIR/ping.out" ping -n -c "$n" -i "$iv" -W 2 \
		-w "$limit" "$to"
	HOSTILE_PING_PID=$LAB_LAST_PID
}

# hostile_ping_wait: wait for the ping stream (bounded) and set
# HOSTILE_PING_TX and HOSTILE_PING_RX from its summary.
hostile_ping_wait()
{
	local sum
	lab_wait_exit "$HOSTILE_PING_PID" 1200 >/dev/null
	sum=$(grep 'packets transmitted' "$LAB_DIR/ping.out")
	[ -n "$sum" ] || lab_fail "ping stream printed no summary: $(tail -n 3 "$LAB_DIR/ping.out")"
	lab_say "ping: $sum"
	HOSTILE_PING_TX=$(echo "$sum" | awk '{ print $1 }')
	HOSTILE_PING_RX=$(echo "$sum" | awk '{ print $4 }')
}

# hostile_ping_stop: end the ping stream (SIGINT: ping prints its summary)
# and read it, as hostile_ping_wait.
hostile_ping_stop()
{
	kill -INT "$HOSTILE_PING_PID" 2>/dev/null
	hostile_ping_wait
}

# hostile_ping_check MIN: fail unless the stream sent at least MIN echoes
# and lost under 1% of them during the flood.
hostile_ping_check()
{
	local lost=$((HOSTILE_PING_TX - HOSTILE_PING_RX))
	[ "$HOSTILE_PING_TX" -ge "$1" ] ||
		lab_fail "ping stream sent only $HOSTILE_PING_TX echoes"
	[ $((lost * 100)) -lt "$HOSTILE_PING_TX" ] ||
		lab_fail "ping lost $lost of $HOSTILE_PING_TX echoes (>= 1%) during the flood"
}

# hostile_transfer_start MB SECONDS: MB megabytes of random bytes from
# hostA to hostB over TCP (lib/tcp_send.py to socat), spread over about
# SECONDS (0: as fast as it goes); bounded at 150 s.  HOSTILE_CC names a
# congestion control for the sender (default: the kernel's); only one the
# kernel has already (see lib/tcp_send.py).
hostile_transfer_start()
{
	local mb=$1 secs=$2
	HOSTILE_SRC=$LAB_DIR/send.bin
	HOSTILE_DST=$LAB_DIR/recv.bin
	head -c $((mb * 1024 * 1024)) /dev/urandom >"$HOSTILE_SRC"
	lab_tcp_listen 5001 "$HOSTILE_DST" 150 transfer
	HOSTILE_RX_PID=$LAB_LAST_PID
	lab_bg hA "$LAB_DIR/tcp-send.out" timeout 150 "$LAB_PY" \
		"$LAB_LIB/tcp_send.py" "$HOSTILE_SRC" "$LAB_LAN4_B" 5001 "$secs" \
		${HOSTILE_CC:+"$HOSTILE_CC"}
	HOSTILE_TX_PID=$LAB_LAST_PID
	HOSTILE_T0=$SECONDS
}

# hostile_transfer_check [TENTHS]: wait (bounded, default 150 s) for the
# transfer and fail unless what arrived has the SHA-256 of what was sent.
hostile_transfer_check()
{
	local n=${1:-1500} a b rc
	lab_wait_exit "$HOSTILE_TX_PID" "$n"
	rc=$?
	[ "$rc" -eq 0 ] || lab_fail "transfer sender failed (status $rc): $(cat "$LAB_DIR/tcp-send.out")"
	lab_wait_exit "$HOSTILE_RX_PID" 300 ||
		lab_fail "transfer receiver did not finish: $(cat "$LAB_DIR/socat-rx-5001.out")"
	a=$(sha256sum <"$HOSTILE_SRC" | cut -d' ' -f1)
	b=$(sha256sum <"$HOSTILE_DST" | cut -d' ' -f1)
	lab_say "transfer of $(stat -c %s "$HOSTILE_SRC") bytes: $((SECONDS - HOSTILE_T0)) s ($(grep -h '^cc=\|refused' "$LAB_DIR/tcp-send.out" | tr '\n' ' '))"
	lab_say "  sent sha256 $a"
	lab_say "  recv sha256 $b"
	[ "$a" = "$b" ] ||
		lab_fail "SHA-256 differs ($(stat -c %s "$HOSTILE_DST") bytes received)"
	rm -f "$HOSTILE_SRC" "$HOSTILE_DST"
}

# hostile_sent FILE CLASS: the "CLASS=N" count printed by a lib/*.py tool.
hostile_sent()
{
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# hostile_conf_any_listen: rewrite gwA.conf and gwB.conf (from lab_conf)
# to listen on the port only, on every address of the gateway.
hostile_conf_any_listen()
{
	local g
	for g in gwA gwB; do
		sed -i "s/^listen .*/listen $LAB_PORT/" "$LAB_DIR/$g.conf" ||
			lab_fail "cannot rewrite $g.conf"
		grep -q "^listen $LAB_PORT\$" "$LAB_DIR/$g.conf" ||
			lab_fail "$g.conf has no listen line to rewrite"
	done
}

# hostile_summary A|B: one line on gateway A's or B's daemon: RSS, fds,
# handshakes, frames and every non-zero drop counter (one status call).
hostile_summary()
{
	local js rss fds
	js=$(lab_status "$1") || { echo "gw$1: status failed"; return 1; }
	read -r rss fds <<<"$(hostile_usage "$1")"
	printf 'gw%s: rss %s kB, fds %s, %s\n' "$1" "$rss" "$fds" \
		"$(printf '%s' "$js" | "$LAB_PY" -c '
import json, sys
s = json.load(sys.stdin)
p = s["peers"][0] if s.get("peers") else {}
drops = dict(("global." + k, v) for k, v in s.get("drops", {}).items())
drops.update(("peer." + k, v) for k, v in p.get("drops", {}).items())
nz = " ".join("%s=%s" % kv for kv in sorted(drops.items()) if kv[1])
print("handshakes %s, rx %s tx %s frames (tx dropped %s), drops: %s" % (
    p.get("handshakes"), p.get("rx_frames"), p.get("tx_frames"),
    p.get("tx_dropped"), nz or "none"))')"
}
