// Per-path traffic counters as a plain value.
#pragma once

#include <cstdint>

namespace tvf {

enum class PathKind { Synthetic, Vf };

inline const char* pathName(PathKind p) { return p == PathKind::Vf ? "vf" : "synthetic"; }

struct PathCounters {
  std::uint64_t rxPackets = 0;
  std::uint64_t rxBytes = 0;
  std::uint64_t txPackets = 0;
  std::uint64_t txBytes = 0;
  std::uint64_t rxDropped = 0;
  std::uint64_t txDropped = 0;

  PathCounters& operator+=(const PathCounters& o) {
    rxPackets += o.rxPackets;
    rxBytes += o.rxBytes;
    txPackets += o.txPackets;
    txBytes += o.txBytes;
    rxDropped += o.rxDropped;
    txDropped += o.txDropped;
    return *this;
  }
  friend PathCounters operator+(PathCounters a, const PathCounters& b) { return a += b; }
  bool operator==(const PathCounters&) const = default;
};

}  // namespace tvf
