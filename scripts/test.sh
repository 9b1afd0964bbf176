#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, then runs every
# test (unit, integration, fuzz). Integration tests need root (network
# namespaces); without it they skip with a reason.
#   scripts/test.sh            everything
#   scripts/test.sh -L unit    a slice, by CTest label (unit | integration | fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${TVF_BUILD_DIR:-build}" --output-on-failure --timeout 600 "$@"
