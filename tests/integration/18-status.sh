#!/usr/bin/env bash
# 18-status: `tapbridge status` under a ping stream: --json parses and its
# rx/tx counters move between two samples; --prometheus follows the text
# exposition format (promtool check metrics when promtool is installed,
# else the format check below) and its values are those of --json.
# With 'control-group nogroup' gateway A's socket is 0660 group nogroup:
# uid nobody in group nogroup gets the status, uid nobody outside it is
# refused at the socket.  Clients that connect and say nothing, more than
# there are slots, neither make the network process spin nor keep status
# from being answered.  A configuration file with errors (an edit not yet
# reloaded) still leads status to the daemon, with a warning.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lab.sh"
lab_require_root
lab_require_tapbridge

# check_prom PROM JSON1 JSON2: the exposition-format check.  JSON1 and
# JSON2 are --json samples taken just before and after PROM, with equal
# counters; ages must lie between theirs.
check_prom()
{
	"$LAB_PY" - "$@" <<'EOF'
import json, re, sys

prom = open(sys.argv[1]).read()
j1, j2 = (json.load(open(f)) for f in sys.argv[2:4])
errors = []

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*=" + LVAL
SAMPLE = re.compile(r"(%s)(?:\{(%s(?:,%s)*)?\})? (-?[0-9]+)$" %
                    (NAME, LABEL, LABEL))
HELP = re.compile(r"# HELP (%s) \S.*$" % NAME)
TYPE = re.compile(r"# TYPE (%s) (counter|gauge|histogram|summary|untyped)$"
                  % NAME)

helps, types, samples, done = {}, {}, {}, set()
current = None
if not prom.endswith("\n"):
    errors.append("output does not end with a newline")
for n, line in enumerate(prom.splitlines(), 1):
    m = HELP.match(line) or TYPE.match(line)
    if line.startswith("#"):
        if not m:
            errors.append("%d: bad comment line: %r" % (n, line))
            continue
        table = helps if line.startswith("# HELP") else types
        if m.group(1) in table:
            errors.append("%d: second %s for %s" % (n, line[2:6],
                                                    m.group(1)))
        table[m.group(1)] = m.group(2) if table is types else line
        continue
    m = SAMPLE.match(line)
    if not m:
        errors.append("%d: not a sample line of integers: %r" % (n, line))
        continue
    name, labels, value = m.group(1), m.group(2) or "", int(m.group(3))
    if name != current:
        if name in done:
            errors.append("%d: samples of %s are not together" % (n, name))
        done.add(name)
        current = name
    if name not in helps or name not in types:
        errors.append("%d: %s has no HELP and TYPE before it" % (n, name))
    if not name.startswith("tapbridge_"):
        errors.append("%d: %s does not start with tapbridge_" % (n, name))
    lab = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)=("(?:[^"\\]|\\.)*")',
                          labels))
    lab = {k: json.loads(v) for k, v in lab.items()}
    key = (name, tuple(sorted(lab.items())))
    if key in samples:
        errors.append("%d: duplicate series %s" % (n, line))
    samples[key] = value
for name, t in types.items():
    if (t == "counter") != name.endswith("_total"):
        errors.append("%s: a %s %s in _total" % (
            name, t, "must end" if t == "counter" else "must not end"))
    if name not in helps:
        errors.append("%s has TYPE but no HELP" % name)

def get(name, **lab):
    key = (name, tuple(sorted(lab.items())))
    if key not in samples:
        errors.append("missing sample %s%s" % (name, lab))
        return None
    return samples.pop(key)

def same(name, want, **lab):
    v = get(name, **lab)
    if v is not None and v != want:
        errors.append("%s%s is %s, --json says %s" % (name, lab, v, want))

def between(name, a, b, **lab):
    if a is None or b is None:
        if (name, tuple(sorted(lab.items()))) in samples:
            errors.append("%s%s present, --json says null" % (name, lab))
        return
    v = get(name, **lab)
    if v is not None and not a - 1 <= v <= b + 1:
        errors.append("%s%s is %s, --json says %s..%s" % (name, lab, v, a, b))

g = j1
same("tapbridge_info", 1, interface=g["interface"], bridge=g["bridge"],
     listen=g["listen"])
for key, metric in [("tap_write_errors", "tap_write_errors_total"),
                    ("tap_bad_frames", "tap_bad_frames_total"),
                    ("tap_supers", "tap_super_frames_total"),
                    ("udp_send_errors", "udp_send_errors_total"),
                    ("gro_merged", "coalesced_frames_total"),
                    ("gro_supers", "coalesced_super_frames_total"),
                    ("gro_passed", "uncoalesced_frames_total")]:
    same("tapbridge_" + metric, g[key])
