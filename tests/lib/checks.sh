# checks.sh: counted checks for the shell test scripts (sourced).
#   pass WHAT / fail WHAT   count a check and print PASS: / FAIL: WHAT
#   fatal WHAT              a failure the rest cannot do without: stop here
#   wait_for SECS CMD...    run CMD every 0.1 s until it succeeds (0), at
#                           most SECS seconds (then 1)
# The caller sets CHECKS_NAME (for fatal's line) and reads $checks and
# $failures at the end.
# shellcheck shell=bash

failures=0
checks=0
pass() {
	checks=$((checks + 1))
	printf 'PASS: %s\n' "$*"
}
fail() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	printf 'FAIL: %s\n' "$*"
}
fatal() {
	fail "$*"
	echo "FAIL: ${CHECKS_NAME:-test}: stopped after $checks checks: $*"
	exit 1
}
wait_for() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
