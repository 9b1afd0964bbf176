#!/usr/bin/env bash
# One-command setup: install the Debian packages tvf needs (only when something
# is missing), then configure and build. Idempotent.
#   scripts/setup.sh            install + Release build into build/
#   TVF_BUILD_DIR=dir TVF_CMAKE_ARGS="..." scripts/setup.sh
#   TVF_NO_BUILD=1 scripts/setup.sh   packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libibverbs-dev            # verbs raw-packet VF port (rdma-core)
  libnl-3-dev libnl-route-3-dev   # netlink link monitor and link control
  libboost-dev              # Boost.Signals2, Boost.Beast + Asio (metrics HTTP), header-only
  libyaml-cpp-dev           # config loader
  libgtest-dev libgmock-dev # unit and integration tests
  libspdlog-dev libfmt-dev  # logging
  libcli11-dev              # tvfd / tvfctl command lines
  nlohmann-json3-dev        # control socket JSON
  libbpf-dev                # ingress drop program on claimed backends; loads the kernel datapath
  clang llvm                # compile the kernel datapath's BPF programs (clang -target bpf; llvm-strip)
  xxd                       # embed the BPF object in the library as a C array (xxd -i)
  libsystemd-dev            # sd_notify (Type=notify)
  iproute2 ethtool iperf3 iputils-ping procps python3 gcovr
  util-linux                # setpriv: tests run tvfd/tvfctl with fewer privileges
  python3-prometheus-client # tests parse tvfctl metrics with a real Prometheus parser
  gnuplot-nox               # the demo's timeline picture
  scdoc                     # man pages: a small C tool, readable source, roff that
                            # passes man --warnings (pandoc pulls ~200 MB of Haskell;
                            # hand-written mdoc is hard to review)
  python3-yaml              # the man page key check reads conf/tvf.yaml as YAML
  lintian                   # the Debian package test: lintian reports no error
  strace                    # the unit's SystemCallFilter= test traces the real tvfd
  tcpdump                   # kernel-mode tests: tcpdump -i tvf0 must see both directions (egress mirroring)
  # scripts/fuzz.sh: libFuzzer is part of clang (gcc has no coverage-guided
  # fuzzer); its runtime and the sanitizers' for clang are in
  # libclang-rt-14-dev, llvm-symbolizer (in llvm) names the frames of a crash.
  clang llvm libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# TVF_NO_BUILD=1: packages only (scripts/fuzz.sh configures its own build).
[[ ${TVF_NO_BUILD:-0} == 1 ]] && exit 0

build=${TVF_BUILD_DIR:-build}
# shellcheck disable=SC2086
# Installs (cmake --install build) go where a distribution puts them.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${TVF_BUILD_TYPE:-Release} -DCMAKE_INSTALL_PREFIX=/usr ${TVF_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
