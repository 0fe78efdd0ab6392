#!/usr/bin/env bash
# test_master_agents.sh: issues 5 and 6 end to end, in a netlab of 3 hosts.
#
#   h1 198.18.0.1  agora-master --ip 198.18.0.1 --port 5050, and the
#                  scripted framework (cluster-fw, driven over two fifos)
#   h2 198.18.0.2  agora-agent --hostname a2 --master 198.18.0.1:5050
#   h3 198.18.0.3  agora-agent --hostname a3 --master 198.18.0.1:5050
#
# Checks: tasks on both agents that finish, fail (exit 3) and get killed;
# the agent SIGKILLed while tasks run (and right after a launch) and
# restarted: every task has the right state, no update lost or duplicated,
# nothing launched twice; the master SIGKILLed and restarted: the agents
# re-register, GET_TASKS still knows their tasks, the framework re-subscribes
# with its id, an update produced while the master was down arrives; h3 cut
# off the bridge (eth0 down): a3 is marked unreachable after the ping
# timeout and its tasks become TASK_LOST (TASK_UNREACHABLE for a
# PARTITION_AWARE framework), then comes back: the TASK_LOST task is killed,
# the TASK_UNREACHABLE one runs on. Prints PASS/FAIL lines; exits 1 on a
# failure.
# Agents run with --no_isolation (this host's cgroups are hybrid).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${AGORA_BUILD_DIR:-$here/../../build}
master_bin=$build/bin/agora-master
agent_bin=$build/bin/agora-agent
fw_bin=$build/tests/cluster-fw
# shellcheck source=netlab
source "$here/netlab"
export NETLAB_QUIET=1

CHECKS_NAME=master_agents
# shellcheck source=../lib/checks.sh
source "$here/../lib/checks.sh"
for b in "$master_bin" "$agent_bin" "$fw_bin"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: $b is missing (build first: cmake --build build)"
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/agora-cluster-test.XXXXXX)
# Task commands carry this token so that their processes can be found (and
# counted, and ended by pid at the end) whatever the agent does.
tok=$$
master_pid=""
declare -A agent_pid=()
declare -a kms=()
fw_pid=""
keep=${AGORA_KEEP_TMP:-}

