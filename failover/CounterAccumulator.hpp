// Per-path totals that never go backwards: a retired VF port's final
// counters are folded into an accumulator (DPDK fail-safe's snapshot fold),
// and the live port's counters are added on top.
#pragma once

#include "tvf/PathCounters.hpp"

namespace tvf {

class CounterAccumulator {
 public:
  void fold(const PathCounters& retired) { folded_ += retired; }
  PathCounters total(const PathCounters& live) const { return folded_ + live; }
  const PathCounters& folded() const { return folded_; }

 private:
  PathCounters folded_;
};

}  // namespace tvf