for reason, v in g["drops"].items():
    same("tapbridge_dropped_datagrams_total", v, reason=reason)

COUNTERS = {"handshakes": "handshakes_total",
            "rx_frames": "received_frames_total",
            "rx_bytes": "received_bytes_total",
            "tx_frames": "sent_frames_total",
            "tx_bytes": "sent_bytes_total",
            "tx_dropped": "unsent_frames_total",
            "tx_fragmented": "fragmented_frames_total",
            "rx_reassembled": "reassembled_frames_total",
            "mss_clamped": "mss_clamped_total",
            "path_mtu": "path_mtu_bytes"}
OTHER = {"name", "public_key", "endpoint", "last_handshake_s",
         "session_age_s", "drops"}
for p, p2 in zip(j1["peers"], j2["peers"]):
    peer = p["name"]
    for key in p:
        if key not in COUNTERS and key not in OTHER:
            errors.append("--json key %r has no Prometheus metric" % key)
    same("tapbridge_peer_info", 1, peer=peer, public_key=p["public_key"],
         endpoint=p["endpoint"] or "")
    for key, metric in COUNTERS.items():
        same("tapbridge_peer_" + metric, p[key], peer=peer)
    same("tapbridge_peer_session_up", int(p["session_age_s"] is not None),
         peer=peer)
    between("tapbridge_peer_last_handshake_age_seconds",
            p["last_handshake_s"], p2["last_handshake_s"], peer=peer)
    between("tapbridge_peer_session_age_seconds", p["session_age_s"],
            p2["session_age_s"], peer=peer)
    for reason, v in p["drops"].items():
        if reason.startswith("fragment_"):
            same("tapbridge_peer_dropped_fragments_total", v, peer=peer,
                 reason=reason[len("fragment_"):])
        else:
            same("tapbridge_peer_dropped_datagrams_total", v, peer=peer,
                 reason=reason)
for key in samples:
    errors.append("sample %s%s not in --json" % (key[0], dict(key[1])))

for e in errors:
    print("prometheus: " + e)
sys.exit(1 if errors else 0)
EOF
}

# counters FILE: the --json sample in FILE without the ages, one line.
counters()
{
	"$LAB_PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
for p in j["peers"]:
    p.pop("last_handshake_s")
    p.pop("session_age_s")
print(json.dumps(j, sort_keys=True))' "$1"
}

rx2='' tx2=''
getent group nogroup >/dev/null || lab_fail "no group 'nogroup' on this host"
# Gateway A hands its control socket to group nogroup (see the last steps).
lab_default_up -g nogroup

lab_step "status --json parses, and its counters move under a ping stream"
lab_bg hA "$LAB_DIR/ping.out" ping -n -q -i 0.05 -c 100 -w 20 "$LAB_LAN4_B"
ping_pid=$LAB_LAST_PID
lab_status A >"$LAB_DIR/s1.json" || lab_fail "status --json failed"
"$LAB_PY" -m json.tool "$LAB_DIR/s1.json" >/dev/null ||
	lab_fail "status --json is not JSON: $(cat "$LAB_DIR/s1.json")"
rx1=$("$LAB_PY" "$LAB_LIB/jget.py" peer.rx_frames <"$LAB_DIR/s1.json")
tx1=$("$LAB_PY" "$LAB_LIB/jget.py" peer.tx_frames <"$LAB_DIR/s1.json")
moved=0
for ((i = 0; i < 50; i++)); do
	sleep 0.1
	lab_get rx2 A peer.rx_frames # sets rx2
	lab_get tx2 A peer.tx_frames # sets tx2
	if [ "$rx2" -gt "$rx1" ] && [ "$tx2" -gt "$tx1" ]; then
		moved=1
		break
	fi
done
[ "$moved" = 1 ] ||
	lab_fail "rx/tx frames did not move: rx $rx1 -> $rx2, tx $tx1 -> $tx2"
lab_say "rx_frames $rx1 -> $rx2, tx_frames $tx1 -> $tx2"
lab_status A text | grep -q "^peer 'b' " ||
	lab_fail "text status lacks the peer: $(lab_status A text)"
lab_status A text | grep -Eq "^segmented: [0-9]+ super-frames read$" ||
	lab_fail "text status lacks the segmented line: $(lab_status A text)"
lab_status A text | grep -Eq "^unsent: 0 datagrams refused by the kernel$" ||
	lab_fail "text status lacks the unsent line at 0: $(lab_status A text)"

lab_wait_exit "$ping_pid" 250
rc=$?
[ "$rc" -eq 0 ] ||
	lab_fail "ping stream lost echoes (status $rc): $(cat "$LAB_DIR/ping.out")"

