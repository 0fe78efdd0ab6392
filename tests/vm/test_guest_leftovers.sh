#!/usr/bin/env bash
# test_guest_leftovers.sh: when a vm-guest test's process dies before its
# cleanup, what it started does not run on (issue 13: processes left so held
# ctest's output pipe, and the vm tier hung for 1,500 s saying nothing).
#
# Runs test_cgroupv2_guest's cpu.max test, which sleeps 2 s beside a busy
# child in its cgroup agora-vmtest-<pid>/cpu, and SIGKILLs the test process
# (that <pid>) as soon as the child is there, as criterion's timeout or a
# crash would end it. Under test-watchdog (--grace 5), any process still
# there 5 s after the binary ended is listed and fails this test; and no
# agora-vmtest-* cgroup may be left.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${AGORA_BUILD_DIR:-$here/../../build}
if [ "${AGORA_VM_GUEST:-}" != 1 ]; then
	echo "SKIP: runs inside the test VM (tests/vm/vm-run)"
	exit 77
fi
cg=/sys/fs/cgroup
out=$(mktemp /tmp/leftovers.XXXXXX)
trap 'rm -f "$out"' EXIT

"$build/tests/test-watchdog" --grace 5 --name test_cgroupv2_guest 100 \
	"$build/tests/test_cgroupv2_guest" --filter='cgroupv2_guest/cpu_max*' --verbose=0 >"$out" 2>&1 &
wd=$!
busy=''
# (cgroup files have no size: read them)
while [ -z "$busy" ] && kill -0 "$wd" 2>/dev/null; do
	for d in "$cg"/agora-vmtest-*/cpu; do
		[ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && busy=$d
	done
	[ -n "$busy" ] || sleep 0.01
done
fail=0
if [ -z "$busy" ]; then
	echo "FAIL: the cpu.max test's busy child never showed up: this run proves nothing"
	fail=1
else
	test_pid=${busy#"$cg"/agora-vmtest-}
	test_pid=${test_pid%/cpu}
	echo "INFO: SIGKILL test process $test_pid, its busy child $(cat "$busy/cgroup.procs") in $busy"
	kill -KILL "$test_pid"
fi
wait "$wd"
cat "$out"
if [ -n "$busy" ] && ! grep -q 'cpu_max_20_percent_is_enforced: CRASH' "$out"; then
	echo "FAIL: criterion did not report the killed test as crashed"
	fail=1
fi
if grep -q 'were still running' "$out"; then
	echo "FAIL: processes outlived test_cgroupv2_guest (listed above)"
	fail=1
fi
left=$(ls -d "$cg"/agora-vmtest-* 2>/dev/null)
if [ -n "$left" ]; then
	echo "FAIL: cgroups left behind: $left"
	fail=1
fi
[ $fail = 0 ] && echo "PASS: nothing outlived the killed test"
exit $fail
