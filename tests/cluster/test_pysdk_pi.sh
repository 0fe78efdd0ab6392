#!/usr/bin/env bash
# test_pysdk_pi.sh: the Python SDK's example framework, examples/python/pi.py
# (a Monte Carlo estimate of pi with its own executor, fetched by the agents
# from the framework's HTTP server), across two hosts of a netlab:
#
#   h1 198.18.0.1  agora-master, and pi.py (scheduler; serves its bundle)
#   h2 198.18.0.2  agora-agent --hostname a2 (executor API on :5051)
#   h3 198.18.0.3  agora-agent --hostname a3
#
# Checks: every one of 16 tasks FINISHED exactly once, tasks ran on both
# agents, the estimate is within 0.1 of pi, pi.py exits 0; then a second
# run during which both agents are SIGKILLed and restarted while their
# executors run tasks: still every task FINISHED exactly once. First a probe
# (pysdk_probe.py) launches one task with a CUSTOM executor and a URI: an
# agent that refuses either fails the test with its message. PASS/FAIL lines.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${AGORA_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${AGORA_BUILD_DIR:-$src/build}
# shellcheck source=netlab
source "$here/netlab"
export NETLAB_QUIET=1
CHECKS_NAME=pysdk_pi
# shellcheck source=../lib/checks.sh
source "$here/../lib/checks.sh"
for b in "$build/bin/agora-master" "$build/bin/agora-agent"; do
	[[ -x $b ]] || fatal "$b is missing (build first: cmake --build build)"
done
command -v python3 >/dev/null || fatal "python3 is needed"

tmp=$(mktemp -d /tmp/agora-pysdk-pi.XXXXXX)
declare -a pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		netlab__alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	if [[ $failures -gt 0 || -n ${AGORA_KEEP_TMP:-} ]]; then
		echo "logs kept in $tmp"
	else
		rm -rf --one-file-system "$tmp"
	fi
}
trap cleanup EXIT # netlab_up keeps it and runs it after netlab_down

netlab_up 3 || fatal "netlab_up 3"
mip=$(netlab_ip 1)
netlab_spawn 1 "$build/bin/agora-master" --ip "$mip" --port 5050 --work_dir "$tmp/master" \
	--allocation_interval 100ms >"$tmp/master.log" 2>&1
pids+=("$NETLAB_PID")
wait_for 10 grep -q "listening on $mip:5050" "$tmp/master.log" || fatal "the master started: $(tail -n 3 "$tmp/master.log")"
declare -A apid=()
start_agent() { # host index
	mkdir -p "$tmp/a$1"
	netlab_spawn "$1" "$build/bin/agora-agent" --master "$mip:5050" --work_dir "$tmp/a$1" \
		--hostname "a$1" --ip "$(netlab_ip "$1")" --port 5051 --no_isolation \
		--resources "cpus:4;mem:2048;disk:4096" >>"$tmp/a$1.log" 2>&1
	pids+=("$NETLAB_PID")
	apid[$1]=$NETLAB_PID
}
start_agent 2
start_agent 3
# Both agents in the master's GET_AGENTS.
agents() {
	netlab_exec 1 curl -sS -m 5 -H 'Content-Type: application/json' -d '{"type":"GET_AGENTS"}' \
		"http://$mip:5050/api/v1" >"$tmp/agents.json" 2>"$tmp/agents.err" &&
		[[ $(grep -Eo '"hostname": *"a[23]"' "$tmp/agents.json" | sort -u | wc -l) == 2 ]]
}
wait_for 30 agents && pass "both agents registered" ||
	fatal "both agents registered: $(cat "$tmp/agents.err") $(head -c 300 "$tmp/agents.json")"

probe=$(netlab_exec 1 timeout 90 python3 "$here/pysdk_probe.py" "$mip:5050" 2>"$tmp/probe.err")
case $probe in
UNSUPPORTED*)
	fatal "probe: the agents refused a custom executor fetched from a URI: ${probe#UNSUPPORTED }"
	;;
OK*) pass "probe: a CUSTOM executor with a URI is accepted (${probe#OK })" ;;
*) fatal "probe: no answer to a task with a CUSTOM executor: $probe $(cat "$tmp/probe.err")" ;;
esac

