#!/usr/bin/env bash
# test_npm_mesos_framework.sh: an unmodified Mesos client runs on a default
# cluster (issue 15, item 1). npm's mesos-framework 0.5.3, installed once
# into the build tree (<build>/npm, from the npm registry: the only network
# this test uses), runs tests/cluster/npm_root_framework.js against
# scripts/cluster-up's master and agent (default flags): its command task of
# user "root" gets TASK_RUNNING then TASK_FINISHED, and ran as uid 0 in a
# user namespace mapped to the agent's default --userns_range, its sandbox
# owned by that range's root, not the host's. PASS/FAIL lines; exits 1 on a
# failure, 77 (skipped) without node and npm. Run as root (tier-guard
# cluster).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${AGORA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${AGORA_BUILD_DIR:-$src/build}
# shellcheck source=../lib/checks.sh
source "$here/../lib/checks.sh"
CHECKS_NAME=npm_mesos_framework

command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "SKIP: node and npm are needed (apt-get install nodejs npm)"; exit 77; }

npm_dir=$build/npm
mf=$npm_dir/node_modules/mesos-framework
if [[ $(node -p "require('$mf/package.json').version" 2>/dev/null) != 0.5.3 ]]; then
	mkdir -p "$npm_dir"
	timeout 240 npm install --prefix "$npm_dir" --no-audit --no-fund --no-save \
		mesos-framework@0.5.3 >"$npm_dir/install.log" 2>&1 ||
		fatal "npm install mesos-framework@0.5.3: $(tail -n 5 "$npm_dir/install.log")"
fi
pass "mesos-framework 0.5.3 installed in $npm_dir"

export AGORA_LOCAL_DIR BUILD_DIR=$build
AGORA_LOCAL_DIR=$(mktemp -d /tmp/agora-npm-test.XXXXXX)
unset AGORA_PORT
cleanup() {
	"$src/scripts/cluster-down" >/dev/null 2>&1
	rm -rf --one-file-system "$AGORA_LOCAL_DIR"
}
trap cleanup EXIT
"$src/scripts/cluster-up" >"$AGORA_LOCAL_DIR/up.log" 2>&1 ||
	fatal "cluster-up: $(tail -n 5 "$AGORA_LOCAL_DIR/up.log")"
port=$(cat "$AGORA_LOCAL_DIR/master.port")

# mesos-framework writes its log under ./logs.
work=$AGORA_LOCAL_DIR/fw
mkdir -p "$work/logs"
(cd "$work" && NODE_PATH=$npm_dir/node_modules timeout 90 node "$here/npm_root_framework.js" \
	"$port" >"$work/out" 2>&1)
rc=$?
grep -q '^UPDATE TASK_RUNNING' "$work/out" && pass "the root task is TASK_RUNNING" ||
	fail "the root task is TASK_RUNNING (exit $rc): $(grep -E '^(UPDATE|ERROR|TIMEOUT)' "$work/out" | head -5)"
grep -q '^UPDATE TASK_FINISHED' "$work/out" && [[ $rc == 0 ]] &&
	pass "the root task is TASK_FINISHED" ||
	fail "the root task is TASK_FINISHED (exit $rc): $(grep -E '^(UPDATE|ERROR|TIMEOUT)' "$work/out" | head -5)"

# What it printed: uid 0, and a uid_map onto the default pool.
out=$(cat "$AGORA_LOCAL_DIR"/agent/sandboxes/*/stdout 2>/dev/null)
read -r uid in host size < <(tr '\n' ' ' <<<"$out")
[[ $uid == 0 && $in == 0 && $size == 65536 ]] && ((host >= 1879048192 && host + size - 1 <= 1946157055)) &&
	pass "it ran as uid 0 in a user namespace mapped to host ids $host-$((host + size - 1))" ||
	fail "it ran as uid 0 in a user namespace of the default pool: $out"
owner=$(stat -c %u "$AGORA_LOCAL_DIR"/agent/sandboxes/*/stdout 2>/dev/null)
[[ $owner == "$host" ]] && pass "its sandbox output belongs to host uid $host, not root" ||
	fail "its sandbox output belongs to the mapped root ($host): owner $owner"

echo "$checks checks, $failures failed"
[[ $failures == 0 ]]
