#!/usr/bin/env bash
# test_agoractl.sh: the local cluster (scripts/cluster-up, cluster-down),
# the example framework (examples/run-tasks) and every agoractl verb, with
# their table and --json outputs, against a real master and agent on
# 127.0.0.1; then agoractl against the stopped master. A PASS or FAIL line
# per check; exits 1 if any failed. Run as root (tier-guard cluster).
set -uo pipefail
src=${AGORA_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${AGORA_BUILD_DIR:-$src/build}
ctl=$build/bin/agoractl
export AGORA_LOCAL_DIR BUILD_DIR=$build
AGORA_LOCAL_DIR=$(mktemp -d /tmp/agora-ctl-test.XXXXXX)
out=$AGORA_LOCAL_DIR/out
failures=0
runpid=
cleanup() {
	[[ -n $runpid ]] && kill "$runpid" 2>/dev/null
	"$src/scripts/cluster-down" >/dev/null 2>&1
	rm -rf --one-file-system "$AGORA_LOCAL_DIR"
}
trap cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); sed 's/^/    /' "$out" "$out.err" 2>/dev/null | head -20; }
# check NAME EXPECTED_STATUS CMD...: runs CMD (stdout to $out, stderr to $out.err).
check() {
	local name=$1 want=$2
	shift 2
	"$@" >"$out" 2>"$out.err"
	local got=$?
	# On a sanitizer build (AGORA_BUILD_DIR=build-asan) any report fails.
	if grep -qE "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$out.err"; then
		fail "$name (a sanitizer report)"
		return 1
	fi
	if [[ $got == "$want" ]]; then pass "$name"; return 0; fi
	echo "    (exit $got, wanted $want)" >>"$out.err"
	fail "$name"
	return 1
}
# verdict NAME CMD...: PASS when CMD succeeds.
verdict() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
has() { verdict "$1" grep -qE -- "$2" "$out"; }
has_err() { verdict "$1" grep -qE -- "$2" "$out.err"; }
jq_quiet() { jq -e "$@" >/dev/null 2>&1; }
json() { verdict "$1" jq_quiet "$2" "$out"; }

# -- the local cluster ----------------------------------------------------
check "cluster-up starts a master and an agent" 0 "$src/scripts/cluster-up"
has "cluster-up says where the master is" "master +http://127\.0\.0\.1:[0-9]+"
has "cluster-up says how to stop it" "cluster-down"
AGORA_MASTER=127.0.0.1:$(cat "$AGORA_LOCAL_DIR/master.port")
export AGORA_MASTER
check "cluster-up again reports the running cluster" 0 "$src/scripts/cluster-up"
has "... with the same master" "$AGORA_MASTER"

# -- the example framework -------------------------------------------------
check "examples/run-tasks runs 3 tasks (one OCI-like) to FINISHED" 0 \
	timeout 120 "$build/bin/run-tasks" 3
has "... every task FINISHED" "all 3 tasks ended, 0 failed"
has "... the OCI-like task too" "example-[0-9]+-0: TASK_FINISHED"

# -- read verbs ------------------------------------------------------------
check "agents" 0 "$ctl" agents
has "agents: a table with a header" "^AGENT ID +HOSTNAME +ADDRESS +CPUS +MEM +STATE +REGISTERED"
has "agents: the agent, short id, active" "^[0-9a-f]{8}-S[0-9]+ .* active "
check "agents --json" 0 "$ctl" agents --json
json "agents --json: one active agent with full id and cpus" \
	'length == 1 and .[0].state == "active" and (.[0].id | test("^[0-9a-f-]{36}-S[0-9]+$")) and .[0].cpus > 0'
agent=$(jq -r '.[0].id' "$out")
check "agents -q" 0 "$ctl" agents -q
has "agents -q: full ids only" "^$agent\$"

