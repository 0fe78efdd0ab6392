# checks.sh: counted checks for the shell test scripts (sourced).
#   pass WHAT / fail WHAT   count a check and print PASS: / FAIL: WHAT
#   fatal WHAT              a failure the rest cannot do without: stop here
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
