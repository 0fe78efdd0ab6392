#!/usr/bin/env bash
# test_ha_cluster_up.sh: `scripts/cluster-up --masters 3` (issue 16): its
# own ZooKeeper ensemble, three masters with --zk, the agent on zk://; the
# leader SIGKILLed, the agent registered with the new one, agoractl on
# zk:// and on the list of masters; then cluster-down leaves nothing
# running. A PASS or FAIL line per check; exit 1 if any failed, 77 (skip)
# when agora-master has no --zk or the zookeeper package is missing.
set -uo pipefail
src=${AGORA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AGORA_BUILD_DIR:-$src/build}
ctl=$build/bin/agoractl
if ! "$build/bin/agora-master" --help 2>&1 | grep -q -- '--zk'; then
	echo "SKIP: this agora-master has no --zk (standby masters, issue 16)"
	exit 77
fi
if [[ ! -r /usr/share/java/zookeeper.jar ]]; then
	echo "SKIP: Debian's zookeeper package is not installed (scripts/install-deps)"
	exit 77
fi
export AGORA_LOCAL_DIR BUILD_DIR=$build
AGORA_LOCAL_DIR=$(mktemp -d /tmp/agora-ha-test.XXXXXX)
dir=$AGORA_LOCAL_DIR
failures=0
cleanup() {
	"$src/scripts/cluster-down" >/dev/null 2>&1
	rm -rf --one-file-system "$dir"
}
trap cleanup EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; failures=$((failures + 1)); }

# The agent's id in GET_AGENTS through $1 (--master text), or "".
agent_via() { "$ctl" --master "$1" -q agents 2>/dev/null | head -n 1; }

if "$src/scripts/cluster-up" --masters 3 >"$dir/up.out" 2>&1; then
	pass "cluster-up --masters 3"
else
	fail "cluster-up --masters 3" "$(tail -n 5 "$dir/up.out")"
	exit 1
fi
for f in zk.servers zk.port zk.url masters master.port agent.port; do
	[[ -s $dir/$f ]] && pass "state file $f" || fail "state file $f"
done
zk=$(cat "$dir/zk.url")
list=$(cat "$dir/masters")
id=$(agent_via "$zk")
[[ -n $id ]] && pass "agoractl --master zk:// finds the agent" || fail "agoractl --master zk://"
[[ $(agent_via "$list") == "$id" ]] && pass "agoractl --master LIST follows the 307" ||
	fail "agoractl --master LIST"

# The leader (the first master) is SIGKILLed: a standby takes over, the
# agent registers with it (its log names it), and both ways of naming the
# masters find the agent there.
first=$(cut -d, -f1 "$dir/masters")
kill -KILL "$(cat "$dir/master1.pid")"
start=$(date +%s%N)
moved=
for _ in $(seq 150); do
	if grep "the master is now 127.0.0.1:" "$dir/agent.log" | grep -qv "now $first "; then
		moved=$(($(date +%s%N) - start))
		break
	fi
	sleep 0.1
done
if [[ -n $moved ]]; then
	pass "the agent moved to the new leader $((moved / 1000000)) ms after the SIGKILL"
else
	fail "the agent did not move to a new leader within 15 s" "$(tail -n 5 "$dir/agent.log")"
fi
ok=
for _ in $(seq 100); do
	if [[ $(agent_via "$zk") == "$id" ]] && [[ $(agent_via "$list") == "$id" ]]; then
		ok=1
		break
	fi
	sleep 0.2
done
[[ -n $ok ]] && pass "agoractl on zk:// and on the list finds the agent at the new leader" ||
	fail "agoractl does not find the agent at the new leader"

"$src/scripts/cluster-down" >/dev/null 2>&1
left=0
for f in "$dir"/master*.pid "$dir"/agent.pid "$dir"/zk/zk*/pid; do
	[[ -e $f ]] && kill -0 "$(cat "$f")" 2>/dev/null && left=$((left + 1))
done
((left == 0)) && pass "cluster-down stops everything" || fail "cluster-down left $left running"
exit $((failures > 0))
