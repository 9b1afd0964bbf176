#!/usr/bin/env bash
# The main job: installs what is missing and builds, then runs the
# live-migration demo against the real tvfd in network namespaces it makes
# (and removes): live progress, a summary table and a PNG timeline.
set -euo pipefail
cd "$(dirname "$0")/.."
# The arguments are checked (and --help answered) before anything is built.
export TVF_DEMO_PROG=scripts/demo.sh
TVF_DEMO_ARGS_ONLY=1 python3 scripts/demo.py "$@"
for arg in "$@"; do
  case "$arg" in -h|--help) exit 0 ;; esac
done
scripts/setup.sh
build/tvfd --config conf/tvf.yaml --check
# --datapath user runs the worker threads instead of the tc-BPF datapath.
exec python3 scripts/demo.py "$@"
