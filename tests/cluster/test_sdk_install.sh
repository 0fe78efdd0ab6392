#!/usr/bin/env bash
# test_sdk_install.sh: the framework SDK as a user outside the tree gets it.
# `cmake --install` into a DESTDIR puts <agora/scheduler.h>, the shared
# libagora-scheduler and agora-scheduler.pc in the prefix; the library
# exports the SDK's ags_* symbols and nothing of agora's internals; the
# header compiles alone (no other header of agora's). Then
# examples/run-tasks.c, copied out of the tree, is built with
# `pkg-config --cflags --libs agora-scheduler` and nothing else (no -I
# into the source tree) and runs 3 tasks (one OCI-like) to TASK_FINISHED on
# a local cluster of the installed master and agent (scripts/cluster-up).
# The Python SDK (agora_sdk) is installed in lib/pythonX.Y/site-packages and
# examples/python/run_tasks.py runs on it from the prefix.
# PASS/FAIL lines; exits 1 on a failure. Run as root (tier-guard cluster).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/install.sh
source "$here/../lib/install.sh"
CHECKS_NAME=sdk_install
install_build agora-sdk-install

[[ -f $inst/include/agora/scheduler.h ]] && pass "include/agora/scheduler.h installed" ||
	fail "include/agora/scheduler.h installed"
pc=$(find "$inst" -name agora-scheduler.pc -path '*/pkgconfig/*' | head -1)
[[ -n $pc ]] && pass "agora-scheduler.pc installed (${pc#"$inst"/})" ||
	fatal "agora-scheduler.pc installed under lib*/pkgconfig"
libdir=$(dirname "$(dirname "$pc")")
so=$(find "$libdir" -maxdepth 1 -name 'libagora-scheduler.so.*' -type f | head -1)
[[ -n $so && -L $libdir/libagora-scheduler.so ]] &&
	pass "libagora-scheduler.so installed with its soname links (${so#"$inst"/})" ||
	fail "libagora-scheduler.so installed: $(ls "$libdir")"
others=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^ags_/ {print $3}')
[[ -z $others ]] && pass "the library exports ags_* only" ||
	fail "the library exports more than ags_*: $(echo "$others" | head -5 | tr '\n' ' ')"

export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs agora-scheduler 2>&1)
[[ $? == 0 ]] && pass "pkg-config --cflags --libs agora-scheduler: $flags" ||
	fatal "pkg-config agora-scheduler: $flags"
[[ $flags != *"$src"* ]] && pass "... names nothing of the source tree" ||
	fail "pkg-config's flags name the source tree: $flags"

# The header alone, in a translation unit of its own, with -Werror.
mkdir -p "$tmp/fw"
printf '#include <agora/scheduler.h>\nint main(void) { return ags_task_state_is_terminal(AGS_TASK_FINISHED) ? 0 : 1; }\n' \
	>"$tmp/fw/alone.c"
# shellcheck disable=SC2086
if out=$(cd "$tmp/fw" && cc -std=c11 -Wall -Wextra -Werror -pedantic -o alone alone.c $flags 2>&1) &&
	LD_LIBRARY_PATH=$libdir "$tmp/fw/alone"; then
	pass "<agora/scheduler.h> stands alone (-std=c11 -pedantic -Werror) and links"
else
	fail "<agora/scheduler.h> alone: $out"
fi

cp "$src/examples/run-tasks.c" "$tmp/fw/"
# shellcheck disable=SC2086
if out=$(cd "$tmp/fw" && cc -Wall -Wextra -Werror -o run-tasks run-tasks.c $flags 2>&1); then
	pass "examples/run-tasks.c builds out of the tree with pkg-config's flags only"
else
	fatal "build run-tasks.c against the installed SDK: $out"
fi
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/fw/run-tasks")
[[ $deps == *"libagora-scheduler.so.0 => $libdir/"* ]] &&
	pass "... and loads the installed libagora-scheduler.so.0" ||
	fail "run-tasks loads the installed library: $deps"

installed_cluster_up
out=$(cd "$tmp/fw" && LD_LIBRARY_PATH=$libdir timeout 120 ./run-tasks 3 2>&1)
rc=$?
if [[ $rc == 0 && $out == *"all 3 tasks ended, 0 failed"* ]]; then
	pass "run-tasks built on the installed SDK runs 3 tasks to TASK_FINISHED"
else
	fail "run-tasks on the installed SDK (exit $rc): $out"
	sed 's/^/    /' "$AGORA_LOCAL_DIR/agent.log" | tail -20
fi
grep -Eq "example-[0-9]+-0: TASK_FINISHED" <<<"$out" &&
	pass "... the OCI-like task too" || fail "the OCI-like task FINISHED: $out"

# The Python SDK: agora_sdk in a site-packages directory under the prefix,
# imported from there (not from the tree) by examples/python/run_tasks.py,
# installed under share/agora/examples, which runs 2 tasks to FINISHED.
pysite=$(find "$inst/lib" -maxdepth 3 -type d -name agora_sdk -path '*/site-packages/*' | head -1)
[[ -n $pysite ]] && pass "agora_sdk installed (${pysite#"$inst"/})" ||
	fatal "agora_sdk installed under lib/python*/site-packages: $(find "$inst/lib" -maxdepth 2)"
pysite=$(dirname "$pysite")
pyex=$inst/share/agora/examples/python/run_tasks.py
[[ -f $pyex ]] && pass "examples/python/run_tasks.py installed" || fail "run_tasks.py installed under share/agora"
got=$(cd "$tmp/fw" && PYTHONPATH=$pysite python3 -c 'import agora_sdk; print(agora_sdk.__file__)' 2>&1)
[[ $got == "$pysite/agora_sdk/__init__.py" ]] && pass "PYTHONPATH=${pysite#"$inst"/} imports the installed agora_sdk" ||
	fail "import agora_sdk from the prefix: $got"
out=$(cd "$tmp/fw" && PYTHONPATH=$pysite timeout 120 python3 "$pyex" 2 2>&1)
rc=$?
if [[ $rc == 0 && $out == *"all 2 tasks ended, 0 failed"* ]]; then
	pass "run_tasks.py on the installed agora_sdk runs 2 tasks to TASK_FINISHED"
else
	fail "run_tasks.py on the installed agora_sdk (exit $rc): $out"
fi

echo "sdk_install: $checks checks, $failures failed"
[[ $failures == 0 ]]