t0=$(date +%s%N)
netlab_exec 1 env PYTHONPATH="$src/sdk/python" timeout 200 python3 "$src/examples/python/pi.py" \
	--master "$mip:5050" --tasks 16 --samples 100000 --per-offer 4 >"$tmp/pi.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $rc == 0 ]] && pass "pi.py exits 0 (${ms} ms)" || fail "pi.py exits 0: exit $rc: $(tail -n 5 "$tmp/pi.out")"
grep -q "^16 tasks, 0 failed" "$tmp/pi.out" && pass "16 tasks, 0 failed" ||
	fail "16 tasks, 0 failed: $(grep -v 'TASK_RUNNING\|TASK_STARTING' "$tmp/pi.out" | tail -n 5)"
dups=$(grep -o '^pi-[0-9]*-[0-9]* TASK_FINISHED' "$tmp/pi.out" | sort | uniq -d)
n=$(grep -o '^pi-[0-9]*-[0-9]* TASK_FINISHED' "$tmp/pi.out" | sort -u | wc -l)
[[ $n == 16 && -z $dups ]] && pass "each task FINISHED exactly once" ||
	fail "each task FINISHED once: $n distinct, duplicated: $dups"
per=$(sed -n 's/^tasks per agent: //p' "$tmp/pi.out")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d.get("a2",0)>0 and d.get("a3",0)>0 and sum(d.values())==16 else 1)' "$per" 2>/dev/null &&
	pass "tasks ran on both agents: $per" || fail "tasks on both agents: '$per'"
est=$(sed -n 's/^pi is about \([0-9.]*\).*/\1/p' "$tmp/pi.out")
python3 -c 'import math,sys; sys.exit(0 if abs(float(sys.argv[1])-math.pi) < 0.1 else 1)' "$est" 2>/dev/null &&
	pass "the estimate is within 0.1 of pi: $est" || fail "the estimate of pi: '$est'"

# Again, with both agents SIGKILLed and restarted while their executors
# run tasks (the framework checkpoints): the executors re-subscribe, and
# every task still FINISHES exactly once.
: >"$tmp/pi2.out"
netlab_spawn 1 env PYTHONPATH="$src/sdk/python" timeout 200 python3 "$src/examples/python/pi.py" \
	--master "$mip:5050" --tasks 12 --samples 3000000 --per-offer 6 >"$tmp/pi2.out" 2>&1
pi2=$NETLAB_PID
pids+=("$pi2")
running() { [[ $(grep -c ' TASK_RUNNING' "$tmp/pi2.out") -ge 4 ]]; }
if wait_for 60 running; then
	for i in 2 3; do
		kill -KILL "${apid[$i]}" 2>/dev/null
		wait "${apid[$i]}" 2>/dev/null
	done
	done_before=$(grep -c ' TASK_FINISHED' "$tmp/pi2.out")
	start_agent 2
	start_agent 3
	pass "both agents SIGKILLed and restarted with tasks running ($done_before of 12 finished before)"
else
	fail "tasks running before the agents' SIGKILL: $(tail -n 5 "$tmp/pi2.out")"
fi
wait "$pi2"
rc=$?
[[ $rc == 0 ]] && pass "pi.py exits 0 across the agents' restart" ||
	fail "pi.py exits 0 across the agents' restart: exit $rc: $(tail -n 5 "$tmp/pi2.out")"
grep -q "^12 tasks, 0 failed" "$tmp/pi2.out" && pass "12 tasks, 0 failed" ||
	fail "12 tasks, 0 failed: $(grep -v 'TASK_RUNNING\|TASK_STARTING' "$tmp/pi2.out" | tail -n 5)"
dups=$(grep -o '^pi-[0-9]*-[0-9]* TASK_FINISHED' "$tmp/pi2.out" | sort | uniq -d)
n=$(grep -o '^pi-[0-9]*-[0-9]* TASK_FINISHED' "$tmp/pi2.out" | sort -u | wc -l)
[[ $n == 12 && -z $dups ]] && pass "each task FINISHED exactly once across the restart" ||
	fail "each task FINISHED once across the restart: $n distinct, duplicated: $dups"

echo "pysdk_pi: $checks checks, $failures failed"
[[ $failures == 0 ]]
