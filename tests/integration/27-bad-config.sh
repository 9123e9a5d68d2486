#!/usr/bin/env bash
# 27-bad-config: every kind of operator mistake -- unknown directive, bad
# values, a peer without its key or with this gateway's own, key files
# that are missing, unreadable, open to others, owned by someone else, a
# symlink, a directory, of the wrong length, a missing configuration file,
# a directory as configuration -- is refused by `tapbridge -t` and by a
# real start alike: exit status exactly 1 (never a signal, never a
# sanitizer report), the message names FILE:LINE (FILE alone when there
# is no line) and says what is wrong.
# Mistakes only a real start can find (an interface that is missing or of
# the wrong kind, an address not on the host) pass -t but fail the start.
# A failed start leaves nothing: no bridge, no TAP, lan0 in no bridge, no
# control socket, no UDP socket.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

lab_up
lab_keys
lab_conf
D=$LAB_DIR/bad
mkdir -p "$D"
base=$LAB_DIR/gwA.conf
cp "$base" "$D/base.conf"
nfail=0
ncase=0

# line_of REGEX: the line number of the first line of base.conf matching.
line_of()
{
	grep -n -m1 -E "$1" "$D/base.conf" | cut -d: -f1
}

# mk NAME SED...: NAME.conf from base.conf through sed; mode 0600.
mk()
{
	local name=$1
	shift
	sed "$@" "$D/base.conf" >"$D/$name.conf"
	chmod 600 "$D/$name.conf"
}

# nothing_left: a failed start must leave gwA as it found it.
nothing_left()
{
	local what=""
	lab_in gwA ip link show br0 >/dev/null 2>&1 && what="$what br0"
	lab_in gwA ip link show tap0 >/dev/null 2>&1 && what="$what tap0"
	lab_in gwA ip -o link show lan0 | grep -q master && what="$what lan0-enslaved"
	[ -e "$LAB_DIR/gwA.sock" ] && what="$what control-socket"
	lab_in gwA ss -Huan | grep -q ":$LAB_PORT\b" && what="$what udp-socket"
	echo "$what"
}

# run_one HOW FILE WANT_RC: run tapbridge -t (HOW=test) or a foreground
# start (HOW=start) on FILE in gwA's namespace; output in $D/out.
run_one()
{
	local how=$1 file=$2 rc
	if [ "$how" = test ]; then
		lab_in gwA timeout 10 "$TAPBRIDGE" -t -c "$file" >"$D/out" 2>&1
	else
		lab_in gwA timeout 10 "$TAPBRIDGE" -f -v -c "$file" >"$D/out" 2>&1 \
			</dev/null
	fi
	rc=$?
	echo "$rc"
}

# check NAME FILE WHERE REGEX [runtime [WHY]]: both -t and a real start
# must refuse FILE with exit 1 and a message "WHERE: ..." matching REGEX
# (WHERE is FILE:LINE or FILE; empty: any message matching REGEX).
# "runtime": -t accepts it, the start refuses it, and says WHY (a regex)
# too: the module's reason, on a line of its own.
check()
{
	local name=$1 file=$2 where=$3 re=$4 runtime=${5:-} why=${6:-}
	local how rc left bad
	ncase=$((ncase + 1))
	for how in test start; do
		bad=""
		rc=$(run_one "$how" "$file")
		if [ "$how" = test ] && [ "$runtime" = runtime ]; then
			[ "$rc" -eq 0 ] || bad="-t exit $rc, want 0 (only a start can know)"
		elif [ "$rc" -ne 1 ]; then
			bad="exit $rc, want 1"
		elif [ -z "$where" ]; then
			grep -qE -- "$re" "$D/out" ||
				bad="no message matching /$re/"
		elif ! grep -qF -- "$where: " "$D/out"; then
			bad="no '$where: ' in the message"
		elif ! grep -E -- "$re" "$D/out" | grep -qF -- "$where: "; then
			bad="the '$where: ' line does not match /$re/"
		fi
		if [ "$how" = start ] && [ -n "$why" ] &&
			! grep -qE -- "$why" "$D/out"; then
			bad="${bad:+$bad; }no reason matching /$why/"
		fi
		if grep -qE 'Sanitizer|runtime error:|BUG at' "$D/out"; then
			bad="${bad:+$bad; }sanitizer or BUG report"
		fi
		if [ "$how" = start ]; then
			left=$(nothing_left)
			[ -z "$left" ] || bad="${bad:+$bad; }left behind:$left"
		fi
		if [ -n "$bad" ]; then
			printf 'FAIL  %-22s %-5s %s\n' "$name" "$how" "$bad"
			sed 's/^/          | /' "$D/out"
			nfail=$((nfail + 1))
		else
			printf 'ok    %-22s %-5s %s\n' "$name" "$how" \
				"$(grep -m1 -F -- "$where" "$D/out" || head -n 1 "$D/out")"
		fi
	done
}

