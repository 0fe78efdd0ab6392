#!/usr/bin/env bash
# test_guest_leftovers.sh: a vm-guest test that criterion's timeout kills
# leaves nothing running (issue 13: processes left by such a test held
# ctest's output pipe, and the vm tier hung for 1,500 s saying nothing).
#
# Runs test_cgroupv2_guest with criterion's --timeout 2: its cpu.max test
# sleeps 2 s beside a busy child in its cgroup, so criterion always kills
# it with the child running. Under test-watchdog (--grace 5), any process
# still there 5 s after the binary ended is listed and fails this test; and
# no agora-vmtest-* cgroup may be left.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${AGORA_BUILD_DIR:-$here/../../build}
if [ "${AGORA_VM_GUEST:-}" != 1 ]; then
	echo "SKIP: runs inside the test VM (tests/vm/vm-run)"
	exit 77
fi

out=$("$build/tests/test-watchdog" --grace 5 --name test_cgroupv2_guest 100 \
	"$build/tests/test_cgroupv2_guest" --timeout 2 --verbose=0 2>&1)
echo "$out"
fail=0
if ! grep -q 'cpu_max_20_percent_is_enforced: Timed out' <<<"$out"; then
	echo "FAIL: the cpu.max test did not time out: this run proves nothing"
	fail=1
fi
if grep -q 'were still running' <<<"$out"; then
	echo "FAIL: processes outlived test_cgroupv2_guest (listed above)"
	fail=1
fi
left=$(ls -d /sys/fs/cgroup/agora-vmtest-* 2>/dev/null)
if [ -n "$left" ]; then
	echo "FAIL: cgroups left behind: $left"
	fail=1
fi
[ $fail = 0 ] && echo "PASS: nothing outlived the timed-out tests"
exit $fail
