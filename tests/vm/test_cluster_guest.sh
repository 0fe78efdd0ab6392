#!/usr/bin/env bash
# test_cluster_guest.sh: issue 6's combined test, in the test VM (real cgroup
# v2, every controller): a master and two agents WITH isolation, each on its
# own network-namespace host of a netlab, and the scripted framework.
#
#   h1 198.18.0.1  agora-master, cluster-fw (and a second framework)
#   h2 198.18.0.2  agora-agent a2 (typed --attributes), tasks under agora/a2
#   h3 198.18.0.3  agora-agent a3, tasks under agora/a3
#
# The agents join their host's network namespace with nsenter rather than
# `ip netns exec`, which remounts /sys and so would hide /sys/fs/cgroup from
# them. Checks, against the kernel's own cgroup files:
#   tasks that finish, fail (exit 3), exceed their memory (OOM ->
#   TASK_FAILED / REASON_CONTAINER_LIMITATION_MEMORY), get killed (TASK_KILLED
#   well within the 5 s default grace: agora-init forwards SIGTERM); cpu.max and
#   throttling of a busy task with 0.2 cpus; pids.max and its refusals;
#   a2 SIGKILLed while tasks run and restarted: running ones re-attached, ones
#   that ended meanwhile (exit 0, exit 3, a signal) report their real status,
#   nothing launched twice, no update lost or duplicated; two frameworks with
#   one task id on one agent; the attributes in GET_AGENTS and in offers.
# Prints PASS/FAIL lines, each section with the time it started at; exits 1
# on a failure, and when it runs out of time (140 s, before its watchdog's
# deadline) it fails printing the daemons' logs.
#
#   test_cluster_guest.sh [limits | frameworks | restart | all]
#
# limits: finish, fail, OOM, kill, cpu and pids (vm-guest cluster_guest);
# frameworks: the attributes and two frameworks with one task id (vm-guest
# cluster_frameworks_guest); restart: the agent SIGKILLed and restarted
# (vm-guest cluster_restart_guest); all (the default): the three. Each part is run in a VM
# of its own by the vm tier; both in one did not fit in its time on a loaded
# host (TCG is many times slower when the host's cores are busy).
set -uo pipefail
part=${1:-all}
case $part in
limits | frameworks | restart | all) ;;
*)
	echo "usage: test_cluster_guest.sh [limits | frameworks | restart | all]" >&2
	exit 2
	;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${AGORA_BUILD_DIR:-$here/../../build}
master_bin=$build/bin/agora-master
agent_bin=$build/bin/agora-agent
fw_bin=$build/tests/cluster-fw
# The guest's devtmpfs has no /dev/fd, which bash's <(...) (in netlab) needs.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# shellcheck source=../cluster/netlab
source "$here/../cluster/netlab"
export NETLAB_QUIET=1

cg=/sys/fs/cgroup
if [ ! -f $cg/cgroup.subtree_control ] || ! grep -qw memory $cg/cgroup.controllers; then
	echo "SKIP: needs cgroup v2 with its controllers at $cg (the test VM)"
	exit 77
fi
for b in "$master_bin" "$agent_bin" "$fw_bin"; do
	[ -x "$b" ] || {
		echo "FAIL: $b is missing"
		exit 1
	}
done

CHECKS_NAME=cluster_guest
# shellcheck source=../lib/checks.sh
source "$here/../lib/checks.sh"

