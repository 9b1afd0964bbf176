// An in-memory Port for datapath unit tests: frames injected by the test
// are received by a worker; frames a worker sends are recorded. Fault hook:
// the next sends fail with a chosen errno. Thread-safe (tests and workers).
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tvf/Port.hpp"

namespace tvf::testing {

class FakePort final : public Port {
 public:
  using Frame = std::vector<std::uint8_t>;
  explicit FakePort(std::shared_ptr<bool> alive = nullptr)
      : efd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), alive_(std::move(alive)) {
    if (alive_) *alive_ = true;
  }
  ~FakePort() override {
    ::close(efd_);
    if (alive_) *alive_ = false;
  }

  // -- test side
  void inject(Frame f) {
    std::lock_guard<std::mutex> g(mu_);
    rx_.push_back(std::move(f));
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
  }
  // Queues a frame without waking a poller: it is found only by a worker
  // that looks at this port for another reason.
  void injectQuietly(Frame f) {
    std::lock_guard<std::mutex> g(mu_);
    rx_.push_back(std::move(f));
  }
  std::vector<Frame> sent() const {
    std::lock_guard<std::mutex> g(mu_);
    return sent_;
  }
  void failSends(int err) {
    std::lock_guard<std::mutex> g(mu_);
    sendError_ = err;
  }
  // Each send takes this long: a slow link that keeps a worker busy.
  void slowSends(std::chrono::microseconds d) {
    std::lock_guard<std::mutex> g(mu_);
    sendDelay_ = d;
  }

  // -- Port
  int pollFd() const noexcept override { return efd_; }
  int receiveBatch(FrameSink& sink, int budget) noexcept override {
    std::deque<Frame> batch;
    {
      std::lock_guard<std::mutex> g(mu_);
      std::uint64_t v;
      [[maybe_unused]] auto n = ::read(efd_, &v, sizeof v);
      while (!rx_.empty() && static_cast<int>(batch.size()) < budget) {
        batch.push_back(std::move(rx_.front()));
        rx_.pop_front();
      }
      if (!rx_.empty()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto m = ::write(efd_, &one, sizeof one);
      }
    }
    for (auto& f : batch) sink.deliver(f);
    return static_cast<int>(batch.size());
  }
  bool framesWaiting() const noexcept override {
    std::lock_guard<std::mutex> g(mu_);
    return !rx_.empty();
  }
  int send(std::span<const std::uint8_t> frame) noexcept override {
    std::chrono::microseconds delay;
    {
      std::lock_guard<std::mutex> g(mu_);
      delay = sendDelay_;
    }
    if (delay.count()) std::this_thread::sleep_for(delay);
    std::lock_guard<std::mutex> g(mu_);
    if (sendError_) return -sendError_;
    sent_.emplace_back(frame.begin(), frame.end());
    return 0;
  }
  std::string_view mechanism() const noexcept override { return "fake"; }

 private:
  mutable std::mutex mu_;
  int efd_;
  std::deque<Frame> rx_;
  std::vector<Frame> sent_;
  int sendError_ = 0;
  std::chrono::microseconds sendDelay_{0};
  std::shared_ptr<bool> alive_;
};

}  // namespace tvf::testing
