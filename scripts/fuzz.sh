#!/usr/bin/env bash
# Bounded coverage-guided fuzzing: builds the libFuzzer harnesses
# (tests/fuzz/libfuzzer, clang, ASan+UBSan) in build-fuzz/ and runs each for
# TVF_FUZZ_SECONDS (default 60), starting from the corpus in the repo
# (tests/fuzz/corpus/<harness>/; new inputs go to a scratch copy, not the
# repo). Prints each harness's executions; fails when one crashed, leaked or
# broke a check, and leaves the input in build-fuzz/findings/.
#   scripts/fuzz.sh                    all harnesses, 60 s each
#   TVF_FUZZ_SECONDS=300 scripts/fuzz.sh link_message config
# A finding reproduces with: build-fuzz/tests/fuzz/libfuzzer/tvf_fuzz_<h> <file>
# and, once fixed, belongs in tests/fuzz/corpus/<h>/ (replayed by the
# fuzz-label gtest) or as a test in tests/fuzz/ParserRegressionTest.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."
TVF_NO_BUILD=1 scripts/setup.sh

build=${TVF_FUZZ_BUILD_DIR:-build-fuzz}
seconds=${TVF_FUZZ_SECONDS:-60}
all=(link_message address_message extack_message control_request config dev_mcast neighbour_message arp_reply)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTVF_FUZZ=ON ${TVF_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${harnesses[@]/#/tvf_fuzz_}"

findings=$build/findings
rm -rf "$findings" "$build/scratch-corpus"
mkdir -p "$findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for h in "${harnesses[@]}"; do
  scratch=$build/scratch-corpus/$h
  mkdir -p "$scratch"
  log=$findings/$h.log
  status=0
  "$build/tests/fuzz/libfuzzer/tvf_fuzz_$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/$h-" "$scratch" "tests/fuzz/corpus/$h" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  units=$(find "$scratch" "tests/fuzz/corpus/$h" -type f | wc -l)
  line=$(printf '%-16s %12s execs %8s/s  cov %6s  corpus %5s  %s' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
         "$units" "$([[ $status == 0 ]] && echo ok || echo "FAILED (exit $status)")")
  echo "fuzz: $line"
  summary+=("$line")
  if [[ $status != 0 ]]; then
    failed+=("$h")
    grep -m1 -A25 'ERROR\|runtime error\|deadly signal' "$log" || tail -n 30 "$log"
    for a in "$findings/$h"-*; do [[ -f $a && $a != *.log ]] && { echo "input $a:"; xxd "$a" | head -20; }; done
  fi
done
echo "---- fuzz summary (${seconds} s per harness) ----"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (logs and inputs in $findings)"
  exit 1
fi