lab_step "status --prometheus: format, and the values of --json"
# Traffic has stopped: take JSON, Prometheus, JSON until the two JSON
# samples agree on every counter, so the Prometheus one must agree too.
ok=0
for ((i = 0; i < 20; i++)); do
	lab_status A >"$LAB_DIR/j1.json" || lab_fail "status --json failed"
	lab_in gwA "$TAPBRIDGE" status --prometheus -c "$LAB_DIR/gwA.conf" \
		>"$LAB_DIR/s.prom" || lab_fail "status --prometheus failed"
	lab_status A >"$LAB_DIR/j2.json" || lab_fail "status --json failed"
	c1=$(counters "$LAB_DIR/j1.json")
	if [ "$c1" = "$(counters "$LAB_DIR/j2.json")" ]; then
		ok=1
		break
	fi
	sleep 0.2
done
[ "$ok" = 1 ] || lab_fail "counters never stood still for one sample"
check_prom "$LAB_DIR/s.prom" "$LAB_DIR/j1.json" "$LAB_DIR/j2.json" || {
	cat "$LAB_DIR/s.prom"
	lab_fail "--prometheus output is wrong (above)"
}
lab_say "$(grep -vc '^#' "$LAB_DIR/s.prom") samples check out against --json"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$LAB_DIR/s.prom" ||
		lab_fail "promtool check metrics refused the output"
	lab_say "promtool check metrics: clean"
else
	lab_say "promtool not installed: format checked by this test only"
fi

lab_step "status refuses two formats at once"
! lab_in gwA "$TAPBRIDGE" status --json --prometheus -c "$LAB_DIR/gwA.conf" \
	>/dev/null 2>&1 || lab_fail "status --json --prometheus was accepted"

lab_step "status of a configuration with errors: warns, and asks the daemon all the same"
# An edit not reloaded yet: the daemon still runs on the old file.
{ cat "$LAB_DIR/gwA.conf"; echo "bogus-directive 1"; } >"$LAB_DIR/edited.conf"
lab_in gwA "$TAPBRIDGE" status --json -c "$LAB_DIR/edited.conf" \
	>"$LAB_DIR/ed.out" 2>"$LAB_DIR/ed.err" ||
	lab_fail "status on an edited configuration failed: $(cat "$LAB_DIR/ed.err")"
peer=$("$LAB_PY" "$LAB_LIB/jget.py" peer.name <"$LAB_DIR/ed.out") ||
	lab_fail "status on an edited configuration: $(cat "$LAB_DIR/ed.out")"
[ "$peer" = b ] || lab_fail "status on an edited configuration names peer '$peer'"
grep -qF "edited.conf:$(wc -l <"$LAB_DIR/edited.conf"): unknown directive 'bogus-directive'" \
	"$LAB_DIR/ed.err" || lab_fail "the error was not shown: $(cat "$LAB_DIR/ed.err")"
grep -q "has the errors above; asking the daemon at '.*gwA.sock' all the same" \
	"$LAB_DIR/ed.err" || lab_fail "no warning: $(cat "$LAB_DIR/ed.err")"
! lab_in gwA "$TAPBRIDGE" status -c "$LAB_DIR/no-such.conf" >/dev/null 2>&1 ||
	lab_fail "status on a missing configuration succeeded"

lab_step "control-group: gwA.sock is 0660 group nogroup, gwB.sock 0600 root"
sa=$(stat -c '%a %U:%G' "$LAB_DIR/gwA.sock")
sb=$(stat -c '%a %U:%G' "$LAB_DIR/gwB.sock")
[ "$sa" = "660 root:nogroup" ] ||
	lab_fail "gwA.sock is $sa, not 660 root:nogroup"
[ "$sb" = "600 root:root" ] || lab_fail "gwB.sock is $sb, not 600 root:root"
lab_say "gwA.sock $sa, gwB.sock $sb"

# status_as GID GROUPS ARGS...: `tapbridge status ARGS -c gwA.conf` in
# gateway A's namespace as uid nobody, gid GID, supplementary GROUPS (""
# for none); stdout to as.out, stderr to as.err.
status_as()
{
	local g=(--clear-groups)
	[ -z "$2" ] || g=(--groups="$2")
	lab_in gwA setpriv --reuid=nobody --regid="$1" "${g[@]}" \
		"$TAPBRIDGE" status "${@:3}" -c "$LAB_DIR/gwA.conf" \
		>"$LAB_DIR/as.out" 2>"$LAB_DIR/as.err"
}

