#!/usr/bin/env bash
# The failing tests run labs in subshells on purpose:
# shellcheck disable=SC2031
# test_netlab.sh: the cluster tier's test of its own harness (netlab).
#
# Two hosts exchange a TCP message through the lab's bridge; the lab is
# invisible from the root namespace; each host sees only lo and eth0; and a
# lab leaves nothing behind: after netlab_down, after a test that fails (exit
# 1, set -e), after SIGTERM and SIGINT, and, through netlab_sweep, after its
# owner is SIGKILLed. Prints a PASS or FAIL line per check; exits 1 if any
# check failed. Run as root (tests/lib/tier-guard cluster checks that).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
netlab=$here/netlab
tcp=${AGORA_BUILD_DIR:-$here/../../build}/tests/netlab-tcp
# shellcheck source=netlab
source "$netlab"
export NETLAB_QUIET=1

CHECKS_NAME=netlab
# shellcheck source=../lib/checks.sh
source "$here/../lib/checks.sh"
# check DESCRIPTION CMD...: PASS when CMD succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# lab_ns PREFIX: the lab namespaces (PREFIX then sw or h<i>), sorted.
lab_ns() {
	ip netns list | awk '{print $1}' | grep -E "^$1(sw|h[0-9]+)\$" | sort
}
no_lab() { [ -z "$(lab_ns "$1")" ]; }
# proc_gone PID: the process has exited (absent, or a zombie), within 2 s.
proc_gone() {
	local i stat
	for ((i = 0; i < 40; i++)); do
		stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
		stat=${stat##*) }
		[ "${stat%% *}" = Z ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_file FILE: wait up to 10 s for FILE to exist.
wait_file() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# wait_exit PID SECONDS: wait for our child PID to exit; its status, or 124
# (and it is SIGKILLed) when it does not exit in time.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2 * 20; i++)); do
		netlab__alive "$pid" || break
		sleep 0.05
	done
	if netlab__alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}
# links NS: the link names in namespace NS ("eth0@if3" -> "eth0"), sorted.
links() {
	ip -n "$1" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
}
root_view() { # how the root namespace would reach the lab subnet
	ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort
	ip -4 -o addr show | awk '{print $2, $4}' # not the lease times
	ip -4 route show table all match 198.18.0.1
	ip -4 route get 198.18.0.1 2>&1 | head -n 1
}

tmp=""
helpers=() # background bash helpers still running, ended by pid on exit
decoys=()  # namespaces that only look like labs, deleted on exit
cleanup() {
	local pid ns
	for pid in "${helpers[@]}"; do
		netlab__alive "$pid" && kill -TERM "$pid" 2>/dev/null &&
			wait_exit "$pid" 5 >/dev/null 2>&1
	done
	# A helper's lab whose owner is gone now (SIGKILLed or ended).
	netlab_sweep
	for ns in "${decoys[@]}"; do
		ip netns delete "$ns" 2>/dev/null
	done
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT # netlab_up keeps it and runs it after netlab_down
# Scratch of earlier runs that were SIGKILLed (their labs go by netlab_sweep).
for d in /tmp/agora-netlab-test.*.*; do
	p=${d#/tmp/agora-netlab-test.}
	p=${p%%.*}
	[[ $p =~ ^[0-9]+$ ]] && ! netlab__alive "$p" && rm -rf "$d"
done
tmp=$(mktemp -d "/tmp/agora-netlab-test.$$.XXXXXX")

if [ ! -x "$tcp" ]; then
	echo "FAIL: $tcp is missing (build first: cmake --build build)"
	exit 1
fi
t0=$(date +%s%N)

echo "== lab of two hosts"
before=$(root_view)
if ! netlab_up 2; then
	echo "FAIL: netlab_up 2"
	exit 1
fi
prefix=$NETLAB_PREFIX
check "lab prefix names its owner ($prefix)" test "$prefix" = "agl$$-"
check "lab is a switch and two hosts" \
	test "$(lab_ns "$prefix" | tr '\n' ' ')" = "${prefix}h1 ${prefix}h2 ${prefix}sw "
for i in 1 2; do
	check "h$i sees only lo and eth0" test "$(links "${prefix}h$i" | tr '\n' ' ')" = "eth0 lo "
	check "h$i has $(netlab_ip $i)/24 on eth0" \
		grep -q "inet $(netlab_ip $i)/24 " <(ip -n "${prefix}h$i" -4 -o addr show dev eth0)
	check "h$i routes only the lab subnet (no way out)" \
		test "$(ip -n "${prefix}h$i" -4 route show table all | grep -v '^local\|^broadcast')" = \
		"198.18.0.0/24 dev eth0 proto kernel scope link src $(netlab_ip $i) "
done
check "switch holds br0 with ports h1 and h2" \
	test "$(links "${prefix}sw" | tr '\n' ' ')" = "br0 h1 h2 lo " -a \
	"$(ip -n "${prefix}sw" -o link show master br0 | wc -l)" = 2
check "netlab_ip 2 is 198.18.0.2" test "$(netlab_ip 2)" = 198.18.0.2
check "netlab_ns 1 is ${prefix}h1" test "$(netlab_ns 1)" = "${prefix}h1"
check "netlab_ns refuses a host the lab lacks" eval '! netlab_ns 3 2>/dev/null'

echo "== TCP through the bridge"
msg="hello from h2 to h1 via br0 ($$)"
netlab_spawn 1 "$tcp" serve 198.18.0.1 7000 10 >"$tmp/server.out" 2>"$tmp/server.err"
server=$NETLAB_PID
reply=$(netlab_exec 2 "$tcp" send 198.18.0.1 7000 "$msg" 10 2>"$tmp/client.err")
client_rc=$?
wait_exit "$server" 10
server_rc=$?
check "h2's client got its message echoed by h1 (rc $client_rc)" \
	test "$client_rc" = 0 -a "$reply" = "$msg"
check "h1's server on 198.18.0.1 received the message (rc $server_rc)" \
	test "$server_rc" = 0 -a "$(cat "$tmp/server.out")" = "$msg"
[ "$client_rc$server_rc" = 00 ] || cat "$tmp/client.err" "$tmp/server.err"
check "h2 learned h1's MAC on eth0" \
	grep -q '^198.18.0.1 dev eth0 lladdr' <(ip -n "${prefix}h2" neigh show)

# Background jobs of a script ignore SIGINT and SIGQUIT; netlab's must not.
fg_ign=$(grep SigIgn /proc/self/status)
exec_ign=$(netlab_exec 1 grep SigIgn /proc/self/status)
netlab_spawn 1 grep SigIgn /proc/self/status >"$tmp/ign"
wait_exit "$NETLAB_PID" 5
check "netlab_exec and netlab_spawn ignore the signals a foreground command does" \
	test "$exec_ign" = "$fg_ign" -a "$(cat "$tmp/ign")" = "$fg_ign"
if ((16#${fg_ign##*[[:space:]]} & 2)); then
	echo "(SIGINT is ignored by this test's parent, so by its commands too)"
else
	netlab_spawn 1 sleep 1000
	pid=$NETLAB_PID
	sleep 0.1
	kill -INT "$pid"
	wait_exit "$pid" 5
	rc=$?
	check "a spawned command dies of SIGINT (rc $rc)" test "$rc" = 130
fi

echo "== the lab is not reachable from the root namespace"
# Read-only: nothing is sent from the root namespace, whose packets to
# 198.18.0.1 would leave by the host's own default route.
check "h1's network namespace is not the root's" \
	test "$(readlink /proc/self/ns/net)" != "$(netlab_exec 1 readlink /proc/self/ns/net)"
check "root's links, addresses and route to 198.18.0.1 are unchanged by the lab" \
	test "$(root_view)" = "$before"
check "root has no address in 198.18.0.0/24" test -z "$(ip -4 -o addr show to 198.18.0.0/24)"
check "root has no route into 198.18.0.0/24" \
	test -z "$(ip -4 route show table all root 198.18.0.0/24)"

echo "== CLI on the same lab"
check "netlab ip 2" test "$("$netlab" ip 2)" = 198.18.0.2
check "netlab exec 1 runs in h1" \
	grep -q 'inet 198.18.0.1/24' <("$netlab" exec 1 ip -4 -o addr show dev eth0)
check "netlab list shows the lab" test "$("$netlab" list | grep -c "^$prefix")" = 3

echo "== netlab_down"
netlab_spawn 2 sleep 1000
sleeper=$NETLAB_PID
# Started inside h2 but not by netlab: found by its namespace.
stray=$(netlab_exec 2 sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 & echo $!')
# Ignores SIGTERM (and so does its child): needs the SIGKILL.
netlab_spawn 1 sh -c 'trap "" TERM; while :; do sleep 1; done'
stubborn=$NETLAB_PID
sleep 0.2 # let the spawns enter their namespaces
netlab_down
check "no namespace with prefix $prefix is left" no_lab "$prefix"
check "the spawned sleep ended" proc_gone "$sleeper"
check "a process started inside h2 ended" proc_gone "$stray"
check "a process ignoring SIGTERM ended" proc_gone "$stubborn"
check "netlab_down again is harmless" netlab_down
check "NETLAB_PREFIX is unset" test -z "${NETLAB_PREFIX:-}"
check "root is as before the lab" test "$(root_view)" = "$before"

echo "== a failing test leaves nothing behind"
(
	# shellcheck source=netlab
	source "$netlab"
	netlab_up 2
	netlab_spawn 1 sleep 1000
	echo "$NETLAB_PREFIX $NETLAB_PID" >"$tmp/sub"
	exit 1
)
rc=$?
read -r sub_prefix sub_pid <"$tmp/sub"
check "exit 1 in a lab: status kept (rc $rc)" test "$rc" = 1
check "exit 1 in a lab: no namespace left ($sub_prefix)" no_lab "$sub_prefix"
check "exit 1 in a lab: its sleep ended" proc_gone "$sub_pid"
check "exit 1 in a lab: the parent's EXIT trap did not run in the subshell" test -d "$tmp"

(
	set -e
	# shellcheck source=netlab
	source "$netlab"
	netlab_up 2
	netlab_spawn 2 sleep 1000
	echo "$NETLAB_PREFIX $NETLAB_PID" >"$tmp/sube"
	false
	echo "set -e did not stop the subshell"
)
rc=$?
read -r sub_prefix sub_pid <"$tmp/sube"
check "set -e failure in a lab: status kept (rc $rc)" test "$rc" = 1
check "set -e failure in a lab: no namespace left ($sub_prefix)" no_lab "$sub_prefix"
check "set -e failure in a lab: its sleep ended" proc_gone "$sub_pid"

# A test interrupted while it waits on a command in a host. A background
# bash ignores SIGINT unless told otherwise (env --default-signal).
for sig in TERM INT; do
	rm -f "$tmp/sig"
	# shellcheck disable=SC2016 # expanded by the inner bash
	env --default-signal=INT bash -c '
		source "$1"
		netlab_up 2
		netlab_spawn 2 sleep 1000
		echo "$NETLAB_PREFIX $NETLAB_PID" >"$2.tmp" && mv "$2.tmp" "$2"
		netlab_exec 1 sleep 30
		echo "netlab_exec returned"' _ "$netlab" "$tmp/sig" &
	pid=$!
	helpers+=("$pid")
	if ! wait_file "$tmp/sig"; then
		fail "SIG$sig: the lab did not come up"
		continue
	fi
	read -r sig_prefix sig_pid <"$tmp/sig"
	for ((i = 0; i < 100; i++)); do # until the foreground sleep is in h1
		[ -n "$(ip netns pids "${sig_prefix}h1" 2>/dev/null)" ] && break
		sleep 0.05
	done
	start=$(date +%s%N)
	kill -s "$sig" "$pid"
	wait_exit "$pid" 10
	rc=$?
	helpers=()
	ms=$((($(date +%s%N) - start) / 1000000))
	want=$((128 + $(kill -l "$sig")))
	check "SIG$sig mid-exec: the test dies of it (rc $rc, want $want) in ${ms} ms" \
		test "$rc" = "$want" -a "$ms" -lt 5000
	check "SIG$sig mid-exec: no namespace left ($sig_prefix)" no_lab "$sig_prefix"
	check "SIG$sig mid-exec: its spawned sleep ended" proc_gone "$sig_pid"
done

echo "== netlab_sweep after SIGKILL"
netlab_up 1 # a live lab of ours, which the sweep must leave alone
live=$NETLAB_PREFIX
# shellcheck disable=SC2016 # expanded by the inner bash
bash -c '
	source "$1"
	netlab_up 2
	netlab_spawn 1 sleep 1000
	echo "$NETLAB_PREFIX $NETLAB_PID" >"$2.tmp" && mv "$2.tmp" "$2"
	exec sleep 30' _ "$netlab" "$tmp/killed" &
owner=$!
helpers+=("$owner")
if wait_file "$tmp/killed"; then
	read -r k_prefix k_pid <"$tmp/killed"
	kill -KILL "$owner"
	wait "$owner" 2>/dev/null
	helpers=()
	check "a SIGKILLed test leaves its lab behind ($k_prefix)" test -n "$(lab_ns "$k_prefix")"
	# Names that look like a dead owner's lab but are not one.
	for ns in "agl$owner-decoy" "xagl$owner-h1" "agl$owner-h1x"; do
		ip netns add "$ns" && decoys+=("$ns")
	done
	netlab_sweep
	check "netlab_sweep removed the dead owner's lab" no_lab "$k_prefix"
	check "netlab_sweep ended the process left inside it" proc_gone "$k_pid"
	check "netlab_sweep left the live lab alone ($live)" test -n "$(lab_ns "$live")"
	for ns in "${decoys[@]}"; do
		check "netlab_sweep left $ns alone" test -e "/run/netns/$ns"
	done
else
	fail "the lab to be SIGKILLed did not come up"
fi
netlab_down

# A SIGKILLed process's lab under the pid a new test now has (pids wrap).
(
	me=$BASHPID # this subshell: a word expanded in a child is the child's
	ip netns add "agl$me-h1"
	ip netns exec "agl$me-h1" sleep 1000 &
	stale=$!
	for ((i = 0; i < 100; i++)); do # until it is inside
		[ -n "$(ip netns pids "agl$me-h1")" ] && break
		sleep 0.05
	done
	netlab_up 1
	check "a stale lab with this test's own pid is replaced" \
		test "$(links "${NETLAB_PREFIX}h1" | tr '\n' ' ')" = "eth0 lo "
	check "the stale lab's process ended" proc_gone "$stale"
	wait "$stale" 2>/dev/null
	netlab_down
)

echo "== CLI lab"
lab=$("$netlab" up 2)
cli_rc=$?
eval "$lab"
check "netlab up 2 (rc $cli_rc) gives this shell a lab ($lab)" \
	test "$cli_rc" = 0 -a "${NETLAB_PREFIX:-}" = "agl$$-"
NETLAB_LOG=$tmp/cli-server.out "$netlab" spawn 1 "$tcp" serve 198.18.0.1 7001 10 >/dev/null
reply=$("$netlab" exec 2 "$tcp" send 198.18.0.1 7001 "via the CLI" 10)
check "netlab spawn/exec: h2 talks to h1" test "$reply" = "via the CLI"
"$netlab" down
check "netlab down removed the lab" no_lab "agl$$-"
unset NETLAB_PREFIX NETLAB_HOSTS

echo "== end"
check "nothing of this test's labs is left" no_lab "agl$$-"
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$failures" -gt 0 ]; then
	echo "FAIL: netlab: $failures of $checks checks failed (${ms} ms)"
	exit 1
fi
echo "PASS: netlab: all $checks checks passed (${ms} ms)"
