#!/usr/bin/env bash
#
# valgrind.sh [BUILD]: run every unit test binary BUILD/tests/test_*
# (default BUILD=build) under valgrind memcheck and fail on any error or
# leak, in any process.
#
# Criterion runs each test in a child process (fork, then exec of the same
# binary), so valgrind follows children (--trace-children=yes) and writes
# one log per process image (vg.<pid>.<n>.log).  The exit status of the
# parent alone would miss what a child reported, so every log is checked:
# a log fails if its ERROR SUMMARY counts errors, or if it holds any error
# record at all (every record carries a stack, "at 0x..."; a process image
# replaced by exec never prints a summary).  Leaks definitely or indirectly
# lost count as errors.  Tests run one at a time (--jobs=1).
#
# valgrind.supp next to this script may hold suppressions for Criterion's
# own internals, never for tapbridge code.
#
# Environment: VALGRIND_LOGS (directory for the logs; default a new
# temporary directory, removed on any exit -- also an interrupted or
# aborted run, from a trap -- except after a failure, which keeps it and
# says where), TESTS (a space-separated subset of test names, e.g.
# "test_frame test_session").
# Exit 0 when every test passed clean, 1 otherwise.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
supp=$here/valgrind.supp

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
	exit 1
fi

tests=()
for t in "$build"/tests/test_*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		continue	# test_*.d and the like
	fi
	name=${t##*/}
	if [ -n "${TESTS:-}" ] && [[ " $TESTS " != *" $name "* ]]; then
		continue
	fi
	tests+=("$t")
done
if [ ${#tests[@]} -eq 0 ]; then
	echo "valgrind.sh: no test binaries in '$build/tests' (run make first)" >&2
	exit 1
fi

if [ -n "${VALGRIND_LOGS:-}" ]; then
	logs=$VALGRIND_LOGS
	mkdir -p "$logs" || exit 1
	keep=1
else
	logs=$(mktemp -d "${TMPDIR:-/tmp}/tapbridge-valgrind.XXXXXX") || exit 1
	keep=0
	# keep becomes 1 only once a failure has been reported with the path.
	trap '[ "$keep" = 1 ] || rm -rf "$logs"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi

# shellcheck disable=SC2054 # the commas belong to valgrind's options
vg=(valgrind --tool=memcheck --trace-children=yes --track-origins=yes
    --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
    --num-callers=30)
[ -f "$supp" ] && vg+=(--suppressions="$supp")

# check_logs DIR: 0 if every log in DIR is clean and at least one process
# ran to its summary; otherwise print the faulty logs and return 1.
check_logs()
{
	local dir=$1 f bad=0 summaries=0

	for f in "$dir"/vg.*.log; do
		[ -e "$f" ] || continue
		grep -q 'ERROR SUMMARY:' "$f" && summaries=$((summaries + 1))
		if grep -Eq 'ERROR SUMMARY: [1-9]' "$f" ||
		   grep -Eq '^==[0-9]+== +(at|by) 0x' "$f"; then
			echo "---- $f"
			cat "$f"
			bad=1
		fi
	done
	if [ "$summaries" -eq 0 ]; then
		echo "no valgrind summary in '$dir': did valgrind run?"
		bad=1
	fi
	return $bad
}

fail=0
rm -f "$logs/skipped"
for t in "${tests[@]}"; do
	name=${t##*/}
	dir=$logs/$name
	rm -rf "$dir"
	mkdir -p "$dir" || exit 1
	"${vg[@]}" --log-file="$dir/vg.%p.%n.log" "$t" --jobs=1 --verbose \
		>"$dir/output.txt" 2>&1
	rc=$?
	nlogs=$(find "$dir" -name 'vg.*.log' | wc -l)
	if ! check_logs "$dir"; then
		echo "FAIL $name: valgrind reported errors (logs: $dir)"
		fail=1
	elif [ $rc -ne 0 ]; then
		cat "$dir/output.txt"
		echo "FAIL $name: exit status $rc (output: $dir/output.txt)"
		fail=1
	else
		nskip=$(grep -c '^\[SKIP\] ' "$dir/output.txt")
		msg="PASS $name: $nlogs processes clean"
		[ "$nskip" -gt 0 ] && msg+=", $nskip test(s) skipped (see below)"
		echo "$msg"
		grep '^\[SKIP\] ' "$dir/output.txt" |
			sed "s/^\[SKIP\] /SKIP:   $name: /" >>"$logs/skipped"
	fi
done
if [ -s "$logs/skipped" ]; then
	echo "****************************************************************"
	echo "SKIP: $(wc -l <"$logs/skipped") unit test(s) did not run under valgrind:"
	cat "$logs/skipped"
	echo "****************************************************************"
fi

if [ $fail -ne 0 ]; then
	keep=1
	echo "valgrind logs kept in $logs"
fi
exit $fail