lab_step "the unmodified configuration passes"
rc=$(run_one test "$D/base.conf")
[ "$rc" -eq 0 ] && grep -q 'configuration OK' "$D/out" ||
	lab_fail "tapbridge -t refuses the lab's own configuration: $(cat "$D/out")"

lab_step "mistakes in the configuration file"
L=$(line_of '^interface ')
mk unknown -e "${L}a frobnicate yes"
check unknown-directive "$D/unknown.conf" "$D/unknown.conf:$((L + 1))" \
	"unknown directive 'frobnicate'"
L=$(line_of '^rekey-interval ')
mk rekey -e "${L}s/.*/rekey-interval 5/"
check bad-rekey-interval "$D/rekey.conf" "$D/rekey.conf:$L" \
	"'rekey-interval' must be between [0-9]+ and [0-9]+, got '5'"
mk wanmtu -e "${L}a wan-mtu 90000"
check bad-wan-mtu "$D/wanmtu.conf" "$D/wanmtu.conf:$((L + 1))" \
	"'wan-mtu' must be .*got '90000'"
L=$(line_of '^listen ')
mk port -e "${L}s/.*/listen $LAB_WAN4_A:99999/"
check bad-listen-port "$D/port.conf" "$D/port.conf:$L" "port.*'99999'"
L=$(line_of '^[[:space:]]*endpoint ')
mk endpoint -e "${L}s/endpoint .*/endpoint gateway-b.example/"
check bad-endpoint "$D/endpoint.conf" "$D/endpoint.conf:$L" \
	"'endpoint' must be host:port"
# An IPv6 endpoint for an IPv4 listen address: -t must say so as well as
# a start (it resolves for the family the listen address implies).
mk family -e "${L}s/endpoint .*/endpoint [fd00::2]:$LAB_PORT/"
check endpoint-family "$D/family.conf" "$D/family.conf:$L" \
	"'fd00::2' has no IPv4 address, and the 'listen' address makes this gateway use IPv4 only"
L=$(line_of '^[[:space:]]*public-key ')
mk pubshort -e "${L}s|public-key .*|public-key $(head -c 31 /dev/zero | tr '\0' '\1' | base64)|"
check short-public-key "$D/pubshort.conf" "$D/pubshort.conf:$L" \
	"not a base64 key of 32 bytes"
# A low-order point (u = 1): valid base64 of 32 bytes that gives no shared
# secret; -t must find it as a start does, before detaching.
mk publow -e "${L}s|public-key .*|public-key AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|"
check low-order-public-key "$D/publow.conf" "$D/publow.conf:$L" \
	"peer '[^']+': public key is not usable"
# gwA's own public key pasted as the peer's: no handshake could complete.
mk pubown -e "${L}s|public-key .*|public-key $(cat "$LAB_DIR/gwA.pub")|"
check own-public-key "$D/pubown.conf" "$D/pubown.conf:$L" \
	"peer '[^']+': public key is this gateway's own"
P=$(line_of '^peer ')
mk nopub -e "${L}d"
check missing-peer-key "$D/nopub.conf" "$D/nopub.conf:$P" \
	"peer '[^']+': no 'public-key'"
mk noclose -e '/^}/d'
check unclosed-peer "$D/noclose.conf" "$D/noclose.conf:$P" \
	"missing its closing '}'"
L=$(line_of '^bridge ')
mk twice -e "${L}a bridge br1"
check directive-twice "$D/twice.conf" "$D/twice.conf:$((L + 1))" \
	"'bridge' given twice \\(first at line $L\\)"