# A task that keeps running while the verbs look at it.
"$ctl" run --name sleeper -- 'echo started; sleep 60' >"$AGORA_LOCAL_DIR/run.out" 2>"$AGORA_LOCAL_DIR/run.err" &
runpid=$!
for _ in $(seq 100); do
	"$ctl" tasks -q 2>/dev/null | grep -q . && "$ctl" tasks | grep -q RUNNING && break
	sleep 0.2
done
check "tasks" 0 "$ctl" tasks
has "tasks: a table with a header" "^TASK ID +NAME +STATE +FRAMEWORK +AGENT +UPDATED"
has "tasks: the running task" "^run-[0-9]+-[0-9]+ +sleeper +RUNNING +[0-9a-f]{8}-[0-9]{4} +[0-9a-f]{8}-S[0-9]+ +[0-9]+ seconds ago"
check "tasks --json" 0 "$ctl" tasks --json
json "tasks --json: id, state, framework and agent in full" \
	".[0].state == \"TASK_RUNNING\" and .[0].name == \"sleeper\" and .[0].agent_id == \"$agent\""
task=$(jq -r '.[0].id' "$out")
fw=$(jq -r '.[0].framework_id' "$out")
check "tasks --all" 0 "$ctl" tasks --all
has "tasks --all: the running task too" "^$task "
check "tasks --no-trunc" 0 "$ctl" tasks --no-trunc
has "tasks --no-trunc: full ids, RFC 3339 times" "$fw +$agent +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"

check "frameworks" 0 "$ctl" frameworks
has "frameworks: a table with the run's framework" "^[0-9a-f]{8}-[0-9]{4} +agoractl run +nobody +\* +connected "
check "frameworks --json" 0 "$ctl" frameworks --json
json "frameworks --json: the framework in full" ".[] | select(.id == \"$fw\") | .state == \"connected\""

check "weights set" 0 "$ctl" weights set web 2.5
check "roles" 0 "$ctl" roles
has "roles: a table" "^ROLE +WEIGHT +FRAMEWORKS +CPUS +MEM"
has "roles: the * role with the run's framework" "^\* +1 +1 "
check "roles --json" 0 "$ctl" roles --json
json "roles --json: the weight set is there" '.[] | select(.name == "web") | .weight == 2.5'
check "weights set refuses a weight of 0 (usage)" 2 "$ctl" weights set web 0

check "inspect TASK" 0 "$ctl" inspect "$task"
json "inspect TASK: the master's record" ".task_id.value == \"$task\" and .state == \"TASK_RUNNING\""
check "inspect AGENT (short id)" 0 "$ctl" inspect "${agent:0:8}${agent:36}"
json "inspect AGENT: its agent_info" ".agent_info.id.value == \"$agent\""
check "inspect FRAMEWORK" 0 "$ctl" inspect "$fw"
json "inspect FRAMEWORK: its framework_info" ".framework_info.id.value == \"$fw\""
check "inspect of nothing fails" 1 "$ctl" inspect no-such-thing
has_err "... saying so" "no task, agent or framework .no-such-thing."

# Agent endpoints: what the agent serves (or a clear refusal without them).
if [[ $(cat "$AGORA_LOCAL_DIR/agent.port") != 0 ]]; then
	check "containers" 0 "$ctl" containers
	has "containers: a table" "^CONTAINER +TASK +STATE +PHASE +PID +AGENT"
	has "containers: the task's container, running" "^ctr-[0-9a-f]+ +$task +RUNNING +running +[0-9]+ +[0-9a-f]{8}-S[0-9]+"
	check "containers --json" 0 "$ctl" containers --json
	json "containers --json: a list" 'type == "array" and length >= 1'
	check "tasks --all with the agents' ended containers" 0 "$ctl" tasks --all
	has "tasks --all: the example's tasks FINISHED (the master's completed_tasks)" "^example-[0-9]+-0 .* FINISHED "
	check "tasks --all --json" 0 "$ctl" tasks --all --json
	json "tasks --all --json: the example's 3 tasks, FINISHED, each once" \
		'[.[] | select((.id | startswith("example-")) and .state == "TASK_FINISHED")] | (length == 3 and (map(.id) | unique | length) == 3)'
	check "logs" 0 "$ctl" logs "$task"
	has "logs: the task's stdout" "^started$"
	check "logs --tail 1" 0 "$ctl" logs --tail 1 "$task"
	has "logs --tail 1: the last line" "^started$"
	if grep -q "NOT isolated" "$AGORA_LOCAL_DIR/agent.log"; then
		check "stats without isolation fails" 1 "$ctl" stats "$task"
		has_err "... saying why" "no statistics for task .*not isolated"
	else
		check "stats" 0 "$ctl" stats "$task"
		has "stats: a table" "^STAT +VALUE"
		check "stats --json" 0 "$ctl" stats --json "$task"
		json "stats --json: an object" 'type == "object"'
	fi
