#pragma once

#include "tvf/Clock.hpp"

namespace tvf::testing {

// A clock that moves only when a test says so.
class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }

 private:
  TimePoint now_{std::chrono::seconds(1000)};
};

}  // namespace tvf::testing
