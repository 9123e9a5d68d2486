#!/bin/sh
#
# install-user.sh [NAME]: create the system user and group NAME (default
# tapbridge) that tapbridge's network process runs as, unless the user
# exists already: no login shell, home /nonexistent (not created), a group
# of its own.  Called by `make install` when DESTDIR is empty; packagers
# create the user in their maintainer scripts instead.  Never deletes or
# changes an existing user or group.
#
# Exit 0 when the user exists afterwards, 1 otherwise.
set -eu

name=${1:-tapbridge}

if getent passwd "$name" >/dev/null 2>&1; then
	echo "  user '$name' exists"
	exit 0
fi
shell=/usr/sbin/nologin
for s in /usr/sbin/nologin /sbin/nologin /bin/false; do
	if [ -x "$s" ]; then
		shell=$s
		break
	fi
done
# A group of that name without the user (left by an earlier install, say):
# join it rather than fail.
if getent group "$name" >/dev/null 2>&1; then
	group_opt="--gid $name"
else
	group_opt=--user-group
fi
# shellcheck disable=SC2086 # group_opt is one or two words on purpose
if ! useradd --system $group_opt --no-create-home --home-dir /nonexistent \
	--shell "$shell" --comment "tapbridge network process" "$name"; then
	echo "install-user.sh: cannot create system user '$name'" >&2
	exit 1
fi
echo "  created system user '$name'"