# Names the system must know: -t looks them up as a start does.
L=$(line_of '^user ')
mk nouser -e "${L}s/.*/user tb-no-such-user/"
check user-missing "$D/nouser.conf" "$D/nouser.conf:$L" \
	"cannot use user 'tb-no-such-user'" "" "user 'tb-no-such-user' does not exist"
L=$(line_of '^listen ')
mk nogroup -e "${L}a control-group tb-no-such-group"
check control-group-missing "$D/nogroup.conf" "$D/nogroup.conf:$((L + 1))" \
	"group 'tb-no-such-group' does not exist"

lab_step "mistakes in key files"
K=$(line_of '^private-key ')
key=$LAB_DIR/gwA.key
# keyfile NAME PATH: NAME.conf naming PATH as the private key.
keyfile()
{
	mk "$1" -e "${K}s|.*|private-key $2|"
}
keyfile keymissing "$D/no-such.key"
check key-missing "$D/keymissing.conf" "$D/keymissing.conf:$K" \
	"cannot open key file '$D/no-such.key': No such file"
cp "$key" "$D/open.key"
chmod 644 "$D/open.key"
keyfile keyopen "$D/open.key"
check key-world-readable "$D/keyopen.conf" "$D/keyopen.conf:$K" \
	"open to group or others \\(run 'chmod 600 "
cp "$key" "$D/other.key"
chmod 600 "$D/other.key"
chown nobody "$D/other.key"
keyfile keyother "$D/other.key"
check key-not-ours "$D/keyother.conf" "$D/keyother.conf:$K" \
	"owned by uid [0-9]+, not root"
(umask 077; head -c 31 /dev/urandom | base64 >"$D/short.key")
keyfile keyshort "$D/short.key"
check key-wrong-length "$D/keyshort.conf" "$D/keyshort.conf:$K" \
	"does not hold a base64 key of 32 bytes"
(umask 077; echo 'not base64 at all!' >"$D/junk.key")
keyfile keyjunk "$D/junk.key"
check key-not-base64 "$D/keyjunk.conf" "$D/keyjunk.conf:$K" \
	"does not hold a base64 key of 32 bytes"
(umask 077; : >"$D/empty.key")
keyfile keyempty "$D/empty.key"
check key-empty "$D/keyempty.conf" "$D/keyempty.conf:$K" \
	"does not hold a base64 key of 32 bytes"
ln -s "$key" "$D/link.key"
keyfile keylink "$D/link.key"
check key-symlink "$D/keylink.conf" "$D/keylink.conf:$K" "symbolic link"
mkdir -m 700 "$D/keydir"
keyfile keydir "$D/keydir"
check key-directory "$D/keydir.conf" "$D/keydir.conf:$K" \
	"not a regular file"
cp "$D/open.key" "$D/psk-open.key"
L=$(line_of '^[[:space:]]*endpoint ')
mk pskopen -e "${L}a \\	preshared-key $D/psk-open.key"
check psk-world-readable "$D/pskopen.conf" "$D/pskopen.conf:$((L + 1))" \
	"open to group or others"

lab_step "a key file its reader cannot read (tapbridge -t as 'nobody')"
# root reads any file: only another user meets a permission error.  The
# configuration is made readable for nobody; the key file stays root's.
chmod 711 "$LAB_DIR" "$D"
install -m 644 "$D/base.conf" "$D/public.conf"
lab_in gwA setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$TAPBRIDGE" -t -c "$D/public.conf" >"$D/out" 2>&1
rc=$?
ncase=$((ncase + 1))
if [ "$rc" -eq 1 ] && grep -E "cannot open key file .*Permission denied" "$D/out" |
	grep -qF "$D/public.conf:$K: "; then
	printf 'ok    %-22s %-5s %s\n' key-unreadable test "$(head -n 1 "$D/out")"
else
	printf 'FAIL  %-22s %-5s exit %s\n' key-unreadable test "$rc"
	sed 's/^/          | /' "$D/out"
	nfail=$((nfail + 1))
fi
chmod 700 "$LAB_DIR"

