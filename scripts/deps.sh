#!/usr/bin/env bash
#
# deps.sh [--check-only]: install the Debian packages tapbridge needs to
# build and test (compiler, libraries, man page linter, the tools of the
# namespace lab).  --check-only lists what is missing and exits 1 if
# anything is, installing nothing.
set -euo pipefail

pkgs=(
	build-essential gcc make pkg-config	# build
	libnl-3-dev libnl-route-3-dev libsodium-dev libseccomp-dev
	libcap-ng-dev				# libraries
	libcriterion-dev			# unit tests
	mandoc groff-base			# make lint
	clang valgrind				# fuzzers, memcheck
	iproute2 iputils-ping tcpdump dnsmasq-base isc-dhcp-client socat
	python3 procps ethtool strace util-linux	# integration lab
	iperf3					# make bench
)

check_only=0
case ${1:-} in
--check-only) check_only=1 ;;
"") ;;
*)
	echo "usage: $0 [--check-only]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages installed"
	exit 0
fi
echo "deps: missing: ${missing[*]}"
[ "$check_only" -eq 0 ] || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must be root to install packages (try: sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
echo "deps: installed ${missing[*]}"