tmp=$(mktemp -d /tmp/agora-cluster-vm.XXXXXX)
tok=$$ # task commands carry it: `sleep N.$tok`
master_pid="" fw_pid="" fw2_pid="" timer=""
declare -A agent_pid=()
cleanup() {
	local p kids
	if [ -n "$timer" ]; then
		kids=$(pgrep -P "$timer")
		kill "$timer" $kids 2>/dev/null
	fi
	exec 3>&- 4<&- 5>&- 6<&- 2>/dev/null
	for p in $fw_pid $fw2_pid $master_pid "${agent_pid[@]}"; do
		[ -n "$p" ] && netlab__alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in $(pgrep -f "\.$tok\$"); do
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$failures" -gt 0 ]; then
		for f in "$tmp"/*.log; do
			echo "---- ${f##*/} (last 40 lines)"
			tail -n 40 "$f"
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# Out of time: fail before the watchdog's SIGKILL, so that the logs show why.
# The timer prints them itself: bash runs the TERM trap only once the
# builtin it is in returns (a `read -t 120` from cluster-fw, say).
budget=140
(
	trap - TERM
	sleep $budget
	echo "FAIL: cluster_guest: out of time: still running after $budget s; the daemons' logs:"
	for f in "$tmp"/*.log; do
		echo "---- ${f##*/} (last 40 lines)"
		tail -n 40 "$f"
	done
	kill -TERM $$ 2>/dev/null
) &
timer=$!
trap 'fatal "out of time: still running after $budget s (the logs follow)"' TERM

t0=$(date +%s%N)
section() { echo "== $* (at $((($(date +%s%N) - t0) / 1000000)) ms)"; }
netlab_up 3 || fatal "netlab_up 3"
mip=$(netlab_ip 1)

# An agent is removed after 30 missed pings (60 s): with 10 (20 s) a loaded
# guest's agents were removed as unreachable, their tasks TASK_LOST.
netlab_spawn 1 "$master_bin" --ip "$mip" --port 5050 --work_dir "$tmp/master" \
	--heartbeat_interval 1secs --agent_ping_timeout 2secs --max_agent_ping_timeouts 30 \
	--allocation_interval 100ms >>"$tmp/master.out" 2>>"$tmp/master.log" 3>&- 4>&- 5>&- 6>&-
master_pid=$NETLAB_PID
wait_for 20 grep -q "listening on $mip:5050" "$tmp/master.out" || fatal "the master did not listen"

attrs='rack:r1;cores:8;ports:[31000-32000];tags:{a,b}'
start_agent() { # host index
	local i=$1 extra=()
	[ "$i" = 2 ] && extra=(--attributes "$attrs")
	mkdir -p "$tmp/a$i"
	nsenter --net="/run/netns/$(netlab_ns "$i")" -- "$agent_bin" --master "$mip:5050" \
		--work_dir "$tmp/a$i" --hostname "a$i" --cgroup_parent "agora/a$i" \
		--update_backoff_ms 300 --registration_backoff_ms 200 --task_pids_max 24 \
		--resources "cpus:2;mem:1024;disk:1024" "${extra[@]}" \
		</dev/null >>"$tmp/a$i.log" 2>&1 3>&- 4>&- 5>&- 6>&- &
	agent_pid[$i]=$!
}
start_agent 2
start_agent 3

R=""
ask() { # FD_IN FD_OUT PID CMD...: one line in, one line out
	local fin=$1 fout=$2 pid=$3
	shift 3
	netlab__alive "$pid" || {
		R="ERR cluster-fw exited"
		return 1
	}
	printf '%s\n' "$*" >&"$fin"
	IFS= read -r -t 120 R <&"$fout" || R="ERR no answer from cluster-fw"
	[[ $R == OK* ]]
}
fw() { ask 3 4 "$fw_pid" "$@"; }
fw2() { ask 5 6 "$fw2_pid" "$@"; }
expect() { # DESCRIPTION CMD...
	local what=$1
	shift
	if fw "$@"; then pass "$what${R#OK}"; else fail "$what: $R"; fi
}
spawn_fw() { # NAME FD_IN FD_OUT: sets NETLAB_PID
	mkfifo "$tmp/$1.in" "$tmp/$1.out"
	eval "exec $2<>\"$tmp/$1.in\" $3<>\"$tmp/$1.out\""
	# shellcheck disable=SC2016 # expanded by the inner sh
	netlab_spawn 1 sh -c 'exec "$@" <"$0"' "$tmp/$1.in" "$fw_bin" "$mip" 5050 \
		>&"$3" 2>"$tmp/$1.log" 3>&- 4>&- 5>&- 6>&-
}
spawn_fw fw 3 4
fw_pid=$NETLAB_PID
two_agents() { fw agents && [[ $R == "OK 2 "* ]] && [[ $R != *inactive* ]]; }
wait_for 60 two_agents && pass "both agents registered with isolation ($R)" || fatal "agents: $R"
fw sub || fatal "SUBSCRIBE: $R"
for i in 2 3; do
	grep -q "NOT isolated" "$tmp/a$i.log" && fail "a$i runs without isolation"
