// The source of time for everything that waits (attach wait, drain grace).
// Tests use FakeClock and never sleep to reach a state.
#pragma once

#include <chrono>
#include <memory>

namespace tvf {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The production clock: CLOCK_MONOTONIC.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace tvf
