#!/usr/bin/env bash
# 19-privsep: after setup, the process that reads packets from the network
# runs as the configured unprivileged user, in a chroot, with no capability
# (effective, permitted or bounding), no-new-privs and a seccomp filter,
# and holds no netlink socket, no standard stream but /dev/null and no
# descriptor it was started with (gwA starts with a stray one); the
# privileged parent keeps only CAP_NET_ADMIN and CAP_KILL.  Traffic,
# status and a rekey still work inside the sandbox; after SIGTERM nothing is
# left.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root

lab_up
lab_keys
lab_conf -r 10
# gwA starts with a stray descriptor open, as from a careless shell or
# supervisor: neither of its processes may keep it.
lab_start A 7>"$LAB_DIR/stray"
lab_start B
lab_wait_link

field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

for gw in A B; do
	parent=$(lab_pid $gw)
	child=$(cat "/proc/$parent/task/$parent/children" 2>/dev/null | awk '{print $1}')
	[ -n "$child" ] || lab_fail "$gw: no network process under $parent"
	lab_step "gw$gw: parent $parent, network process $child"
	uid=$(field "$child" Uid)
	[ "$uid" = "$(id -u nobody)" ] || lab_fail "network process uid $uid, not nobody's"
	for f in CapEff CapPrm CapInh CapBnd CapAmb; do
		v=$(field "$child" $f)
		[ "$v" = 0000000000000000 ] || lab_fail "network process $f is $v"
	done
	[ "$(field "$child" NoNewPrivs)" = 1 ] || lab_fail "network process without no-new-privs"
	[ "$(field "$child" Seccomp)" = 2 ] || lab_fail "network process Seccomp is $(field "$child" Seccomp), not 2 (filter)"
	root=$(readlink "/proc/$child/root")
	[ "$root" = /run/tapbridge/empty ] || lab_fail "network process root is '$root'"
	[ -z "$(ls -A /run/tapbridge/empty)" ] || lab_fail "sandbox directory is not empty"
	lab_say "net: uid $uid, no capabilities, NoNewPrivs 1, Seccomp 2, root $root"
	# Standard streams on /dev/null: log lines go through the parent.
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$child/fd/$fd")" = /dev/null ] ||
			lab_fail "network process fd $fd is $(readlink "/proc/$child/fd/$fd")"
	done
	# No netlink socket (the parent's, for the bridge) in the sandbox.
	nl=$(awk 'NR > 1 { print $NF }' "/proc/$child/net/netlink")
	for fd in /proc/"$child"/fd/*; do
		ino=$(readlink "$fd" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
		[ -n "$ino" ] || continue
		! grep -qx "$ino" <<<"$nl" ||
			lab_fail "network process holds a netlink socket (fd ${fd##*/})"
	done
	# Nothing inherited either: every other descriptor is the TAP, a
	# socket or the loop's epoll, signalfd and timerfd.
	for fd in /proc/"$child"/fd/*; do
		[ "${fd##*/}" -gt 2 ] || continue
		case $(readlink "$fd") in
		/dev/net/tun | socket:* | anon_inode:*) ;;
		*) lab_fail "network process holds fd ${fd##*/}: $(readlink "$fd")" ;;
		esac
	done
	# The parent too (the loop above holds the network process to less).
	! ls -l /proc/"$parent"/fd/ | grep -q "$LAB_DIR/stray" ||
		lab_fail "parent $parent kept the stray descriptor it was started with"
	lab_say "net: no descriptor but /dev/null, the TAP, sockets and its loop's"
	[ "$(field "$parent" Uid)" = 0 ] || lab_fail "parent is not root"
	# CAP_NET_ADMIN (12) and CAP_KILL (5) only.
	[ "$(field "$parent" CapEff)" = 0000000000001020 ] ||
		lab_fail "parent CapEff $(field "$parent" CapEff), want 0000000000001020"
	[ "$(field "$parent" CapBnd)" = 0000000000001020 ] ||
		lab_fail "parent CapBnd $(field "$parent" CapBnd), want 0000000000001020"
	lab_say "priv: root with CAP_NET_ADMIN and CAP_KILL only"
done

sock=$LAB_DIR/gwA.sock
[ "$(stat -c '%a %U' "$sock")" = "600 root" ] ||
	lab_fail "control socket is '$(stat -c '%a %U' "$sock")', not '600 root'"
lab_say "control socket: mode 600, owner root (no 'control-group')"

lab_step "traffic, status and rekeys inside the sandbox (25 s)"
lab_get hs0 A peer.handshakes
ip netns exec "$LAB_P-hA" ping -q -n -c 100 -i 0.25 -w 40 "$LAB_LAN4_B" \
	>"$LAB_DIR/ping.out" 2>&1
grep -q ' 0% packet loss' "$LAB_DIR/ping.out" ||
	lab_fail "ping across the sandboxed tunnel: $(grep loss "$LAB_DIR/ping.out")"
lab_get hs1 A peer.handshakes
[ "$hs1" -ge $((hs0 + 2)) ] || lab_fail "no rekey inside the sandbox ($hs0 -> $hs1)"
for gw in A B; do
	parent=$(lab_pid $gw)
	child=$(cat "/proc/$parent/task/$parent/children" | awk '{print $1}')
	[ -d "/proc/$child" ] || lab_fail "gw$gw: network process died"
done
lab_say "100/100 pings, $((hs1 - hs0)) rekeys, network processes alive"

lab_finish
echo "PASS: 19-privsep"
