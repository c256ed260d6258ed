#!/usr/bin/env bash
# The main job: set-up, then a simulation campaign on the embedded defaults
# (SQLite store, simulated Postgres, faults on, swarm parameters per seed).
# Arguments go to `walsim campaign` (default: --time 60s --jobs 2). It ends
# with a summary: seeds asked/run/passed/failed, each failure with the line
# that reproduces it, faults fired per kind, schedule modes, seeds/s
# (docs/testing.md, "Reading the output").
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
bazel build -c opt //:walsim
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--time 60s --jobs 2)
exec bazel-bin/walsim campaign "${args[@]}"