lab_step "control-group: uid nobody in group nogroup gets the status"
# Let others through the lab directory (not list it) and read gwA.conf,
# which holds no secret; the key files stay 0600 root.
chmod 711 "$LAB_DIR"
chmod 644 "$LAB_DIR/gwA.conf"
for cred in nogroup: 54321:nogroup; do
	gid=${cred%%:*} groups=${cred#*:}
	status_as "$gid" "$groups" --json ||
		lab_fail "status --json as nobody:$gid: $(cat "$LAB_DIR/as.err")"
	peer=$("$LAB_PY" "$LAB_LIB/jget.py" peer.name <"$LAB_DIR/as.out") ||
		lab_fail "status --json as nobody:$gid: $(cat "$LAB_DIR/as.out")"
	[ "$peer" = b ] || lab_fail "status as nobody:$gid names peer '$peer'"
	lab_say "uid nobody, gid $gid, groups '$groups': --json names peer '$peer'"
done
status_as nogroup "" ||
	lab_fail "text status as nobody failed: $(cat "$LAB_DIR/as.err")"
grep -q "^peer 'b' " "$LAB_DIR/as.out" ||
	lab_fail "text status as nobody lacks the peer: $(cat "$LAB_DIR/as.out")"

lab_step "control-group: uid nobody outside group nogroup is refused"
status_as 54321 "" --json
rc=$?
[ "$rc" -ne 0 ] ||
	lab_fail "status as nobody:54321 was answered: $(cat "$LAB_DIR/as.out")"
[ ! -s "$LAB_DIR/as.out" ] ||
	lab_fail "status as nobody:54321 printed: $(cat "$LAB_DIR/as.out")"
grep -q "cannot connect to control socket '.*/gwA.sock'.*control-group.*Permission denied" \
	"$LAB_DIR/as.err" ||
	lab_fail "status as nobody:54321, unclear error: $(cat "$LAB_DIR/as.err")"
lab_say "exit $rc: $(cat "$LAB_DIR/as.err")"
chmod 600 "$LAB_DIR/gwA.conf"
chmod 700 "$LAB_DIR"

lab_step "silent clients in every slot: no busy loop, status still answers"
# Six clients connect and say nothing, and connect again whenever the
# daemon drops them (after 1 s of silence): every slot is taken and more
# connections wait.  The network process must then sleep, not poll the
# waiting connection: a busy loop uses nearly a whole CPU, a sleeping
# process a few ticks in 3 s (the bound is generous: no speed is measured).
pid=$(lab_pid A)
net=$(awk '{ print $1 }' "/proc/$pid/task/$pid/children")
[ -n "$net" ] || lab_fail "no network process under $pid"
cat >"$LAB_DIR/silent.py" <<'EOF'
import socket, sys, time
path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(path)
    s.setblocking(False)
    return s
socks = [connect() for _ in range(n)]
print("connected", flush=True)
again, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    for i, s in enumerate(socks):
        try:
            if s.recv(1) == b"":
                s.close()
                socks[i] = connect()
                again += 1
        except BlockingIOError:
            pass
    time.sleep(0.05)
print("reconnected", again)
EOF
lab_bg gwA "$LAB_DIR/silent.out" "$LAB_PY" "$LAB_DIR/silent.py" \
	"$LAB_DIR/gwA.sock" 6 5
silent_pid=$LAB_LAST_PID
lab_wait_file "$LAB_DIR/silent.out" '^connected' 50 ||
	lab_fail "silent clients did not connect: $(cat "$LAB_DIR/silent.out")"
sleep 0.5
t0=$(awk '{ print $14 + $15 }' "/proc/$net/stat")
sleep 3
t1=$(awk '{ print $14 + $15 }' "/proc/$net/stat")
lab_in gwA timeout 10 "$TAPBRIDGE" status --json -c "$LAB_DIR/gwA.conf" \
	>"$LAB_DIR/busy.json" 2>&1 ||
	lab_fail "no status while the slots were taken: $(cat "$LAB_DIR/busy.json")"
lab_wait_exit "$silent_pid" 100 ||
	lab_fail "silent clients: $(cat "$LAB_DIR/silent.out")"
grep -Eq '^reconnected [1-9]' "$LAB_DIR/silent.out" ||
	lab_fail "silent clients were never dropped: $(cat "$LAB_DIR/silent.out")"
ticks=$((t1 - t0))
[ "$ticks" -lt 60 ] ||
	lab_fail "network process: $ticks CPU ticks in 3 s, slots full (busy loop)"
lab_say "$ticks CPU ticks in 3 s, slots full; $(tail -1 "$LAB_DIR/silent.out")"
lab_say "status answered all the same"

lab_finish
echo "PASS: 18-status"
