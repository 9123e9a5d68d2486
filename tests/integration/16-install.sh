#!/usr/bin/env bash
# 16-install: `make install DESTDIR=... PREFIX=/usr` installs exactly the
# expected files with the expected modes, the service files naming
# /usr/sbin/tapbridge; a second install keeps a modified configuration;
# `make uninstall` removes everything else and keeps that configuration
# and key files.  The system user is made only without DESTDIR (checked
# with stand-ins for getent and useradd on PATH: nothing is installed on
# this system).  SYSCONFDIR, RUNSTATEDIR and DAEMON_USER given to a later
# make rebuild the daemon with them as its defaults (a build under $tmp),
# and the same values again rebuild nothing.  The source tree is left as
# found: make writes the service
# files it generates into BUILD (a copy of the daemon under $tmp here, never
# rebuilt), and the test fails if a file of the tree appeared or changed.
# Needs no root: everything goes into $tmp, install changes no owner, and
# the user database is only touched through the stand-ins.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TAPBRIDGE:-$root/build/tapbridge}

tmp=$(mktemp -d /tmp/tbinst.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

step()
{
	printf '\n==> %s\n' "$*"
}

# mk TARGET VARS...: make -C the tree; output to $tmp/make.out.
mk()
{
	make -C "$root" --no-print-directory "$@" >"$tmp/make.out" 2>&1 || {
		tail -n 30 "$tmp/make.out" >&2
		fail "make $* failed"
	}
}

# inst VARS...: make install with the generated files in $bdir, and
# -o: never rebuild the daemon (not with this tree's SYSCONFDIR compiled
# in, not into the tree).
inst()
{
	mk -o "$bdir/tapbridge" install BUILD="$bdir" "$@"
}

# listing DIR: "MODE PATH" of every non-directory under DIR, sorted.
listing()
{
	(cd "$1" && find . ! -type d -printf '%m %P\n' | LC_ALL=C sort)
}

# tree_listing: what install could leave in the source tree: files git
# sees as new or changed, and what is under build/etc (the default BUILD's
# place for generated service files), with modification times.  Not the
# whole tree: a `make -j check` builds elsewhere in it meanwhile.
tree_listing()
{
	(cd "$root" && {
		git status --porcelain 2>/dev/null
		find build/etc -printf '%P %T@\n' 2>/dev/null
	} | LC_ALL=C sort)
}

[ -x "$bin" ] || fail "no daemon binary at $bin (make first)"
bdir=$tmp/build
mkdir "$bdir"
cp "$bin" "$bdir/tapbridge"
tree_listing >"$tmp/tree.before"

expected=$(LC_ALL=C sort <<'EOF'
644 etc/tapbridge/tapbridge.conf
755 etc/init.d/tapbridge
755 usr/sbin/tapbridge
644 usr/share/man/man8/tapbridge.8
644 usr/share/man/man5/tapbridge.conf.5
644 usr/share/man/man7/tapbridge-protocol.7
644 usr/lib/systemd/system/tapbridge@.service
EOF
)

# Stand-ins that record what would have been done to the user database.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/useradd" <<EOF
#!/bin/sh
echo "useradd \$*" >>"$tmp/useradd.log"
EOF
cat >"$tmp/bin/getent" <<EOF
#!/bin/sh
# getent DB NAME: found only if listed in $tmp/getent.DB
grep -qx "\$2" "$tmp/getent.\$1" 2>/dev/null
EOF
chmod 755 "$tmp/bin/useradd" "$tmp/bin/getent"
: >"$tmp/getent.passwd"
: >"$tmp/getent.group"

step "make install DESTDIR=... PREFIX=/usr"
PATH=$tmp/bin:$PATH inst DESTDIR="$dest" PREFIX=/usr
got=$(listing "$dest")
[ "$got" = "$expected" ] ||
	fail "installed files differ:$(diff <(echo "$expected") <(echo "$got"))"
[ ! -e "$tmp/useradd.log" ] ||
	fail "install with DESTDIR touched users: $(cat "$tmp/useradd.log")"
echo "# $(echo "$got" | wc -l) files, modes as expected, no user made"

step "installed contents"
cmp -s "$bin" "$dest/usr/sbin/tapbridge" ||
	fail "installed binary is not $bin"
cmp -s "$root/etc/tapbridge.conf" "$dest/etc/tapbridge/tapbridge.conf" ||
	fail "installed configuration is not etc/tapbridge.conf"
for m in man8/tapbridge.8 man5/tapbridge.conf.5 man7/tapbridge-protocol.7; do
	cmp -s "$root/man/${m#*/}" "$dest/usr/share/man/$m" ||
		fail "installed $m differs from man/${m#*/}"
done
unit=$dest/usr/lib/systemd/system/tapbridge@.service
init=$dest/etc/init.d/tapbridge
! grep -n /usr/local/sbin/tapbridge "$unit" "$init" ||
	fail "service files still name /usr/local/sbin/tapbridge (above)"
grep -q '^ExecStart=/usr/sbin/tapbridge -f -c /etc/tapbridge/%i.conf$' \
	"$unit" || fail "unit's ExecStart not rewritten: $(grep ^Exec "$unit")"
grep -q '^ExecStartPre=/usr/sbin/tapbridge -t -c /etc/tapbridge/%i.conf$' \
	"$unit" || fail "unit's ExecStartPre not rewritten"
grep -q "^: \"\${DAEMON:=/usr/sbin/tapbridge}\"\$" "$init" ||
	fail "init script's DAEMON not rewritten: $(grep DAEMON:= "$init")"
sh -n "$init" || fail "installed init script is not valid sh"

step "a second install keeps a modified configuration"
echo "# changed by the operator" >>"$dest/etc/tapbridge/tapbridge.conf"
cp "$dest/etc/tapbridge/tapbridge.conf" "$tmp/modified.conf"
(umask 077; echo "not a real key" >"$dest/etc/tapbridge/private.key")
echo "stale" >"$dest/usr/share/man/man8/tapbridge.8"
PATH=$tmp/bin:$PATH inst DESTDIR="$dest" PREFIX=/usr
cmp -s "$tmp/modified.conf" "$dest/etc/tapbridge/tapbridge.conf" ||
	fail "second install overwrote the modified configuration"
grep -q "keeping existing" "$tmp/make.out" ||
	fail "second install did not say it kept the configuration"
cmp -s "$root/man/tapbridge.8" "$dest/usr/share/man/man8/tapbridge.8" ||
	fail "second install did not refresh the man page"

step "make uninstall keeps the modified configuration and the key"
mk uninstall DESTDIR="$dest" PREFIX=/usr
got=$(listing "$dest")
want=$(printf '600 etc/tapbridge/private.key\n644 etc/tapbridge/tapbridge.conf')
[ "$got" = "$want" ] || fail "after uninstall: $got"
grep -q "keeping modified" "$tmp/make.out" ||
	fail "uninstall did not say it kept the modified configuration"

step "uninstall removes an unmodified configuration and its directory"
rm -f "$dest/etc/tapbridge/private.key"
cp "$root/etc/tapbridge.conf" "$dest/etc/tapbridge/tapbridge.conf"
mk uninstall DESTDIR="$dest" PREFIX=/usr
got=$(listing "$dest")
[ -z "$got" ] || fail "uninstall left: $got"
[ ! -e "$dest/etc/tapbridge" ] || fail "uninstall left etc/tapbridge/"

step "without DESTDIR install makes the system user once (stand-ins)"
# PREFIX and SYSCONFDIR inside $tmp.
alt=$tmp/alt
PATH=$tmp/bin:$PATH inst PREFIX="$alt/usr" SYSCONFDIR="$alt/etc"
[ "$(wc -l <"$tmp/useradd.log")" -eq 1 ] ||
	fail "expected one useradd, got: $(cat "$tmp/useradd.log")"
read -r call <"$tmp/useradd.log"
for want in "--system" "--user-group" "--no-create-home" \
	"--home-dir /nonexistent" "--shell /usr/sbin/nologin" "tapbridge"; do
	case " $call " in
	*" $want "*) ;;
	*) fail "useradd lacks '$want': $call" ;;
	esac
