#!/usr/bin/env bash
# run.sh SUITE...: run each Criterion suite (two tests at a time) and show
# what matters: failures, the synthesis, and every skipped test with its
# reason under a banner, so that a skip is never silent.  Exit 1 if any
# suite failed.
set -uo pipefail

fail=0
skipped=()
out=$(mktemp /tmp/tapbridge-unit.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	"$t" --jobs=2 --verbose >"$out" 2>&1
	rc=$?
	grep -v -e '^\[RUN \] ' -e '^\[PASS\] ' -e '^\[SKIP\] ' "$out"
	[ "$rc" -eq 0 ] || fail=1
	while IFS= read -r line; do
		skipped+=("$(basename "$t"): ${line#\[SKIP\] }")
	done < <(grep '^\[SKIP\] ' "$out")
done
if [ "${#skipped[@]}" -gt 0 ]; then
	echo "****************************************************************"
	echo "SKIP: ${#skipped[@]} unit test(s) did not run:"
	printf 'SKIP:   %s\n' "${skipped[@]}"
	echo "****************************************************************"
fi
exit "$fail"
