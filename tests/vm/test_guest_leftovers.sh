#!/usr/bin/env bash
# test_guest_leftovers.sh: when a vm-guest test's process dies before its
# cleanup, what it started does not run on (issue 13: processes left so held
# ctest's output pipe, and the vm tier hung for 1,500 s saying nothing).
#
# Runs test_cgroupv2_guest's killed_with_its_busy_child_running, which starts
# a busy child in its cgroup agora-vmtest-<pid>/cpu and waits to be killed,
# and SIGKILLs the test process (that <pid>) as soon as the child is there,
# as criterion's timeout or a crash would end it. Under test-watchdog
# (--grace 5), any process still there 5 s after the binary ended is listed
# and fails this test; and no agora-vmtest-* cgroup may be left.
#
# Everything is printed as it happens, so that a run stopped by the outer
# watchdog (this test's TIMEOUT) still shows how far it got; the inner
# watchdog's deadline (140 s) comes well before the outer one's.
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

# Finds the victim's busy child and kills the test process; 0 when it did.
# It looks until the test binary ends (at the latest at its watchdog's
# deadline): a loaded TCG guest took 50 s to get there.
kill_the_test() {
	local d pid procs
	while :; do
		# (cgroup files have no size: read them)
		for d in "$cg"/agora-vmtest-*/cpu; do
			procs=$(cat "$d/cgroup.procs" 2>/dev/null)
			[ -n "$procs" ] || continue
			pid=${d#"$cg"/agora-vmtest-}
			pid=${pid%/cpu}
			echo "INFO: SIGKILL test process $pid, its busy child $procs in $d ($SECONDS s)"
			kill -KILL "$pid" && return 0
			echo "FAIL: could not kill test process $pid"
			return 1
		done
		sleep 0.01
	done
}
kill_the_test &
killer=$!

AGORA_VMTEST_KILL_ME=1 "$build/tests/test-watchdog" --grace 5 --name test_cgroupv2_guest 140 \
	"$build/tests/test_cgroupv2_guest" --filter='cgroupv2_guest/killed_with_its_busy_child_running' \
	--verbose=0 2>&1 | tee "$out"
fail=0
if kill "$killer" 2>/dev/null; then
	wait "$killer"
	echo "FAIL: test_cgroupv2_guest ended before its busy child was seen and killed"
	fail=1
else
	wait "$killer" || fail=1
fi
if ! grep -q 'killed_with_its_busy_child_running: CRASH' "$out"; then
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
