#!/usr/bin/env bash
#
# run.sh BIN: run every tests/integration/NN-*.sh in order against the
# daemon BIN (exported as TAPBRIDGE), each under a time limit, print
# PASS/FAIL/SKIP per scenario and then the line "N passed, N failed, N
# skipped".  Exit 1 if any failed.  Not root: every scenario is skipped and
# the exit status is 0.
#
# Environment: TEST_TIMEOUT (seconds per scenario, default 180), TESTS (a
# space-separated subset, e.g. "01 07"), LAB_TUNNEL (see scripts/lab.sh),
# VERBOSE=1 (show every scenario's output, not only a failure's).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${TAPBRIDGE:-}}
timeout_s=${TEST_TIMEOUT:-180}
pass=0
fail=0
skip=0
failed=()

mapfile -t scenarios < <(ls "$here"/[0-9][0-9]-*.sh 2>/dev/null | sort)
if [ -n "${TESTS:-}" ]; then
	sel=()
	for t in "${scenarios[@]}"; do
		for want in $TESTS; do
			case ${t##*/} in "$want"*) sel+=("$t") ;; esac
		done
	done
	scenarios=("${sel[@]}")
fi

summary()
{
	echo "$pass passed, $fail failed, $skip skipped"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "********************************************************"
	echo "SKIP: integration tests need root (network namespaces);"
	echo "SKIP: run 'make check' or $0 as root to run them"
	echo "********************************************************"
	for t in "${scenarios[@]}"; do
		printf 'SKIP  %s\n' "$(basename "$t" .sh)"
		skip=$((skip + 1))
	done
	summary
	exit 0
fi

if [ "${LAB_TUNNEL:-tapbridge}" = tapbridge ]; then
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		echo "run.sh: no executable daemon '${bin}' (usage: run.sh BIN)" >&2
		exit 1
	fi
	case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
	export TAPBRIDGE=$bin
fi

logdir=$(mktemp -d /tmp/tapbridge-it.XXXXXX)
chmod 700 "$logdir"
trap 'rm -rf "$logdir"' EXIT
start=$SECONDS

for t in "${scenarios[@]}"; do
	name=$(basename "$t" .sh)
	log=$logdir/$name.log
	prefix=tb$$$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
	t0=$SECONDS
	LAB_PREFIX=$prefix timeout -k 15 "$timeout_s" bash "$t" >"$log" 2>&1 \
		</dev/null
	rc=$?
	dt=$((SECONDS - t0))
	# Whatever the scenario left (it was killed, say) is ours to remove.
	left=$(ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$prefix-")
	if [ -n "$left" ]; then
		for ns in $left; do
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null
			done
			ip netns del "$ns" 2>/dev/null
		done
		echo "run.sh: $name left namespaces behind: ${left//$'\n'/ }" >>"$log"
		[ "$rc" -eq 0 ] && rc=1
	fi
	rm -rf /tmp/"$prefix".?????? 2>/dev/null
	case $rc in
	0)
		printf 'PASS  %-20s %4ds\n' "$name" "$dt"
		pass=$((pass + 1))
		[ "${VERBOSE:-0}" = 1 ] && sed 's/^/      | /' "$log"
		;;
	77)
		printf 'SKIP  %-20s %s\n' "$name" "$(grep -m1 '^SKIP' "$log")"
		skip=$((skip + 1))
		;;
	*)
		[ "$rc" -eq 124 ] && why="timed out after ${timeout_s}s" ||
			why="exit $rc"
		printf 'FAIL  %-20s %4ds  (%s)\n' "$name" "$dt" "$why"
		tail -n 60 "$log" | sed 's/^/      | /'
		fail=$((fail + 1))
		failed+=("$name")
		;;
	esac
done

echo "---- integration: $((SECONDS - start)) s${failed[*]:+; failed: ${failed[*]}}"
summary
[ "$fail" -eq 0 ]