# check_unreadable NAME FILE TEXT: -t and a start both exit 1 on FILE,
# which cannot be read as a configuration, saying TEXT.
check_unreadable()
{
	local name=$1 file=$2 text=$3 how rc
	ncase=$((ncase + 1))
	for how in test start; do
		rc=$(run_one "$how" "$file")
		if [ "$rc" -eq 1 ] && grep -qF -- "$text" "$D/out"; then
			printf 'ok    %-22s %-5s %s\n' "$name" "$how" "$(head -n 1 "$D/out")"
		else
			printf 'FAIL  %-22s %-5s exit %s\n' "$name" "$how" "$rc"
			sed 's/^/          | /' "$D/out"
			nfail=$((nfail + 1))
		fi
	done
}

lab_step "the configuration file itself"
check_unreadable config-missing "$D/no-such.conf" \
	"cannot open '$D/no-such.conf': No such file"
mkdir "$D/confdir"
check_unreadable config-directory "$D/confdir" "'$D/confdir'"

lab_step "mistakes only a real start can find"
# The module that finds these (bridge, tap, udp) says why; the daemon then
# names the line that set the value.
L=$(line_of '^lan-port ')
mk nolan -e "${L}s/.*/lan-port eth9/"
check lan-port-missing "$D/nolan.conf" "$D/nolan.conf:$L" \
	"cannot use lan-port 'eth9'" runtime "'eth9' does not exist"
L=$(line_of '^bridge ')
mk brwan -e "${L}s/.*/bridge wan0/"
check bridge-not-a-bridge "$D/brwan.conf" "$D/brwan.conf:$L" \
	"cannot use bridge 'wan0'" runtime "'wan0' exists and is not a bridge"
L=$(line_of '^interface ')
mk taplo -e "${L}s/.*/interface lo/"
check interface-not-a-tap "$D/taplo.conf" "$D/taplo.conf:$L" \
	"cannot use interface 'lo'" runtime "'lo'.*not a TAP"
L=$(line_of '^listen ')
mk noaddr -e "${L}s/.*/listen 198.18.0.99:$LAB_PORT/"
check listen-not-local "$D/noaddr.conf" "$D/noaddr.conf:$L" \
	"cannot use listen '198.18.0.99:$LAB_PORT'" runtime \
	"cannot listen on 198.18.0.99"

lab_step "mistakes on the command line"
# cli NAME WANT-RC TEXT CMD...: CMD exits WANT-RC and says TEXT (-F).
cli()
{
	local name=$1 want=$2 text=$3 rc
	shift 3
	ncase=$((ncase + 1))
	"$@" >"$D/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$D/out"; then
		printf 'ok    %-22s %-5s %s\n' "$name" cli "$(grep -m1 -F -- "$text" "$D/out")"
	else
		printf 'FAIL  %-22s %-5s exit %s, want %s and "%s"\n' "$name" cli \
			"$rc" "$want" "$text"
		sed 's/^/          | /' "$D/out"
		nfail=$((nfail + 1))
	fi
}
# A full disk must not leave an empty key file behind a success.
cli genkey-full 1 "genkey: cannot write the key" \
	sh -c '"$1" genkey >/dev/full' sh "$TAPBRIDGE"
cli pubkey-full 1 "pubkey: cannot write the key" \
	sh -c '"$1" pubkey <"$2" >/dev/full' sh "$TAPBRIDGE" "$LAB_DIR/gwA.key"
cli pubkey-of-gwA 0 "$(cat "$LAB_DIR/gwA.pub")" \
	sh -c '"$1" pubkey <"$2"' sh "$TAPBRIDGE" "$LAB_DIR/gwA.key"
cli test-with-pidfile 1 "-p is for a daemon that runs: it cannot go with -t" \
	"$TAPBRIDGE" -t -p "$D/x.pid" -c "$D/base.conf"
[ ! -e "$D/x.pid" ] || lab_fail "-t -p made a pidfile"
cli long-config 0 "configuration OK" \
	lab_in gwA "$TAPBRIDGE" -t --config "$D/base.conf"
cli long-version 0 "tapbridge " "$TAPBRIDGE" --version
cli long-help 0 "usage: tapbridge" "$TAPBRIDGE" --help

lab_say "$ncase mistakes, $nfail failed checks"
[ "$nfail" -eq 0 ] || lab_fail "$nfail checks failed (see above)"

lab_finish
echo "PASS: 27-bad-config"
