#!/usr/bin/env bash
# test_install.sh: `cmake --install` (into a DESTDIR) lays out what
# docs/deploying.md describes: agora-master, agora-agent, agoractl and
# agora-run in bin/, the agent's per-container helpers (agora-monitor,
# agora-init) in libexec/agora/ and not on the PATH, and the two systemd
# units, whose ExecStart names the installed programs and which
# systemd-analyze verifies without a warning. Then a local cluster of the
# installed programs alone (scripts/cluster-up with BUILD_DIR at the
# install) runs a task to its end through the installed agoractl: the
# installed agent finds its helpers in libexec. PASS/FAIL lines; exits 1 on
# a failure. Run as root (tier-guard cluster).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/install.sh
source "$here/../lib/install.sh"
CHECKS_NAME=install
install_build agora-install-test

for p in agora-master agora-agent agoractl agora-run; do
	[[ -x $inst/bin/$p ]] && pass "bin/$p installed" || fail "bin/$p installed"
done
for p in agora-monitor agora-init; do
	[[ -x $inst/libexec/agora/$p ]] && pass "libexec/agora/$p installed" ||
		fail "libexec/agora/$p installed"
	[[ ! -e $inst/bin/$p ]] && pass "$p is not in bin/" || fail "$p is not in bin/"
done

units=$inst/lib/systemd/system
for u in agora-master agora-agent; do
	f=$units/$u.service
	if [[ ! -f $f ]]; then
		fail "$u.service installed"
		continue
	fi
	pass "$u.service installed"
	grep -q "^ExecStart=$prefix/bin/$u " "$f" && pass "$u.service starts $prefix/bin/$u" ||
		fail "$u.service starts $prefix/bin/$u: $(grep ExecStart "$f")"
	# systemd-analyze checks ExecStart on this file system: point the
	# copy it reads at the DESTDIR.
	sed "s|$prefix/bin/|$inst/bin/|" "$f" >"$tmp/$u.service"
	if ! command -v systemd-analyze >/dev/null; then
		fail "systemd-analyze is needed to verify the units (apt-get install systemd)"
	elif out=$(systemd-analyze verify --man=no "$tmp/$u.service" 2>&1) && [[ -z $out ]]; then
		pass "systemd-analyze verify $u.service: no warning"
	else
		fail "systemd-analyze verify $u.service: $out"
	fi
done
grep -q '^KillMode=process' "$units/agora-agent.service" &&
	pass "the agent's unit stops the agent only (KillMode=process: tasks keep running)" ||
	fail "the agent's unit has KillMode=process"

# A cluster of the installed programs.
installed_cluster_up
grep -q "$inst/bin/agora-agent" "/proc/$(cat "$AGORA_LOCAL_DIR/agent.pid")/cmdline" &&
	pass "... the agent running is the installed one" || fail "the agent running is the installed one"
out=$(timeout 60 "$inst/bin/agoractl" run -- echo hello from the install 2>"$tmp/run.err")
rc=$?
if [[ $rc == 0 && $out == *"hello from the install"* ]]; then
	pass "the installed agoractl runs a task on the installed agent to FINISHED"
else
	fail "installed agoractl run (exit $rc): $out $(cat "$tmp/run.err")"
	sed 's/^/    /' "$AGORA_LOCAL_DIR/agent.log" | tail -20
fi

echo "install: $checks checks, $failures failed"
[[ $failures == 0 ]]