else
	echo "NOTE the agent has no operator endpoints (--port): containers/logs/stats must refuse clearly"
	for v in containers "logs $task" "stats $task"; do
		# shellcheck disable=SC2086
		check "$v without agent endpoints fails" 1 "$ctl" $v
		has_err "... naming the missing endpoints" "has no operator endpoints"
	done
fi

# logs -f: follows the running task's stdout as it is written, and ends
# when the task ends. Each line is stamped when agoractl hands it over.
"$ctl" run --name counter -- 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 1; done' \
	>"$AGORA_LOCAL_DIR/counter.out" 2>"$AGORA_LOCAL_DIR/counter.err" &
counterpid=$!
counter=
for _ in $(seq 100); do
	counter=$("$ctl" tasks --json 2>/dev/null | jq -r '.[] | select(.name == "counter" and .state == "TASK_RUNNING") | .id')
	[[ -n $counter ]] && break
	sleep 0.1
done
if [[ $(cat "$AGORA_LOCAL_DIR/agent.port") != 0 && -n $counter ]]; then
	start=$(date +%s.%N)
	timeout 30 "$ctl" logs -f "$counter" 2>"$out.err" |
		while IFS= read -r l; do echo "$(date +%s.%N) $l"; done >"$out"
	rc=${PIPESTATUS[0]}
	end=$(date +%s.%N)
	verdict "logs -f exits 0 by itself when the task ends (exit $rc)" test "$rc" = 0
	verdict "logs -f: every line, in order" \
		test "$(cut -d' ' -f2- "$out" | tr '\n' ,)" = "$(seq -f 'line %g' 8 | tr '\n' ,)"
	first=$(awk 'NR == 1 {print $1}' "$out")
	last=$(awk 'END {print $1}' "$out")
	verdict "logs -f: lines arrive as they are written (first $(awk -v a="$first" -v b="$start" 'BEGIN {printf "%.1f", a - b}') s, last $(awk -v a="$last" -v b="$start" 'BEGIN {printf "%.1f", a - b}') s after the start)" \
		awk -v a="$first" -v b="$last" 'BEGIN {exit !(b - a >= 2.5)}'
	verdict "logs -f: ends soon after the task (within 4 s of the last line)" \
		awk -v a="$last" -v b="$end" 'BEGIN {exit !(b - a < 4)}'
else
	fail "logs -f: the counter task did not start, or the agent has no endpoints"
fi
wait "$counterpid"

