#!/usr/bin/env bash
# Installs the Debian 12 packages walsim builds, tests and runs with.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  bazel-bootstrap bazel-rules-cc bazel-rules-java   # Bazel 4.2.3, offline rules
  g++ clang-14 libclang-rt-14-dev llvm-14            # compilers, libFuzzer, sanitizers
  libsqlite3-dev libpq-dev                           # storage and the live source
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev librapidcheck-dev libbenchmark-dev    # tests and benchmarks
  postgresql-15 postgresql-client-15                 # live integration tests
  python3                                            # tools/test.sh's summary
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
# Postgres must not start a cluster of its own: the tests start theirs.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
echo "setup: done"