# Task processes of this run: `sleep <n>.<tok>`.
task_pids() {
	pgrep -f "^sleep [0-9]+\.$tok\$" || true
}
cleanup() {
	local p
	[ -z "$fw_pid" ] || { exec 3>&- 4<&-; } 2>/dev/null
	for p in $fw_pid $master_pid "${agent_pid[@]}"; do
		netlab__alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	# Containers may live in namespaces of their own: end them by pid.
	for p in $(task_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$failures" -gt 0 ] || [ -n "$keep" ]; then
		echo "logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT # netlab_up keeps it and runs it after netlab_down

t0=$(date +%s%N)
if ! netlab_up 3; then
	echo "FAIL: netlab_up 3"
	exit 1
fi
mip=$(netlab_ip 1)

# listed_as TASK STATE PASS FAIL: the GET_TASKS answer in $R lists TASK as
# STATE (state_in's form): pass PASS, else fail FAIL with the answer.
listed_as() {
	if [[ $(state_in "$R" "$1") == "$2" ]]; then
		pass "$3"
	else
		fail "$4: '${R#OK }'"
	fi
}

start_master() {
	netlab_spawn 1 "$master_bin" --ip "$mip" --port 5050 --work_dir "$tmp/master" \
		--heartbeat_interval 1secs --agent_ping_timeout 1secs --max_agent_ping_timeouts 5 \
		--allocation_interval 100ms --log_level debug >>"$tmp/master.out" 2>>"$tmp/master.log" 3>&- 4>&- 5>&- 6>&-
	master_pid=$NETLAB_PID
	wait_for 10 grep -q "listening on $mip:5050" "$tmp/master.out"
}
start_agent() { # host index
	local i=$1
	mkdir -p "$tmp/a$i"
	netlab_spawn "$i" "$agent_bin" --master "$mip:5050" --work_dir "$tmp/a$i" \
		--hostname "a$i" --no_isolation --update_backoff_ms 300 \
		--registration_backoff_ms 200 --resources "cpus:4;mem:2048;disk:4096" \
		>>"$tmp/a$i.log" 2>&1 3>&- 4>&- 5>&- 6>&-
	agent_pid[$i]=$NETLAB_PID
}
sigkill() { # pid
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# The framework: one command line in, one answer line out (R).
R=""
fw() {
	if ! netlab__alive "$fw_pid"; then
		R="ERR cluster-fw exited (see fw.log)"
		return 1
	fi
	printf '%s\n' "$*" >&3
	if ! IFS= read -r -t 60 R <&4; then
		R="ERR no answer from cluster-fw"
		return 1
	fi
	[[ $R == OK* ]]
}
# expect DESCRIPTION CMD...: PASS when the framework answers OK.
expect() {
	local what=$1
	shift
	if fw "$@"; then pass "$what${R#OK}"; else fail "$what: $R"; fi
}
# expect_answer DESCRIPTION REGEX CMD...: PASS when the answer matches.
expect_answer() {
	local what=$1 re=$2
	shift 2
	fw "$@"
	if [[ $R =~ $re ]]; then pass "$what"; else fail "$what: $R"; fi
}
# The state of a task in the answer to `tasks`/`reconcile` (task=STATE,...).
state_in() { # answer task
	local s
	s=",${1#OK },"
	s=${s#*,"$2"=}
	[ "$s" != ",${1#OK }," ] || return 1
	echo "${s%%,*}"
}

echo "== cluster: master in h1, agents a2 in h2 and a3 in h3"
if ! start_master; then
	fail "agora-master did not listen on $mip:5050"
	cat "$tmp/master.log"
	exit 1
fi
pass "agora-master listens on $mip:5050 in h1"
start_agent 2
start_agent 3
mkfifo "$tmp/fw.in" "$tmp/fw.out"
# Opened read-write: a fifo's open then does not wait for the other end.
exec 3<>"$tmp/fw.in" 4<>"$tmp/fw.out"
# A background job's stdin is /dev/null: the command opens its fifo itself.
# shellcheck disable=SC2016 # expanded by the inner sh
netlab_spawn 1 sh -c 'exec "$@" <"$0"' "$tmp/fw.in" "$fw_bin" "$mip" 5050 \
	>&4 2>"$tmp/fw.log" 3>&- 4>&-
fw_pid=$NETLAB_PID

two_agents() { fw agents && [[ $R == "OK 2 "* ]] && [[ $R != *inactive* ]]; }
if wait_for 10 two_agents; then pass "both agents registered ($R)"; else fatal "agents: $R"; fi
fw sub || fatal "framework SUBSCRIBE: $R"
pass "framework subscribed ${R#OK }"
fwid=${R#OK }

echo "== tasks that finish, fail and get killed, on both agents"
for i in 2 3; do
	expect "launch fin$i on a$i" launch "fin$i" "a$i" "sleep 0.3; exit 0"
	expect "launch fail$i on a$i" launch "fail$i" "a$i" "exit 3"
done
# kill2 ignores nothing; kill3 traps SIGTERM and exits 0 on it.
expect "launch kill2 on a2" launch kill2 a2 "exec sleep 300.$tok"
expect "launch kill3 on a3 (exits on SIGTERM)" launch kill3 a3 \
	"trap 'exit 0' TERM; while :; do sleep 0.1; done"

for i in 2 3; do
	expect "fin$i: TASK_FINISHED" wait "fin$i" TASK_FINISHED 15
	expect "fail$i: TASK_FAILED" wait "fail$i" TASK_FAILED 15
	expect_answer "fail$i: its message names exit status 3" '3' state "fail$i"
	expect "kill$i: TASK_RUNNING" wait "kill$i" TASK_RUNNING 15
	expect_answer "fin$i went STARTING? RUNNING FINISHED, each once with a uuid" \
		'^OK (TASK_STARTING/[^-][^ ]* )?TASK_RUNNING/[^-][^ ]* TASK_FINISHED/[^-][^ ]* redelivered=' \
		history "fin$i"
done
for i in 2 3; do
	k0=$(date +%s%N)
	expect "KILL kill$i accepted (default grace period, --executor_shutdown_grace_period: 5 s)" kill "kill$i"
	expect "kill$i: TASK_KILLED" wait "kill$i" TASK_KILLED 15
	kms[i]=$((($(date +%s%N) - k0) / 1000000))
done
echo "INFO: KILL to TASK_KILLED: kill2 (exec sleep) ${kms[2]} ms, kill3 (traps TERM) ${kms[3]} ms"
if [ "${kms[3]}" -lt 2500 ]; then
	pass "kill3 got SIGTERM and ended before the grace period (${kms[3]} ms)"
else
	fail "kill3 ended only after the grace period (${kms[3]} ms): no SIGTERM?"
fi
n=$(task_pids | wc -l)
if [ "$n" = 0 ]; then pass "no task process left after the kills"; else fail "$n task processes left"; fi

echo "== policy: forbidden container.oci asks get TASK_ERROR naming the field"
# The agents run with the default policy. name|host|field|spec
reasons=""
policies=(
	"pmount|a2|container.oci.mounts[0].source|"'{"mounts":[{"destination":"/mnt","type":"bind","source":"/etc","options":["rbind","ro"]}]}'
	"pcap|a3|container.oci.process.capabilities.bounding|"'{"process":{"args":["true"],"capabilities":{"bounding":["CAP_SYS_ADMIN"]}}}'
	"pseccomp|a2|container.oci.linux.seccomp|"'{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}}'
	"pnnp|a3|container.oci.process.noNewPrivileges|"'{"process":{"args":["true"],"noNewPrivileges":false}}'
	"pns|a2|container.oci.linux.namespaces[0].path|"'{"linux":{"namespaces":[{"type":"network","path":"/proc/1/ns/net"}]}}'
	"psysctl|a3|container.oci.linux.sysctl.|"'{"linux":{"sysctl":{"net.ipv4.ip_forward":"1"}}}'
	# uid 0 that would be the host's root: a user namespace mapping it (uid 0 without
	# one gets a user namespace of the agent's pool).
	"proot|a2|container.oci.process.user.uid|"'{"process":{"args":["true"],"user":{"uid":0,"gid":0}},"linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":0,"size":1}],"gidMappings":[{"containerID":0,"hostID":0,"size":1}]}}'
)
for p in "${policies[@]}"; do
	IFS='|' read -r name host field spec <<<"$p"
	if ! fw launchoci "$name" "$host" "$spec"; then
		fail "launch $name: $R"
		continue
	fi
	if ! fw wait "$name" TASK_ERROR 10; then
		fail "$name ($field): $R"
		continue
	fi
	fw state "$name"
	if [[ $R == *"$field"* ]]; then
		pass "$name: TASK_ERROR naming $field"
	else
		fail "$name: TASK_ERROR without $field: $R"
	fi
	reasons+=" $(awk '{print $3}' <<<"$R")"
done
# The reference (docs/reference/mesos-v1-subset.md, agora's extension) says
# REASON_TASK_INVALID.
if ! tr ' ' '\n' <<<"$reasons" | grep -v '^REASON_TASK_INVALID$' | grep -q . && [ -n "${reasons// /}" ]; then
	pass "policy refusals: reason REASON_TASK_INVALID"
else
	fail "policy refusals carry$(tr ' ' '\n' <<<"$reasons" | sort -u | xargs -r printf ' %s'), not only REASON_TASK_INVALID"
fi

echo "== agent a2 SIGKILLed while tasks run, then restarted"
expect "launch run2 (runs on)" launch run2 a2 "exec sleep 301.$tok"
expect "launch done2 (exits 0 while a2 is down)" launch done2 a2 "sleep 1.5; exit 0"
expect "launch bad2 (exits 3 while a2 is down)" launch bad2 a2 "sleep 1.5; exit 3"
for t in run2 done2 bad2; do
	expect "$t: TASK_RUNNING" wait $t TASK_RUNNING 15
done
sigkill "${agent_pid[2]}"
pass "a2 SIGKILLed with 3 running tasks"
sleep 2.5
n=$(pgrep -cf "^sleep 301\.$tok\$")
if [ "$n" = 1 ]; then pass "run2's process survived the agent"; else fail "run2 processes: $n"; fi
start_agent 2
expect "done2: TASK_FINISHED reported after the restart" wait done2 TASK_FINISHED 15
expect "bad2: TASK_FAILED reported after the restart" wait bad2 TASK_FAILED 15
expect_answer "bad2: its real exit status 3 in the message" '^OK TASK_FAILED .*3' state bad2
fw state run2
if [ "$R" = "OK TASK_RUNNING - " ] || [[ $R == "OK TASK_RUNNING "* ]]; then
	pass "run2 still TASK_RUNNING"
else
	fail "run2: $R"
fi
# Implicit reconciliation answers the tasks that are not terminal and
# acknowledged: run2.
expect_answer "reconcile: run2 TASK_RUNNING" 'run2=TASK_RUNNING' reconcile 1
n=$(pgrep -cf "^sleep 301\.$tok\$")
if [ "$n" = 1 ]; then pass "run2 not launched twice ($n process)"; else fail "run2 processes: $n"; fi
expect "KILL run2 (re-attached)" kill run2 0.5
expect "run2: TASK_KILLED" wait run2 TASK_KILLED 15
for t in run2 done2 bad2; do
	expect "history of $t" history $t
done

# mid_launch TASK N STOP: launch TASK (exec sleep N.tok) on a2 and SIGKILL
# a2 right after the ACCEPT; with STOP=1 a2 is SIGSTOPped first, so that the
# RUN_TASK never reaches it. Then restart a2: the task runs once, or is
# reported (never launched later). A task the re-registering agent does not
# report is TASK_LOST (TASK_DROPPED if PARTITION_AWARE) from the master with
# REASON_RECONCILIATION, as Mesos does.
mid_launch() {
	local t=$1 sn=$2 stop=$3 mid n
	[ "$stop" = 0 ] || kill -STOP "${agent_pid[2]}"
	expect "launch $t" launch "$t" a2 "exec sleep $sn.$tok"
	sigkill "${agent_pid[2]}"
	sleep 0.5
	start_agent 2
	fw settle "$t" 5
	mid=$R
	n=$(pgrep -cf "^sleep $sn\.$tok\$")
	if [ "$stop" = 1 ]; then
		# The RUN_TASK never reached a2: it re-registers without the task.
		if [[ $mid == "OK TASK_LOST REASON_RECONCILIATION"* ]] && [ "$n" = 0 ]; then
			pass "$t (never reached the agent) reported lost after the re-registration: ${mid#OK }"
		else
			fail "$t (never reached the agent): $mid, $n processes (want TASK_LOST REASON_RECONCILIATION)"
			fw reconcile 1
			echo "   $t by reconciliation: $(state_in "$R" "$t")"
		fi
	elif [[ $mid == "OK TASK_RUNNING"* ]] && [ "$n" = 1 ]; then
		pass "$t RUNNING once after the restart"
	elif [[ $mid =~ ^OK\ TASK_(LOST|DROPPED|FAILED|ERROR) ]] && [ "$n" = 0 ]; then
		pass "$t not launched, and reported: ${mid#OK }"
	else
		fail "$t: $mid, $n processes"
	fi
	expect "history of $t" history "$t"
	n=$(pgrep -cf "^sleep $sn\.$tok\$")
	if [ "$n" -le 1 ]; then pass "$t not launched twice ($n processes)"; else fail "$t: $n processes"; fi
}
echo "== agent a2 stopped, a launch sent to it, SIGKILLed, restarted"
mid_launch mid2 302 1
echo "== agent a2 SIGKILLed right after a launch"
mid_launch race2 306 0

echo "== master SIGKILLed and restarted"
expect "launch long2 on a2" launch long2 a2 "exec sleep 303.$tok"
expect "launch long3 on a3" launch long3 a3 "exec sleep 304.$tok"
expect "launch late3 (finishes while the master is down)" launch late3 a3 "sleep 1; exit 0"
for t in long2 long3 late3; do
	expect "$t: TASK_RUNNING" wait $t TASK_RUNNING 15
done
sigkill "$master_pid"
pass "master SIGKILLed"
sleep 2
if start_master; then pass "master restarted"; else fatal "master did not restart"; fi
if wait_for 15 two_agents; then pass "both agents re-registered ($R)"; else fail "agents: $R"; fi
fw sub "$fwid" || fatal "framework re-SUBSCRIBE: $R"
pass "framework re-subscribed with its id"
if [ "${R#OK }" = "$fwid" ]; then pass "same framework id $fwid"; else fail "framework id ${R#OK } != $fwid"; fi
expect "late3: TASK_FINISHED arrives after the restart" wait late3 TASK_FINISHED 20
fw tasks
for t in long2 long3; do
	s=$(state_in "$R" $t)
	if [ "$s" = TASK_RUNNING ]; then pass "GET_TASKS: $t TASK_RUNNING"; else fail "GET_TASKS: $t: ${s:-missing} ($R)"; fi
done
expect_answer "reconcile: long2 and long3 RUNNING" \
	'long2=TASK_RUNNING.*long3=TASK_RUNNING' reconcile 1
expect "KILL long2 after the master restart" kill long2 0.5
expect "long2: TASK_KILLED" wait long2 TASK_KILLED 15

echo "== h3 cut off: a3 unreachable, its tasks lost"
# Leave the agents' offers to the PARTITION_AWARE framework.
expect "framework declines the offers it holds" decline 60
# Offers of resources freed just before (long2's kill, late3's end) may still
# be on their way to it: take them and decline those too.
expect "framework takes the offers still in flight" pump 1
expect "framework declines those too" decline 60
mkfifo "$tmp/pa.in" "$tmp/pa.out"
exec 5<>"$tmp/pa.in" 6<>"$tmp/pa.out"
# shellcheck disable=SC2016 # expanded by the inner sh
netlab_spawn 1 sh -c 'exec "$@" <"$0"' "$tmp/pa.in" "$fw_bin" "$mip" 5050 \
	>&6 2>"$tmp/pa.log" 3>&- 4>&- 5>&- 6>&-
pa_pid=$NETLAB_PID
pa() {
	netlab__alive "$pa_pid" || { R="ERR cluster-fw (pa) exited" && return 1; }
	printf '%s\n' "$*" >&5
	IFS= read -r -t 60 R <&6 || R="ERR no answer"
	[[ $R == OK* ]]
}
if pa sub pa; then pass "PARTITION_AWARE framework subscribed"; else fail "pa sub: $R"; fi
if pa launch pa3 a3 "exec sleep 305.$tok"; then pass "pa launch pa3"; else fail "pa launch pa3: $R"; fi
if pa wait pa3 TASK_RUNNING 15; then pass "pa3 TASK_RUNNING"; else fail "pa3: $R"; fi
ip -n "$(netlab_ns 3)" link set eth0 down
cut=$(date +%s%N)
pass "h3's eth0 is down"
expect "long3: TASK_LOST" wait long3 TASK_LOST 20
ms=$((($(date +%s%N) - cut) / 1000000))
fw state long3
if [ "$ms" -ge 2500 ] && [ "$ms" -le 12000 ]; then
	pass "long3 lost after ${ms} ms (ping timeout 1 s x 5): ${R#OK }"
else
	fail "long3 lost after ${ms} ms, not about 5 s"
fi
if pa wait pa3 TASK_UNREACHABLE 10; then pass "pa3: TASK_UNREACHABLE (PARTITION_AWARE)"; else fail "pa3: $R"; fi
fw tasks
listed_as pa3 "TASK_UNREACHABLE(unreachable)" "GET_TASKS lists pa3 in unreachable_tasks while a3 is cut off" \
	"GET_TASKS: pa3 not in unreachable_tasks"
listed_as long3 "TASK_LOST(completed)" "GET_TASKS lists long3 in completed_tasks as TASK_LOST" \
	"GET_TASKS: long3 not TASK_LOST in completed_tasks"
fw agents
if [[ $R != *a3:active* ]]; then pass "a3 no longer active ($R)"; else fail "a3 still active: $R"; fi

echo "== h3 back: a3 re-registers"
ip -n "$(netlab_ns 3)" link set eth0 up
a3_back() { fw agents && [[ $R == *a3:active* ]]; }
if wait_for 20 a3_back; then pass "a3 active again ($R)"; else fail "a3 did not come back: $R"; fi
if pa wait pa3 TASK_RUNNING 10; then
	pass "PARTITION_AWARE pa3: a TASK_RUNNING update when a3 is back"
else
	fail "pa3: no TASK_RUNNING update after the partition: $R"
fi
if pa reconcile 1 && [[ $R == *pa3=TASK_RUNNING* ]]; then
	pass "PARTITION_AWARE pa3 reconciles TASK_RUNNING again"
else
	fail "pa3 after the partition: $R"
fi
# long3 was reported TASK_LOST to a framework that is not PARTITION_AWARE:
# Mesos kills such tasks when their agent comes back.
long3_gone() { [ "$(pgrep -cf "^sleep 304\.$tok\$")" = 0 ]; }
if wait_for 5 long3_gone; then
	pass "long3 (reported TASK_LOST) is killed when a3 re-registers"
else
	fail "long3 (reported TASK_LOST) still runs after a3 re-registered"
fi
fw state long3
if [[ $R == "OK TASK_LOST "* ]]; then pass "long3 stays TASK_LOST for its framework"; else fail "long3: $R"; fi
fw tasks
echo "   GET_TASKS: ${R#OK }"
listed_as pa3 "TASK_RUNNING" "GET_TASKS lists pa3 in tasks, TASK_RUNNING, once a3 is back" \
	"GET_TASKS: pa3 is not running in tasks"
listed_as late3 "TASK_FINISHED(completed)" "GET_TASKS lists late3 (finished after the master restart) in completed_tasks" \
	"GET_TASKS: late3 not in completed_tasks"
listed_as long3 "TASK_LOST(completed)" "GET_TASKS keeps long3 TASK_LOST in completed_tasks after a3 is back" \
	"GET_TASKS: long3 after a3 is back"
pa quit
exec 5>&- 6<&-
wait "$pa_pid" 2>/dev/null

echo "== no update lost or duplicated"
for t in fin2 fin3 fail2 fail3 kill2 kill3 run2 done2 bad2 mid2 race2 long2 long3 late3; do
	fw history $t
	echo "   $t: ${R#OK }"
done
expect "each task's agent states reported once (uuids)" check
# Every update the agents produced arrived, once, in order: STARTING,
# RUNNING, (KILLING,) the end, each with a uuid of its own; "-" marks the
# master's reconciliation answers.
seq='^OK TASK_STARTING/[^- ]+ TASK_RUNNING/[^- ]+ (TASK_RUNNING/- )?(TASK_KILLING/[^- ]+ )?'
seq+='TASK_(FINISHED|FAILED|KILLED)/[^- ]+ redelivered=([0-9]+)$'
again=""
for t in fin2 fin3 fail2 fail3 kill2 kill3 run2 done2 bad2 long2 late3; do
	fw history $t
	if [[ $R =~ $seq ]]; then pass "$t: every update once, in order"; else fail "$t: $R"; fi
	[ "${BASH_REMATCH[4]:-0}" = 0 ] || again+=" $t:${BASH_REMATCH[4]}"
done
# An update whose ack the agent had not recorded when it was SIGKILLed is
# sent again with its uuid (at least once, as in Mesos); the framework sees
# the same uuid twice, never two uuids for one transition (checked above).
echo "INFO: updates delivered again with the same uuid:${again:- none}"
# TASK_KILLING only for frameworks with TASK_KILLING_STATE (reference §4).
for t in kill2 kill3 run2 long2; do
	fw history $t
	if [[ $R != *TASK_KILLING* ]]; then
		pass "$t: no TASK_KILLING to a framework without TASK_KILLING_STATE"
	else
		fail "$t: TASK_KILLING sent to a framework without TASK_KILLING_STATE: $R"
	fi
done
expect "framework quits" quit
exec 3>&- 4<&-
wait "$fw_pid" 2>/dev/null
fw_pid=""

netlab_down
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$failures" -gt 0 ]; then
	echo "FAIL: master_agents: $failures of $checks checks failed (${ms} ms)"
	exit 1
fi
echo "PASS: master_agents: all $checks checks passed (${ms} ms)"
