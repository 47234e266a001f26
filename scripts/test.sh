#!/usr/bin/env bash
# test.sh - the whole test suite: install dependencies, build, start the test libvirtd and
# the test PostgreSQL (scripts/testenv.sh), run every test (unit, corpus, e2e, bounded fuzz runs) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
scripts/fuzz.sh build   # the libFuzzer targets (clang, build-fuzz/); ctest runs each briefly
scripts/testenv.sh start
export VIRTUMANCER_REQUIRE_LIBVIRTD=1   # e2e tests fail (not skip) without libvirtd
export VIRTUMANCER_REQUIRE_PG=1         # PostgreSQL tests fail (not skip) without the server
cd build
ctest --output-on-failure --timeout 1200 "$@"
