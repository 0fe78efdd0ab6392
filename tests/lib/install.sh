# install.sh: `cmake --install` of the build into a DESTDIR, and a local
# cluster of the installed programs, for the cluster tier's install tests
# (sourced; it sources checks.sh). $src is AGORA_SOURCE_DIR or the tree
# this file is in, $build AGORA_BUILD_DIR or $src/build.
#   install_build PREFIX   a temporary directory /tmp/PREFIX.XXXXXX ($tmp,
#                          removed at exit with the cluster in it), the
#                          build installed under $tmp/root; sets $prefix
#                          (the configured CMAKE_INSTALL_PREFIX) and $inst
#                          (where it landed). fatal when it fails.
#   installed_cluster_up   scripts/cluster-up with the installed master and
#                          agent in $tmp/local; exports AGORA_LOCAL_DIR and
#                          AGORA_MASTER. fatal when it fails.
# shellcheck shell=bash

src=${AGORA_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build=${AGORA_BUILD_DIR:-$src/build}
# shellcheck source-path=SCRIPTDIR source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

install_cleanup() {
	AGORA_LOCAL_DIR=$tmp/local "$src/scripts/cluster-down" >/dev/null 2>&1
	rm -rf --one-file-system "$tmp"
}

install_build() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX")
	trap install_cleanup EXIT
	# The prefix the build was configured with (what the units name).
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
	[[ -n $prefix ]] || fatal "no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
	local root=$tmp/root
	if DESTDIR=$root cmake --install "$build" >"$tmp/install.log" 2>&1; then
		pass "cmake --install into a DESTDIR"
	else
		sed 's/^/    /' "$tmp/install.log"
		fatal "cmake --install into a DESTDIR"
	fi
	inst=$root$prefix
}

installed_cluster_up() {
	export AGORA_LOCAL_DIR=$tmp/local
	if BUILD_DIR=$inst "$src/scripts/cluster-up" >"$tmp/up.log" 2>&1; then
		pass "cluster-up with the installed master and agent"
	else
		sed 's/^/    /' "$tmp/up.log"
		fatal "cluster-up with the installed master and agent"
	fi
	AGORA_MASTER=127.0.0.1:$(cat "$AGORA_LOCAL_DIR/master.port")
	export AGORA_MASTER
}