# kill: the master's operator KILL_TASK; the run (the framework) gets
# TASK_KILLED and exits 137.
check "kill --grace 2s" 0 "$ctl" kill --grace 2s "$task"
has "kill prints the task id" "^$task\$"
wait "$runpid"
rc=$?
runpid=
verdict "kill: the framework saw TASK_KILLED and its run exits 137 (exit $rc)" test "$rc" = 137
verdict "... the run printed the update" grep -q "TASK_KILLED" "$AGORA_LOCAL_DIR/run.err"
check "kill of an unknown task fails" 1 "$ctl" kill no-such-task
has_err "... saying there is no such task" "no task .no-such-task."
check "kill --grace with a bad duration is a usage error" 2 "$ctl" kill --grace soon "$task"
has_err "... naming the option" "--grace: a duration"
# teardown: a framework with a running task; its run ends.
"$ctl" run --name td -- 'sleep 60' >"$AGORA_LOCAL_DIR/td.out" 2>"$AGORA_LOCAL_DIR/td.err" &
runpid=$!
tdfw=
for _ in $(seq 100); do
	tdfw=$("$ctl" tasks --json 2>/dev/null | jq -r '.[] | select(.name == "td" and .state == "TASK_RUNNING") | .framework_id')
	[[ -n $tdfw ]] && break
	sleep 0.1
done
check "teardown FRAMEWORK" 0 "$ctl" teardown "$tdfw"
has "teardown prints the framework id" "^$tdfw\$"
wait "$runpid"
rc=$?
runpid=
verdict "teardown ends the run (exit $rc)" test "$rc" != 0
check "teardown of an unknown framework fails" 1 "$ctl" teardown 00000000-0000
check "run exits with its task's status" 7 "$ctl" run -- 'exit 7'
has_err "run streams the states" "TASK_RUNNING"
has_err "... and the end" "TASK_FAILED: Command exited with status 7"
check "run of an OCI-like spec file" 0 bash -c "echo '{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"busybox\"},\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":65534,\"gid\":65534},\"args\":[\"/bin/true\"]}}' >$AGORA_LOCAL_DIR/spec.json && $ctl run --spec $AGORA_LOCAL_DIR/spec.json"
# A COMMAND replaces the spec's process.args; --env adds to its process.env.
check "run of a spec with a COMMAND and --env" 5 "$ctl" run --spec "$AGORA_LOCAL_DIR/spec.json" \
	--env A=one --env B=two -- 'echo "A=$A B=$B"; exit 5'
has "... the command ran with both variables" "^A=one B=two\$"

# The SDK re-subscribes with its framework id when the master restarts.
"$ctl" run -- 'sleep 5' >"$out" 2>"$out.err" &
runpid=$!
sleep 2.5
mpid=$(cat "$AGORA_LOCAL_DIR/master.pid")
kill -TERM "$mpid"
for _ in $(seq 50); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
setsid "$build/bin/agora-master" --ip=127.0.0.1 --port="${AGORA_MASTER##*:}" \
	--work_dir="$AGORA_LOCAL_DIR/master" </dev/null >>"$AGORA_LOCAL_DIR/master.log" 2>&1 &
echo $! >"$AGORA_LOCAL_DIR/master.pid"
wait "$runpid"
rc=$?
runpid=
verdict "run survives a master restart (exit $rc)" test "$rc" = 0
has_err "... having said it reconnects" "reconnecting to 127.0.0.1"
for _ in $(seq 100); do "$ctl" agents -q 2>/dev/null | grep -q . && break; sleep 0.2; done

# agents_state: the agent's state column in agents --json.
agent_state() { "$ctl" agents --json | jq -r ".[] | select(.id == \"$agent\") | .state"; }
wait_state() {
	for _ in $(seq 100); do [[ $(agent_state 2>/dev/null) == "$1" ]] && return 0; sleep 0.1; done
	return 1
}
# restart_master: SIGKILL, then the same command line; waits for the agent.
restart_master() {
	local mpid
	mpid=$(cat "$AGORA_LOCAL_DIR/master.pid")
	kill -KILL "$mpid"
	for _ in $(seq 50); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
	setsid "$build/bin/agora-master" --ip=127.0.0.1 --port="${AGORA_MASTER##*:}" \
		--work_dir="$AGORA_LOCAL_DIR/master" </dev/null >>"$AGORA_LOCAL_DIR/master.log" 2>&1 &
	echo $! >"$AGORA_LOCAL_DIR/master.pid"
	for _ in $(seq 150); do "$ctl" agents -q 2>/dev/null | grep -q . && break; sleep 0.2; done
}

