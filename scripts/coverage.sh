#!/usr/bin/env bash
# Line coverage of the unit tests, measured with gcovr, in build-coverage/.
# Prints the summary for failover/ (the pure logic) and writes an HTML
# report to build-coverage/coverage/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
TVF_BUILD_DIR=build-coverage TVF_BUILD_TYPE=Debug TVF_CMAKE_ARGS="-DTVF_COVERAGE=ON" scripts/setup.sh
find build-coverage -name '*.gcda' -delete
ctest --test-dir build-coverage -L unit --output-on-failure
mkdir -p build-coverage/coverage
gcovr --root . --filter 'failover/' --exclude-unreachable-branches --print-summary \
      --html-details build-coverage/coverage/index.html build-coverage