done

# The cgroup of the task process whose command line ends in PATTERN.
task_cg() {
	local pid
	pid=$(pgrep -f "$1" | head -n 1)
	[ -n "$pid" ] || return 1
	echo "$cg$(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
}
cgval() { # FILE KEY: a field of a flat-keyed cgroup file
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# Three parts: the limits; the attributes and two frameworks; an agent
# SIGKILLed and restarted. Each fits in its own VM under load; all of them
# by default.
limits_part() {
	section "finish, fail, OOM, kill, cpu and pids limits"
	expect "launch fin2" launch fin2 a2 "exit 0"
	expect "launch fail3" launch fail3 a3 "exit 3"
	expect "launch oom2 (32 MB, touches 64 MB)" launchr oom2 a2 0.1 32 \
		"dd if=/dev/zero of=/dev/null bs=64M count=1"
	expect "launch kill3" launch kill3 a3 "exec sleep 300.$tok"
	expect "launch cpu3 (0.2 cpus, busy)" launchr cpu3 a3 0.2 32 \
		"exec sh -c 'while :; do :; done' cpu.$tok"
	expect "launch pids2 (pids.max 24, forks 30)" launchr pids2 a2 0.1 32 \
		"sh -c 'for i in \$(seq 30); do sleep 200.$tok & done' 2>/dev/null; exec sleep 201.$tok"
	expect "fin2: TASK_FINISHED" wait fin2 TASK_FINISHED 60
	expect "fail3: TASK_FAILED" wait fail3 TASK_FAILED 60
	fw state fail3
	[[ $R == "OK TASK_FAILED REASON_COMMAND_EXECUTOR_FAILED "*3* ]] && pass "fail3: exit status 3 reported" ||
		fail "fail3: $R"
	expect "oom2: TASK_FAILED" wait oom2 TASK_FAILED 60
	fw state oom2
	[[ $R == "OK TASK_FAILED REASON_CONTAINER_LIMITATION_MEMORY "* ]] &&
		pass "oom2: REASON_CONTAINER_LIMITATION_MEMORY" || fail "oom2: $R"

	expect "kill3: TASK_RUNNING" wait kill3 TASK_RUNNING 60
	expect "KILL kill3 (no kill_policy: --executor_shutdown_grace_period, 5 s)" kill kill3
	expect "kill3: TASK_KILLED" wait kill3 TASK_KILLED 30
	# Timed by the agent's own log, from KILL_TASK to TASK_KILLED: what the
	# framework sees adds the master's and its own latency, seconds on a loaded
	# TCG guest. SIGKILL would come only after the 5 s grace.
	log_ms() { # PATTERN: the time of a3's first log line matching it, in ms
		local t
		t=$(grep -m1 -E "$1" "$tmp/a3.log" | cut -d' ' -f1)
		[ -n "$t" ] && date -d "$t" +%s%3N
	}
	k0=$(log_ms 'KILL_TASK: task `kill3`') k1=$(log_ms 'task `kill3` .*: TASK_KILLED')
	if [ -z "$k0" ] || [ -z "$k1" ]; then
		fail "kill3: no KILL_TASK or TASK_KILLED line for it in a3's log"
	elif [ $((k1 - k0)) -lt 4500 ]; then
		pass "kill3 (exec sleep, pid 2 under agora-init) KILLED $((k1 - k0)) ms after a3 got KILL_TASK, within the 5 s grace"
	else
		fail "kill3 took $((k1 - k0)) ms from KILL_TASK to TASK_KILLED in a3: SIGTERM did not end it"
	fi
	fw state kill3
	echo "INFO: kill3 ${R#OK }"

	expect "cpu3: TASK_RUNNING" wait cpu3 TASK_RUNNING 60
	c=$(task_cg "cpu\.$tok\$") || c=""
	if [ -n "$c" ] && [ "$(cat "$c/cpu.max")" = "20000 100000" ]; then
		pass "cpu3: cpu.max 20000 100000 in ${c#"$cg"}"
	else
		fail "cpu3: cpu.max '$(cat "$c/cpu.max" 2>/dev/null)' in '$c'"
	fi
	if [ -n "$c" ]; then
		u0=$(cgval "$c/cpu.stat" usage_usec) w0=$(date +%s%N)
		sleep 3
		u1=$(cgval "$c/cpu.stat" usage_usec) w1=$(date +%s%N)
		thr=$(cgval "$c/cpu.stat" nr_throttled)
		share=$(((u1 - u0) * 1000 / ((w1 - w0) / 1000)))
		# Up to 0.5 on a starved guest, whose bandwidth timer fires late.
		if [ "$thr" -gt 0 ] && [ "$share" -le 500 ]; then
			pass "cpu3: the kernel throttles it ($thr periods), ${share}/1000 of a cpu over 3 s"
		else
			fail "cpu3: nr_throttled $thr, ${share}/1000 of a cpu"
		fi
	fi
	expect "KILL cpu3" kill cpu3 1
	expect "cpu3: TASK_KILLED" wait cpu3 TASK_KILLED 30

	expect "pids2: TASK_RUNNING" wait pids2 TASK_RUNNING 60
	refused() { p=$(task_cg "sleep 201\.$tok\$") && [ "$(cgval "$p/pids.events" max)" -gt 0 ]; }
	if wait_for 60 refused; then
		pass "pids2: pids.max $(cat "$p/pids.max"), pids.current $(cat "$p/pids.current"), forks refused: $(cgval "$p/pids.events" max)"
	else
		fail "pids2: no fork refused (${p:-no cgroup}: $(cat "${p:-/nonexistent}/pids.max" 2>/dev/null))"
	fi
	expect "KILL pids2" kill pids2 1
	expect "pids2: TASK_KILLED" wait pids2 TASK_KILLED 30
	n=$(pgrep -f "^sleep 20[01]\.$tok\$" | wc -l)
	[ "$n" = 0 ] && pass "pids2: every process ended with it" || fail "pids2: $n processes left"
}

frameworks_part() {
	section "attributes (Mesos format) in GET_AGENTS and in offers"
	want='[{"name":"rack","text":{"value":"r1"},"type":"TEXT"},{"name":"cores","scalar":{"value":8.0},"type":"SCALAR"},{"name":"ports","ranges":{"range":[{"begin":31000,"end":32000}]},"type":"RANGES"},{"name":"tags","set":{"item":["a","b"]},"type":"SET"}]'
	fw agentattrs a2
	[ "$R" = "OK $want" ] && pass "GET_AGENTS: a2's typed attributes" || fail "GET_AGENTS a2: $R"
	fw offerattrs a2
	[ "$R" = "OK $want" ] && pass "offers from a2 carry them" || fail "offer a2: $R"
	fw agentattrs a3
	[ "$R" = "OK none" ] && pass "a3 has none" || fail "GET_AGENTS a3: $R"

	section "two frameworks, one task id, on a3"
	spawn_fw fw2 5 6
	fw2_pid=$NETLAB_PID
	fw2 sub && pass "second framework subscribed" || fail "fw2 SUBSCRIBE: $R"
	expect "framework 1: launch dup on a3" launch dup a3 "sleep 1; exit 0"
	if fw2 launch dup a3 "exec sleep 307.$tok"; then pass "framework 2: launch dup on a3"; else fail "fw2 launch dup: $R"; fi
	expect "framework 1's dup: TASK_FINISHED" wait dup TASK_FINISHED 60
	if fw2 wait dup TASK_RUNNING 30; then pass "framework 2's dup still TASK_RUNNING"; else fail "fw2 dup: $R"; fi
	if fw2 kill dup 1 && fw2 wait dup TASK_KILLED 30; then pass "framework 2's dup: TASK_KILLED"; else fail "fw2 dup kill: $R"; fi
	fw state dup
	[[ $R == "OK TASK_FINISHED"* ]] && pass "framework 1's dup stays TASK_FINISHED" || fail "fw1 dup: $R"
	if fw2 check; then pass "framework 2: no update lost or duplicated"; else fail "fw2 check: $R"; fi
}

restart_part() {
	section "a2 SIGKILLed while tasks run, restarted"
	expect "launch run2 (runs on)" launch run2 a2 "exec sleep 301.$tok"
	expect "launch done2 (exit 0 while a2 is down)" launch done2 a2 "sleep 3.$tok; exit 0"
	expect "launch bad2 (exit 3 while a2 is down)" launch bad2 a2 "sleep 3.$tok; exit 3"
	expect "launch sig2 (killed by SIGUSR1 while a2 is down)" launch sig2 a2 "sleep 3.$tok; kill -USR1 \$\$"
	for t in run2 done2 bad2 sig2; do
		expect "$t: TASK_RUNNING" wait $t TASK_RUNNING 60
	done
	kill -KILL "${agent_pid[2]}"
	wait "${agent_pid[2]}" 2>/dev/null
	pass "a2 SIGKILLed with 4 running tasks"
	gone() { ! pgrep -f "^sleep 3\.$tok\$" >/dev/null; }
	wait_for 60 gone || fail "the short tasks did not end"
	sleep 1
	n=$(pgrep -cf "^sleep 301\.$tok\$")
	[ "$n" = 1 ] && pass "run2 survived the agent" || fail "run2 processes: $n"
	start_agent 2
	expect "done2: TASK_FINISHED after the restart" wait done2 TASK_FINISHED 60
	expect "bad2: TASK_FAILED after the restart" wait bad2 TASK_FAILED 60
	expect "sig2: TASK_FAILED after the restart" wait sig2 TASK_FAILED 60
	fw state bad2
	[[ $R == *"status 3"* ]] && pass "bad2: its real exit status 3" || fail "bad2: $R"
	fw state sig2
	[[ $R == *"signal USR1"* ]] && pass "sig2: its real signal, USR1" || fail "sig2: $R"
	fw state run2
	[[ $R == "OK TASK_RUNNING"* ]] && pass "run2 still TASK_RUNNING (re-attached)" || fail "run2: $R"
	n=$(pgrep -cf "^sleep 301\.$tok\$")
	[ "$n" = 1 ] && pass "run2 not launched twice" || fail "run2 processes: $n"
	k0=$(date +%s%N)
	expect "KILL run2 (re-attached)" kill run2 3
	expect "run2: TASK_KILLED" wait run2 TASK_KILLED 30
	echo "INFO: re-attached run2 killed in $((($(date +%s%N) - k0) / 1000000)) ms"
	for t in run2 done2 bad2 sig2; do
		expect "history of $t" history $t
	done
}

case $part in
limits) limits_part ;;
frameworks) frameworks_part ;;
restart) restart_part ;;
*)
	limits_part
	frameworks_part
	restart_part
	;;
esac

expect "reconcile: nothing left running" reconcile 2
if fw check; then pass "no update lost or duplicated, for any task"; else fail "check: $R"; fi

n=$(find $cg/agora/a2 $cg/agora/a3 -mindepth 1 -type d 2>/dev/null | wc -l)
[ "$n" = 0 ] && pass "every task cgroup removed" || fail "$n task cgroups left"
echo "cluster_guest: $checks checks, $failures failed, $((($(date +%s%N) - t0) / 1000000)) ms"
[ "$failures" = 0 ]