# drain: no new tasks on the agent, its tasks killed, then DRAINED.
"$ctl" run --name victim -- 'sleep 60' >"$AGORA_LOCAL_DIR/victim.out" 2>"$AGORA_LOCAL_DIR/victim.err" &
runpid=$!
for _ in $(seq 100); do "$ctl" tasks 2>/dev/null | grep -q "victim .*RUNNING" && break; sleep 0.2; done
check "drain --timeout 2s" 0 "$ctl" drain --timeout 2s "$agent"
has "drain prints the agent id" "^$agent\$"
wait "$runpid"
rc=$?
runpid=
verdict "drain: the agent's task was killed (run exit $rc)" test "$rc" = 137
verdict "drain: the agent becomes drained" wait_state drained
check "agents shows it drained" 0 "$ctl" agents
has "... in the table" "^[0-9a-f]{8}-S[0-9]+ .* drained "
check "agents --json" 0 "$ctl" agents --json
json "... and in --json" ".[] | select(.id == \"$agent\") | .state == \"drained\""
check "inspect AGENT shows the drain" 0 "$ctl" inspect "$agent"
json "... drain_info DRAINED, max_grace_period 2 s, deactivated" \
	'.drain_info.state == "DRAINED" and .drain_info.config.max_grace_period.nanoseconds == 2000000000 and .deactivated == true'
check "no new task lands on a drained agent (run times out)" 124 timeout 4 "$ctl" run -- true
restart_master
verdict "a master restart (SIGKILL) keeps the agent drained" wait_state drained
check "... still no new task there" 124 timeout 4 "$ctl" run -- true
check "reactivate AGENT" 0 "$ctl" reactivate "$agent"
has "reactivate prints the agent id" "^$agent\$"
verdict "reactivate: the agent is active again" wait_state active
check "reactivate: tasks run there again" 0 timeout 30 "$ctl" run -- true
check "deactivate AGENT" 0 "$ctl" deactivate "$agent"
verdict "deactivate: the table says deactivated" wait_state deactivated
check "reactivate after deactivate" 0 "$ctl" reactivate "$agent"
check "drain of an unknown agent fails" 1 "$ctl" drain no-such-agent
has_err "... saying so" "no agent .no-such-agent."
check "drain --timeout with a bad duration is a usage error" 2 "$ctl" drain --timeout -3s "$agent"
has_err "... naming the option" "--timeout: a duration"
check "reactivate needs an agent (usage)" 2 "$ctl" reactivate
check "--mark-gone elsewhere than drain is a usage error" 2 "$ctl" agents --mark-gone
has_err "... naming the option and its command" "--mark-gone is an option of .drain."
# --mark-gone: nothing runs there, so drained at once, then gone.
check "drain --mark-gone" 0 "$ctl" drain --mark-gone "$agent"
gone_now() { ! "$ctl" agents -q | grep -q "^$agent\$"; }
wait_gone() { for _ in $(seq 50); do gone_now && return 0; sleep 0.1; done; return 1; }
verdict "drain --mark-gone: the agent is gone from the agents list" wait_gone
check "gone AGENT of an agent already gone fails" 1 "$ctl" gone "$agent"
check "usage error" 2 "$ctl" bogus-verb
check "unknown task" 1 "$ctl" logs no-such-task

# -- a stopped master -------------------------------------------------------
check "cluster-down" 0 "$src/scripts/cluster-down"
has "cluster-down stops both" "stopped agora-master"
check "agoractl against a stopped master fails with exit 3" 3 "$ctl" agents
has_err "... saying where and what to do" \
	"cannot reach the master at 127\.0\.0\.1:[0-9]+ \(connection refused\); is it running\? start one with scripts/cluster-up"
check "... --json too" 3 "$ctl" tasks --json
check "... and run" 3 "$ctl" run -- true

echo "$failures failed"
[[ $failures == 0 ]]
