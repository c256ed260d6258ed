#!/usr/bin/env bash
# The whole test suite: set-up, `bazel test //...`, and a closing line
# "N passed, N failed" counting test cases. Extra arguments go to
# `bazel test` (e.g. --config=asan); WALSIM_TEST_TARGETS narrows the targets.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086  # the targets are a word list on purpose
bazel test --keep_going "$@" -- ${WALSIM_TEST_TARGETS:-//...} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
tools/count_tests.py "$log" "$status"