done
echo "# $call"
grep -q "^ExecStart=$alt/usr/sbin/tapbridge -f -c $alt/etc/tapbridge/%i.conf$" \
	"$alt/usr/lib/systemd/system/tapbridge@.service" ||
	fail "unit not rewritten for PREFIX and SYSCONFDIR"
if command -v systemd-analyze >/dev/null 2>&1; then
	# An instance of the installed unit, whose daemon and config exist.
	mkdir "$tmp/units"
	cp "$alt/usr/lib/systemd/system/tapbridge@.service" \
		"$tmp/units/tapbridge@lab.service"
	cp "$root/etc/tapbridge.conf" "$alt/etc/tapbridge/lab.conf"
	out=$(systemd-analyze verify --man=no \
		"$tmp/units/tapbridge@lab.service" 2>&1)
	rm -f "$alt/etc/tapbridge/lab.conf"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "# systemd-analyze verify: clean"
else
	echo "************************************************"
	echo "SKIP step: systemd-analyze is not installed: the installed unit"
	echo "SKIP step: is not verified (install systemd to check it)"
	echo "************************************************"
fi
echo tapbridge >"$tmp/getent.passwd"
echo tapbridge >"$tmp/getent.group"
PATH=$tmp/bin:$PATH inst PREFIX="$alt/usr" SYSCONFDIR="$alt/etc"
[ "$(wc -l <"$tmp/useradd.log")" -eq 1 ] ||
	fail "useradd run although the user exists: $(cat "$tmp/useradd.log")"
