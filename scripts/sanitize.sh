#!/usr/bin/env bash
# Sanitizer runs: the whole tree built with clang's ASan+UBSan (build-asan/)
# and with TSan (build-tsan/), each running the unit, fuzz and integration
# labels (integration includes the live-migration demo). A report from any
# instrumented process fails the run: the tests themselves by their exit
# status, tvfd by the integration fixture (it points tvfd's log_path into
# the topology's folder and fails the test that left a report), and
# everything else (tvfctl, the demo's tvfd) by the check of
# <build>/sanitizer-logs/ at the end.
#   scripts/sanitize.sh                 both
#   scripts/sanitize.sh asan|tsan       one
#   scripts/sanitize.sh tsan -R Datapath    extra ctest arguments
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=(asan tsan)
if [[ ${1:-} == asan || ${1:-} == tsan ]]; then kinds=("$1"); shift; fi

run() {
  local kind=$1; shift
  local build=build-$kind sanitize flags
  case $kind in
    asan) sanitize=address,undefined ;;
    tsan) sanitize=thread ;;
  esac
  local start=$SECONDS
  # clang: 4-5x quicker to build instrumented than gcc (CMakeLists.txt), and
  # the compiler of scripts/fuzz.sh's harnesses. A build directory keeps the
  # compiler it was configured with.
  CC=${TVF_SANITIZE_CC:-clang} CXX=${TVF_SANITIZE_CXX:-clang++} \
  TVF_BUILD_DIR=$build TVF_BUILD_TYPE=RelWithDebInfo \
    TVF_CMAKE_ARGS="-DTVF_SANITIZE=$sanitize ${TVF_CMAKE_ARGS:-}" scripts/setup.sh
  local built=$((SECONDS - start))
  local logs=$PWD/$build/sanitizer-logs
  rm -rf "$logs" && mkdir -p "$logs"
  # Reports go to files (checked below); UBSan prints a stack and, like the
  # others, makes the process exit non-zero.
  export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
  export TSAN_OPTIONS="log_path=$logs/tsan:second_deadlock_stack=1:history_size=4:suppressions=$PWD/scripts/tsan.supp"
  local launcher=() status=0
  if [[ $kind == tsan ]]; then
    # TSan's shadow memory wants the classic layout; without ASLR it never
    # meets a mapping it cannot shadow (kernels with vm.mmap_rnd_bits > 28).
    launcher=(setarch "$(uname -m)" -R)
    # Zero loss at 20,000 datagrams/s each way is a throughput promise that
    # TSan's 5-15x slowdown of tvfd and of the traffic tool cannot keep
    # (485 and 2170 lost in a run here; the switch logic is exercised by
    # the other migration tests). The workers keep their SCHED_FIFO
    # default: with worker_priority 0 the loss was 30x higher and the tests
    # that check the default scheduling fail.
    # The user datapath's worker threads are where threads meet, so TSan
    # runs the integration tests in user mode only (kernel mode, on tcx or
    # on clsact, adds no thread of tvfd's); the demos are end-to-end runs
    # of the same code.
    # The two path-proof tests promise zero loss at 5,000/s while the
    # switch port behind the VF is dead for 400 ms of a 1 s proof limit:
    # the same kind of promise (PairTest covers their logic under TSan).
    set -- -E '(^|\.)Operations\.(PlannedMigrationLosesNoDatagram|AFreshVfGetsTxOnlyOnceItsSwitchPortForwards|AVfAlreadyUpWhenTakenGetsTxOnlyOnceItsSwitchPortForwards)$|^kernel\.|^clsact\.|^demo_' "$@"
  else
    # Both datapath modes under ASan+UBSan; the demos (70 s each, the same
    # code paths as the migration tests) are left to scripts/test.sh, and so
    # is the system-call filter test: it runs tvfd under strace, and
    # LeakSanitizer cannot run under ptrace (it reports a fatal error).
    set -- -E '^demo_|(^|\.)ServiceSandbox\.' "$@"
  fi
  "${launcher[@]}" ctest --test-dir "$build" -L 'unit|fuzz|integration' --output-on-failure --timeout 900 "$@" \
    || status=$?
  local reports
  reports=$(find "$logs" -type f | sort)
  if [[ -n $reports ]]; then
    echo "sanitize[$kind]: reports from processes outside the tests' own checks:"
    for r in $reports; do echo "==== $r"; head -c 20000 "$r"; done
    status=1
  fi
  echo "sanitize[$kind]: build ${built} s, tests $((SECONDS - start - built)) s, $([[ $status == 0 ]] && echo clean || echo FAILED)"
  return "$status"
}

failed=0
for k in "${kinds[@]}"; do run "$k" "$@" || failed=1; done
exit $failed
