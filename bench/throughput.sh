#!/usr/bin/env bash
# iperf3 TCP through tvf0 (VF attached) against the same transfer over a
# plain veth into the same bridge (the kernel-only path), in one run.
# Runs alternate between the two paths; medians of RUNS runs are compared.
# tvfd runs with its defaults (worker_priority 1: SCHED_FIFO workers); set
# TVF_WORKER_PRIORITY=0 to measure ordinary-priority workers.
#
#   bench/throughput.sh [RUNS] [SECONDS]      (default 5 runs of 5 s)
#
# Needs root; makes its own namespaces and removes them, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}; SECS=${2:-5}
[[ -x build/tvfd ]] || scripts/setup.sh
P=tvfb$$; H=$P-h; G=$P-g; K=$P-k; D=/tmp/$P
cleanup() {
  [[ -n ${TVFD_PID:-} ]] && kill "$TVFD_PID" 2>/dev/null; wait 2>/dev/null || true
  ip netns pids "$K" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$K" 2>/dev/null || true
  scripts/topology.sh down "$P" >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT INT TERM
mkdir -p "$D"
scripts/topology.sh up "$P"
# The kernel-only path: a plain veth in a namespace of its own, same bridge.
ip netns add "$K"
ip -n "$K" link set lo up
ip -n "$K" link add kv0 type veth peer name hk netns "$H"
ip -n "$H" link set hk master br0 up
ip -n "$K" addr add 198.18.0.3/24 dev kv0
ip -n "$K" link set kv0 up
cat > "$D/tvf.yaml" <<YAML
control_socket: $D/tvf.sock
worker_priority: ${TVF_WORKER_PRIORITY:-1}
log_level: warn
pairs:
  - name: tvf0
    synthetic: eth0
    attach_wait_ms: 200
    persist: false
YAML
ip netns exec "$G" build/tvfd --config "$D/tvf.yaml" 2>"$D/tvfd.log" &
TVFD_PID=$!
for _ in $(seq 50); do [[ -S $D/tvf.sock ]] && break; sleep 0.1; done
ip -n "$G" addr add 198.18.0.2/24 dev tvf0
ip -n "$G" link set tvf0 up
scripts/topology.sh add-vf "$P" vf0
for _ in $(seq 100); do
  ip netns exec "$G" build/tvfctl --socket "$D/tvf.sock" status --json | grep -q '"active": "vf"' && break; sleep 0.1
done
ip netns exec "$H" iperf3 -s -D -B 198.18.0.1
sleep 0.5

measure() {  # NS [iperf3 args...] -> Gbit/s received
  local ns=$1; shift
  ip netns exec "$ns" iperf3 -c 198.18.0.1 -t "$SECS" -J "$@" |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}
declare -A R
for dir in tx rx; do
  args=(); [[ $dir == rx ]] && args=(-R)
  for i in $(seq "$RUNS"); do
    R[kernel_$dir]+="$(measure "$K" "${args[@]}") "
    R[tvf_$dir]+="$(measure "$G" "${args[@]}") "
  done
done
ip netns exec "$G" build/tvfctl --socket "$D/tvf.sock" status
ip netns exec "$G" build/tvfctl --socket "$D/tvf.sock" status --json |
  python3 -c 'import json,sys; w=json.load(sys.stdin)["pairs"][0]["workers"]; print("tvfd workers: %d, scheduling %s (worker_priority)" % (w["count"], w["scheduling"]))'
python3 - "${R[kernel_tx]}" "${R[tvf_tx]}" "${R[kernel_rx]}" "${R[tvf_rx]}" <<'PY'
import statistics, sys
k_tx, t_tx, k_rx, t_rx = [[float(x) for x in a.split()] for a in sys.argv[1:5]]
print()
print("iperf3 TCP x1, Gbit/s: median [min-max] of %d runs" % len(k_tx))
for name, k, t in (("guest -> host (TX)", k_tx, t_tx), ("host -> guest (RX)", k_rx, t_rx)):
    mk, mt = statistics.median(k), statistics.median(t)
    print("  %-20s kernel veth %6.2f [%.2f-%.2f]   tvf0 via VF %6.2f [%.2f-%.2f]   ratio %.2f"
          % (name, mk, min(k), max(k), mt, min(t), max(t), mt / mk))
PY