: >"$tmp/getent.passwd"
rm -f "$tmp/useradd.log"
PATH=$tmp/bin:$PATH sh "$root/scripts/install-user.sh" >/dev/null
grep -q -- "--gid tapbridge " "$tmp/useradd.log" ||
	fail "existing group not reused: $(cat "$tmp/useradd.log")"
mk uninstall PREFIX="$alt/usr" SYSCONFDIR="$alt/etc"
[ -z "$(listing "$alt")" ] || fail "uninstall left: $(listing "$alt")"

step "SYSCONFDIR, RUNSTATEDIR and DAEMON_USER given later rebuild the daemon with them"
# A copy of the tree's build (objects made with the default values; make
# brings it up to date first), then the same build with other values, as
# `make install SYSCONFDIR=...` after `make` would do.
b2=$tmp/b2
cp -a "$root/build" "$b2"
mk -j2 BUILD="$b2" "$b2/tapbridge"
mk -j2 BUILD="$b2" SYSCONFDIR="$tmp/sc" RUNSTATEDIR="$tmp/rs" \
	DAEMON_USER=tb-other "$b2/tapbridge"
grep -q "CC.*src/main.c" "$tmp/make.out" ||
	fail "new SYSCONFDIR: main.c was not rebuilt: $(cat "$tmp/make.out")"
# Every object that names a path: none of the old ones may be left (the
# parent making one sandbox directory, the network process entering
# another).
grep -aq "$tmp/rs/tapbridge/empty" "$b2/tapbridge" ||
	fail "the sandbox directory does not follow RUNSTATEDIR"
! grep -aq -e "/run/tapbridge" -e "/etc/tapbridge" "$b2/tapbridge" ||
	fail "a default path is still compiled in: $(strings "$b2/tapbridge" | grep -e /run/tapbridge -e /etc/tapbridge | sort -u)"
out=$("$b2/tapbridge" -t 2>&1)
[[ $out == *"cannot open '$tmp/sc/tapbridge/tapbridge.conf'"* ]] ||
	fail "the daemon does not default to the new SYSCONFDIR: $out"
mkdir -p "$tmp/sc/tapbridge"
printf 'interface tap0\n' >"$tmp/sc/tapbridge/tapbridge.conf"
out=$(cd "$tmp" && "$b2/tapbridge" status 2>&1)
[[ $out == *"$tmp/rs/tapbridge/tapbridge.sock"* ]] ||
	fail "status does not look in the new RUNSTATEDIR: $out"
printf 'private-key %s\npeer p {\npublic-key %s\nendpoint 198.18.0.2:1\n}\n' \
	"$tmp/no.key" "$(head -c 32 /dev/zero | tr '\0' '\1' | base64)" \
	>"$tmp/sc/tapbridge/tapbridge.conf"
out=$("$b2/tapbridge" -t 2>&1)
[[ $out == *"user 'tb-other'"* ]] ||
	fail "the default user is not DAEMON_USER: $out"
mk -j2 BUILD="$b2" SYSCONFDIR="$tmp/sc" RUNSTATEDIR="$tmp/rs" \
	DAEMON_USER=tb-other "$b2/tapbridge"
! grep -q "CC" "$tmp/make.out" ||
	fail "the same values rebuilt something: $(cat "$tmp/make.out")"
echo "# SYSCONFDIR, RUNSTATEDIR and DAEMON_USER compiled in; no rebuild without a change"

step "the source tree is as found"
tree_listing >"$tmp/tree.after"
changed=$(LC_ALL=C comm -13 "$tmp/tree.before" "$tmp/tree.after")
[ -z "$changed" ] ||
	fail "new or changed under $root (path, mtime):"$'\n'"$changed"
echo "# nothing new or changed under $root"

rm -rf "$tmp"
trap - EXIT
[ ! -e "$tmp" ] || fail "$tmp left behind"
echo "PASS: 16-install"
