// Records the thread that owns an object and checks it at public entry points.
#pragma once

#include <thread>

#include "tvf/Assert.hpp"

namespace tvf {

class ThreadOwner {
 public:
  ThreadOwner() : owner_(std::this_thread::get_id()) {}
  void check() const { TVF_ASSERT(std::this_thread::get_id() == owner_); }
  // For objects built on one thread and handed to another before use.
  void rebind() { owner_ = std::this_thread::get_id(); }

 private:
  std::thread::id owner_;
};

}  // namespace tvf
