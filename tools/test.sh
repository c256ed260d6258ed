#!/usr/bin/env bash
# The whole test suite: set-up, `bazel test //...`, and a closing line
# "N passed, N failed" counting test cases. Extra arguments go to
# `bazel test` (e.g. --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel test --keep_going //... "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
tools/count_tests.py "$log" "$status"
